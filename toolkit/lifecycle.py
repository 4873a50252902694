"""Product lifecycle in forecasting: successors, launches and end-of-life stock.

Successors
    An item's optional ``successor_sku`` replaces it. :func:`carry_over_history`
    adds the predecessor's weekly demand to the successor's at the same site, so
    the successor is forecast on the combined history (chains A -> B -> C give C
    the demand of all three). :func:`phase_out` then sets the predecessor's
    forecast and quantiles to zero from its phase-out week, so demand is not
    counted twice.
Launches
    A new item has no history to forecast from. :func:`launch_profile` learns the
    average *normalized ramp* of items of the same product line launched inside the
    history: each analogue's weekly demand in the weeks after its first demand,
    divided by its mature level (its mean demand over the ``mature_weeks`` weeks
    after the ramp, or over its last ``mature_weeks`` weeks if younger), averaged
    over analogues. :func:`launch_forecast` scales that ramp to the launch: by an
    expected mature level when one is given, else by fitting the ramp to the weeks
    the launch has sold so far, else by the analogues' mean mature level.
End of life
    :func:`obsolescence_risk` compares the stock of end-of-life items (and of
    predecessors being replaced) with the forecast demand they can still meet:
    stock consumed first-expiry-first-out, and whatever is not consumed before it
    expires or before the horizon ends is at risk, in units and value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit.demand_panel import make_series_id, split_series_id, to_weekly_panel
from toolkit.forecast_distribution import distribution_quantiles, quantile_columns

__all__ = [
    "successor_chains",
    "carry_over_history",
    "phase_out",
    "launch_profile",
    "launch_forecast",
    "override_forecast",
    "obsolescence_risk",
]


def successor_chains(items: pd.DataFrame) -> dict[str, str]:
    """Map every sku with a successor to the *last* sku of its chain.

    Raises ``ValueError`` on a cycle (A -> B -> A).

    Examples
    --------
    >>> items = pd.DataFrame({"sku": ["A", "B", "C"], "successor_sku": ["B", "C", None]})
    >>> successor_chains(items)
    {'A': 'C', 'B': 'C'}
    """
    if "successor_sku" not in items.columns:
        return {}
    links = items.dropna(subset=["successor_sku"])
    links = links[links["successor_sku"].astype(str).str.strip() != ""]
    successor = dict(zip(links["sku"].astype(str), links["successor_sku"].astype(str), strict=True))
    final = {}
    for sku in successor:
        seen = [sku]
        current = sku
        while current in successor:
            current = successor[current]
            if current in seen:
                raise ValueError(f"successor cycle: {' -> '.join([*seen, current])}")
            seen.append(current)
        final[sku] = current
    return final


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "site_id" not in out.columns or "sku" not in out.columns:
        split = split_series_id(out["series_id"])
        for col in ("site_id", "sku"):
            if col not in out.columns:
                out[col] = split[col].to_numpy()
    if "series_id" not in out.columns:
        out["series_id"] = make_series_id(out["site_id"], out["sku"]).to_numpy()
    return out


def carry_over_history(history: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Add each predecessor's demand to its (final) successor's at the same site.

    Parameters
    ----------
    history : DataFrame
        ``site_id, sku, date, quantity`` (or ``series_id``), weekly.
    items : DataFrame
        ``sku, successor_sku``.

    Returns
    -------
    DataFrame
        The history with successor series' quantities increased by their
        predecessors' in the same weeks (and extended back to the predecessors'
        first weeks); predecessors' own rows are unchanged. A column
        ``carried_over`` holds the units that came from predecessors.

    Examples
    --------
    >>> history = pd.DataFrame({"site_id": "M1", "sku": ["A", "A", "B"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-08"]),
    ...     "quantity": [5.0, 3.0, 2.0]})
    >>> items = pd.DataFrame({"sku": ["A", "B"], "successor_sku": ["B", None]})
    >>> carry_over_history(history, items)[["sku", "date", "quantity", "carried_over"]]
      sku       date  quantity  carried_over
    0   A 2024-01-01       5.0           0.0
    1   A 2024-01-08       3.0           0.0
    2   B 2024-01-01       5.0           5.0
    3   B 2024-01-08       5.0           3.0
    """
    chains = successor_chains(items)
    frame = _keys(history)
    frame["carried_over"] = 0.0
    if not chains:
        return frame
    sku = frame["sku"].astype(str)
    moved = frame[sku.isin(chains)].copy()
    moved["sku"] = moved["sku"].astype(str).map(chains)
    moved["series_id"] = make_series_id(moved["site_id"], moved["sku"]).to_numpy()
    moved["carried_over"] = moved["quantity"]
    combined = pd.concat([frame, moved], ignore_index=True)
    keys = ["series_id", "site_id", "sku", "date"]
    extra = [c for c in frame.columns if c not in {*keys, "quantity", "carried_over"}]
    aggregations = {"quantity": "sum", "carried_over": "sum", **dict.fromkeys(extra, "first")}
    out = combined.groupby(keys, as_index=False, sort=False).agg(aggregations)
    return out.sort_values(["series_id", "date"], ignore_index=True)[frame.columns]


