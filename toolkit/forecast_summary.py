"""Figures a forecast report shows: headline numbers, warnings by kind, series to look at.

Nothing here forecasts; every function summarizes what :func:`toolkit.forecast.run_forecast`,
:func:`toolkit.segment.segment_demand` and :mod:`toolkit.lifecycle` already produced,
so that the report notebook only calls functions and displays their results.

* :func:`largest_series` caps a history at its most valuable series
  (``forecast.max_series`` of the parameters).
* :func:`regional_stock` keeps the stock a region's forecast can consume.
* :func:`summarize_forecast` returns the headline figures (:class:`ForecastSummary`).
* :func:`demand_outlook` puts recent weekly demand value beside the forecast, with a
  band for the total; :func:`product_line_outlook` compares them per product line.
* :func:`diagnostics_summary` counts the fits' warnings by method and kind.
* :func:`spotlight_series` picks a few series worth a closer look, with the reason.
* :func:`describe_series` adds site, sku, description and product line to a table;
  :func:`series_labels` names series for titles and pickers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.demand_panel import split_series_id
from toolkit.forecast import ForecastRun

__all__ = [
    "ForecastSummary",
    "largest_series",
    "regional_stock",
    "summarize_forecast",
    "demand_outlook",
    "product_line_outlook",
    "diagnostics_summary",
    "spotlight_series",
    "describe_series",
    "series_labels",
]

#: Patterns without a backtest of their own choice (a fixed fallback method).
_FALLBACK = ("inactive", "new")


def largest_series(history: pd.DataFrame, segments: pd.DataFrame, max_series: int) -> pd.DataFrame:
    """Keep the history of the ``max_series`` series of highest annual value (0: all).

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity``.
    segments : DataFrame
        :func:`toolkit.segment.segment_demand` (``series_id, annual_value``).
    max_series : int
        How many series to keep; 0 keeps every series.

    Returns
    -------
    DataFrame
        The rows of the kept series, in the history's order.

    Examples
    --------
    >>> history = pd.DataFrame({"series_id": ["a", "b", "b"], "quantity": [1.0, 2.0, 3.0]})
    >>> segments = pd.DataFrame({"series_id": ["a", "b"], "annual_value": [5.0, 9.0]})
    >>> largest_series(history, segments, 1)["series_id"].tolist()
    ['b', 'b']
    """
    if max_series < 0:
        raise ValueError("max_series must be 0 (all) or positive")
    if max_series == 0:
        return history
    ranked = segments.sort_values("annual_value", ascending=False, kind="stable")
    keep = set(ranked["series_id"].astype(str).head(max_series))
    return history[history["series_id"].astype(str).isin(keep)]


def regional_stock(
    inventory: pd.DataFrame,
    sites: pd.DataFrame,
    region: str,
    *,
    site_types: Sequence[str] = ("market", "dc"),
) -> pd.DataFrame:
    """Keep the stock held in a region: at its markets and its own distribution centres.

    A region's forecast can only consume the stock in its region. Plants and other
    regions' DCs serve every region, so counting their end-of-life stock against one
    region's demand would overstate that region's obsolescence risk.

    Parameters
    ----------
    inventory : DataFrame
        Canonical inventory (``site_id``, ...).
    sites : DataFrame
        ``site_id, site_type, region``.
    region : str
        The region (a value of ``sites.region``).
    site_types : sequence of str
        Site types counted.

    Returns
    -------
    DataFrame
        The rows of ``inventory`` at the region's sites of those types.
    """
    chosen = sites[(sites["region"] == region) & sites["site_type"].isin(site_types)]
    return inventory[inventory["site_id"].isin(set(chosen["site_id"]))]


def _unit_cost(items: pd.DataFrame) -> pd.Series:
    table = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku")
    return table.set_index("sku")["unit_cost"].astype(float)


def _value(frame: pd.DataFrame, quantity: str, items: pd.DataFrame) -> float:
    sku = split_series_id(frame["series_id"])["sku"].astype(str)
    cost = sku.map(_unit_cost(items)).fillna(0.0).to_numpy(dtype=float)
    return float((frame[quantity].to_numpy(dtype=float) * cost).sum())


@dataclass(frozen=True)
class ForecastSummary:
    """The headline figures of a forecast run.

    Attributes
    ----------
    n_series : int
        Series forecast.
    n_backtested : int
        Series whose method was chosen on a backtest.
    n_inactive, n_new : int
        Series without demand in the window (zero forecast) and young series
        (recent mean).
    n_phased_out : int
        Series of items being replaced whose forecast is set to zero.
    mase, rmsse : float
        Median backtest MASE and RMSSE of the chosen methods over the backtested
        series (below 1: better than repeating last week's demand).
    mase_naive, rmsse_naive : float
        The same medians for seasonal naive (same week last year), the benchmark.
    better_share : float
        Share of backtested series whose chosen method has a lower MASE than
        seasonal naive (ties left out).
    band_target : float
        Nominal share of demand inside the band (0.9 for the 5%-95% band).
    band_coverage : float
        Backtest coverage of the calibrated band (all patterns), counted on the
        randomized PIT (:func:`toolkit.forecast_distribution.pit_band_share`): what
        the calibration aims at ``band_target``.
    band_weeks_inside : float
        Plain share of backtest weeks inside the calibrated band; above the target
        for discrete demand, whose weeks without orders are always inside.
    band_coverage_uncalibrated : float
        Plain share of backtest weeks inside the methods' own bands before
        calibration (mean over series).
    horizon : int
        Weeks forecast.
    first_week, last_week : Timestamp
        The forecast's first and last week.
    forecast_units, forecast_value : float
        Forecast demand over the horizon, in units and at unit cost.
    firm_units, firm_value : float
        Firm orders (tenders, maintenance campaigns) inside that forecast.
    recent_value : float
        Actual demand value of the last ``horizon`` weeks of history (each item's
        own demand: units carried over to successors are not counted twice).
    value_change : float
        ``forecast_value / recent_value - 1`` (NaN without recent demand).
    risk_skus : int
        End-of-life skus with stock at risk (0 without a risk table).
    risk_units, risk_value : float
        Their stock the forecast does not consume, in units and at unit cost.
    """

    n_series: int
    n_backtested: int
    n_inactive: int
    n_new: int
    n_phased_out: int
    mase: float
    rmsse: float
    mase_naive: float
    rmsse_naive: float
    better_share: float
    band_target: float
    band_coverage: float
    band_weeks_inside: float
    band_coverage_uncalibrated: float
    horizon: int
    first_week: pd.Timestamp
    last_week: pd.Timestamp
    forecast_units: float
    forecast_value: float
    firm_units: float
    firm_value: float
    recent_value: float
    value_change: float
    risk_skus: int = 0
    risk_units: float = 0.0
    risk_value: float = 0.0


def summarize_forecast(
    run: ForecastRun,
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    items: pd.DataFrame,
    *,
    risk: pd.DataFrame | None = None,
) -> ForecastSummary:
    """Return the headline figures of a forecast run.

    Parameters
    ----------
    run : ForecastRun
        :func:`toolkit.forecast.run_forecast`'s result (selection, calibration, firm
        orders).
    forecast : DataFrame
        The forecast table as used downstream, e.g. after
        :func:`toolkit.lifecycle.phase_out` (a ``phased_out`` column is counted).
    history : DataFrame
        The history the run was fitted on (``series_id, date, quantity`` and, after
        :func:`toolkit.lifecycle.carry_over_history`, ``carried_over``).
    items : DataFrame
        ``sku, unit_cost``.
    risk : DataFrame, optional
        :func:`toolkit.lifecycle.obsolescence_risk`, for the ``risk_*`` totals.

    Returns
    -------
    ForecastSummary
    """
    selection = run.selection
    scored = selection[~selection["pattern"].isin(_FALLBACK) & (selection["n_origins"] > 0)]
    patterns = selection["pattern"].value_counts()

    def median(column: str) -> float:
        if column not in scored.columns or scored[column].notna().sum() == 0:
            return float("nan")
        return float(scored[column].median())

    better = float("nan")
    if {"mase", "mase_seasonal_naive"} <= set(scored.columns):
        ours, theirs = scored["mase"], scored["mase_seasonal_naive"]
        decided = ours.notna() & theirs.notna() & ~np.isclose(ours, theirs, rtol=0, atol=1e-12)
        if decided.any():
            better = float((ours[decided] < theirs[decided]).mean())
    calibration = run.calibration.dropna(subset=["coverage"])
    calibration = calibration[calibration["n_points"] > 0]
    if len(calibration):
        weights = calibration["n_points"].to_numpy(dtype=float)
        band_coverage = float(np.average(calibration["coverage"], weights=weights))
        band_weeks_inside = float(np.average(calibration["weeks_in_band"], weights=weights))
        band_target = float(calibration["target"].iloc[0])
    else:
        band_coverage = band_weeks_inside = band_target = float("nan")
    dates = pd.to_datetime(forecast["date"])
    horizon = int(dates.nunique())
    firm = run.firm_orders()
    if "phased_out" in forecast.columns and len(firm):
        retired = forecast.loc[forecast["phased_out"].astype(bool), ["series_id", "date"]]
        firm = firm.merge(retired.assign(_retired=True), on=["series_id", "date"], how="left")
        firm = firm[firm["_retired"].isna()].drop(columns="_retired")
    past = history.assign(date=pd.to_datetime(history["date"]))
    if len(past):
        last = past["date"].max()
        past = past[past["date"] > last - pd.Timedelta(weeks=horizon)]
    own = past["quantity"] - past["carried_over"] if "carried_over" in past else past["quantity"]
    recent_value = _value(past.assign(own=own), "own", items) if len(past) else 0.0
    forecast_value = _value(forecast, "forecast", items) if len(forecast) else 0.0
    phased = (
        forecast.loc[forecast["phased_out"].astype(bool), "series_id"].nunique()
        if ("phased_out" in forecast.columns)
        else 0
    )
    return ForecastSummary(
        n_series=int(selection["series_id"].nunique()),
        n_backtested=len(scored),
        n_inactive=int(patterns.get("inactive", 0)),
        n_new=int(patterns.get("new", 0)),
        n_phased_out=int(phased),
        mase=median("mase"),
        rmsse=median("rmsse"),
        mase_naive=median("mase_seasonal_naive"),
        rmsse_naive=median("rmsse_seasonal_naive"),
        better_share=better,
        band_target=band_target,
        band_coverage=band_coverage,
        band_weeks_inside=band_weeks_inside,
        band_coverage_uncalibrated=float(scored["coverage"].mean()) if len(scored) else np.nan,
        horizon=horizon,
        first_week=dates.min() if horizon else pd.NaT,
        last_week=dates.max() if horizon else pd.NaT,
        forecast_units=float(forecast["forecast"].sum()),
        forecast_value=forecast_value,
        firm_units=float(firm["quantity"].sum()) if len(firm) else 0.0,
        firm_value=_value(firm, "quantity", items) if len(firm) else 0.0,
        recent_value=recent_value,
        value_change=forecast_value / recent_value - 1.0 if recent_value > 0 else float("nan"),
        risk_skus=int((risk["risk_units"] > 0).sum()) if risk is not None and len(risk) else 0,
        risk_units=float(risk["risk_units"].sum()) if risk is not None and len(risk) else 0.0,
        risk_value=float(risk["risk_value"].fillna(0).sum())
        if risk is not None and len(risk)
        else 0.0,
    )


def diagnostics_summary(diagnostics: pd.DataFrame) -> pd.DataFrame:
    """Count the fits' warnings and errors by method, stage and kind.

    Parameters
    ----------
    diagnostics : DataFrame
        :attr:`toolkit.forecast.ForecastRun.diagnostics` (``series_id, method,
        stage, category, message, count``).

    Returns
    -------
    DataFrame
        ``method, stage, category, series`` (distinct series; a vectorized
        method's chunk-wide row ``*`` counts as one), ``occurrences`` (fits that
        warned) and ``example`` (the most frequent message), most occurrences first.
        Empty (with those columns) when the fits were clean.
    """
    columns = ["method", "stage", "category", "series", "occurrences", "example"]
    if diagnostics is None or diagnostics.empty:
        return pd.DataFrame(columns=columns)
    frame = diagnostics.assign(
        count=pd.to_numeric(diagnostics["count"], errors="coerce").fillna(1).astype(int)
    )
    keys = ["method", "stage", "category"]
    grouped = frame.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(series=("series_id", "nunique"), occurrences=("count", "sum")).reset_index()
    examples = (
        frame.groupby([*keys, "message"], dropna=False, sort=False)["count"]
        .sum()
        .reset_index()
        .sort_values("count", ascending=False, kind="stable")
        .drop_duplicates(keys)
        .rename(columns={"message": "example"})
    )
    out = out.merge(examples[[*keys, "example"]], on=keys, how="left")
    out = out.sort_values(["occurrences", "method"], ascending=[False, True], kind="stable")
    return out[columns].reset_index(drop=True)


def describe_series(
    frame: pd.DataFrame, items: pd.DataFrame, *, key: str = "series_id"
) -> pd.DataFrame:
    """Insert ``site_id, sku, description, product_line`` after a table's key column.

    Parameters
    ----------
    frame : DataFrame
        A table with ``series_id`` (or ``sku`` with ``key="sku"``).
    items : DataFrame
        ``sku, description, product_line``.
    key : {"series_id", "sku"}
        The column identifying the rows.

    Returns
    -------
    DataFrame
        A copy with the columns added (existing ones are kept as they are).
    """
    if key not in ("series_id", "sku"):
        raise ValueError("key must be 'series_id' or 'sku'")
    out = frame.copy()
    position = list(out.columns).index(key) + 1
    if key == "series_id":
        parts = split_series_id(out["series_id"])
        added = {"site_id": parts["site_id"], "sku": parts["sku"]}
    else:
        added = {}
    sku = (added.get("sku") if key == "series_id" else out["sku"]).astype(str)
    table = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku").set_index("sku")
    for column in ("description", "product_line"):
        if column in table.columns:
            added[column] = sku.map(table[column])
    for column, values in added.items():
        if column not in out.columns:
            out.insert(position, column, values.to_numpy())
            position += 1
    return out


def spotlight_series(
    run: ForecastRun,
    segments: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    n_largest: int = 1,
) -> pd.DataFrame:
    """Pick a few series worth a closer look in a report, each with the reason.

    In order: the ``n_largest`` series of highest annual value among those whose
    method was chosen on a backtest; the most valuable smooth or erratic one when
    none of those is (trend and seasonality show on series that sell most weeks);
    the series with the largest firm order inside the forecast (a tender or
    maintenance campaign), and the largest series whose chosen model uses event
    regressors (SARIMAX). A series is listed once.

    Parameters
    ----------
    run : ForecastRun
    segments : DataFrame
        :func:`toolkit.segment.segment_demand` (``series_id, abc, pattern,
        annual_value``).
    items : DataFrame, optional
        ``sku, unit_cost`` to value firm orders (units otherwise).
    n_largest : int
        How many of the most valuable series.

    Returns
    -------
    DataFrame
        ``series_id, reason``.
    """
    selection = run.selection.set_index("series_id")
    backtested = selection.index[
        ~selection["pattern"].isin(_FALLBACK) & (selection["n_origins"] > 0)
    ]
    ranked = segments[segments["series_id"].isin(backtested)]
    ranked = ranked.sort_values("annual_value", ascending=False, kind="stable")
    picks: dict[str, str] = {}

    def describe(row) -> str:
        return (
            f"Class {row.abc}, {row.pattern} demand: {100 * row.value_share:.1f}% of the "
            "region's annual demand value"
        )

    for row in ranked.head(n_largest).itertuples(index=False):
        picks[row.series_id] = describe(row)
    steady = ranked[ranked["pattern"].isin(["smooth", "erratic"])]
    if len(steady) and not set(picks) & set(steady["series_id"]):
        row = next(steady.itertuples(index=False))
        picks[row.series_id] = describe(row) + " (the largest series that sells most weeks)"
    firm = run.firm_orders()
    if len(firm):
        sku = split_series_id(firm["series_id"])["sku"].astype(str)
        cost = sku.map(_unit_cost(items)).fillna(1.0) if items is not None else 1.0
        firm = firm.assign(weight=firm["quantity"] * cost)
        top = firm.sort_values("weight", ascending=False, kind="stable").iloc[0]
        if top["series_id"] not in picks:
            picks[top["series_id"]] = (
                f"A firm order of {top['quantity']:,.0f} units in the week of "
                f"{pd.Timestamp(top['date']):%d %b %Y} on top of the forecast"
            )
    sarimax = [s for s in ranked["series_id"] if selection.at[s, "model"] == "sarimax"]
    if sarimax and sarimax[0] not in picks:
        picks[sarimax[0]] = "Forecast by SARIMAX with known events as regressors"
    return pd.DataFrame({"series_id": list(picks), "reason": list(picks.values())})


def series_labels(series_ids: Sequence[str], items: pd.DataFrame) -> dict[str, str]:
    """Name series for a reader: ``"MK-DE · CON-10028 Suture kit"``, in the given order.

    Examples
    --------
    >>> items = pd.DataFrame({"sku": ["A"], "description": ["Hip stem"]})
    >>> series_labels(["M1|A", "M2|B"], items)
    {'M1|A': 'M1 · A Hip stem', 'M2|B': 'M2 · B'}
    """
    frame = describe_series(pd.DataFrame({"series_id": list(dict.fromkeys(series_ids))}), items)
    description = (
        frame["description"] if "description" in frame else pd.Series("", index=frame.index)
    )
    text = (
        frame["site_id"].astype(str)
        + " · "
        + frame["sku"].astype(str)
        + " "
        + description.fillna("").astype(str)
    ).str.strip()
    return dict(zip(frame["series_id"].astype(str), text, strict=True))


def _own_history(history: pd.DataFrame) -> pd.DataFrame:
    """Each item's own weekly demand (units carried over to successors taken out)."""
    past = history.assign(date=pd.to_datetime(history["date"]))
    if "carried_over" in past.columns:
        past = past.assign(quantity=past["quantity"] - past["carried_over"])
    return past


