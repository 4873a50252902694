"""Disruption what-ifs: take out a site or a lane, or slow down a country's customs.

A :class:`Disruption` describes the event; :func:`apply_disruption` returns a new
Dataset with the tables changed (the original is never touched);
:func:`compare_supply` sets two best-source tables side by side, and
:func:`disruption_impact` does both for one disruption.

Examples
--------
>>> strike = Disruption.customs_delay("BR", 10, name="Santos customs strike")
>>> strike.customs_delays
(('BR', 10.0),)
>>> (Disruption.site_outage("P1") | Disruption.lane_closure("D1", "M1")).removed_lanes
(('D1', 'M1', None),)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.network import build_network
from toolkit.network_paths import best_sources

__all__ = [
    "Disruption",
    "apply_disruption",
    "compare_supply",
    "disruption_impact",
    "impact_by_market",
    "impact_totals",
]


@dataclass(frozen=True)
class Disruption:
    """An event that takes capacity out of the supply network.

    Attributes
    ----------
    name : str
        A label for reports.
    removed_sites : tuple of str
        Sites out of action (a plant, DC or market): their lanes and sourcing go.
    removed_lanes : tuple of (origin, destination, mode)
        Lanes closed; ``mode`` None closes every mode between the two sites.
    customs_delays : tuple of (country, extra_days)
        Extra customs days on every lane entering ``country`` (ISO alpha-2) from
        another country; lanes within the country are not affected.
    """

    name: str = ""
    removed_sites: tuple[str, ...] = ()
    removed_lanes: tuple[tuple[str, str, str | None], ...] = ()
    customs_delays: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        # Accept lists from callers (and YAML) but keep the dataclass hashable.
        object.__setattr__(self, "removed_sites", tuple(self.removed_sites))
        lanes = []
        for origin, destination, *mode in self.removed_lanes:
            lanes.append((origin, destination, mode[0] if mode else None))
        object.__setattr__(self, "removed_lanes", tuple(lanes))
        delays = tuple((str(c), float(days)) for c, days in self.customs_delays)
        object.__setattr__(self, "customs_delays", delays)
        if not self.name:
            object.__setattr__(self, "name", self.describe())

    @classmethod
    def site_outage(cls, *site_ids: str, name: str = "") -> Disruption:
        """Take one or more sites (plants, DCs, markets) out of the network."""
        return cls(name=name, removed_sites=site_ids)

    @classmethod
    def lane_closure(
        cls, origin: str, destination: str, mode: str | None = None, name: str = ""
    ) -> Disruption:
        """Close the lane from ``origin`` to ``destination`` (every mode when None)."""
        return cls(name=name, removed_lanes=((origin, destination, mode),))

    @classmethod
    def customs_delay(cls, country: str, extra_days: float, name: str = "") -> Disruption:
        """Add ``extra_days`` of customs review on every lane into ``country``."""
        return cls(name=name, customs_delays=((country, extra_days),))

    def __or__(self, other: Disruption) -> Disruption:
        """Both disruptions at once."""
        return Disruption(
            name=f"{self.name} + {other.name}",
            removed_sites=self.removed_sites + other.removed_sites,
            removed_lanes=self.removed_lanes + other.removed_lanes,
            customs_delays=self.customs_delays + other.customs_delays,
        )

    def describe(self) -> str:
        """One line saying what the disruption does."""
        parts = [f"{site} out" for site in self.removed_sites]
        parts += [f"{o} -> {d} ({m or 'all modes'}) closed" for o, d, m in self.removed_lanes]
        parts += [f"customs into {c} +{days:g} days" for c, days in self.customs_delays]
        return "; ".join(parts) or "no disruption"


def apply_disruption(dataset: Dataset, disruption: Disruption) -> Dataset:
    """Return a copy of ``dataset`` with the disruption applied to its tables.

    Removed sites leave the ``sites`` table together with their lanes (in or out) and
    their ``sourcing`` rows; other tables (demand, inventory, ...) are kept as they
    are. Closed lanes leave the ``lanes`` table. Customs delays add days to
    ``customs_days`` of the lanes that cross into the country.

    Raises
    ------
    ValueError
        When the disruption names a site, lane or country that is not in the network
        (a typo would otherwise look like a harmless disruption).
    """
    sites, lanes, sourcing = dataset.sites, dataset.lanes, dataset.sourcing
    unknown = sorted(set(disruption.removed_sites) - set(sites["site_id"]))
    if unknown:
        raise ValueError(f"{disruption.name}: unknown site(s) {unknown}")
    if disruption.removed_sites:
        gone = list(disruption.removed_sites)
        sites = sites[~sites["site_id"].isin(gone)]
        lanes = lanes[~(lanes["origin"].isin(gone) | lanes["destination"].isin(gone))]
        sourcing = sourcing[~sourcing["site_id"].isin(gone)]
    for origin, destination, mode in disruption.removed_lanes:
        hit = (lanes["origin"] == origin) & (lanes["destination"] == destination)
        if mode is not None:
            hit &= lanes["mode"] == mode
        if not hit.any():
            raise ValueError(
                f"{disruption.name}: no lane {origin} -> {destination} ({mode or 'any mode'})"
            )
        lanes = lanes[~hit]
    if disruption.customs_delays:
        country = dict(zip(dataset.sites["site_id"], dataset.sites["country"], strict=True))
        origin_country = lanes["origin"].map(country)
        destination_country = lanes["destination"].map(country)
        customs = lanes["customs_days"].astype(float).to_numpy(copy=True)
        for code, extra in disruption.customs_delays:
            if code not in set(country.values()):
                raise ValueError(f"{disruption.name}: no site in country {code!r}")
            entering = (destination_country == code) & (origin_country != code)
            customs[entering.to_numpy()] += extra
        lanes = lanes.assign(customs_days=customs)
    return dataset.replace(sites=sites, lanes=lanes, sourcing=sourcing)


_COMPARED = ("plant", "path", "modes", "lead_time_days", "landed_cost", "delivered_cost")


def compare_supply(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Set two best-source tables side by side, per market and sku.

    Parameters
    ----------
    before, after : pandas.DataFrame
        :func:`toolkit.network_paths.best_sources` outputs (one row per sku and
        market), before and after a change.

    Returns
    -------
    pandas.DataFrame
        ``sku, market, status`` then ``<column>_before`` and ``<column>_after`` for
        plant, path, modes, lead_time_days, landed_cost and delivered_cost, and
        ``lead_time_change_days``, ``landed_cost_change``. ``status`` is ``"lost"``
        (no supply after), ``"gained"``, ``"rerouted"`` (another plant, path or
        mode), ``"changed"`` (same route, other lead time or cost) or
        ``"unchanged"``. Lost supply first, then the largest lead-time rise.
    """
    keys = ["sku", "market"]
    columns = [c for c in _COMPARED if c in before.columns]
    table = before[keys + columns].merge(
        after[keys + columns], on=keys, how="outer", suffixes=("_before", "_after"), indicator=True
    )
    same_route = (table["plant_before"] == table["plant_after"]) & (
        table["path_before"] == table["path_after"]
    )
    if "modes_before" in table:
        same_route &= table["modes_before"] == table["modes_after"]
    table["lead_time_change_days"] = table["lead_time_days_after"] - table["lead_time_days_before"]
    table["landed_cost_change"] = table["landed_cost_after"] - table["landed_cost_before"]
    moved = ~np.isclose(table["lead_time_change_days"], 0.0) | ~np.isclose(
        table["landed_cost_change"], 0.0
    )
    table["status"] = np.select(
        [
            table["_merge"] == "left_only",
            table["_merge"] == "right_only",
            ~same_route,
            moved,
        ],
        ["lost", "gained", "rerouted", "changed"],
        "unchanged",
    )
    order = {"lost": 0, "rerouted": 1, "changed": 2, "gained": 3, "unchanged": 4}
    table = table.assign(_order=table["status"].map(order)).sort_values(
        ["_order", "lead_time_change_days", "landed_cost_change", "sku", "market"],
        ascending=[True, False, False, True, True],
        na_position="first",
    )
    out = [*keys, "status"]
    out += [f"{c}_{when}" for c in columns for when in ("before", "after")]
    out += ["lead_time_change_days", "landed_cost_change"]
    return table[out].reset_index(drop=True)