def phase_out(
    forecast: pd.DataFrame,
    items: pd.DataFrame,
    *,
    phase_out_dates: Mapping[str, pd.Timestamp | str] | None = None,
    skus: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Set predecessors' forecasts and quantiles to zero from their phase-out week.

    Parameters
    ----------
    forecast : DataFrame
        Forecast table (``series_id, date, forecast`` and quantile columns).
    items : DataFrame
        ``sku, successor_sku``; every sku with a successor is phased out.
    phase_out_dates : dict, optional
        sku -> first week without demand. Skus not in it are phased out from the
        forecast's first week (the successor, carrying their history, takes over at
        once). An ``items`` column ``phase_out_date`` is used when present.
    skus : iterable of str, optional
        Further skus to phase out (e.g. end-of-life items without successor, with
        their dates in ``phase_out_dates``).

    Returns
    -------
    DataFrame
        A copy with ``forecast`` and every ``q*`` column zero for phased-out
        series on and after their date; ``phased_out`` marks those rows.
    """
    out = _keys(forecast)
    targets = set(successor_chains(items)) | set(map(str, skus or ()))
    dates: dict[str, pd.Timestamp] = {}
    if "phase_out_date" in items.columns:
        given = items.dropna(subset=["phase_out_date"])
        dates.update(
            zip(given["sku"].astype(str), pd.to_datetime(given["phase_out_date"]), strict=True)
        )
    dates.update({str(k): pd.Timestamp(v) for k, v in (phase_out_dates or {}).items()})
    first_week = pd.to_datetime(out["date"]).min()
    cutoff = out["sku"].astype(str).map(lambda s: dates.get(s, first_week))
    hit = out["sku"].astype(str).isin(targets) & (pd.to_datetime(out["date"]) >= cutoff)
    value_columns = ["forecast", *[c for c in out.columns if c.startswith("q")]]
    out.loc[hit, value_columns] = 0.0
    out["phased_out"] = hit.to_numpy()
    return out[[*forecast.columns, "phased_out"]]


def _first_demand_week(panel_values: np.ndarray) -> np.ndarray:
    demand = np.nan_to_num(panel_values) > 0
    return np.where(demand.any(axis=1), demand.argmax(axis=1), -1)


def _sku_launch_week(panel_values: np.ndarray, skus: np.ndarray) -> dict[str, int]:
    """First week with demand for each sku at any site (-1 for none)."""
    first = _first_demand_week(panel_values)
    launch: dict[str, int] = {}
    for sku, week in zip(skus, first, strict=True):
        if week >= 0 and (launch.get(sku, -1) < 0 or week < launch[sku]):
            launch[sku] = int(week)
        launch.setdefault(sku, -1)
    return launch


def launch_profile(
    history: pd.DataFrame,
    items: pd.DataFrame,
    *,
    ramp_weeks: int = 26,
    mature_weeks: int = 13,
    min_weeks_before: int = 8,
) -> pd.DataFrame:
    """Learn the average normalized launch ramp per product line.

    An analogue is a series of a sku *launched inside the history*: the sku's first
    demand at any site comes at least ``min_weeks_before`` weeks after the history
    starts, and at least ``ramp_weeks + 4`` weeks before its end. Weeks count from
    the sku's launch (not the site's first order, which would make week 0 a demand
    week by construction). An analogue's ramp is its demand in weeks ``0 ..
    ramp_weeks-1`` divided by its mature level (mean over the ``mature_weeks``
    after the ramp, or its last ``mature_weeks`` weeks when younger). A product
    line without analogues gets the average ramp of all lines; without any
    analogue the ramp is flat (1.0).

    Returns
    -------
    DataFrame
        ``product_line, week_since_launch, ratio, n_analogues, mature_level``
        (``mature_level``: the analogues' mean mature level, units/week per series).
    """
    frame = _keys(history)
    panel = to_weekly_panel(frame)
    n_weeks = len(panel.dates)
    skus = split_series_id(pd.Series(panel.series_ids))["sku"].astype(str).to_numpy()
    launch = _sku_launch_week(panel.values, skus)
    lines = items.drop_duplicates("sku").set_index(items["sku"].astype(str))["product_line"]
    ratios, levels, owners = [], [], []
    for i, sku in enumerate(skus):
        week = launch[sku]
        if week < min_weeks_before or n_weeks - week < ramp_weeks + 4:
            continue
        after = np.nan_to_num(panel.values[i, week:])
        mature = after[ramp_weeks : ramp_weeks + mature_weeks]
        if mature.size < mature_weeks:
            mature = after[-mature_weeks:]
        level = float(np.mean(mature))
        if level <= 0:
            continue
        ratios.append(after[:ramp_weeks] / level)
        levels.append(level)
        owners.append(lines.get(sku))
    lines_all = sorted({str(v) for v in lines.dropna().unique()})
    ratios_array = np.array(ratios) if ratios else np.empty((0, ramp_weeks))
    owners_array = np.array(owners, dtype=object)
    levels_array = np.array(levels)
    overall = ratios_array.mean(axis=0) if len(ratios) else np.ones(ramp_weeks)
    overall_level = float(levels_array.mean()) if len(levels) else float("nan")
    rows = []
    for line in lines_all:
        members = owners_array == line
        if members.any():
            ratio, level, count = (
                ratios_array[members].mean(axis=0),
                float(levels_array[members].mean()),
                int(members.sum()),
            )
        else:
            ratio, level, count = overall, overall_level, len(ratios)
        for week in range(ramp_weeks):
            rows.append(
                {
                    "product_line": line,
                    "week_since_launch": week,
                    "ratio": float(max(ratio[week], 0.0)),
                    "n_analogues": count,
                    "mature_level": level,
                }
            )
    return pd.DataFrame(
        rows, columns=["product_line", "week_since_launch", "ratio", "n_analogues", "mature_level"]
    )


def launch_forecast(
    history: pd.DataFrame,
    items: pd.DataFrame,
    horizon: int,
    *,
    launch_series: Iterable[str] | None = None,
    expected_level: Mapping[str, float] | None = None,
    profile: pd.DataFrame | None = None,
    ramp_weeks: int = 26,
    level_uncertainty: float = 0.5,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
) -> pd.DataFrame:
    """Forecast launch series from their product line's analogue ramp.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (or ``site_id, sku``); launch series may have a
        few weeks or none (then pass them in ``launch_series``).
    items : DataFrame
        ``sku, product_line`` and ``lifecycle``.
    horizon : int
        Weeks to forecast after the history's last week.
    launch_series : iterable of str, optional
        Series ids (``"<site_id>|<sku>"``) to forecast; by default every series of an
        item in ``launch``.
    expected_level : dict, optional
        Series id or sku -> expected mature demand (units/week), e.g. from the
        launch plan. Without it the ramp is scaled through the weeks sold so far
        (least squares), or, before any sale, set to the analogues' mature level.
    profile : DataFrame, optional
        A :func:`launch_profile` table (learnt from ``history`` when omitted).
    ramp_weeks : int
        Length of the ramp.
    level_uncertainty : float
        Coefficient of variation of the mature level, added to Poisson noise in
        the negative binomial quantiles: a launch's volume is uncertain.
    quantiles : sequence of float
        Quantile levels.

    Returns
    -------
    DataFrame
        The forecast contract (``series_id, date, forecast, model, q...``) with
        ``model = "analogue"``; :func:`override_forecast` puts it into a forecast.
        A series' age is counted from its sku's first demand at any site.
    """
    frame = _keys(history)
    if profile is None:
        profile = launch_profile(frame, items, ramp_weeks=ramp_weeks)
    panel = to_weekly_panel(frame)
    n_weeks = len(panel.dates)
    panel_skus = split_series_id(pd.Series(panel.series_ids))["sku"].astype(str).to_numpy()
    launch = _sku_launch_week(panel.values, panel_skus)
    if launch_series is None:
        lifecycle = items.get("lifecycle", pd.Series(index=items.index, dtype=object))
        launch_skus = set(items.loc[lifecycle == "launch", "sku"].astype(str))
        ids = [
            str(s) for s, k in zip(panel.series_ids, panel_skus, strict=True) if k in launch_skus
        ]
    else:
        ids = list(dict.fromkeys(map(str, launch_series)))
    expected = {str(k): float(v) for k, v in (expected_level or {}).items()}
    lines = items.drop_duplicates("sku").set_index(items["sku"].astype(str))["product_line"]
    future = panel.future_dates(horizon)
    position = {str(sid): i for i, sid in enumerate(panel.series_ids)}
    means = np.zeros((len(ids), horizon))
    for row, series_id in enumerate(ids):
        sku = str(split_series_id(pd.Series([series_id]))["sku"].iloc[0])
        ramp = profile.loc[profile["product_line"] == lines.get(sku)]
        if ramp.empty:
            ramp = profile.groupby("week_since_launch", as_index=False).agg(
                ratio=("ratio", "mean"), mature_level=("mature_level", "mean")
            )
        ramp = ramp.sort_values("week_since_launch")
        ratio = ramp["ratio"].to_numpy(float) if len(ramp) else np.ones(ramp_weeks)
        mature_level = float(ramp["mature_level"].mean()) if len(ramp) else float("nan")
        week = launch.get(sku, -1)
        age = n_weeks - week if week >= 0 else 0
        observed = (
            np.nan_to_num(panel.values[position[series_id], n_weeks - age :])
            if series_id in position and age > 0
            else np.zeros(0)
        )
        curve = np.concatenate([ratio, np.ones(age + horizon)])
        if series_id in expected or sku in expected:
            level = expected.get(series_id, expected.get(sku))
        elif age > 0 and curve[:age] @ curve[:age] > 0:
            # Least-squares scale of the ramp through the weeks sold so far.
            shape = curve[:age]
            level = float(observed @ shape / (shape @ shape))
        else:
            level = mature_level if np.isfinite(mature_level) else 0.0
        means[row] = max(level, 0.0) * curve[age : age + horizon]
    variance = means + (level_uncertainty * means) ** 2
    levels = sorted(quantiles)
    values = distribution_quantiles(means, variance, "count", levels)
    out = pd.DataFrame(
        {
            "series_id": np.repeat(ids, horizon),
            "date": np.tile(future.values, len(ids)),
            "forecast": means.ravel(),
            "model": "analogue",
        }
    )
    for k, column in enumerate(quantile_columns(levels)):
        out[column] = values[:, :, k].ravel()
    return out


def override_forecast(base: pd.DataFrame, override: pd.DataFrame) -> pd.DataFrame:
    """Replace the rows of ``base`` for every series in ``override`` by ``override``'s."""
    kept = base[~base["series_id"].isin(set(override["series_id"]))]
    return pd.concat(
        [kept, override[base.columns.intersection(override.columns)]], ignore_index=True
    ).sort_values(["series_id", "date"], ignore_index=True)


def obsolescence_risk(
    inventory: pd.DataFrame,
    items: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    level: str = "sku",
    lifecycles: Sequence[str] = ("end_of_life",),
    include_predecessors: bool = True,
    statuses: Sequence[str] = ("released", "in_transit", "quarantine"),
) -> pd.DataFrame:
    """Report end-of-life stock beyond the demand it can still meet.

    Parameters
    ----------
    inventory : DataFrame
        Canonical inventory (``site_id, sku, quantity, status`` and optionally
        ``lot, expiry_date``).
    items : DataFrame
        ``sku, unit_cost, lifecycle`` and optionally ``successor_sku``.
    forecast : DataFrame
        Forecast table (``series_id`` or ``site_id, sku``; ``date, forecast``),
        already phased out where relevant (:func:`phase_out`).
    level : {"sku", "site"}
        Compare stock and demand per sku over all sites (default: distribution
        centres hold stock for many markets) or per site and sku.
    lifecycles : sequence of str
        Lifecycles whose stock is assessed.
    include_predecessors : bool
        Also assess skus with a successor (they are being replaced).
    statuses : sequence of str
        Inventory statuses counted as stock.

    Returns
    -------
    DataFrame
        One row per sku (and site): ``stock_units, forecast_demand, consumed_units,
        expiring_units`` (expire before demand uses them), ``excess_units`` (left at
        the end of the horizon), ``risk_units`` (expiring + excess), ``unit_cost``,
        ``risk_value``, sorted by risk value. Stock is consumed
        first-expiry-first-out by the forecast demand of the weeks before each
        lot's expiry.
    """
    if level not in ("sku", "site"):
        raise ValueError("level must be 'sku' or 'site'")
    lifecycle = items.get("lifecycle", pd.Series(index=items.index, dtype=object))
    assessed = set(items.loc[lifecycle.isin(lifecycles), "sku"].astype(str))
    if include_predecessors:
        assessed |= set(successor_chains(items))
    keys = ["sku"] if level == "sku" else ["site_id", "sku"]
    stock = inventory[inventory["status"].isin(statuses)].copy()
    stock["sku"] = stock["sku"].astype(str)
    stock = stock[stock["sku"].isin(assessed)]
    if "expiry_date" not in stock.columns:
        stock["expiry_date"] = pd.NaT
    stock["expiry_date"] = pd.to_datetime(stock["expiry_date"])
    demand = _keys(forecast)
    demand["sku"] = demand["sku"].astype(str)
    demand = demand[demand["sku"].isin(assessed)]
    demand["date"] = pd.to_datetime(demand["date"])
    weekly = demand.groupby([*keys, "date"], as_index=False)["forecast"].sum()
    horizon_end = weekly["date"].max() + pd.Timedelta(weeks=1) if len(weekly) else None
    cost = items.drop_duplicates("sku").set_index(items["sku"].astype(str))["unit_cost"]
    rows = []
    for key, lots in stock.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        mask = np.ones(len(weekly), dtype=bool)
        for name, value in zip(keys, key, strict=True):
            mask &= (weekly[name] == value).to_numpy()
        weeks = weekly[mask].sort_values("date")
        total_demand = float(weeks["forecast"].sum())
        consumed = expiring = 0.0
        # First expiry first out; lots without expiry last.
        for expiry, quantity in lots.sort_values("expiry_date", na_position="last")[
            ["expiry_date", "quantity"]
        ].itertuples(index=False):
            if pd.isna(expiry) or horizon_end is None or expiry >= horizon_end:
                available = total_demand - consumed
                expires = False
            else:
                available = float(weeks.loc[weeks["date"] < expiry, "forecast"].sum()) - consumed
                expires = True
            used = min(float(quantity), max(available, 0.0))
            consumed += used
            if expires:
                expiring += float(quantity) - used
        stock_units = float(lots["quantity"].sum())
        excess = stock_units - consumed - expiring
        unit_cost = float(cost.get(key[-1], np.nan))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "stock_units": stock_units,
                "forecast_demand": total_demand,
                "consumed_units": consumed,
                "expiring_units": expiring,
                "excess_units": excess,
                "risk_units": expiring + excess,
                "unit_cost": unit_cost,
                "risk_value": (expiring + excess) * unit_cost,
            }
        )
    columns = [
        *keys,
        "stock_units",
        "forecast_demand",
        "consumed_units",
        "expiring_units",
        "excess_units",
        "risk_units",
        "unit_cost",
        "risk_value",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("risk_value", ascending=False, ignore_index=True)
