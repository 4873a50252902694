"""Landed cost, lead time and supply paths from the plants to every market and sku.

Definitions (per unit of a sku, goods valued at the source plant's ``unit_cost``
from the sourcing table all along the path):

``freight``
    the sum of the lanes' ``cost_per_unit``.
``tariff``
    ``unit_cost`` x the sum of the lanes' ``tariff_rate``.
``carrying``
    ``carrying_rate`` (per year) x ``unit_cost`` x (transit + customs days) / 365:
    the cost of capital and holding while the goods travel and wait in customs.
``landed_cost``
    ``freight + tariff + carrying``: what it costs to land one unit at the market,
    on top of its ``unit_cost``.
``delivered_cost``
    ``unit_cost + landed_cost``: the value of one unit on arrival.
``lead_time_days``
    the plant's ``processing_days`` for the sku + transit + customs days.

Speed: a path's cost depends on the sku only through the source plant's unit cost
(tariff and carrying are proportional to it), so the shortest paths are computed
for all (plant, sku) pairs at once, as a Bellman-Ford / DAG dynamic programme
vectorized over the pairs with numpy (one relaxation per lane, not one Dijkstra per
pair), and each distinct route is turned into text once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.network import NetworkError

__all__ = [
    "PATH_COLUMNS",
    "landed_cost",
    "lane_costs",
    "supply_paths",
    "cheapest_paths",
    "fastest_paths",
    "best_sources",
    "lane_flows",
]

Objective = Literal["cost", "time", "trade_off"]

#: Columns of the path tables, in order (``market`` is ``site_id`` in
#: :func:`supply_paths`; ``trade_off_cost`` and ``n_sources`` appear where stated).
PATH_COLUMNS = (
    "sku",
    "market",
    "plant",
    "path",
    "modes",
    "lanes",
    "processing_days",
    "transit_days",
    "customs_days",
    "lead_time_days",
    "unit_cost",
    "freight",
    "tariff",
    "carrying",
    "landed_cost",
    "delivered_cost",
)

#: Separator between sites (and modes) in the ``path`` and ``modes`` columns.
PATH_SEPARATOR = " > "

# Columns per relaxation block: bounds memory (a few node x column arrays) at any scale.
_CHUNK_COLUMNS = 4096
_DAYS_PER_YEAR = 365.0


def landed_cost(
    cost_per_unit: float | np.ndarray | pd.Series,
    tariff_rate: float | np.ndarray | pd.Series,
    unit_cost: float | np.ndarray | pd.Series,
    days_in_transit: float | np.ndarray | pd.Series,
    carrying_rate: float = 0.25,
) -> float | np.ndarray | pd.Series:
    """Cost of landing one unit: freight + tariff + carrying while in transit and customs.

    Parameters
    ----------
    cost_per_unit : float or array
        Freight per unit (summed over the lanes of a path).
    tariff_rate : float or array
        Tariff as a fraction of unit cost (summed over the lanes of a path).
    unit_cost : float or array
        Value of the goods per unit.
    days_in_transit : float or array
        Transit plus customs days.
    carrying_rate : float
        Carrying cost per year as a fraction of unit cost (e.g. 0.25).

    Returns
    -------
    float or array
        ``cost_per_unit + tariff_rate * unit_cost + carrying_rate * unit_cost *
        days_in_transit / 365``.

    Examples
    --------
    >>> landed_cost(1.0, 0.02, 100.0, 36.5, carrying_rate=0.25)  # 1 + 2 + 0.25*100*0.1
    5.5
    """
    return (
        cost_per_unit
        + tariff_rate * unit_cost
        + carrying_rate * unit_cost * days_in_transit / _DAYS_PER_YEAR
    )


@dataclass(frozen=True)
class _Lanes:
    """The graph's lanes as arrays, in a good relaxation order."""

    nodes: np.ndarray
    index: dict[str, int]
    origin: np.ndarray
    destination: np.ndarray
    mode: np.ndarray
    freight: np.ndarray
    tariff_rate: np.ndarray
    transit: np.ndarray
    customs: np.ndarray
    order: np.ndarray
    acyclic: bool

    @property
    def days(self) -> np.ndarray:
        return self.transit + self.customs


