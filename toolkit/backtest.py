"""Rolling-origin backtests: forecast errors per series, method and origin, and FVA.

A backtest *origin* is the last week a forecast may see. At each origin every
method is fitted on the weeks up to and including it (the panel is cut there, so
no method can see later data) and forecasts the next ``horizon`` weeks, which are
compared with what really happened. Origins step back from the end of the history
by ``step`` weeks (default: the horizon), the newest leaving exactly ``horizon``
weeks to evaluate.

Errors (forecasts clipped at zero, as delivered)
------------------------------------------------
``mase``   mean absolute error / mean absolute one-week change of the history before
           the origin (Hyndman and Koehler 2006);
``rmsse``  root mean squared error / root mean squared one-week change (M5);
``bias``   mean of forecast minus actual, in units (positive = over-forecast);
``relative_bias``  sum of forecast minus actual over sum of actual;
``coverage``  share of actuals inside the band between the outermost quantiles,
           from each method's *uncalibrated* distribution.

For a history that never changes, the scale is its mean absolute level; for an
all-zero history the scaled errors are undefined (``NaN``).

Forecast value added (FVA, Gilliland 2013) compares each method with seasonal
naive: ``fva_<metric> = seasonal_naive - method``, positive when the method is better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.demand_panel import (
    FIRM_EVENT_TYPES,
    WeeklyPanel,
    build_exog,
    firm_event_volume,
    series_keys,
    split_firm_events,
    to_weekly_panel,
)
from toolkit.forecast_distribution import FAMILY_BY_PATTERN, band_coverage
from toolkit.forecast_methods import (
    COMBINATIONS,
    DEFAULT_CANDIDATES,
    METHODS,
    MethodContext,
    MethodOutput,
    combine_outputs,
    run_method,
)
from toolkit.parallel import chunk_rows, map_chunks, resolve_jobs
from toolkit.segment import segment_panel_patterns

__all__ = [
    "METRICS",
    "BacktestArrays",
    "rolling_origins",
    "naive_scales",
    "error_metrics",
    "evaluate_panel",
    "selection_scores",
    "backtest",
    "forecast_value_added",
    "accuracy_by_segment",
    "rank_series",
]

#: The per-origin error columns of a backtest table.
METRICS: tuple[str, ...] = ("mase", "rmsse", "bias", "relative_bias", "coverage", "mae", "rmse")


def rolling_origins(
    n_weeks: int, horizon: int, n_origins: int = 3, step: int | None = None
) -> np.ndarray:
    """Return backtest origins as numbers of weeks seen, oldest first.

    Examples
    --------
    156 weeks, 13 ahead, 3 origins: forecasts made after weeks 117, 130 and 143.

    >>> rolling_origins(156, 13, 3).tolist()
    [117, 130, 143]
    """
    step = step or horizon
    origins = [n_weeks - horizon - k * step for k in range(n_origins)]
    return np.array(sorted(o for o in origins if o >= 1), dtype=int)


def naive_scales(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the MASE and RMSSE denominators of each series of a panel.

    The mean absolute and the mean squared one-week change of the observed weeks;
    for a series that never changes, its mean absolute level (squared); ``NaN``
    when that is zero too.
    """
    changes = np.diff(values, axis=1)
    count = (~np.isnan(changes)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale_abs = np.where(count > 0, np.nansum(np.abs(changes), axis=1) / count, np.nan)
        scale_sq = np.where(count > 0, np.nansum(changes**2, axis=1) / count, np.nan)
        observed = (~np.isnan(values)).sum(axis=1)
        level = np.where(observed > 0, np.nansum(np.abs(values), axis=1) / observed, np.nan)
    flat = ~(scale_abs > 0)
    scale_abs = np.where(flat, level, scale_abs)
    scale_sq = np.where(flat, level**2, scale_sq)
    scale_abs = np.where(scale_abs > 0, scale_abs, np.nan)
    scale_sq = np.where(scale_sq > 0, scale_sq, np.nan)
    return scale_abs, scale_sq


def error_metrics(
    actual: np.ndarray, forecast: np.ndarray, scale_abs: np.ndarray, scale_sq: np.ndarray
) -> dict[str, np.ndarray]:
    """Return MASE, RMSSE, bias, relative bias, MAE and RMSE over the last axis.

    ``actual``, ``forecast`` and the scales broadcast against each other; points
    where either is ``NaN`` are ignored; forecasts are clipped at zero first.

    Examples
    --------
    >>> m = error_metrics(np.array([2.0, 4.0]), np.array([3.0, 3.0]), 2.0, 4.0)
    >>> {k: float(v) for k, v in m.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'mase': 0.5, 'rmsse': 0.5, 'bias': 0.0, 'relative_bias': 0.0, 'mae': 1.0, 'rmse': 1.0}
    """
    forecast = np.clip(forecast, 0.0, None)
    error = forecast - actual
    known = ~np.isnan(error)
    count = known.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mae = np.where(count > 0, np.nansum(np.abs(error), axis=-1) / count, np.nan)
        mse = np.where(count > 0, np.nansum(error**2, axis=-1) / count, np.nan)
        bias = np.where(count > 0, np.nansum(error, axis=-1) / count, np.nan)
        total = np.nansum(np.where(known, actual, np.nan), axis=-1)
        relative_bias = np.where(total > 0, np.nansum(error, axis=-1) / total, np.nan)
        return {
            "mase": mae / scale_abs,
            "rmsse": np.sqrt(mse / scale_sq),
            "bias": bias,
            "relative_bias": relative_bias,
            "mae": mae,
            "rmse": np.sqrt(mse),
        }


@dataclass(frozen=True)
class BacktestArrays:
    """Everything a rolling-origin backtest of a panel produced, as arrays.

    Attributes
    ----------
    methods : list of str
        Methods evaluated (axis 1 of the method arrays).
    origins : ndarray, shape (n_origins,)
        Weeks seen at each origin.
    actual : ndarray, shape (n_series, n_origins, horizon)
        What happened after each origin.
    forecast, variance : ndarray, shape (n_series, n_methods, n_origins, horizon)
        Each method's forecasts (``NaN`` where it did not apply).
    scale_abs, scale_sq : ndarray, shape (n_series, n_origins)
        MASE and RMSSE denominators from the history before each origin.
    patterns : ndarray of str, shape (n_series, n_origins)
        Demand pattern of each series on the history before each origin.
    metrics : dict of str to ndarray, shape (n_series, n_methods, n_origins)
        The error measures of :data:`METRICS`.
    diagnostics : list of dict
        Warnings and errors of the fits (with ``origin``).
    """

    methods: list[str]
    origins: np.ndarray
    actual: np.ndarray
    forecast: np.ndarray
    variance: np.ndarray
    scale_abs: np.ndarray
    scale_sq: np.ndarray
    patterns: np.ndarray
    metrics: dict[str, np.ndarray]
    diagnostics: list[dict] = field(default_factory=list)


def evaluate_panel(
    values: np.ndarray,
    methods: Sequence[str],
    origins: Sequence[int],
    horizon: int,
    *,
    series_ids: np.ndarray,
    dates: pd.DatetimeIndex,
    candidates: np.ndarray | None = None,
    season_length: int = 52,
    exog: np.ndarray | None = None,
    exog_names: Sequence[str] = (),
    band: tuple[float, float] = (0.05, 0.95),
    pattern_options: Mapping | None = None,
    warm_start: dict | None = None,
    min_train: int = 1,
) -> BacktestArrays:
    """Backtest methods on a panel at several origins.

    Parameters
    ----------
    values : ndarray, shape (n_series, n_weeks)
        The panel.
    methods : sequence of str
        Names in :data:`toolkit.forecast_methods.METHODS`.
    origins : sequence of int
        Weeks seen at each origin (each at most ``n_weeks - horizon``).
    horizon : int
        Weeks forecast at each origin.
    series_ids, dates
        Row ids and the panel's weeks.
    candidates : ndarray of bool, shape (n_series, n_methods), optional
        Which methods to run for which series (all by default).
    season_length : int
        Weeks per season.
    exog : ndarray, shape (n_series, >= n_weeks, n_exog), optional
        Exogenous regressors; at an origin a method sees their past and their
        values over the next ``horizon`` weeks (known future events), never demand
        after the origin.
    exog_names : sequence of str
        Their names.
    band : (float, float)
        Quantile levels whose band's coverage is measured.
    pattern_options : dict, optional
        Keyword arguments of :func:`toolkit.segment.segment_panel_patterns`.
    warm_start : dict, optional
        Filled with each statsmodels fit's parameters, which start the next (later)
        origin's fit of the same series (see
        :class:`toolkit.forecast_methods.MethodContext`).
    min_train : int
        Weeks of history a series needs at an origin to be forecast there at all
        (on top of each method's own minimum).

    Returns
    -------
    BacktestArrays
    """
    n_series, n_weeks = values.shape
    methods = list(methods)
    origins = np.asarray(origins, dtype=int)
    if np.any(origins + horizon > n_weeks):
        raise ValueError("an origin leaves fewer than `horizon` weeks to evaluate")
    if candidates is None:
        candidates = np.ones((n_series, len(methods)), dtype=bool)
    candidates = candidates.copy()
    # A combination is averaged from its parts' forecasts when they are evaluated
    # too (no second ETS fit); make sure they run wherever it does.
    derived = {
        m: [methods.index(p) for p in COMBINATIONS[name]]
        for m, name in enumerate(methods)
        if name in COMBINATIONS and all(p in methods for p in COMBINATIONS[name])
    }
    for m, parts in derived.items():
        for part in parts:
            candidates[:, part] |= candidates[:, m]
    if np.any(np.diff(origins) < 0):
        raise ValueError("origins must be in chronological order")
    warm_start = {} if warm_start is None else warm_start
    shape = (n_series, len(methods), len(origins), horizon)
    forecast = np.full(shape, np.nan)
    variance = np.full(shape, np.nan)
    actual = np.full((n_series, len(origins), horizon), np.nan)
    scale_abs = np.full((n_series, len(origins)), np.nan)
    scale_sq = np.full((n_series, len(origins)), np.nan)
    patterns = np.empty((n_series, len(origins)), dtype=object)
    diagnostics: list[dict] = []
    for k, origin in enumerate(origins):
        seen = values[:, :origin]
        context = MethodContext(
            np.asarray(series_ids),
            dates[:origin],
            season_length,
            None if exog is None else exog[:, :origin],
            None if exog is None else exog[:, origin : origin + horizon],
            list(exog_names),
            warm_start,
        )
        enough = (~np.isnan(seen)).sum(axis=1) >= min_train
        for m, name in enumerate(methods):
            rows = np.flatnonzero(candidates[:, m] & enough)
            if rows.size == 0 or m in derived:
                continue
            output = run_method(name, seen, horizon, context, rows)
            forecast[:, m, k] = output.forecast
            variance[:, m, k] = output.variance
            for row in output.diagnostics:
                diagnostics.append({**row, "origin": dates[origin - 1]})
        for m, parts in derived.items():
            outside = ~candidates[:, m]
            combined = combine_outputs(
                [MethodOutput(forecast[:, p, k], variance[:, p, k]) for p in parts]
            )
            outside |= ~enough
            forecast[:, m, k] = np.where(outside[:, None], np.nan, combined.forecast)
            variance[:, m, k] = np.where(outside[:, None], np.nan, combined.variance)
        actual[:, k] = values[:, origin : origin + horizon]
        scale_abs[:, k], scale_sq[:, k] = naive_scales(seen)
        patterns[:, k] = segment_panel_patterns(seen, **(pattern_options or {}))
    metrics = error_metrics(actual[:, None], forecast, scale_abs[:, None, :], scale_sq[:, None, :])
    coverage = np.full((n_series, len(methods), len(origins)), np.nan)
    for k in range(len(origins)):
        family = np.array([FAMILY_BY_PATTERN.get(p, "count") for p in patterns[:, k]], object)
        for m in range(len(methods)):
            covered = band_coverage(
                actual[:, k], forecast[:, m, k], variance[:, m, k], family, *band
            )
            covered[np.isnan(forecast[:, m, k])] = np.nan
            with np.errstate(invalid="ignore"):
                counted = (~np.isnan(covered)).sum(axis=1)
                coverage[:, m, k] = np.where(
                    counted > 0, np.nansum(covered, axis=1) / np.maximum(counted, 1), np.nan
                )
    metrics["coverage"] = coverage
    return BacktestArrays(
        methods,
        origins,
        actual,
        forecast,
        variance,
        scale_abs,
        scale_sq,
        patterns,
        metrics,
        diagnostics,
    )


def selection_scores(
    arrays: BacktestArrays,
    eligible: np.ndarray | None = None,
    metrics: Sequence[str] = ("mase", "rmsse"),
) -> tuple[np.ndarray, np.ndarray]:
    """Return each method's selection score per series and which may be chosen.

    The score is the mean over origins of the mean of ``metrics`` (MASE and RMSSE
    by default). A method is comparable for a series only if it has a score at
    every origin where the best-covered method has one; others get ``inf``.

    Returns
    -------
    (score, comparable)
        Arrays of shape ``(n_series, n_methods)``.
    """
    combined = np.mean([arrays.metrics[name] for name in metrics], axis=0)
    valid = ~np.isnan(combined)
    n_valid = valid.sum(axis=2)
    most = n_valid.max(axis=1, keepdims=True)
    comparable = (n_valid == most) & (most > 0)
    if eligible is not None:
        comparable &= eligible
    with np.errstate(invalid="ignore"):
        score = np.where(comparable, np.nansum(combined, axis=2) / np.maximum(n_valid, 1), np.inf)
    return score, comparable


def _backtest_task(task: dict) -> tuple[BacktestArrays, np.ndarray]:
    arrays = evaluate_panel(
        task["values"],
        task["methods"],
        task["origins"],
        task["horizon"],
        series_ids=task["series_ids"],
        dates=task["dates"],
        candidates=task["candidates"],
        season_length=task["season_length"],
        exog=task["exog"],
        exog_names=task["exog_names"],
        band=task["band"],
        pattern_options=task["pattern_options"],
        min_train=task["pattern_options"]["min_history"],
    )
    return arrays, task["rows"]


def _auto_rows(
    history: pd.DataFrame,
    panel: WeeklyPanel,
    origins: np.ndarray,
    horizon: int,
    band: tuple[float, float],
    options: dict,
) -> list[pd.DataFrame]:
    """Backtest the whole automatic procedure: a nested selection at every origin."""
    from toolkit.forecast import run_forecast

    frames = []
    lower, upper = band
    for origin in origins:
        cut = panel.dates[origin - 1]
        seen = history[pd.to_datetime(history["date"]) <= cut]
        run = run_forecast(
            seen, horizon, quantiles=(lower, 0.5, upper), progress=False, end=cut, **options
        )
        table = run.forecast
        truth = panel.to_frame().rename(columns={"quantity": "actual"})
        merged = table.merge(truth, on=["series_id", "date"], how="left")
        scale = pd.DataFrame(
            dict(
                zip(("scale_abs", "scale_sq"), naive_scales(panel.values[:, :origin]), strict=True)
            ),
        ).assign(series_id=panel.series_ids)
        merged = merged.merge(scale, on="series_id", how="left")
        lo, hi = f"q{lower:g}", f"q{upper:g}"
        rows = []
        for series_id, group in merged.groupby("series_id", sort=False):
            metrics = error_metrics(
                group["actual"].to_numpy(float),
                group["forecast"].to_numpy(float),
                group["scale_abs"].iloc[0],
                group["scale_sq"].iloc[0],
            )
            known = group["actual"].notna()
            inside = (group["actual"] >= group[lo] - 1e-9) & (group["actual"] <= group[hi] + 1e-9)
            coverage = float(inside[known].mean()) if known.any() else np.nan
            rows.append(
                {
                    "series_id": series_id,
                    "method": "auto",
                    "chosen_method": group["model"].iloc[0],
                    "origin": cut,
                    **{k: float(v) for k, v in metrics.items()},
                    "coverage": coverage,
                }
            )
        frames.append(pd.DataFrame(rows))
    return frames


def backtest(
    history: pd.DataFrame,
    horizon: int,
    origins: int | Sequence = 3,
    methods: Sequence[str] | None = None,
    *,
    step: int | None = None,
    events: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    event_encoding: Mapping[str, str] | None = None,
    firm_event_types: Sequence[str] = FIRM_EVENT_TYPES,
    season_length: int = 52,
    band: tuple[float, float] = (0.05, 0.95),
    min_history: int = 13,
    window_weeks: int | None = 104,
    n_jobs: int | None = 1,
    progress: bool = False,
) -> pd.DataFrame:
    """Backtest forecasting methods on a history at rolling origins.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (see :func:`toolkit.demand_panel.to_weekly_panel`).
    horizon : int
        Weeks forecast from each origin.
    origins : int or sequence of dates
        Number of origins stepping back from the end, or the origins themselves
        (the last week each forecast may see; each must leave ``horizon`` weeks).
    methods : sequence of str, optional
        Method names (see :mod:`toolkit.forecast_methods`), plus ``"auto"`` for the
        whole automatic selection of :func:`toolkit.forecast.forecast`, rerun from
        scratch at every origin on the history up to it. By default each series'
        candidates for its demand pattern (on the whole history) and seasonal naive.
    step : int, optional
        Weeks between origins (default: ``horizon``).
    events, sites, event_encoding, firm_event_types
        Known events and how to use them, as for :func:`toolkit.forecast.run_forecast`;
        errors of the named methods are measured on demand net of firm orders.
    season_length : int
        Weeks per season.
    band : (float, float)
        Quantile levels of the band whose coverage is measured.
    min_history, window_weeks : int
        Pattern classification options (see :func:`toolkit.segment.segment_panel_patterns`);
        a series is only backtested at origins where it has ``min_history`` weeks.
    n_jobs : int, optional
        Worker processes (None: every core).
    progress : bool
        Show a progress bar.

    Returns
    -------
    DataFrame
        One row per series, method and origin: ``series_id, pattern, method, origin``
        (date of the last week seen), and the errors of :data:`METRICS`. Methods that
        do not apply to a series at an origin (too little history) have no row.
    """
    raw_panel = to_weekly_panel(history)
    n_weeks = len(raw_panel.dates)
    firm_events, regressor_events = split_firm_events(events, firm_event_types)
    firm = firm_event_volume(
        firm_events, series_keys(history, sites, series_ids=raw_panel.series_ids), raw_panel.dates
    )
    panel = WeeklyPanel(
        raw_panel.series_ids, raw_panel.dates, np.clip(raw_panel.values - firm, 0.0, None)
    )
    if isinstance(origins, int | np.integer):
        origin_weeks = rolling_origins(n_weeks, horizon, int(origins), step)
    else:
        cut = pd.DatetimeIndex(pd.to_datetime(list(origins)))
        origin_weeks = np.sort(panel.dates.get_indexer(cut) + 1)
        if np.any(origin_weeks <= 0):
            raise ValueError("an origin is not a week of the history")
    if np.any(origin_weeks + horizon > n_weeks):
        raise ValueError("an origin leaves fewer than `horizon` weeks to evaluate")
    pattern_options = {"min_history": min_history, "window_weeks": window_weeks}
    patterns = segment_panel_patterns(panel, **pattern_options)
    requested = list(methods) if methods is not None else None
    with_auto = requested is not None and "auto" in requested
    if requested is None:
        names = list(dict.fromkeys([m for p in DEFAULT_CANDIDATES.values() for m in p]))
        names.append("seasonal_naive") if "seasonal_naive" not in names else None
        candidates = np.array(
            [
                [m in DEFAULT_CANDIDATES[p] or m == "seasonal_naive" for m in names]
                for p in patterns
            ],
            dtype=bool,
        ).reshape(panel.n_series, len(names))
    else:
        names = [m for m in requested if m != "auto"]
        unknown = [m for m in names if m not in METHODS]
        if unknown:
            raise KeyError(f"unknown methods {unknown}; known: {sorted(METHODS)}")
        candidates = np.ones((panel.n_series, len(names)), dtype=bool)
    exog, exog_names = build_exog(
        history, panel, horizon=0, events=regressor_events, sites=sites, encoding=event_encoding
    )
    frames: list[pd.DataFrame] = []
    if names:
        tasks = [
            {
                "values": panel.values[rows],
                "methods": names,
                "origins": origin_weeks,
                "horizon": horizon,
                "series_ids": panel.series_ids[rows],
                "dates": panel.dates,
                "candidates": candidates[rows],
                "season_length": season_length,
                "exog": None if exog is None else exog[rows],
                "exog_names": exog_names,
                "band": band,
                "pattern_options": pattern_options,
                "rows": rows,
            }
            for rows in chunk_rows(panel.n_series, resolve_jobs(n_jobs))
        ]
        for arrays, rows in map_chunks(
            _backtest_task, tasks, n_jobs=n_jobs, progress=progress, description="backtest"
        ):
            frames.append(_arrays_to_frame(arrays, panel.series_ids[rows], panel.dates))
    if with_auto:
        options = {
            "events": events,
            "sites": sites,
            "event_encoding": event_encoding,
            "firm_event_types": firm_event_types,
            "season_length": season_length,
            "min_history": min_history,
            "window_weeks": window_weeks,
            "n_jobs": n_jobs,
        }
        frames.extend(_auto_rows(history, raw_panel, origin_weeks, horizon, band, options))
    if not frames:
        return pd.DataFrame(columns=["series_id", "pattern", "method", "origin", *METRICS])
    table = pd.concat(frames, ignore_index=True)
    table["pattern"] = table["series_id"].map(dict(zip(panel.series_ids, patterns, strict=True)))
    front = ["series_id", "pattern", "method", "origin", *METRICS]
    rest = [c for c in table.columns if c not in front]
    return table[front + rest].sort_values(["series_id", "method", "origin"], ignore_index=True)


def _arrays_to_frame(
    arrays: BacktestArrays, series_ids: np.ndarray, dates: pd.DatetimeIndex
) -> pd.DataFrame:
    n_series, n_methods, n_origins = arrays.metrics["mase"].shape
    frame = pd.DataFrame(
        {
            "series_id": np.repeat(series_ids, n_methods * n_origins),
            "method": np.tile(np.repeat(arrays.methods, n_origins), n_series),
            "origin": np.tile(dates[arrays.origins - 1].values, n_series * n_methods),
        }
    )
    for name in METRICS:
        frame[name] = arrays.metrics[name].ravel()
    ran = ~np.isnan(arrays.forecast[..., 0]).ravel()
    return frame[ran].reset_index(drop=True)


def forecast_value_added(
    errors: pd.DataFrame,
    *,
    baseline: str = "seasonal_naive",
    metrics: Sequence[str] = ("mase", "rmsse"),
) -> pd.DataFrame:
    """Return the forecast value added of every method over a baseline, per series.

    Parameters
    ----------
    errors : DataFrame
        A backtest table (:func:`backtest` or :attr:`toolkit.forecast.ForecastRun.scores`).
    baseline : str
        The method compared against (seasonal naive by default).
    metrics : sequence of str
        Error columns compared.

    Returns
    -------
    DataFrame
        ``series_id, method``, each metric averaged over the origins both methods
        share, the baseline's value (``<metric>_baseline``) and ``fva_<metric> =
        baseline - method`` (positive: the method beats the baseline).
    """
    mean = errors.groupby(["series_id", "method", "origin"], as_index=False)[list(metrics)].mean()
    base = mean[mean["method"] == baseline].drop(columns="method")
    merged = mean.merge(base, on=["series_id", "origin"], suffixes=("", "_baseline"))
    out = merged.groupby(["series_id", "method"], as_index=False)[
        [*metrics, *(f"{m}_baseline" for m in metrics)]
    ].mean()
    for metric in metrics:
        out[f"fva_{metric}"] = out[f"{metric}_baseline"] - out[metric]
    return out


def accuracy_by_segment(
    errors: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    by: str | Sequence[str] = "pattern",
    method: str | None = None,
    metrics: Sequence[str] = ("mase", "rmsse", "bias", "coverage"),
    statistic: Literal["mean", "median"] = "mean",
    baseline: str | None = None,
) -> pd.DataFrame:
    """Average backtest errors by segment (pattern, ABC, XYZ, ...).

    Parameters
    ----------
    errors : DataFrame
        Backtest rows with ``series_id`` and the ``metrics`` columns, e.g.
        :attr:`toolkit.forecast.ForecastRun.scores` (then only the chosen method's
        rows are used unless ``method`` is given).
    segments : DataFrame
        ``series_id`` and the ``by`` columns (e.g. :func:`toolkit.segment.segment_demand`).
    by : str or list of str
        Segment columns to group by.
    method : str, optional
        Restrict to one method.
    metrics : sequence of str
        Error columns to summarize (each series' mean over its origins first).
    statistic : {"mean", "median"}
        How the series of a segment are summarized; the median is not swayed by a
        few series with huge scaled errors.
    baseline : str, optional
        A benchmark method in ``errors`` (e.g. ``"seasonal_naive"``): adds its
        summarized metrics as ``<metric>_baseline`` and ``better_share``, the share
        of series whose first metric is lower than the baseline's (series where
        both are equal, e.g. zero forecasts of inactive series, are not counted).
        As in :attr:`toolkit.forecast.ForecastRun.selection`, each method's errors
        are averaged over the origins it was scored at.

    Returns
    -------
    DataFrame
        One row per segment: ``n_series`` and the statistic of each metric over its
        series (and the baseline's, with ``better_share``).
    """
    if statistic not in ("mean", "median"):
        raise ValueError("statistic must be 'mean' or 'median'")
    by = [by] if isinstance(by, str) else list(by)
    rows = errors
    if method is not None:
        rows = rows[rows["method"] == method]
    elif "chosen" in rows.columns:
        rows = rows[rows["chosen"].astype(bool)]
    metrics = [m for m in metrics if m in rows.columns]
    per_series = rows.groupby("series_id", as_index=False)[metrics].mean()
    if baseline is not None:
        base = errors[errors["method"] == baseline].groupby("series_id")[metrics].mean()
        base = base.add_suffix("_baseline").reset_index()
        per_series = per_series.merge(base, on="series_id", how="left")
        first = metrics[0]
        ours, theirs = per_series[first], per_series[f"{first}_baseline"]
        decided = ours.notna() & theirs.notna() & ~np.isclose(ours, theirs, rtol=0, atol=1e-12)
        per_series["better_share"] = (ours < theirs).astype(float).where(decided)
    keys = segments[["series_id", *[c for c in by if c in segments.columns]]]
    keys = keys.drop_duplicates("series_id")
    drop = [c for c in by if c in per_series.columns and c in keys.columns]
    merged = per_series.drop(columns=drop).merge(keys, on="series_id", how="inner")
    grouped = merged.groupby(by, dropna=False)
    columns = [c for c in merged.columns if c not in {"series_id", *by}]
    out = grouped[columns].agg(statistic)
    if "better_share" in out.columns:
        out["better_share"] = grouped["better_share"].mean()
    out.insert(0, "n_series", grouped.size())
    return out.reset_index()


def rank_series(
    selection: pd.DataFrame,
    *,
    n: int = 10,
    metric: str = "score",
    best: bool = True,
    exclude_patterns: Sequence[str] = ("inactive", "new"),
    segments: pd.DataFrame | None = None,
    classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the ``n`` best (or worst) forecast series by a selection-table column.

    Series of ``exclude_patterns`` are left out (an inactive series forecast at zero
    is trivially "best"). ``selection`` is :attr:`toolkit.forecast.ForecastRun.selection`.
    With ``segments`` (:func:`toolkit.segment.segment_demand`) and ``classes``, only
    series of those ABC classes are ranked (e.g. ``("A", "B")``: a near-perfect
    score on a series that sold twice in two years says little).
    """
    ranked = selection.dropna(subset=[metric])
    if "pattern" in ranked.columns:
        ranked = ranked[~ranked["pattern"].isin(exclude_patterns)]
    if classes is not None:
        if segments is None:
            raise ValueError("classes needs segments (series_id, abc)")
        wanted = segments.loc[segments["abc"].isin(list(classes)), "series_id"]
        ranked = ranked[ranked["series_id"].isin(set(wanted))]
    ranked = ranked.sort_values(metric, ascending=best, kind="stable")
    return ranked.head(n).reset_index(drop=True)
