"""Demand rates, projected stock positions and the hot and cold spots of the network.

A *hot spot* is a site and sku heading for a shortage, a *cold spot* one holding
stock in excess; the ranked :func:`imbalances` table feeds the transshipment plan.

Definitions (per site and sku, units):

``demand_per_day``
    a market's own demand rate (recent history, :func:`demand_rates`, or the weeks
    ahead of a forecast, :func:`forecast_rates`); at a DC (or plant) the summed rate
    of the markets whose best supply path (:func:`toolkit.network_paths.best_sources`)
    runs through it.
``supplier``, ``lead_time_days``
    the site's replenishment lead time from its supplier, the site before it on its
    best path: that lane's transit + customs days, plus the plant's processing days
    when the supplier is a plant (a DC is assumed to ship from stock). A market fed
    by a DC thus waits for the DC -> market lane only, as the policies in force
    assume.
``projected_units``
    ``on_hand`` (released stock) + ``in_transit`` (stock on its way *to* the site) -
    ``demand_per_day * lead_time_days``: what should be left when a replenishment
    ordered today lands. Quarantined stock is reported but does not count.
``target_units``
    the safety stock of the policy in force (``policies.safety_stock``) where there
    is one, else ``coverage_weeks`` weeks of demand.
``shortage_units``
    ``max(target_units - projected_units, 0)``.
``excess_units``
    ``max(projected_units - target_units - excess_weeks weeks of demand, 0)``: stock
    beyond the target plus an allowance for cycle stock. A site with stock and no
    demand flowing through it has all of it in excess.
Values are units x the item master's ``unit_cost`` (standard cost).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.demand_panel import split_series_id
from toolkit.network import build_network
from toolkit.network_paths import PATH_SEPARATOR, supply_paths

__all__ = [
    "RATE_COLUMNS",
    "demand_calendar",
    "demand_rates",
    "forecast_rates",
    "stock_positions",
    "imbalances",
    "site_balance",
]

_Z95 = 1.6448536269514722  # standard normal 95% quantile: a 90% band is 2 x 1.645 sd wide

#: Columns of a demand-rate frame (from :func:`demand_rates`, or from a forecast).
RATE_COLUMNS = ("site_id", "sku", "demand_per_day", "demand_std_per_day")


def demand_calendar(
    demand: pd.DataFrame, *, bucket_days: float | None = None, as_of=None
) -> tuple[float, pd.Timestamp | None]:
    """Length of the demand table's periods (days) and the end of its history.

    The period length is the median gap between distinct dates (7 for weekly
    buckets, about 30 for monthly), 7 when there are fewer than two dates. The end
    is ``as_of`` or the last date plus one period.
    """
    dates = pd.DatetimeIndex(demand["date"].dropna().unique()).sort_values()
    if bucket_days is None:
        gaps = np.diff(dates.asi8) / 86_400e9 if len(dates) > 1 else np.array([7.0])
        bucket_days = float(np.median(gaps))
    if as_of is not None:
        end = pd.Timestamp(as_of)
    elif len(dates):
        end = dates.max() + pd.Timedelta(days=bucket_days)
    else:
        end = None
    return float(bucket_days), end


def demand_rates(
    demand: pd.DataFrame,
    *,
    window_days: float | None = 182.0,
    as_of=None,
    bucket_days: float | None = None,
) -> pd.DataFrame:
    """Mean and standard deviation of daily demand per site and sku from recent history.

    Parameters
    ----------
    demand : pandas.DataFrame
        The demand table (``date`` = period start, ``site_id``, ``sku``, ``quantity``).
    window_days : float or None
        Length of the recent history used, counted back from the end; None for all.
    as_of : date-like, optional
        End of the history (exclusive); default: the last date plus one period.
    bucket_days : float, optional
        Length of one demand period in days; inferred by :func:`demand_calendar`.
        Pass it (and ``as_of``) when ``demand`` is a slice of a larger table.

    Returns
    -------
    pandas.DataFrame
        :data:`RATE_COLUMNS` and ``periods`` (number of periods in the window).
        Periods without a row count as zero demand. Per day: ``demand_per_day`` = mean
        per period / period length, ``demand_std_per_day`` = sample standard deviation
        per period / sqrt(period length), so over P days the mean is P x the rate and
        the standard deviation sqrt(P) x the daily one (periods independent).

    Examples
    --------
    >>> weeks = pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"])
    >>> history = pd.DataFrame({"date": weeks, "site_id": "M1", "sku": "S1",
    ...                         "quantity": [10.0, 20.0, 30.0, 20.0]})
    >>> rate = demand_rates(history).iloc[0]
    >>> float(rate.demand_per_day * 7), round(float(rate.demand_std_per_day**2 * 7), 3)
    (20.0, 66.667)
    """
    columns = [*RATE_COLUMNS, "periods"]
    bucket_days, end = demand_calendar(demand, bucket_days=bucket_days, as_of=as_of)
    if end is None or demand.empty:
        return pd.DataFrame(columns=columns)
    first = demand["date"].min()
    if window_days is not None:
        first = max(first, end - pd.Timedelta(days=window_days))
    recent = demand[(demand["date"] >= first) & (demand["date"] < end)]
    periods = max(round((end - first) / pd.Timedelta(days=bucket_days)), 1)
    per_period = recent.groupby(["site_id", "sku", "date"], sort=False)["quantity"].sum()
    grouped = (
        per_period.to_frame("quantity")
        .assign(square=lambda f: f["quantity"] ** 2)
        .groupby(level=["site_id", "sku"], sort=True)
        .sum()
    )
    mean = grouped["quantity"] / periods
    variance = (grouped["square"] - periods * mean**2) / max(periods - 1, 1)
    rates = pd.DataFrame(
        {
            "demand_per_day": mean / bucket_days,
            "demand_std_per_day": np.sqrt(variance.clip(lower=0.0)) / np.sqrt(bucket_days),
            "periods": periods,
        }
    ).reset_index()
    return rates[columns]


def forecast_rates(
    forecast: pd.DataFrame,
    *,
    weeks: int = 13,
    fallback: pd.DataFrame | None = None,
    bucket_days: float = 7.0,
) -> pd.DataFrame:
    """Demand rates per market and sku from a forecast, for the weeks ahead.

    Parameters
    ----------
    forecast : pandas.DataFrame
        The forecast contract (``series_id, date, forecast`` and optionally the
        quantile columns ``q0.05`` and ``q0.95``), series ids ``"<site_id>|<sku>"``.
    weeks : int
        How many periods ahead the rate averages (the first ``weeks`` of each series).
    fallback : pandas.DataFrame, optional
        Rates (:data:`RATE_COLUMNS`) for the site-sku pairs the forecast leaves out,
        e.g. :func:`demand_rates` of the history when only the largest series were
        forecast.
    bucket_days : float
        Days per forecast period.

    Returns
    -------
    pandas.DataFrame
        :data:`RATE_COLUMNS` and ``rate_source`` (``"forecast"`` or ``"history"``).
        ``demand_per_day`` = mean forecast per period / ``bucket_days``;
        ``demand_std_per_day`` = the mean width of the 90% band / (2 x 1.645) /
        ``sqrt(bucket_days)`` (the spread a normal with that band would have), NaN
        without quantile columns.

    Examples
    --------
    >>> forecast = pd.DataFrame({"series_id": ["M1|S1"] * 3, "date": pd.date_range(
    ...     "2027-01-04", periods=3, freq="W-MON"), "forecast": [7.0, 14.0, 21.0]})
    >>> float(forecast_rates(forecast, weeks=2)["demand_per_day"].iloc[0])
    1.5
    """
    ordered = forecast.sort_values(["series_id", "date"])
    ahead = ordered.groupby("series_id", sort=False).head(weeks)
    grouped = ahead.groupby("series_id", sort=True)
    rates = grouped["forecast"].mean().to_frame("per_period")
    if {"q0.05", "q0.95"} <= set(ahead.columns):
        width = (ahead["q0.95"] - ahead["q0.05"]).groupby(ahead["series_id"]).mean()
        rates["std_per_period"] = width / (2 * _Z95)
    else:
        rates["std_per_period"] = np.nan
    keys = split_series_id(rates.index.to_series())
    out = pd.DataFrame(
        {
            "site_id": keys["site_id"].to_numpy(),
            "sku": keys["sku"].to_numpy(),
            "demand_per_day": rates["per_period"].to_numpy() / bucket_days,
            "demand_std_per_day": rates["std_per_period"].to_numpy() / np.sqrt(bucket_days),
            "rate_source": "forecast",
        }
    )
    if fallback is not None and not fallback.empty:
        known = pd.MultiIndex.from_frame(out[["site_id", "sku"]])
        rest = fallback[~pd.MultiIndex.from_frame(fallback[["site_id", "sku"]]).isin(known)]
        out = pd.concat(
            [out, rest[list(RATE_COLUMNS)].assign(rate_source="history")], ignore_index=True
        )
    return out.sort_values(["site_id", "sku"], ignore_index=True)


def _replenishment(best: pd.DataFrame, graph: nx.MultiDiGraph) -> pd.DataFrame:
    """``site_id, sku, supplier, lead_time_days`` from the last lane of each best path."""
    routes = best[["path", "modes"]].drop_duplicates()
    suppliers, days = [], []
    for path, modes in zip(routes["path"], routes["modes"], strict=True):
        nodes = path.split(PATH_SEPARATOR)
        lane = graph.edges[nodes[-2], nodes[-1], modes.split(PATH_SEPARATOR)[-1]]
        suppliers.append(nodes[-2])
        days.append(float(lane["transit_days"]) + float(lane["customs_days"]))
    routes = routes.assign(supplier=suppliers, lane_days=days)
    table = best[["site_id", "sku", "path", "modes", "processing_days"]].merge(
        routes, on=["path", "modes"]
    )
    from_plant = table["supplier"].map(dict(graph.nodes(data="site_type"))).eq("plant")
    table["lead_time_days"] = table["lane_days"] + table["processing_days"].where(from_plant, 0.0)
    return table[["site_id", "sku", "supplier", "lead_time_days"]]


def _path_nodes(paths: pd.Series) -> pd.DataFrame:
    """Long frame ``path, node``: every site on each distinct path."""
    unique = pd.Series(paths.unique(), dtype=object)
    nodes = unique.str.split(PATH_SEPARATOR)
    return pd.DataFrame({"path": unique, "node": nodes}).explode("node")


def stock_positions(
    dataset: Dataset,
    *,
    demand: pd.DataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
    coverage_weeks: float = 2.0,
    excess_weeks: float = 4.0,
    site_types: Iterable[str] = ("dc", "market"),
    carrying_rate: float = 0.25,
    cost_per_day: float | pd.Series = 0.0,
) -> pd.DataFrame:
    """Projected stock position, target, excess and shortage per site and sku.

    Parameters
    ----------
    dataset : Dataset
        Reads ``inventory``, ``demand``, ``sourcing``, ``items``, ``policies``, ``sites``.
    demand : pandas.DataFrame, optional
        Demand rates at markets (:data:`RATE_COLUMNS`; the std is not used), e.g. from
        a forecast; default :func:`demand_rates` of the demand table.
    graph : networkx.MultiDiGraph, optional
        ``build_network(dataset)`` when not given.
    coverage_weeks : float
        Target in weeks of demand where no policy gives a safety stock.
    excess_weeks : float
        Allowance above the target (cycle stock) before stock counts as excess.
    site_types : iterable of str
        Which sites to assess. Plants are left out by default: their finished stock
        is supply for the network, not measured against a target.
    carrying_rate, cost_per_day : float
        Choose each market's best supply path (see
        :func:`toolkit.network_paths.best_sources`), which sets lead times and which
        DCs the demand flows through.

    Returns
    -------
    pandas.DataFrame
        One row per site and sku with stock or demand: ``site_id, site_type, region,
        sku, on_hand, in_transit, quarantine, demand_per_day, supplier, lead_time_days,
        lead_time_demand, projected_units, target_units, target_source ("policy" or
        "coverage"), excess_units, shortage_units, unit_cost, excess_value,
        shortage_value, value, status`` ("shortage", "excess" or "balanced"); see
        the module docstring for the definitions.
    """
    site_types = tuple(site_types)
    graph = build_network(dataset) if graph is None else graph
    rates = demand_rates(dataset.demand) if demand is None else demand
    rates = rates[["site_id", "sku", "demand_per_day"]]
    sites = dataset.sites[["site_id", "site_type", "region"]]

    stock = (
        dataset.inventory.pivot_table(
            index=["site_id", "sku"],
            columns="status",
            values="quantity",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reindex(columns=["released", "in_transit", "quarantine"], fill_value=0.0)
        .rename(columns={"released": "on_hand"})
        .reset_index()
        if len(dataset.inventory)
        else pd.DataFrame(columns=["site_id", "sku", "on_hand", "in_transit", "quarantine"])
    )
    stock.columns.name = None
    skus = set(stock["sku"]) | set(rates.loc[rates["demand_per_day"] > 0, "sku"])
    sourcing = dataset.sourcing[dataset.sourcing["sku"].isin(skus)]
    targets = [t for t in ("dc", "market") if t in site_types] or ["market"]
    best = supply_paths(
        graph,
        sourcing,
        objective="trade_off",
        sites=sorted(set(targets) | {"market"}),
        by_plant=False,
        carrying_rate=carrying_rate,
        cost_per_day=cost_per_day,
    )

    # Demand flows back up each market's best path: every site on it carries it.
    market_ids = set(sites.loc[sites["site_type"] == "market", "site_id"])
    served = best[best["site_id"].isin(market_ids)].merge(rates, on=["site_id", "sku"])
    through = (
        served[["path", "sku", "demand_per_day"]]
        .merge(_path_nodes(served["path"]), on="path")
        .groupby(["node", "sku"], as_index=False)["demand_per_day"]
        .sum()
        .rename(columns={"node": "site_id"})
    )
    lead = _replenishment(best, graph)
    if "plant" in site_types:
        made = dataset.sourcing[["site_id", "sku", "processing_days"]]
        lead = pd.concat([lead, made.rename(columns={"processing_days": "lead_time_days"})])

    positions = (
        stock.merge(through, on=["site_id", "sku"], how="outer")
        .merge(sites, on="site_id", how="inner")
        .merge(lead, on=["site_id", "sku"], how="left")
    )
    positions = positions[positions["site_type"].isin(site_types)]
    quantities = ["on_hand", "in_transit", "quarantine", "demand_per_day", "lead_time_days"]
    positions[quantities] = positions[quantities].astype(float).fillna(0.0)
    policies = dataset.policies[["site_id", "sku", "safety_stock"]]
    positions = positions.merge(policies, on=["site_id", "sku"], how="left").merge(
        dataset.items[["sku", "unit_cost"]], on="sku", how="left"
    )
    weekly = positions["demand_per_day"] * 7.0
    has_policy = positions["safety_stock"].notna()
    positions["lead_time_demand"] = positions["demand_per_day"] * positions["lead_time_days"]
    positions["projected_units"] = (
        positions["on_hand"] + positions["in_transit"] - positions["lead_time_demand"]
    )
    positions["target_units"] = positions["safety_stock"].where(has_policy, coverage_weeks * weekly)
    positions["target_source"] = np.where(has_policy, "policy", "coverage")
    positions["shortage_units"] = (positions["target_units"] - positions["projected_units"]).clip(
        lower=0.0
    )
    positions["excess_units"] = (
        positions["projected_units"] - positions["target_units"] - excess_weeks * weekly
    ).clip(lower=0.0)
    positions["excess_value"] = positions["excess_units"] * positions["unit_cost"]
    positions["shortage_value"] = positions["shortage_units"] * positions["unit_cost"]
    positions["value"] = positions["excess_value"] + positions["shortage_value"]
    positions["status"] = np.select(
        [positions["shortage_units"] > 0, positions["excess_units"] > 0],
        ["shortage", "excess"],
        "balanced",
    )
    columns = [
        "site_id",
        "site_type",
        "region",
        "sku",
        "on_hand",
        "in_transit",
        "quarantine",
        "demand_per_day",
        "supplier",
        "lead_time_days",
        "lead_time_demand",
        "projected_units",
        "target_units",
        "target_source",
        "excess_units",
        "shortage_units",
        "unit_cost",
        "excess_value",
        "shortage_value",
        "value",
        "status",
    ]
    return positions[columns].sort_values(["site_id", "sku"]).reset_index(drop=True)


def imbalances(
    positions: pd.DataFrame,
    *,
    min_value: float = 0.0,
    region: str | None = None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rank the excess and shortage rows of :func:`stock_positions` within each region.

    Parameters
    ----------
    positions : pandas.DataFrame
        The output of :func:`stock_positions`.
    min_value : float
        Leave out imbalances worth less than this (currency).
    region : str, optional
        Keep only this region's sites (its DCs and markets).
    items : pandas.DataFrame, optional
        The item master: adds ``description`` and ``product_line`` after ``sku``.

    Returns
    -------
    pandas.DataFrame
        ``region, rank, site_id, site_type, sku, status, units`` (the shortage or
        excess units, whichever the status says), ``excess_units, shortage_units,
        value, excess_value, shortage_value, projected_units, target_units,
        demand_per_day``; regions in order, largest value first within a region
        (``rank`` 1 = the largest).
    """
    if region is not None:
        positions = positions[positions["region"] == region]
    rows = positions[(positions["status"] != "balanced") & (positions["value"] >= min_value)]
    rows = rows.sort_values(
        ["region", "value", "site_id", "sku"], ascending=[True, False, True, True]
    )
    rows = rows.assign(
        rank=rows.groupby("region").cumcount() + 1,
        units=rows["shortage_units"].where(rows["status"] == "shortage", rows["excess_units"]),
    )
    columns = [
        "region",
        "rank",
        "site_id",
        "site_type",
        "sku",
        "status",
        "units",
        "excess_units",
        "shortage_units",
        "value",
        "excess_value",
        "shortage_value",
        "projected_units",
        "target_units",
        "demand_per_day",
    ]
    rows = rows[columns].reset_index(drop=True)
    if items is not None:
        described = items.drop_duplicates("sku").set_index("sku")
        at = columns.index("sku") + 1
        for offset, column in enumerate(("description", "product_line")):
            rows.insert(at + offset, column, rows["sku"].map(described[column]))
    return rows


