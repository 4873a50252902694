"""Why a series got its forecast: the method choice and the demand drivers, as tables.

:func:`explain_selection` puts each series' chosen method beside the other
candidates with their backtest scores. :func:`forecast_drivers` decomposes recent
demand into level, trend, seasonality and the effect of each event type, each with
its standard error and confidence interval. Plots of both live in
:mod:`toolkit.forecast_plots`.

The driver regression, series by series on the last ``window_weeks`` weeks::

    demand_t = level + trend * (t - t_last) / 52 + sum_k (a_k sin + b_k cos)(2 pi k t / 52)
               + sum_e beta_e * event_e,t + error_t

fitted by ordinary least squares. ``level`` is the demand rate in the last week
net of season and events (units/week), ``trend`` the change of that rate per year
(units/week per year), ``seasonality`` the half range of the fitted seasonal curve
(units/week; its standard error by simulation from the coefficients' covariance),
and each ``event_<type>`` the demand per unit of its regressor (per event week for
indicators, per unit of announced quantity for tenders and maintenance, per unit
of cumulative change for reimbursement steps). Standard errors are the classical
OLS ones, so they assume uncorrelated errors: read them as a guide, not a test.
Where the chosen model is SARIMAX, the event effects are its own coefficients and
standard errors instead (``source = "sarimax"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.demand_panel import build_exog, to_weekly_panel
from toolkit.forecast import ForecastRun

__all__ = ["explain_selection", "forecast_drivers"]


def explain_selection(run: ForecastRun, series_id: str | None = None) -> pd.DataFrame:
    """Return every backtested method per series with its scores and the choice.

    Parameters
    ----------
    run : ForecastRun
        The output of :func:`toolkit.forecast.run_forecast`.
    series_id : str, optional
        Restrict to one series.

    Returns
    -------
    DataFrame
        One row per series and method: ``series_id, pattern, method, chosen,
        eligible`` (a candidate for the series; seasonal naive is always scored as
        the FVA benchmark), ``rank`` among eligible methods, the backtest means
        ``score`` (mean of MASE and RMSSE), ``mase, rmsse, bias, coverage``,
        ``n_origins``, ``fva_score`` (seasonal naive's score minus this one) and
        the series' ``reason``. Series without a backtest have one row for their
        fallback method.
    """
    scores = run.scores
    selection = run.selection
    if series_id is not None:
        scores = scores[scores["series_id"] == series_id]
        selection = selection[selection["series_id"] == series_id]
    metrics = ["mase", "rmsse", "bias", "coverage"]
    table = scores.groupby(["series_id", "method"], as_index=False).agg(
        eligible=("eligible", "first"),
        chosen=("chosen", "first"),
        n_origins=("mase", "count"),
        **{m: (m, "mean") for m in metrics},
    )
    table["score"] = table[["mase", "rmsse"]].mean(axis=1)
    table["rank"] = (
        table["score"].where(table["eligible"]).groupby(table["series_id"]).rank(method="min")
    )
    baseline = table.loc[table["method"] == "seasonal_naive", ["series_id", "score"]]
    table = table.merge(
        baseline.rename(columns={"score": "score_seasonal_naive"}), on="series_id", how="left"
    )
    table["fva_score"] = table["score_seasonal_naive"] - table["score"]
    table = table.drop(columns="score_seasonal_naive")
    # A series whose model never ran in the backtest (fallbacks) still gets its row.
    missing = selection[~selection["series_id"].isin(table.loc[table["chosen"], "series_id"])]
    extra = pd.DataFrame(
        {
            "series_id": missing["series_id"],
            "method": missing["model"],
            "eligible": True,
            "chosen": True,
        }
    )
    table = table[~table["series_id"].isin(missing["series_id"]) | ~table["chosen"]]
    table = pd.concat([table, extra], ignore_index=True) if len(extra) else table
    table = table.merge(selection[["series_id", "pattern", "reason"]], on="series_id", how="left")
    columns = [
        "series_id",
        "pattern",
        "method",
        "chosen",
        "eligible",
        "rank",
        "score",
        "mase",
        "rmsse",
        "bias",
        "coverage",
        "n_origins",
        "fva_score",
        "reason",
    ]
    order = table.assign(_chosen=~table["chosen"].astype(bool)).sort_values(
        ["series_id", "_chosen", "rank", "method"], na_position="last"
    )
    return order[columns].reset_index(drop=True)


def _fourier(positions: np.ndarray, season_length: int, harmonics: int) -> np.ndarray:
    angle = 2 * np.pi * positions[:, None] * np.arange(1, harmonics + 1)[None, :] / season_length
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def _driver_rows(
    series_id: str,
    y: np.ndarray,
    weeks: np.ndarray,
    exog: np.ndarray | None,
    exog_names: list[str],
    season_length: int,
    harmonics: int,
    level: float,
    rng: np.random.Generator,
) -> list[dict]:
    n = len(y)
    t_rel = (weeks - weeks[-1]) / 52.0
    columns = [np.ones(n)]
    names = ["level"]
    use_trend = n >= 13
    if use_trend:
        columns.append(t_rel)
        names.append("trend")
    use_season = n >= season_length + season_length // 2
    if use_season:
        seasonal = _fourier(weeks % season_length, season_length, harmonics)
        columns.extend(seasonal.T)
        names.extend(f"season_{k}" for k in range(seasonal.shape[1]))
    event_names = []
    if exog is not None:
        for k, name in enumerate(exog_names):
            column = exog[:, k]
            if np.ptp(column) > 0:
                columns.append(column)
                names.append(name)
                event_names.append(name)
    design = np.column_stack(columns)
    dof = n - design.shape[1]
    if dof < 2:
        design, names, event_names = design[:, :1], ["level"], []
        use_trend = use_season = False
        dof = n - 1
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    sigma2 = float(residual @ residual / max(dof, 1))
    covariance = sigma2 * np.linalg.pinv(design.T @ design)
    std_error = np.sqrt(np.clip(np.diag(covariance), 0, None))
    quantile = stats.t.ppf(0.5 + level / 2, max(dof, 1))
    rows = []

    def add(driver: str, kind: str, estimate: float, se: float, unit: str, p_value: float) -> None:
        rows.append(
            {
                "series_id": series_id,
                "driver": driver,
                "kind": kind,
                "estimate": estimate,
                "std_error": se,
                "ci_low": estimate - quantile * se,
                "ci_high": estimate + quantile * se,
                "p_value": p_value,
                "unit": unit,
                "source": "regression",
                "n_weeks": n,
            }
        )

    def t_test(index: int) -> float:
        if std_error[index] <= 0:
            return float("nan")
        return float(2 * stats.t.sf(abs(coef[index] / std_error[index]), max(dof, 1)))

    add("level", "level", float(coef[0]), float(std_error[0]), "units/week", t_test(0))
    if use_trend:
        i = names.index("trend")
        add("trend", "trend", float(coef[i]), float(std_error[i]), "units/week per year", t_test(i))
    if use_season:
        idx = [i for i, name in enumerate(names) if name.startswith("season_")]
        curve_basis = _fourier(np.arange(season_length), season_length, harmonics)
        amplitude = float(np.ptp(curve_basis @ coef[idx]) / 2)
        draws = rng.multivariate_normal(coef[idx], covariance[np.ix_(idx, idx)], size=400)
        amplitudes = np.ptp(draws @ curve_basis.T, axis=1) / 2
        # Joint F-test of the seasonal terms against none.
        restricted = np.delete(design, idx, axis=1)
        r_coef, *_ = np.linalg.lstsq(restricted, y, rcond=None)
        rss_restricted = float(np.sum((y - restricted @ r_coef) ** 2))
        rss_full = float(residual @ residual)
        f_stat = ((rss_restricted - rss_full) / len(idx)) / (rss_full / max(dof, 1) or np.inf)
        p_value = float(stats.f.sf(f_stat, len(idx), max(dof, 1))) if rss_full > 0 else 0.0
        add(
            "seasonality",
            "seasonality",
            amplitude,
            float(np.std(amplitudes)),
            "units/week",
            p_value,
        )
    for name in event_names:
        i = names.index(name)
        add(
            name,
            "event",
            float(coef[i]),
            float(std_error[i]),
            "units per regressor unit",
            t_test(i),
        )
    return rows


def forecast_drivers(
    history: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    event_encoding: Mapping[str, str] | None = None,
    run: ForecastRun | None = None,
    series_ids: Iterable[str] | None = None,
    season_length: int = 52,
    harmonics: int = 2,
    window_weeks: int = 156,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Estimate each series' demand drivers with their uncertainty.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (plus ``site_id, sku`` to match events).
    events, sites, event_encoding
        Known events and how to encode them (as for :func:`toolkit.forecast.forecast`).
    run : ForecastRun, optional
        A forecast run; for series whose chosen model is SARIMAX its event
        coefficients replace the regression's, and the chosen model is added.
    series_ids : iterable of str, optional
        Only these series.
    season_length, harmonics : int
        Season length and Fourier harmonics of the seasonal curve.
    window_weeks : int
        Weeks (most recent) the regression uses.
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    seed : int
        Seed of the simulation behind the seasonality's standard error.

    Returns
    -------
    DataFrame
        One row per series and driver: ``series_id, driver, kind`` (``level``,
        ``trend``, ``seasonality``, ``event``), ``estimate, std_error, ci_low,
        ci_high, p_value, unit, source`` (``regression`` or ``sarimax``),
        ``n_weeks`` and, with ``run``, ``model``. Trend needs 13 weeks and
        seasonality a season and a half of history; events only appear where
        their regressor varies in the window.

        ``typical, effect, effect_low, effect_high`` put every driver in units a
        week: for an event, ``typical`` is the mean non-zero value of its regressor
        in the window (a tender's usual quantity, 1 for an indicator, the size of a
        reimbursement step) and ``effect`` the estimate times it, the demand a
        typical event adds (negative: removes) in a week it applies, with its
        interval; for the other drivers ``typical`` is 1 and ``effect`` the
        estimate.
    """
    panel = to_weekly_panel(history)
    exog, names = build_exog(
        history, panel, horizon=0, events=events, sites=sites, encoding=event_encoding
    )
    wanted = None if series_ids is None else set(series_ids)
    rng = np.random.default_rng(seed)
    weeks_all = np.arange(len(panel.dates))
    rows: list[dict] = []
    typical: dict[tuple[str, str], float] = {}
    start = panel.start
    for i, series_id in enumerate(panel.series_ids):
        if wanted is not None and series_id not in wanted:
            continue
        first = max(int(start[i]), len(panel.dates) - window_weeks)
        y = panel.values[i, first:]
        if y.size == 0:
            continue
        if exog is not None:
            for k, name in enumerate(names):
                column = exog[i, first:, k]
                active = column[column != 0]
                if active.size:
                    typical[(str(series_id), name)] = float(active.mean())
        rows.extend(
            _driver_rows(
                str(series_id),
                y,
                weeks_all[first:],
                None if exog is None else exog[i, first:],
                names,
                season_length,
                harmonics,
                level,
                rng,
            )
        )
    drivers = pd.DataFrame(
        rows,
        columns=[
            "series_id",
            "driver",
            "kind",
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "p_value",
            "unit",
            "source",
            "n_weeks",
        ],
    )
    if run is not None:
        models = run.selection.set_index("series_id")["model"]
        drivers["model"] = drivers["series_id"].map(models)
        coefficients = run.coefficients
        if len(coefficients):
            sarimax = coefficients[coefficients["method"] == "sarimax"]
            replaced = set(sarimax["series_id"])
            keep = ~((drivers["kind"] == "event") & drivers["series_id"].isin(replaced))
            quantile = stats.norm.ppf(0.5 + level / 2)
            extra = pd.DataFrame(
                {
                    "series_id": sarimax["series_id"],
                    "driver": sarimax["term"],
                    "kind": "event",
                    "estimate": sarimax["estimate"],
                    "std_error": sarimax["std_error"],
                    "ci_low": sarimax["estimate"] - quantile * sarimax["std_error"],
                    "ci_high": sarimax["estimate"] + quantile * sarimax["std_error"],
                    "p_value": 2
                    * stats.norm.sf(np.abs(sarimax["estimate"] / sarimax["std_error"])),
                    "unit": "units per regressor unit",
                    "source": "sarimax",
                    "model": "sarimax",
                }
            )
            if wanted is not None:
                extra = extra[extra["series_id"].isin(wanted)]
            n_weeks = drivers.drop_duplicates("series_id").set_index("series_id")["n_weeks"]
            extra["n_weeks"] = extra["series_id"].map(n_weeks)
            drivers = pd.concat([drivers[keep], extra], ignore_index=True)
    keys = zip(drivers["series_id"].astype(str), drivers["driver"], strict=True)
    factor = np.array(
        [
            typical.get(key, np.nan) if kind == "event" else 1.0
            for key, kind in zip(keys, drivers["kind"], strict=True)
        ],
        dtype=float,
    )
    drivers["typical"] = factor
    drivers["effect"] = drivers["estimate"].to_numpy(dtype=float) * factor
    low = drivers["ci_low"].to_numpy(dtype=float) * factor
    high = drivers["ci_high"].to_numpy(dtype=float) * factor
    drivers["effect_low"] = np.fmin(low, high)
    drivers["effect_high"] = np.fmax(low, high)
    kind_order = {"level": 0, "trend": 1, "seasonality": 2, "event": 3}
    drivers = drivers.assign(_order=drivers["kind"].map(kind_order))
    drivers = drivers.sort_values(["series_id", "_order", "driver"], kind="stable")
    return drivers.drop(columns="_order").reset_index(drop=True)