def demand_outlook(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    items: pd.DataFrame,
    *,
    run: ForecastRun | None = None,
    weeks: int = 52,
    n_paths: int = 400,
    band: tuple[float, float] = (0.05, 0.95),
    seed: int = 0,
    chunk_series: int = 500,
) -> pd.DataFrame:
    """Weekly demand value: the last weeks of history, then the forecast with a band.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (and ``carried_over``: only each item's own
        demand is counted).
    forecast : DataFrame
        The forecast table (after :func:`toolkit.lifecycle.phase_out`: rows marked
        ``phased_out`` count as zero in the band too).
    items : DataFrame
        ``sku, unit_cost``.
    run : ForecastRun, optional
        The run behind ``forecast``: its sample paths give the band of the total
        (without it there is no band).
    weeks : int
        History weeks shown.
    n_paths : int
        Sample paths per series for the band.
    band : (float, float)
        Quantile levels of the band of the total.
    seed : int
        Seed of the paths.
    chunk_series : int
        Series sampled at a time (bounds the memory: ``chunk_series x n_paths x
        horizon`` values).

    Returns
    -------
    DataFrame
        One row per week: ``date, actual_value`` (history weeks), ``forecast_value``
        (forecast weeks, the sum of the series' forecasts: firm orders included),
        ``low, high`` (the band of the total). Series' paths are drawn
        independently, so the band leaves out shocks common to many series (a
        lost tender, a recall): read it as a lower bound of the uncertainty.
    """
    cost = _unit_cost(items)
    past = _own_history(history)
    if len(past):
        past = past[past["date"] > past["date"].max() - pd.Timedelta(weeks=weeks)]
    past_cost = split_series_id(past["series_id"])["sku"].astype(str).map(cost).fillna(0.0)
    actual = (
        past.assign(actual_value=past["quantity"].to_numpy(float) * past_cost.to_numpy(float))
        .groupby("date")["actual_value"]
        .sum()
    )
    ahead = forecast.assign(date=pd.to_datetime(forecast["date"]))
    ahead_cost = split_series_id(ahead["series_id"])["sku"].astype(str).map(cost).fillna(0.0)
    expected = (
        ahead.assign(forecast_value=ahead["forecast"].to_numpy(float) * ahead_cost.to_numpy(float))
        .groupby("date")["forecast_value"]
        .sum()
    )
    out = pd.concat([actual, expected], axis=1).sort_index()
    out["low"] = np.nan
    out["high"] = np.nan
    if run is not None and len(run.distribution.series_ids) and len(expected):
        distribution = run.distribution
        ids = distribution.series_ids.astype(str)
        dates = pd.DatetimeIndex(distribution.dates)
        row_cost = split_series_id(pd.Series(ids))["sku"].astype(str).map(cost).fillna(0.0)
        keep = np.ones((len(ids), len(dates)))
        known = pd.Index(ids)
        if "phased_out" in ahead.columns:
            retired = ahead[ahead["phased_out"].astype(bool)]
            rows = known.get_indexer(retired["series_id"].astype(str))
            cols = dates.get_indexer(pd.DatetimeIndex(retired["date"]))
            valid = (rows >= 0) & (cols >= 0)
            keep[rows[valid], cols[valid]] = 0.0
        in_table = known.isin(set(ahead["series_id"].astype(str)))
        weights = row_cost.to_numpy(float)[:, None] * keep * in_table[:, None]
        total = np.zeros((n_paths, len(dates)))
        seeds = np.random.SeedSequence(seed).spawn(max(1, -(-len(ids) // chunk_series)))
        for k, start in enumerate(range(0, len(ids), chunk_series)):
            rows = np.arange(start, min(start + chunk_series, len(ids)))
            part = type(distribution)(
                distribution.series_ids[rows],
                distribution.dates,
                distribution.mean[rows],
                distribution.variance[rows],
                distribution.family[rows],
                distribution.scale[rows],
                distribution.shift[rows],
            )
            paths = part.sample(n_paths, seed=int(seeds[k].generate_state(1)[0])).values
            total += np.einsum("spw,sw->pw", paths, weights[rows])
        low, high = np.quantile(total, band, axis=0)
        out.loc[dates, "low"] = low
        out.loc[dates, "high"] = high
    out.index.name = "date"
    return out.reset_index()[["date", "actual_value", "forecast_value", "low", "high"]]


def product_line_outlook(
    history: pd.DataFrame, forecast: pd.DataFrame, items: pd.DataFrame
) -> pd.DataFrame:
    """Forecast demand per product line beside the same number of weeks just past.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (own demand only: ``carried_over`` is taken out).
    forecast : DataFrame
        The forecast table.
    items : DataFrame
        ``sku, unit_cost, product_line``.

    Returns
    -------
    DataFrame
        ``product_line, series, recent_units, recent_value, forecast_units,
        forecast_value, change`` (forecast value over recent value, minus 1), the
        lines by forecast value, then a ``total`` row. The recent weeks are the last
        as many weeks of history as the forecast has.
    """
    table = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku").set_index("sku")
    horizon = pd.to_datetime(forecast["date"]).nunique()
    past = _own_history(history)
    if len(past):
        past = past[past["date"] > past["date"].max() - pd.Timedelta(weeks=horizon)]

    def by_line(frame: pd.DataFrame, quantity: str, prefix: str) -> pd.DataFrame:
        sku = split_series_id(frame["series_id"])["sku"].astype(str)
        line = sku.map(table["product_line"]).fillna("(unknown)")
        units = frame[quantity].to_numpy(float)
        value = units * sku.map(table["unit_cost"]).fillna(0.0).to_numpy(float)
        grouped = pd.DataFrame(
            {
                "product_line": line.to_numpy(),
                "series_id": frame["series_id"].to_numpy(),
                "units": units,
                "value": value,
            }
        ).groupby("product_line")
        return pd.DataFrame(
            {
                f"{prefix}_units": grouped["units"].sum(),
                f"{prefix}_value": grouped["value"].sum(),
                f"{prefix}_series": grouped["series_id"].nunique(),
            }
        )

    merged = pd.concat(
        [by_line(past, "quantity", "recent"), by_line(forecast, "forecast", "forecast")], axis=1
    ).fillna(0.0)
    merged["series"] = merged["forecast_series"].astype(int)
    merged = merged.sort_values("forecast_value", ascending=False)
    merged.loc["total"] = merged.sum(numeric_only=True)
    merged.loc["total", "series"] = int(pd.Series(forecast["series_id"]).nunique())
    with np.errstate(divide="ignore", invalid="ignore"):
        merged["change"] = np.where(
            merged["recent_value"] > 0,
            merged["forecast_value"] / merged["recent_value"] - 1,
            np.nan,
        )
    merged["series"] = merged["series"].astype(int)
    out = merged.rename_axis("product_line").reset_index()
    columns = [
        "product_line",
        "series",
        "recent_units",
        "recent_value",
        "forecast_units",
        "forecast_value",
        "change",
    ]
    return out[columns]