def site_balance(dataset: Dataset, positions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Inventory value, excess and shortage per site: the data behind the network picture.

    Parameters
    ----------
    dataset : Dataset
        Sites, inventory (released and in-transit stock, valued at the item master's
        unit cost) and items.
    positions : pandas.DataFrame, optional
        :func:`stock_positions` (possibly filtered, e.g. to one sku); without it every
        site is ``"balanced"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id`` (every site): ``inventory_value, excess_value,
        shortage_value, excess_skus, shortage_skus, status`` ("shortage" or "excess",
        whichever is worth more, else "balanced").
    """
    stock = dataset.inventory[dataset.inventory["status"].isin(["released", "in_transit"])]
    stock = stock.merge(dataset.items[["sku", "unit_cost"]], on="sku", how="left")
    value = (stock["quantity"] * stock["unit_cost"]).groupby(stock["site_id"]).sum()
    table = pd.DataFrame(index=pd.Index(dataset.sites["site_id"], name="site_id"))
    table["inventory_value"] = value.reindex(table.index).fillna(0.0)
    if positions is None or positions.empty:
        for column in ("excess_value", "shortage_value", "excess_skus", "shortage_skus"):
            table[column] = 0.0
    else:
        grouped = positions.groupby("site_id")
        table["excess_value"] = grouped["excess_value"].sum().reindex(table.index).fillna(0.0)
        table["shortage_value"] = grouped["shortage_value"].sum().reindex(table.index).fillna(0.0)
        counts = positions.groupby(["site_id", "status"]).size().unstack(fill_value=0)
        for status in ("excess", "shortage"):
            column = counts[status] if status in counts else pd.Series(dtype=float)
            table[f"{status}_skus"] = column.reindex(table.index).fillna(0).astype(int)
    table["status"] = np.select(
        [
            (table["shortage_value"] > 0) & (table["shortage_value"] >= table["excess_value"]),
            table["excess_value"] > 0,
        ],
        ["shortage", "excess"],
        "balanced",
    )
    return table