def _lane_arrays(
    graph: nx.MultiDiGraph | nx.DiGraph,
    *,
    mode: str,
    transit: str,
    customs: str,
    freight: str,
    tariff: str,
) -> _Lanes:
    nodes = np.array(list(graph.nodes), dtype=object)
    index = {node: i for i, node in enumerate(nodes)}
    if graph.is_multigraph():
        edges = [(u, v, d.get(mode, k), d) for u, v, k, d in graph.edges(keys=True, data=True)]
    else:
        edges = [(u, v, d.get(mode, ""), d) for u, v, d in graph.edges(data=True)]

    def column(name: str, default: float = 0.0) -> np.ndarray:
        return np.array([float(e[3].get(name, default)) for e in edges], dtype=float)

    origin = np.array([index[e[0]] for e in edges], dtype=np.int64)
    destination = np.array([index[e[1]] for e in edges], dtype=np.int64)
    # Relax lanes in topological order of their origin: one sweep is then exact on an
    # acyclic network; a cyclic one (allowed when validation is off) needs repeats.
    pairs = nx.DiGraph()
    pairs.add_nodes_from(range(len(nodes)))
    pairs.add_edges_from(zip(origin.tolist(), destination.tolist(), strict=True))
    acyclic = nx.is_directed_acyclic_graph(pairs)
    # Order by the strongly connected groups in topological order (each node its own
    # group when acyclic): repeats are then needed only inside loops (DC <-> DC lanes).
    condensed = nx.condensation(pairs)
    group_rank = {g: r for r, g in enumerate(nx.topological_sort(condensed))}
    rank = np.array(
        [group_rank[condensed.graph["mapping"][i]] for i in range(len(nodes))], dtype=np.int64
    )
    order = np.argsort(rank[origin], kind="stable") if len(edges) else np.empty(0, np.int64)
    return _Lanes(
        nodes=nodes,
        index=index,
        origin=origin,
        destination=destination,
        mode=np.array([str(e[2]) for e in edges], dtype=object),
        freight=column(freight),
        tariff_rate=column(tariff),
        transit=column(transit),
        customs=column(customs),
        order=order,
        acyclic=acyclic,
    )