def disruption_impact(
    dataset: Dataset,
    disruption: Disruption,
    *,
    cost_per_day: float | pd.Series = 0.0,
    carrying_rate: float = 0.25,
    include_inactive: bool = False,
    before: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Which markets lose supply of which skus, and how lead time and cost rise.

    Best sources (:func:`toolkit.network_paths.best_sources`, same trade-off before
    and after) are computed on the dataset and on ``apply_disruption(dataset,
    disruption)`` and compared with :func:`compare_supply`. Pass ``before`` to reuse
    a best-source table when trying many disruptions.

    Returns
    -------
    pandas.DataFrame
        :func:`compare_supply` with the market's ``region`` and the disruption's name
        (column ``disruption``).
    """
    options = {"cost_per_day": cost_per_day, "carrying_rate": carrying_rate}
    if before is None:
        graph = build_network(dataset, include_inactive=include_inactive)
        before = best_sources(graph, dataset.sourcing, **options)
    changed = apply_disruption(dataset, disruption)
    graph_after = build_network(changed, include_inactive=include_inactive)
    after = best_sources(graph_after, changed.sourcing, **options)
    table = compare_supply(before, after)
    region = dict(zip(dataset.sites["site_id"], dataset.sites["region"], strict=True))
    table.insert(2, "region", table["market"].map(region))
    table.insert(0, "disruption", disruption.name)
    return table


def _with_demand(impact: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """Keep the (sku, market) pairs with demand and add their value and cost weights."""
    demand = rates.loc[rates["demand_per_day"] > 0, ["site_id", "sku", "demand_per_day"]]
    impact = impact.merge(
        demand.rename(columns={"site_id": "market"}), on=["market", "sku"], how="inner"
    )
    units = impact["demand_per_day"] * 365.0
    unit_cost = impact["delivered_cost_before"] - impact["landed_cost_before"]
    supplied = impact["status"].isin(["rerouted", "changed", "unchanged"])
    change = impact["lead_time_change_days"].where(impact["status"] != "unchanged", 0.0)
    value = (units * unit_cost).fillna(0.0)
    return impact.assign(
        _value=value,
        _supplied=value.where(supplied, 0.0),
        _weighted=(change * value).where(supplied, 0.0).fillna(0.0),
        _lost=value.where(impact["status"] == "lost", 0.0),
        _extra=(units * impact["landed_cost_change"]).where(supplied, 0.0).fillna(0.0),
    )


def impact_by_market(
    impact: pd.DataFrame,
    *,
    rates: pd.DataFrame | None = None,
    markets: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Summarize :func:`disruption_impact` per market.

    Parameters
    ----------
    impact : pandas.DataFrame
        The output of :func:`disruption_impact`.
    rates : pandas.DataFrame, optional
        Demand rates (``site_id, sku, demand_per_day``, see
        :func:`toolkit.network_balance.demand_rates`). When given, only the
        (sku, market) pairs with demand count, and the money columns below are added.
    markets : iterable of str, optional
        Keep only these markets (e.g. one region's).

    Returns
    -------
    pandas.DataFrame
        ``market, region, skus_lost, skus_rerouted, skus_changed,
        mean_lead_time_change_days, max_lead_time_change_days,
        mean_landed_cost_change`` (changes over the skus still supplied), for the
        affected markets, those with most lost skus first. With ``rates`` also
        ``value_lost_per_year`` (demand value of the lost skus at their unit cost
        before), ``lead_time_change_days`` (change of the market's lead time weighted
        by demand value, over the skus supplied before and after, unchanged ones
        included) and ``extra_landed_cost_per_year`` (landed cost change x units per
        year).
    """
    if markets is not None:
        impact = impact[impact["market"].isin(list(markets))]
    money = rates is not None
    if money:
        impact = _with_demand(impact, rates)
    columns = [
        "market",
        "region",
        "skus_lost",
        "skus_rerouted",
        "skus_changed",
        "mean_lead_time_change_days",
        "max_lead_time_change_days",
        "mean_landed_cost_change",
    ]
    if money:
        columns += ["value_lost_per_year", "lead_time_change_days", "extra_landed_cost_per_year"]
    if not impact["status"].isin(["lost", "rerouted", "changed"]).any():
        return pd.DataFrame(columns=columns)
    counts = pd.crosstab([impact["market"], impact["region"]], impact["status"])
    table = pd.DataFrame(index=counts.index)
    for status in ("lost", "rerouted", "changed"):
        table[f"skus_{status}"] = counts[status] if status in counts else 0
    still_supplied = impact[impact["status"].isin(["rerouted", "changed"])]
    changes = still_supplied.groupby(["market", "region"], dropna=False).agg(
        mean_lead_time_change_days=("lead_time_change_days", "mean"),
        max_lead_time_change_days=("lead_time_change_days", "max"),
        mean_landed_cost_change=("landed_cost_change", "mean"),
    )
    table = table.join(changes)
    if money:
        sums = impact.groupby(["market", "region"])[["_lost", "_supplied", "_weighted", "_extra"]]
        sums = sums.sum().reindex(table.index)
        table["value_lost_per_year"] = sums["_lost"].fillna(0.0)
        table["lead_time_change_days"] = sums["_weighted"] / sums["_supplied"].where(
            sums["_supplied"] > 0
        )
        table["extra_landed_cost_per_year"] = sums["_extra"].fillna(0.0)
    table = table.reset_index()
    table = table[table[["skus_lost", "skus_rerouted", "skus_changed"]].sum(axis=1) > 0]
    return table.sort_values(["skus_lost", "max_lead_time_change_days"], ascending=False)[
        columns
    ].reset_index(drop=True)


def impact_totals(
    impact: pd.DataFrame, rates: pd.DataFrame, markets: Iterable[str] | None = None
) -> pd.Series:
    """One line of figures for a disruption: what the given markets lose and pay.

    Parameters
    ----------
    impact : pandas.DataFrame
        The output of :func:`disruption_impact`.
    rates : pandas.DataFrame
        Demand rates (``site_id, sku, demand_per_day``); only pairs with demand count.
    markets : iterable of str, optional
        The markets to total (e.g. one region's); every market by default.

    Returns
    -------
    pandas.Series
        ``markets_affected`` (with a lost, rerouted or changed sku),
        ``skus_lost`` (market-sku pairs), ``value_lost_per_year`` and
        ``value_lost_share`` (of the demand value before), ``lead_time_change_days``
        (change of the value-weighted lead time over the pairs still supplied),
        ``extra_landed_cost_per_year`` and ``extra_landed_share`` (of the demand
        value still supplied).
    """
    if markets is not None:
        impact = impact[impact["market"].isin(list(markets))]
    table = _with_demand(impact, rates)
    affected = table["status"].isin(["lost", "rerouted", "changed"])
    value = float(table["_value"].sum())
    supplied = float(table["_supplied"].sum())
    lost = float(table["_lost"].sum())
    extra = float(table["_extra"].sum())
    return pd.Series(
        {
            "markets_affected": int(table.loc[affected, "market"].nunique()),
            "skus_lost": int((table["status"] == "lost").sum()),
            "value_lost_per_year": lost,
            "value_lost_share": lost / value if value > 0 else np.nan,
            "lead_time_change_days": float(table["_weighted"].sum()) / supplied
            if supplied > 0
            else np.nan,
            "extra_landed_cost_per_year": extra,
            "extra_landed_share": extra / supplied if supplied > 0 else np.nan,
        },
        dtype=object,
    )
