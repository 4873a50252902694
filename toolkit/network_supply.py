"""One sku's supply sub-network, exported as the graph the safety-stock optimizer takes.

The exported graph is what :func:`toolkit.optimize.place_safety_stock` reads: a
:class:`networkx.DiGraph` with edges from supplier to customer and these node
attributes (times in periods of ``period_days`` days, default 7 = weekly):

``processing_time``
    periods to make or move the sku into the node: at a plant its
    ``processing_days``, elsewhere the inbound lane's transit + customs days.
``holding_cost``
    ``carrying_rate`` x ``delivered_cost`` x ``period_days`` / 365 per unit per
    period, where ``delivered_cost`` is the sku's value at the node: the source
    plant's unit cost plus the landed cost of the lanes up to the node.
``demand_mean``, ``demand_std``
    per period, at market nodes only (internal nodes are pooled by the optimizer).
``max_outbound_cst``
    at market nodes (an argument, default 0: serve from stock).

plus the site's attributes (``name, site_type, region, country, echelon``),
``delivered_cost``, ``lead_time_days`` (from the plant) and ``inbound_mode``.

Why a tree: in the guaranteed-service model a node with two suppliers is an
assembly that needs both, which is not what two alternative lanes or plants mean.
So each market takes its best source and path under the cost-per-day trade-off of
:func:`toolkit.network_paths.best_sources` (which also picks one mode per lane),
and where those paths would give a site two inbound lanes, the site keeps the lane
that carries the most demand (ties: the cheaper path). The result is a forest
rooted at the plants used; markets that no plant reaches are left out and listed in
``G.graph["unserved_markets"]``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import networkx as nx
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.network import NetworkError, build_network
from toolkit.network_balance import demand_calendar, demand_rates
from toolkit.network_paths import PATH_SEPARATOR, landed_cost, supply_paths

__all__ = ["supply_network"]

_SITE_ATTRIBUTES = ("name", "site_type", "region", "country", "echelon")


def _periods(days: float, period_days: float, whole_periods: bool) -> float:
    periods = days / period_days
    # A tolerance keeps 14 days / 7 at 2 periods despite floating-point noise.
    return float(math.ceil(periods - 1e-9)) if whole_periods else periods


def supply_network(
    dataset: Dataset,
    sku: str,
    *,
    graph: nx.MultiDiGraph | None = None,
    demand: pd.DataFrame | None = None,
    markets: Iterable[str] | None = None,
    carrying_rate: float = 0.25,
    cost_per_day: float = 0.0,
    period_days: float = 7.0,
    max_outbound_cst: float = 0.0,
    whole_periods: bool = False,
) -> nx.DiGraph:
    """Export the sub-network that serves ``sku`` for safety-stock placement.

    Parameters
    ----------
    dataset : Dataset
        Reads ``sourcing``, ``sites`` and (without ``demand``) ``demand``.
    sku : str
        The sku.
    graph : networkx.MultiDiGraph, optional
        ``build_network(dataset)`` when not given (pass it when exporting many skus).
    demand : pandas.DataFrame, optional
        Demand rates per market (``site_id, sku, demand_per_day,
        demand_std_per_day``), e.g. from a forecast; by default
        :func:`toolkit.network_balance.demand_rates` of the demand table.
    markets : iterable of str, optional
        Markets to serve; by default those with demand for the sku.
    carrying_rate : float
        Carrying cost per year as a fraction of value.
    cost_per_day : float
        Trade-off that chooses each market's source and path and each lane's mode
        (currency per unit per day of lead time; see
        :func:`toolkit.network_paths.best_sources`).
    period_days : float
        Length of the optimizer's period in days (7 = weekly).
    max_outbound_cst : float
        Maximum outbound service time of the markets, in periods.
    whole_periods : bool
        Round each ``processing_time`` up to whole periods (the optimizer then works
        with integer service times).

    Returns
    -------
    networkx.DiGraph
        See the module docstring. ``G.graph`` holds ``sku``, ``period_days``,
        ``carrying_rate``, ``cost_per_day`` and ``unserved_markets``.

    Raises
    ------
    ValueError
        When no plant sources ``sku``.
    """
    graph = build_network(dataset) if graph is None else graph
    sourcing = dataset.sourcing[dataset.sourcing["sku"] == sku]
    if sourcing.empty:
        raise ValueError(f"no plant sources sku {sku!r}")
    if demand is None:
        # Period length and end of history come from the whole table: one sku's rows
        # may skip periods (intermittent demand).
        bucket_days, end = demand_calendar(dataset.demand)
        rows = dataset.demand[dataset.demand["sku"] == sku]
        demand = demand_rates(rows, bucket_days=bucket_days, as_of=end)
    rates = demand[demand["sku"] == sku].set_index("site_id")
    if markets is None:
        market_ids = {n for n, t in graph.nodes(data="site_type") if t == "market"}
        markets = sorted(s for s in rates.index[rates["demand_per_day"] > 0] if s in market_ids)
    markets = list(markets)

    best = supply_paths(
        graph,
        sourcing,
        objective="trade_off",
        sites=markets,
        by_plant=False,
        carrying_rate=carrying_rate,
        cost_per_day=cost_per_day,
    )
    unserved = sorted(set(markets) - set(best["site_id"]))
    if unserved:
        warnings.warn(f"sku {sku}: no plant reaches market(s) {', '.join(unserved)}", stacklevel=2)
    weight = best["site_id"].map(rates["demand_per_day"]).fillna(0.0)

    # Each site keeps the inbound lane that carries the most demand (ties: cheaper).
    carried: dict[tuple[str, str, str], list[float]] = {}
    for path, modes, demand_rate, cost in zip(
        best["path"], best["modes"], weight, best["trade_off_cost"], strict=True
    ):
        nodes = path.split(PATH_SEPARATOR)
        for u, v, mode in zip(nodes[:-1], nodes[1:], modes.split(PATH_SEPARATOR), strict=True):
            entry = carried.setdefault((u, v, mode), [0.0, math.inf])
            entry[0] += demand_rate
            entry[1] = min(entry[1], cost)
    inbound: dict[str, tuple[str, str]] = {}
    for u, v, mode in sorted(carried, key=lambda lane: (-carried[lane][0], carried[lane][1])):
        inbound.setdefault(v, (u, mode))

    tree = nx.DiGraph(
        sku=sku,
        period_days=period_days,
        carrying_rate=carrying_rate,
        cost_per_day=cost_per_day,
        unserved_markets=unserved,
    )
    for v, (u, mode) in inbound.items():
        tree.add_edge(u, v, **graph.edges[u, v, mode])
    if not nx.is_directed_acyclic_graph(tree):
        raise NetworkError(
            pd.DataFrame(
                [
                    {
                        "severity": "error",
                        "check": "supply_cycle",
                        "message": f"the supply paths of sku {sku} form a cycle",
                    }
                ]
            )
        )

    made = sourcing.set_index("site_id")
    holding_factor = carrying_rate * period_days / 365.0
    for node in nx.topological_sort(tree):
        attributes = {k: graph.nodes[node].get(k) for k in _SITE_ATTRIBUTES}
        if node in inbound:
            parent, mode = inbound[node]
            lane = tree.edges[parent, node]
            root_cost = tree.nodes[parent]["unit_cost"]
            days = lane["transit_days"] + lane["customs_days"]
            lane_cost = landed_cost(
                lane["cost_per_unit"], lane["tariff_rate"], root_cost, days, carrying_rate
            )
            lane["landed_cost"] = lane_cost
            attributes |= {
                "unit_cost": root_cost,
                "delivered_cost": tree.nodes[parent]["delivered_cost"] + lane_cost,
                "lead_time_days": tree.nodes[parent]["lead_time_days"] + days,
                "processing_time": _periods(days, period_days, whole_periods),
                "inbound_mode": mode,
            }
        else:  # a source: the plant that makes the sku
            processing = float(made.at[node, "processing_days"])
            unit_cost = float(made.at[node, "unit_cost"])
            attributes |= {
                "unit_cost": unit_cost,
                "delivered_cost": unit_cost,
                "lead_time_days": processing,
                "processing_time": _periods(processing, period_days, whole_periods),
                "inbound_mode": None,
            }
        attributes["holding_cost"] = holding_factor * attributes["delivered_cost"]
        if attributes["site_type"] == "market":
            in_rates = node in rates.index
            per_day = float(rates.at[node, "demand_per_day"]) if in_rates else 0.0
            std_per_day = (
                float(rates.at[node, "demand_std_per_day"])
                if in_rates and "demand_std_per_day" in rates
                else 0.0
            )
            attributes |= {
                "demand_mean": per_day * period_days,
                "demand_std": std_per_day * math.sqrt(period_days),
                "max_outbound_cst": max_outbound_cst,
            }
        tree.nodes[node].update(attributes)
    return tree
