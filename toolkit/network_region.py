"""One region's view of the global network: what a regional report shows.

The network is global (plants and DCs serve every region), so best sources, demand
rates and stock positions are computed on the whole extract; the functions here
summarize those global tables for one region's markets.

Conventions
-----------
Demand pairs
    (market, sku) with a positive ``demand_per_day`` in the rates
    (:func:`toolkit.network_balance.demand_rates`). A pair is *served* when the
    best-source table has a path for it.
Per year
    rate per day x 365.
Demand value
    units per year x the source plant's ``unit_cost`` of the path (the value the
    landed cost is measured against); unserved pairs carry no value.
Averages over skus
    weighted by demand value (``lead_time_days`` is what an average unit of value
    waits from order at the plant to arrival at the market).
Supplier
    the site just before the market on its path: the DC (or plant, for a direct
    lane) that ships to the market.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.network_paths import PATH_SEPARATOR

__all__ = [
    "RegionNetworkSummary",
    "region_markets",
    "served_demand",
    "market_supply",
    "product_line_supply",
    "top_supply_paths",
    "supplier_shares",
    "main_supplier_dc",
    "largest_market",
    "speed_premium",
    "region_network_summary",
]

_DAYS_PER_YEAR = 365.0
_COMPONENTS = ("freight", "tariff", "carrying", "landed_cost")


def region_markets(sites: pd.DataFrame, region: str) -> list[str]:
    """Return the region's market ids, sorted.

    Raises
    ------
    ValueError
        When ``region`` is not a value of ``sites.region``.

    Examples
    --------
    >>> sites = pd.DataFrame({"site_id": ["D1", "M2", "M1", "M3"],
    ...     "site_type": ["dc", "market", "market", "market"],
    ...     "region": ["EU", "EU", "EU", "AM"]})
    >>> region_markets(sites, "EU")
    ['M1', 'M2']
    """
    if region not in set(sites["region"]):
        known = ", ".join(sorted(map(str, sites["region"].unique())))
        raise ValueError(f"region {region!r} is not in sites.region (known: {known})")
    chosen = (sites["site_type"] == "market") & (sites["region"] == region)
    return sorted(sites.loc[chosen, "site_id"])


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0 else float("nan")


def _via(paths: pd.Series) -> pd.Series:
    """The sites between the plant and the market (``"direct"`` for a direct lane)."""
    inner = paths.str.split(PATH_SEPARATOR).str[1:-1]
    return inner.map(lambda sites: PATH_SEPARATOR.join(sites) or "direct", na_action="ignore")


def _has_air(modes: pd.Series) -> pd.Series:
    return modes.fillna("").str.split(PATH_SEPARATOR).map(lambda legs: "air" in legs)


def served_demand(
    best: pd.DataFrame, rates: pd.DataFrame, markets: Iterable[str] | None = None
) -> pd.DataFrame:
    """Join each demand pair of ``markets`` to its best supply path.

    Parameters
    ----------
    best : pandas.DataFrame
        One path per (sku, market): :func:`toolkit.network_paths.best_sources` (or
        ``cheapest_paths`` / ``fastest_paths`` with ``by_plant=False``).
    rates : pandas.DataFrame
        ``site_id, sku, demand_per_day``.
    markets : iterable of str, optional
        Keep these markets only (every market of ``rates`` by default).

    Returns
    -------
    pandas.DataFrame
        One row per demand pair: ``market, sku, demand_per_day, served`` and the
        path columns of ``best`` (empty where unserved), ``supplier``, ``air``
        (a lane of the path is flown), ``units_per_year``, ``value_per_year`` and
        ``freight``, ``tariff``, ``carrying``, ``landed_cost`` per year (money; the
        per-unit figures of ``best`` keep their names with a ``_per_unit`` suffix).

    Raises
    ------
    ValueError
        When ``best`` has more than one row for a (sku, market) pair.
    """
    if best.duplicated(["sku", "market"]).any():
        raise ValueError("best must hold one path per (sku, market): pass by_plant=False")
    demand = rates.loc[rates["demand_per_day"] > 0, ["site_id", "sku", "demand_per_day"]]
    demand = demand.rename(columns={"site_id": "market"})
    if markets is not None:
        demand = demand[demand["market"].isin(list(markets))]
    paths = best.rename(columns={c: f"{c}_per_unit" for c in _COMPONENTS})
    table = demand.merge(paths, on=["market", "sku"], how="left", indicator=True)
    table["served"] = table.pop("_merge").eq("both").to_numpy()
    table["supplier"] = table["path"].str.split(PATH_SEPARATOR).str[-2]
    table["air"] = _has_air(table["modes"]).where(table["served"], False).astype(bool)
    table["units_per_year"] = table["demand_per_day"] * _DAYS_PER_YEAR
    table["value_per_year"] = (table["units_per_year"] * table["unit_cost"]).fillna(0.0)
    for component in _COMPONENTS:
        per_year = table["units_per_year"] * table[f"{component}_per_unit"]
        table[component] = per_year.fillna(0.0)
    return table.sort_values(["market", "sku"]).reset_index(drop=True)


def _summarize(group: pd.DataFrame) -> dict[str, float | int]:
    served = group[group["served"]]
    value = served["value_per_year"]
    landed = float(served["landed_cost"].sum())
    total = float(value.sum())
    return {
        "skus": int(group["sku"].nunique()),
        "skus_unserved": int((~group["served"]).sum()),
        "demand_value_per_year": total,
        "lead_time_days": _weighted(served["lead_time_days"], value),
        "air_share": _weighted(served["air"].astype(float), value),
        "freight": float(served["freight"].sum()),
        "tariff": float(served["tariff"].sum()),
        "carrying": float(served["carrying"].sum()),
        "landed_cost": landed,
        "landed_share": landed / total if total > 0 else float("nan"),
    }


def _main(group: pd.DataFrame, column: str) -> tuple[object, float]:
    """The value of ``column`` carrying the most demand value, and its share."""
    served = group[group["served"]]
    if served.empty or not served["value_per_year"].sum() > 0:
        return None, float("nan")
    by = (
        served.groupby(column, sort=True)["value_per_year"]
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    return by.index[0], float(by.iloc[0] / by.sum())


def market_supply(
    best: pd.DataFrame, rates: pd.DataFrame, markets: Iterable[str] | None = None
) -> pd.DataFrame:
    """Demand value, lead time and landed cost per market under the given paths.

    Parameters
    ----------
    best, rates, markets
        See :func:`served_demand`.

    Returns
    -------
    pandas.DataFrame
        One row per market, largest demand value first: ``market, skus`` (with
        demand), ``skus_unserved``, ``demand_value_per_year``, ``lead_time_days``
        (value-weighted), ``air_share`` (share of value on a path with an air lane),
        ``freight, tariff, carrying, landed_cost`` (money per year),
        ``landed_share`` (landed cost / demand value), ``main_supplier`` and
        ``main_supplier_share`` (the site shipping most of the value to the market).

    Examples
    --------
    >>> best = pd.DataFrame({"sku": ["S1", "S2"], "market": ["M1", "M1"],
    ...     "plant": ["P1", "P1"], "path": ["P1 > D1 > M1", "P1 > M1"],
    ...     "modes": ["sea > road", "air"], "lead_time_days": [30.0, 5.0],
    ...     "unit_cost": [10.0, 30.0], "freight": [1.0, 2.0], "tariff": [0.0, 0.0],
    ...     "carrying": [0.0, 0.0], "landed_cost": [1.0, 2.0]})
    >>> rates = pd.DataFrame({"site_id": ["M1", "M1"], "sku": ["S1", "S2"],
    ...                       "demand_per_day": [6.0 / 365, 1.0 / 365]})
    >>> row = market_supply(best, rates).iloc[0]  # S1 worth 60 a year, S2 30
    >>> row[["demand_value_per_year", "lead_time_days", "landed_share", "air_share"]].astype(
    ...     float).round(4).tolist()
    [90.0, 21.6667, 0.0889, 0.3333]
    >>> row.main_supplier
    'D1'

    """
    served = served_demand(best, rates, markets)
    columns = [
        "market",
        "skus",
        "skus_unserved",
        "demand_value_per_year",
        "lead_time_days",
        "air_share",
        "freight",
        "tariff",
        "carrying",
        "landed_cost",
        "landed_share",
        "main_supplier",
        "main_supplier_share",
    ]
    if served.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for market, group in served.groupby("market", sort=True):
        supplier, share = _main(group, "supplier")
        rows.append(
            {
                "market": market,
                **_summarize(group),
                "main_supplier": supplier,
                "main_supplier_share": share,
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        ["demand_value_per_year", "market"], ascending=[False, True]
    ).reset_index(drop=True)


def product_line_supply(
    best: pd.DataFrame,
    rates: pd.DataFrame,
    items: pd.DataFrame,
    markets: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The usual source and route per market and product line, with lead time and cost.

    Parameters
    ----------
    best, rates, markets
        See :func:`served_demand`.
    items : pandas.DataFrame
        The item master (``sku, product_line``); skus missing from it fall under
        ``"(unknown)"``.

    Returns
    -------
    pandas.DataFrame
        One row per market and product line (markets by demand value, then lines by
        value): ``market, product_line, skus, demand_value_per_year``,
        ``plant`` (the plant supplying most of the value) and ``plant_share``,
        ``path``, ``via`` (the sites between plant and market) and ``modes`` of the
        route carrying most of the value, and ``route_share``, ``lead_time_days`` (value-weighted, all routes),
        ``landed_cost`` (per year), ``landed_share``.
    """
    served = served_demand(best, rates, markets)
    lines = items.drop_duplicates("sku").set_index("sku")["product_line"]
    served["product_line"] = served["sku"].map(lines).fillna("(unknown)")
    served["route"] = served["path"] + "|" + served["modes"]
    rows = []
    for (market, line), group in served.groupby(["market", "product_line"], sort=True):
        plant, plant_share = _main(group, "plant")
        route, route_share = _main(group, "route")
        summary = _summarize(group)
        path, modes = route.split("|") if isinstance(route, str) else (None, None)
        rows.append(
            {
                "market": market,
                "product_line": line,
                "skus": summary["skus"],
                "demand_value_per_year": summary["demand_value_per_year"],
                "plant": plant,
                "plant_share": plant_share,
                "path": path,
                "via": _via(pd.Series([path])).iloc[0] if path else None,
                "modes": modes,
                "route_share": route_share,
                "lead_time_days": summary["lead_time_days"],
                "landed_cost": summary["landed_cost"],
                "landed_share": summary["landed_share"],
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    market_value = table.groupby("market")["demand_value_per_year"].transform("sum")
    return (
        table.assign(_market_value=market_value)
        .sort_values(
            ["_market_value", "market", "demand_value_per_year", "product_line"],
            ascending=[False, True, False, True],
        )
        .drop(columns="_market_value")
        .reset_index(drop=True)
    )


def top_supply_paths(
    best: pd.DataFrame,
    rates: pd.DataFrame,
    items: pd.DataFrame,
    markets: Iterable[str] | None = None,
    n: int = 15,
) -> pd.DataFrame:
    """The ``n`` (market, sku) pairs of largest demand value with their best source.

    Returns
    -------
    pandas.DataFrame
        ``market, sku, description, product_line, demand_value_per_year, plant, path,
        via, modes, lead_time_days, landed_cost`` (per unit) and ``landed_share`` (of the
        unit cost), largest value first.
    """
    served = served_demand(best, rates, markets)
    served = served[served["served"]]
    served = served.merge(items[["sku", "description", "product_line"]], on="sku", how="left")
    served["via"] = _via(served["path"])
    served["landed_cost"] = served["landed_cost_per_unit"]
    served["landed_share"] = served["landed_cost_per_unit"] / served["unit_cost"]
    columns = [
        "market",
        "sku",
        "description",
        "product_line",
        "demand_value_per_year",
        "plant",
        "path",
        "via",
        "modes",
        "lead_time_days",
        "landed_cost",
        "landed_share",
    ]
    served = served.rename(columns={"value_per_year": "demand_value_per_year"})
    return (
        served.sort_values(
            ["demand_value_per_year", "market", "sku"], ascending=[False, True, True]
        )
        .head(n)[columns]
        .reset_index(drop=True)
    )


def supplier_shares(
    best: pd.DataFrame,
    rates: pd.DataFrame,
    sites: pd.DataFrame,
    markets: Iterable[str] | None = None,
) -> pd.DataFrame:
    """How much of the markets' demand value each supplier ships to them.

    The supplier of a market is the site just before it on its best path (its DC,
    or the plant of a direct lane).

    Returns
    -------
    pandas.DataFrame
        ``supplier, site_type, markets`` (how many of the markets it ships to),
        ``skus`` (demand pairs), ``value_per_year`` and ``share`` of the served
        demand value; largest share first.
    """
    served = served_demand(best, rates, markets)
    served = served[served["served"]]
    kinds = dict(zip(sites["site_id"], sites["site_type"], strict=True))
    table = served.groupby("supplier", as_index=False).agg(
        markets=("market", "nunique"),
        skus=("sku", "size"),
        value_per_year=("value_per_year", "sum"),
    )
    total = float(table["value_per_year"].sum())
    table["share"] = table["value_per_year"] / total if total > 0 else np.nan
    table.insert(1, "site_type", table["supplier"].map(kinds))
    return table.sort_values(["value_per_year", "supplier"], ascending=[False, True]).reset_index(
        drop=True
    )


def main_supplier_dc(
    best: pd.DataFrame,
    rates: pd.DataFrame,
    sites: pd.DataFrame,
    markets: Iterable[str] | None = None,
) -> str | None:
    """The DC that ships most of the markets' demand value (None when no DC does).

    Examples
    --------
    >>> sites = pd.DataFrame({"site_id": ["P1", "D1", "D2", "M1", "M2"],
    ...     "site_type": ["plant", "dc", "dc", "market", "market"]})
    >>> best = pd.DataFrame({"sku": ["S1", "S1"], "market": ["M1", "M2"],
    ...     "plant": "P1", "path": ["P1 > D1 > M1", "P1 > D2 > M2"], "modes": "road > road",
    ...     "lead_time_days": 3.0, "unit_cost": 10.0, "freight": 1.0, "tariff": 0.0,
    ...     "carrying": 0.0, "landed_cost": 1.0})
    >>> rates = pd.DataFrame({"site_id": ["M1", "M2"], "sku": "S1", "demand_per_day": [1.0, 2.0]})
    >>> main_supplier_dc(best, rates, sites)
    'D2'
    >>> main_supplier_dc(best, rates, sites, markets=["M1"])
    'D1'
    """
    shares = supplier_shares(best, rates, sites, markets)
    dcs = shares[shares["site_type"] == "dc"]
    return None if dcs.empty else str(dcs["supplier"].iloc[0])


def largest_market(
    best: pd.DataFrame, rates: pd.DataFrame, markets: Iterable[str] | None = None
) -> str | None:
    """The market with the largest served demand value (None without demand)."""
    supply = market_supply(best, rates, markets)
    return None if supply.empty else str(supply["market"].iloc[0])


def speed_premium(
    cheapest: pd.DataFrame,
    fastest: pd.DataFrame,
    rates: pd.DataFrame,
    markets: Iterable[str] | None = None,
    *,
    chosen: pd.DataFrame | None = None,
    total_label: str = "all markets",
) -> pd.DataFrame:
    """What the fastest routes buy in lead time over the cheapest, and what they cost.

    Parameters
    ----------
    cheapest, fastest : pandas.DataFrame
        :func:`toolkit.network_paths.cheapest_paths` and
        :func:`~toolkit.network_paths.fastest_paths` with ``by_plant=False``.
    rates, markets
        See :func:`served_demand`.
    chosen : pandas.DataFrame, optional
        The paths actually chosen (:func:`~toolkit.network_paths.best_sources`),
        shown alongside.
    total_label : str
        Market name of the last row, which sums (and value-weights) every market.

    Returns
    -------
    pandas.DataFrame
        One row per market (largest demand value first) and a total row:
        ``market, demand_value_per_year`` (at the unit costs of the chosen sources,
        else of the cheapest), then for ``cheapest`` and ``fastest``
        (and ``chosen``): ``lead_time_<which>`` (days, value-weighted),
        ``landed_<which>`` (money per year), ``air_share_<which>``; then
        ``days_saved`` (cheapest minus fastest lead time), ``extra_cost_per_year``
        (fastest minus cheapest *delivered* cost: the fastest source may be a dearer
        plant with a lower landed cost, so the landed columns alone can mislead) and
        ``extra_cost_share`` (of the demand value).
    """
    markets = None if markets is None else list(markets)
    tables = {"cheapest": cheapest, "fastest": fastest}
    if chosen is not None:
        tables["chosen"] = chosen
    parts = []
    for which, paths in tables.items():
        served = served_demand(paths, rates, markets)
        served = served[served["served"]]
        everything = served.assign(market=total_label)
        rows = []
        for market, group in pd.concat([served, everything]).groupby("market", sort=False):
            value = group["value_per_year"]
            rows.append(
                {
                    "market": market,
                    f"value_{which}": float(value.sum()),
                    f"lead_time_{which}": _weighted(group["lead_time_days"], value),
                    f"landed_{which}": float(group["landed_cost"].sum()),
                    f"delivered_{which}": float(
                        (group["units_per_year"] * group["delivered_cost"]).sum()
                    ),
                    f"air_share_{which}": _weighted(group["air"].astype(float), value),
                }
            )
        parts.append(pd.DataFrame(rows).set_index("market"))
    table = pd.concat(parts, axis=1).reset_index()
    valued = "value_chosen" if chosen is not None else "value_cheapest"
    table = table.rename(columns={valued: "demand_value_per_year"})
    table["days_saved"] = table["lead_time_cheapest"] - table["lead_time_fastest"]
    table["extra_cost_per_year"] = table["delivered_fastest"] - table["delivered_cheapest"]
    table = table.drop(columns=[c for c in table.columns if c.startswith(("value_", "delivered_"))])
    table["extra_cost_share"] = table["extra_cost_per_year"] / table["demand_value_per_year"]
    is_total = table["market"] == total_label
    ordered = pd.concat(
        [
            table[~is_total].sort_values(
                ["demand_value_per_year", "market"], ascending=[False, True]
            ),
            table[is_total],
        ]
    )
    return ordered.reset_index(drop=True)


@dataclass(frozen=True)
class RegionNetworkSummary:
    """The headline figures of one region's supply network.

    Attributes
    ----------
    region : str
    markets : int
        Markets of the region.
    markets_served : int
        Markets with at least one demand pair served.
    demand_pairs, unserved_pairs : int
        (market, sku) pairs with demand, and those no plant reaches.
    demand_value_per_year : float
        Served demand, valued at the source plants' unit cost.
    lead_time_days : float
        Value-weighted lead time from order at the plant to arrival at the market.
    landed_cost_per_year, landed_share : float
        Landed cost (freight, tariff, carrying) per year, and as a share of the
        demand value.
    air_share : float
        Share of the demand value on a path with an air lane.
    excess_value, shortage_value : float
        Excess and shortage value at the region's sites (its DCs and markets, as
        assessed by :func:`toolkit.network_balance.stock_positions`).
    excess_rows, shortage_rows : int
        (site, sku) positions in excess and in shortage.
    main_dc : str or None
        The DC shipping most of the region's demand value; ``main_dc_share`` its share.
    largest_market : str or None
        The market with the most demand value; ``largest_market_country`` its country
        and ``largest_market_share`` its share of the region's demand value.
    """

    region: str
    markets: int
    markets_served: int
    demand_pairs: int
    unserved_pairs: int
    demand_value_per_year: float
    lead_time_days: float
    landed_cost_per_year: float
    landed_share: float
    air_share: float
    excess_value: float
    shortage_value: float
    excess_rows: int
    shortage_rows: int
    main_dc: str | None
    main_dc_share: float
    largest_market: str | None
    largest_market_country: str | None
    largest_market_share: float


def region_network_summary(
    best: pd.DataFrame,
    rates: pd.DataFrame,
    positions: pd.DataFrame,
    sites: pd.DataFrame,
    region: str,
) -> RegionNetworkSummary:
    """Headline figures of ``region``'s supply network (see :class:`RegionNetworkSummary`).

    Parameters
    ----------
    best : pandas.DataFrame
        :func:`toolkit.network_paths.best_sources` of the whole network.
    rates : pandas.DataFrame
        Demand rates (:func:`toolkit.network_balance.demand_rates`).
    positions : pandas.DataFrame
        :func:`toolkit.network_balance.stock_positions` (its ``region`` column says
        which rows belong to the region).
    sites : pandas.DataFrame
        The sites table.
    region : str
    """
    markets = region_markets(sites, region)
    served = served_demand(best, rates, markets)
    supply = market_supply(best, rates, markets)
    shares = supplier_shares(best, rates, sites, markets)
    dcs = shares[shares["site_type"] == "dc"]
    overall = _summarize(served) if len(served) else None
    total = float(overall["demand_value_per_year"]) if overall is not None else 0.0
    inside = positions[positions["region"] == region]
    country = dict(zip(sites["site_id"], sites["country"], strict=True))
    largest = None if supply.empty else str(supply["market"].iloc[0])
    return RegionNetworkSummary(
        region=region,
        markets=len(markets),
        markets_served=int(served.loc[served["served"], "market"].nunique()),
        demand_pairs=len(served),
        unserved_pairs=int((~served["served"]).sum()),
        demand_value_per_year=total,
        lead_time_days=float(overall["lead_time_days"]) if overall is not None else np.nan,
        landed_cost_per_year=float(overall["landed_cost"]) if overall is not None else 0.0,
        landed_share=float(overall["landed_share"]) if overall is not None else np.nan,
        air_share=float(overall["air_share"]) if overall is not None else np.nan,
        excess_value=float(inside["excess_value"].sum()),
        shortage_value=float(inside["shortage_value"].sum()),
        excess_rows=int((inside["status"] == "excess").sum()),
        shortage_rows=int((inside["status"] == "shortage").sum()),
        main_dc=None if dcs.empty else str(dcs["supplier"].iloc[0]),
        main_dc_share=float(dcs["share"].iloc[0]) if len(dcs) else np.nan,
        largest_market=largest,
        largest_market_country=country.get(largest) if largest else None,
        largest_market_share=(
            float(supply["demand_value_per_year"].iloc[0]) / total if largest and total else np.nan
        ),
    )