def _relax(
    lanes: _Lanes,
    start: np.ndarray,
    unit_cost: np.ndarray,
    day_value: np.ndarray,
    carrying_rate: float,
    freight_weight: float = 1.0,
    allowed: np.ndarray | None = None,
    allowed_column: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest paths from ``start[j]`` for every column j at once.

    Lane weight for column j: ``freight_weight * freight + unit_cost[j] * (tariff_rate
    + carrying_rate * days / 365) + day_value[j] * days``. ``allowed[e, allowed_column[j]]``
    (optional) switches lanes off per column. Returns ``dist`` and ``pred`` (lane index
    of the last lane on the best path, -1 at the start or when unreached), both of
    shape (nodes, columns).
    """
    n_nodes, n_cols = len(lanes.nodes), len(start)
    dist = np.full((n_nodes, n_cols), np.inf)
    dist[start, np.arange(n_cols)] = 0.0
    pred = np.full((n_nodes, n_cols), -1, dtype=np.int32)
    days = lanes.days
    value_rate = lanes.tariff_rate + carrying_rate * days / _DAYS_PER_YEAR
    constant = freight_weight * lanes.freight
    sweeps = 1 if lanes.acyclic else n_nodes + 1
    for _sweep in range(sweeps):
        changed = False
        for e in lanes.order:
            reach = dist[lanes.origin[e]]
            candidate = reach + constant[e] + unit_cost * value_rate[e] + day_value * days[e]
            if allowed is not None:
                candidate[~allowed[e, allowed_column]] = np.inf
            target = dist[lanes.destination[e]]  # a view: updated in place
            better = candidate < target
            if better.any():
                target[better] = candidate[better]
                pred[lanes.destination[e], better] = e
                changed = True
        if not changed:
            return dist, pred
    if lanes.acyclic:
        return dist, pred
    raise NetworkError(
        pd.DataFrame(
            [
                {
                    "severity": "error",
                    "check": "negative_cycle",
                    "message": "path costs keep falling around a cycle: some lane has "
                    "negative transit or cost",
                }
            ]
        )
    )


def _trace(
    lanes: _Lanes, pred: np.ndarray, start: np.ndarray, node: np.ndarray, col: np.ndarray
) -> np.ndarray:
    """Lane indices of each row's path, from the target back to the start (-1 padded)."""
    steps = []
    current = node.copy()
    alive = current != start[col]
    while alive.any():
        if len(steps) > len(lanes.nodes):
            raise RuntimeError("path reconstruction did not end: predecessor cycle")
        lane = np.full(len(node), -1, dtype=np.int64)
        lane[alive] = pred[current[alive], col[alive]]
        steps.append(lane)
        current = np.where(alive, lanes.origin[lane], current)
        alive &= current != start[col]
    if not steps:
        return np.empty((len(node), 0), dtype=np.int64)
    return np.column_stack(steps)


def _sum_over(values: np.ndarray, backwards: np.ndarray) -> np.ndarray:
    """Sum a lane attribute along each row's lanes; the -1 pads pick an appended zero."""
    return np.append(values, 0.0)[backwards].sum(axis=1)


@dataclass
class _Routes:
    """Distinct routes found so far (tuples of lane indices from plant to target)."""

    ids: dict[tuple[int, ...], int]

    def add(self, backwards: np.ndarray) -> np.ndarray:
        if backwards.shape[1] == 0:
            return np.zeros(len(backwards), dtype=np.int64) + self._id(())
        base = int(backwards.max()) + 2
        if base ** backwards.shape[1] < 2**62:
            # One integer per route (lane indices as digits) makes the unique 1-D: fast.
            digits = base ** np.arange(backwards.shape[1], dtype=np.int64)
            _keys, first, inverse = np.unique(
                (backwards + 1) @ digits, return_index=True, return_inverse=True
            )
            unique = backwards[first]
        else:
            unique, inverse = np.unique(backwards, axis=0, return_inverse=True)
        ids = np.array([self._id(tuple(int(e) for e in row[::-1] if e >= 0)) for row in unique])
        return ids[inverse.ravel()]

    def _id(self, route: tuple[int, ...]) -> int:
        return self.ids.setdefault(route, len(self.ids))

    def text(self, lanes: _Lanes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        routes = sorted(self.ids, key=self.ids.get)
        paths = np.array(
            [
                PATH_SEPARATOR.join(
                    [str(lanes.nodes[lanes.origin[r[0]]])]
                    + [str(lanes.nodes[lanes.destination[e]]) for e in r]
                )
                if r
                else ""
                for r in routes
            ],
            dtype=object,
        )
        modes = np.array([PATH_SEPARATOR.join(lanes.mode[list(r)]) for r in routes], dtype=object)
        return paths, modes, np.array([len(r) for r in routes], dtype=np.int64)


def _columns(
    sourcing: pd.DataFrame, lanes: _Lanes, cost_per_day: float | pd.Series
) -> pd.DataFrame:
    """One column of the programme per (plant, sku) sourcing row whose plant is a node."""
    columns = sourcing.loc[
        sourcing["site_id"].isin(lanes.index), ["site_id", "sku", "processing_days", "unit_cost"]
    ].reset_index(drop=True)
    columns["start"] = columns["site_id"].map(lanes.index).astype(np.int64)
    if isinstance(cost_per_day, pd.Series):
        day_value = columns["sku"].map(cost_per_day)
        if day_value.isna().any():
            missing = sorted(columns.loc[day_value.isna(), "sku"].unique())[:10]
            raise ValueError(f"cost_per_day has no value for sku(s) {missing}")
        columns["day_value"] = day_value.astype(float)
    else:
        columns["day_value"] = float(cost_per_day)
    return columns


def _targets(graph: nx.MultiDiGraph, lanes: _Lanes, sites: str | Iterable[str]) -> np.ndarray:
    """Node indices of the target sites: a site type, several types, or site ids."""
    wanted = [sites] if isinstance(sites, str) else list(sites)
    types = {"plant", "dc", "market"}
    if all(w in types for w in wanted):
        chosen = [n for n, t in graph.nodes(data="site_type") if t in wanted]
    else:
        chosen = [n for n in wanted if n in lanes.index]
    return np.array(sorted(lanes.index[n] for n in chosen), dtype=np.int64)


def _solve(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    *,
    objective: Objective,
    sites: str | Iterable[str],
    carrying_rate: float,
    cost_per_day: float | pd.Series,
    attrs: dict[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame, _Lanes]:
    """Best path per (plant, sku) to every target site under ``objective``.

    Returns the (plant, sku) columns, one row per reached (column, target) with the
    route id and its day and cost sums, and the lane arrays.
    """
    lanes = _lane_arrays(graph, **attrs)
    columns = _columns(sourcing, lanes, cost_per_day)
    targets = _targets(graph, lanes, sites)
    routes = _Routes({})
    allowed = plant_slot = None
    if objective == "time":
        # Fastest, ties broken by cost: first the least days from each plant (the
        # same for every sku), then the cheapest path among lanes on a least-days path.
        plants, plant_slot = np.unique(columns["start"].to_numpy(), return_inverse=True)
        zeros = np.zeros(len(plants))
        days_from, _ = _relax(lanes, plants, zeros, zeros + 1.0, 0.0, freight_weight=0.0)
        through = days_from[lanes.origin] + lanes.days[:, None]
        allowed = np.isfinite(through) & (through <= days_from[lanes.destination] + 1e-9)

    day_weight = columns["day_value"].to_numpy() if objective == "trade_off" else None
    pieces = []
    for first in range(0, len(columns), _CHUNK_COLUMNS):
        block = slice(first, first + _CHUNK_COLUMNS)
        start = columns["start"].to_numpy()[block]
        unit_cost = columns["unit_cost"].to_numpy(dtype=float)[block]
        day_value = day_weight[block] if day_weight is not None else np.zeros(len(start))
        dist, pred = _relax(
            lanes,
            start,
            unit_cost,
            day_value,
            carrying_rate,
            allowed=allowed,
            allowed_column=plant_slot[block] if plant_slot is not None else None,
        )
        reached = np.isfinite(dist[targets]) & (targets[:, None] != start[None, :])
        target_row, col = np.nonzero(reached)
        node = targets[target_row]
        backwards = _trace(lanes, pred, start, node, col)
        pieces.append(
            pd.DataFrame(
                {
                    "column": col + first,
                    "node": node,
                    "route": routes.add(backwards),
                    "freight": _sum_over(lanes.freight, backwards),
                    "tariff_rate": _sum_over(lanes.tariff_rate, backwards),
                    "transit_days": _sum_over(lanes.transit, backwards),
                    "customs_days": _sum_over(lanes.customs, backwards),
                }
            )
        )
    rows = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame(
            columns=[
                "column",
                "node",
                "route",
                "freight",
                "tariff_rate",
                "transit_days",
                "customs_days",
            ]
        )
    )
    paths, modes, n_lanes = routes.text(lanes)
    route = rows["route"].to_numpy(dtype=np.int64)
    col = rows["column"].to_numpy(dtype=np.int64)
    unit_cost = columns["unit_cost"].to_numpy(dtype=float)[col]
    processing = columns["processing_days"].to_numpy(dtype=float)[col]
    in_transit = rows["transit_days"].to_numpy(dtype=float) + rows["customs_days"].to_numpy(
        dtype=float
    )
    tariff = unit_cost * rows["tariff_rate"].to_numpy(dtype=float)
    carrying = carrying_rate * unit_cost * in_transit / _DAYS_PER_YEAR
    freight = rows["freight"].to_numpy(dtype=float)
    landed = freight + tariff + carrying
    table = pd.DataFrame(
        {
            "sku": columns["sku"].to_numpy()[col],
            "site_id": lanes.nodes[rows["node"].to_numpy(dtype=np.int64)],
            "plant": columns["site_id"].to_numpy()[col],
            "path": paths[route] if len(paths) else np.array([], dtype=object),
            "modes": modes[route] if len(modes) else np.array([], dtype=object),
            "lanes": n_lanes[route] if len(n_lanes) else np.array([], dtype=np.int64),
            "processing_days": processing,
            "transit_days": rows["transit_days"].to_numpy(dtype=float),
            "customs_days": rows["customs_days"].to_numpy(dtype=float),
            "lead_time_days": processing + in_transit,
            "unit_cost": unit_cost,
            "freight": freight,
            "tariff": tariff,
            "carrying": carrying,
            "landed_cost": landed,
            "delivered_cost": unit_cost + landed,
        }
    )
    table["_day_value"] = columns["day_value"].to_numpy(dtype=float)[col]
    table["_route"] = route
    return columns, table, lanes


def _pick(table: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """Keep one row per (sku, site): the best plant under ``objective``."""
    delivered = table["delivered_cost"].to_numpy()
    lead = table["lead_time_days"].to_numpy()
    if objective == "cost":
        keys = (lead, delivered)
    elif objective == "time":
        keys = (delivered, lead)
    else:
        keys = (lead, delivered + table["_day_value"].to_numpy() * lead)
    sku_code = pd.factorize(table["sku"])[0]
    site_code = pd.factorize(table["site_id"])[0]
    plant_code = pd.factorize(table["plant"], sort=True)[0]
    order = np.lexsort((plant_code, *keys, site_code, sku_code))
    group = sku_code[order] * (site_code.max() + 1 if len(site_code) else 1) + site_code[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    counts = np.diff(np.append(np.flatnonzero(first), len(order)))
    chosen = table.iloc[order[first]].copy()
    chosen["n_sources"] = counts
    return chosen


def supply_paths(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    *,
    objective: Objective = "cost",
    sites: str | Iterable[str] = "market",
    by_plant: bool = True,
    carrying_rate: float = 0.25,
    cost_per_day: float | pd.Series = 0.0,
    mode: str = "mode",
    transit: str = "transit_days",
    customs: str = "customs_days",
    freight: str = "cost_per_unit",
    tariff: str = "tariff_rate",
) -> pd.DataFrame:
    """Best supply path to each site for every sku, from every plant that sources it.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The network from :func:`toolkit.network.build_network` (a DiGraph works too).
    sourcing : pandas.DataFrame
        The sourcing table (``site_id`` a plant, ``sku``, ``processing_days``,
        ``unit_cost``). Only these plants start paths for these skus; filter it to
        restrict the skus.
    objective : {"cost", "time", "trade_off"}
        ``"cost"``: least ``landed_cost`` (across plants: least ``delivered_cost``,
        then shortest lead time). ``"time"``: shortest ``lead_time_days``, ties broken
        by cost. ``"trade_off"``: least ``delivered_cost + cost_per_day *
        lead_time_days`` (reported as ``trade_off_cost``).
    sites : str or iterable of str
        Target sites: a site type (``"market"``), several types, or site ids.
    by_plant : bool
        One row per (sku, site, plant) when true; otherwise only the best plant per
        (sku, site), with ``n_sources``, the number of plants that reach it.
    carrying_rate : float
        Carrying cost per year as a fraction of unit cost.
    cost_per_day : float or pandas.Series
        Value of one day of lead time, currency per unit per day (``"trade_off"``
        only); a Series gives one value per sku (index ``sku``), e.g.
        ``items.set_index("sku").unit_cost * 0.001`` to make it proportional to value.
    mode, transit, customs, freight, tariff : str
        Edge attribute names.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PATH_COLUMNS` with ``site_id`` in place of ``market``, sorted
        by sku, site and plant. ``path`` lists the sites and ``modes`` the lane modes,
        joined by ``" > "``. Pairs no plant reaches are absent.
    """
    if objective not in ("cost", "time", "trade_off"):
        raise ValueError(f"objective must be 'cost', 'time' or 'trade_off', not {objective!r}")
    attrs = {
        "mode": mode,
        "transit": transit,
        "customs": customs,
        "freight": freight,
        "tariff": tariff,
    }
    _columns, table, _lanes = _solve(
        graph,
        sourcing,
        objective=objective,
        sites=sites,
        carrying_rate=carrying_rate,
        cost_per_day=cost_per_day,
        attrs=attrs,
    )
    if objective == "trade_off":
        table["trade_off_cost"] = table["delivered_cost"] + table["_day_value"] * table[
            "lead_time_days"
        ].astype(float)
    if not by_plant:
        table = _pick(table, objective)
    table = table.drop(columns=["_day_value", "_route"])
    return table.sort_values(["sku", "site_id", "plant"], kind="stable").reset_index(drop=True)


def _market_table(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={"site_id": "market"})


def cheapest_paths(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    *,
    carrying_rate: float = 0.25,
    by_plant: bool = True,
    **attribute_names: str,
) -> pd.DataFrame:
    """Cheapest supply path (least ``landed_cost``) to every market for every sku.

    One row per (sku, market, plant) for every plant that sources the sku and reaches
    the market; with ``by_plant=False`` only the plant with the least
    ``delivered_cost`` (``unit_cost + landed_cost``). Columns :data:`PATH_COLUMNS`.
    See :func:`supply_paths` for the parameters.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("P1", site_type="plant"); G.add_node("M1", site_type="market")
    >>> _ = G.add_edge("P1", "M1", key="sea", mode="sea", transit_days=36.5,
    ...                customs_days=0.0, cost_per_unit=1.0, tariff_rate=0.0)
    >>> _ = G.add_edge("P1", "M1", key="air", mode="air", transit_days=3.65,
    ...                customs_days=0.0, cost_per_unit=4.0, tariff_rate=0.0)
    >>> sourcing = pd.DataFrame({"site_id": ["P1", "P1"], "sku": ["cheap", "dear"],
    ...                          "processing_days": [1.0, 1.0], "unit_cost": [10.0, 1000.0]})
    >>> cheapest_paths(G, sourcing)[["sku", "modes", "landed_cost"]].round(2).values.tolist()
    [['cheap', 'sea', 1.25], ['dear', 'air', 6.5]]
    """
    return _market_table(
        supply_paths(
            graph,
            sourcing,
            objective="cost",
            by_plant=by_plant,
            carrying_rate=carrying_rate,
            **attribute_names,
        )
    )


def fastest_paths(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    *,
    carrying_rate: float = 0.25,
    by_plant: bool = True,
    **attribute_names: str,
) -> pd.DataFrame:
    """Fastest supply path (least ``lead_time_days``) to every market for every sku.

    Among equally fast paths the cheapest is taken. One row per (sku, market, plant);
    with ``by_plant=False`` only the fastest plant (its processing days count).
    Columns :data:`PATH_COLUMNS`. See :func:`supply_paths` for the parameters.
    """
    return _market_table(
        supply_paths(
            graph,
            sourcing,
            objective="time",
            by_plant=by_plant,
            carrying_rate=carrying_rate,
            **attribute_names,
        )
    )


def best_sources(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    *,
    cost_per_day: float | pd.Series = 0.0,
    carrying_rate: float = 0.25,
    by_plant: bool = False,
    **attribute_names: str,
) -> pd.DataFrame:
    """Best source plant and path per market and sku under a cost-per-day trade-off.

    The best source minimizes ``trade_off_cost = delivered_cost + cost_per_day *
    lead_time_days``: each day of lead time is charged ``cost_per_day`` per unit
    (currency; a Series gives one value per sku). ``cost_per_day=0`` picks the
    cheapest delivered source; a large value the fastest. The same rule chooses the
    path (and so the mode of each lane) from each plant.

    Returns
    -------
    pandas.DataFrame
        One row per (sku, market) that some plant reaches: columns
        :data:`PATH_COLUMNS`, ``trade_off_cost`` and ``n_sources`` (plants that reach
        the market for the sku). ``by_plant=True`` keeps every plant instead.

    See Also
    --------
    supply_paths : the parameters in full.
    """
    return _market_table(
        supply_paths(
            graph,
            sourcing,
            objective="trade_off",
            by_plant=by_plant,
            carrying_rate=carrying_rate,
            cost_per_day=cost_per_day,
            **attribute_names,
        )
    )


def lane_costs(
    graph: nx.MultiDiGraph,
    sourcing: pd.DataFrame,
    items: pd.DataFrame,
    *,
    carrying_rate: float = 0.25,
) -> pd.DataFrame:
    """Landed cost and effective lead time of every lane for every sku it can carry.

    A lane leaving a plant carries the skus that plant sources, valued at the plant's
    ``unit_cost``, and its lead time includes the plant's ``processing_days``; any
    other lane carries every sku of ``items`` at the item master's ``unit_cost``,
    with no processing time. Pass a filtered ``items`` or ``sourcing`` to limit the
    rows (lanes x skus can be large).

    Returns
    -------
    pandas.DataFrame
        ``origin, destination, mode, sku, unit_cost, processing_days, transit_days,
        customs_days, lead_time_days, freight, tariff, carrying, landed_cost``.
    """
    edges = [
        {"origin": u, "destination": v, "mode": d.get("mode", k), **d}
        for u, v, k, d in graph.edges(keys=True, data=True)
    ]
    lanes = pd.DataFrame(
        edges,
        columns=[
            "origin",
            "destination",
            "mode",
            "transit_days",
            "customs_days",
            "cost_per_unit",
            "tariff_rate",
        ],
    )
    plants = {n for n, t in graph.nodes(data="site_type") if t == "plant"}
    from_plant = lanes["origin"].isin(plants)
    made = sourcing[["site_id", "sku", "processing_days", "unit_cost"]].rename(
        columns={"site_id": "origin"}
    )
    plant_rows = lanes[from_plant].merge(made, on="origin")
    other_rows = lanes[~from_plant].merge(items[["sku", "unit_cost"]], how="cross")
    other_rows["processing_days"] = 0.0
    rows = pd.concat([plant_rows, other_rows], ignore_index=True)
    in_transit = rows["transit_days"] + rows["customs_days"]
    rows["lead_time_days"] = rows["processing_days"] + in_transit
    rows["freight"] = rows["cost_per_unit"].astype(float)
    rows["tariff"] = rows["tariff_rate"] * rows["unit_cost"]
    rows["carrying"] = carrying_rate * rows["unit_cost"] * in_transit / _DAYS_PER_YEAR
    rows["landed_cost"] = landed_cost(
        rows["cost_per_unit"], rows["tariff_rate"], rows["unit_cost"], in_transit, carrying_rate
    )
    columns = [
        "origin",
        "destination",
        "mode",
        "sku",
        "unit_cost",
        "processing_days",
        "transit_days",
        "customs_days",
        "lead_time_days",
        "freight",
        "tariff",
        "carrying",
        "landed_cost",
    ]
    return (
        rows[columns]
        .sort_values(["origin", "destination", "mode", "sku"], kind="stable")
        .reset_index(drop=True)
    )


def lane_flows(
    paths: pd.DataFrame, demand: pd.DataFrame, *, markets: Iterable[str] | None = None
) -> pd.DataFrame:
    """Daily flow over each lane when every market is supplied along its path.

    Parameters
    ----------
    paths : pandas.DataFrame
        One path per sku and market with ``sku, market, path, modes, unit_cost``,
        e.g. :func:`best_sources`.
    demand : pandas.DataFrame
        Demand rates ``site_id, sku, demand_per_day`` (see
        :func:`toolkit.network_balance.demand_rates`).
    markets : iterable of str, optional
        Count only the demand of these markets (e.g. one region's): the lanes that
        carry their goods.

    Returns
    -------
    pandas.DataFrame
        ``origin, destination, mode, units_per_day, value_per_day`` (goods at the
        source plant's unit cost), ``skus`` (how many skus use the lane), largest value
        first. Lanes on no path are absent.

    Examples
    --------
    >>> paths = pd.DataFrame({"sku": ["S1"], "market": ["M1"], "path": ["P1 > D1 > M1"],
    ...                       "modes": ["sea > road"], "unit_cost": [10.0]})
    >>> demand = pd.DataFrame({"site_id": ["M1"], "sku": ["S1"], "demand_per_day": [3.0]})
    >>> lane_flows(paths, demand)[["origin", "mode", "units_per_day", "value_per_day"]].values.tolist()
    [['D1', 'road', 3.0, 30.0], ['P1', 'sea', 3.0, 30.0]]
    """
    rates = demand[["site_id", "sku", "demand_per_day"]].rename(columns={"site_id": "market"})
    if markets is not None:
        rates = rates[rates["market"].isin(list(markets))]
    served = paths[["sku", "market", "path", "modes", "unit_cost"]].merge(
        rates, on=["market", "sku"]
    )
    served["value_per_day"] = served["demand_per_day"] * served["unit_cost"]
    # Split each distinct route into its lanes once, then join the lanes to the rows.
    routes = served[["path", "modes"]].drop_duplicates()
    route_lanes = [
        (path, modes, origin, destination, mode)
        for path, modes in zip(routes["path"], routes["modes"], strict=True)
        for origin, destination, mode in zip(
            path.split(PATH_SEPARATOR)[:-1],
            path.split(PATH_SEPARATOR)[1:],
            modes.split(PATH_SEPARATOR),
            strict=True,
        )
    ]
    keys = ["origin", "destination", "mode"]
    lanes = pd.DataFrame(route_lanes, columns=["path", "modes", *keys])
    flows = (
        served.rename(columns={"demand_per_day": "units_per_day"})
        .merge(lanes, on=["path", "modes"])
        .groupby(keys, as_index=False)
        .agg(
            units_per_day=("units_per_day", "sum"),
            value_per_day=("value_per_day", "sum"),
            skus=("sku", "nunique"),
        )
    )
    return flows.sort_values(
        ["value_per_day", *keys], ascending=[False, True, True, True]
    ).reset_index(drop=True)
