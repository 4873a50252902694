"""Validated input of the guaranteed-service model: a networkx graph made into numbers.

:func:`gsm_network` checks a supply graph (edges run from supplier to customer) and
turns it into a :class:`GsmNetwork`: arrays indexed by node position in topological
order, with the pooled demand each node covers and its safety factor. Every problem
is reported as a :class:`NetworkValidationError` that names the node (and the
attribute) at fault; :func:`check_feasibility` then finds service-time bounds that
no choice of service times can meet and raises :class:`InfeasibleError` naming them.

The guaranteed-service model itself (Graves and Willems 2000) is described in
:mod:`toolkit.optimize`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.stats import norm

__all__ = [
    "NetworkValidationError",
    "InfeasibleError",
    "GsmNetwork",
    "gsm_network",
    "check_feasibility",
    "TIME_DECIMALS",
    "TIME_TOLERANCE",
]

# Service times are sums and differences of processing times and bounds. They are
# rounded to this many decimals so that equal sums reached along different paths
# compare equal despite floating-point noise, and compared with this tolerance.
TIME_DECIMALS = 9
TIME_TOLERANCE = 1e-7


class NetworkValidationError(ValueError):
    """The supply graph cannot be optimized as given (the message names the node)."""


class InfeasibleError(ValueError):
    """No service times meet the bounds and rules (the message names the binding ones)."""


@dataclass(frozen=True)
class GsmNetwork:
    """The numbers of one guaranteed-service problem, nodes in topological order.

    Attributes
    ----------
    nodes : tuple
        Node names; position ``j`` in every array below is ``nodes[j]``.
    predecessors, successors : tuple of tuple of int
        Positions of each node's suppliers and customers.
    processing_time : numpy.ndarray
        ``T_j`` in periods.
    unit_holding_cost : numpy.ndarray
        ``h_j`` per unit per period.
    safety_factor : numpy.ndarray
        ``z_j``.
    demand_mean, demand_std : numpy.ndarray
        Per-period demand the node covers (given, or pooled from the demand nodes
        it serves).
    max_outbound : numpy.ndarray
        Upper bound on the outbound service time ``S_j`` (``inf`` where none).
    external_inbound : numpy.ndarray
        Lower bound on the inbound service time ``SI_j`` (0 unless given).
    must_hold, may_not_hold : numpy.ndarray of bool
        The per-node rules (see :func:`toolkit.optimize.place_safety_stock`).
    """

    nodes: tuple[Hashable, ...]
    predecessors: tuple[tuple[int, ...], ...]
    successors: tuple[tuple[int, ...], ...]
    processing_time: np.ndarray
    unit_holding_cost: np.ndarray
    safety_factor: np.ndarray
    demand_mean: np.ndarray
    demand_std: np.ndarray
    max_outbound: np.ndarray
    external_inbound: np.ndarray
    must_hold: np.ndarray
    may_not_hold: np.ndarray

    @property
    def size(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def cost_coefficient(self) -> np.ndarray:
        """``h_j z_j sigma_j``: the cost of node ``j`` is this times ``sqrt(NRT_j)``."""
        return self.unit_holding_cost * self.safety_factor * self.demand_std

    def edges(self) -> list[tuple[int, int]]:
        """All edges as (supplier position, customer position)."""
        return [(i, j) for j, preds in enumerate(self.predecessors) for i in preds]


def _number(graph: nx.DiGraph, node: Hashable, attribute: str, *, required: bool) -> float:
    """The node's attribute as a finite, non-negative float (``nan`` when absent)."""
    value = graph.nodes[node].get(attribute)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if required:
            raise NetworkValidationError(f"node {node!r} has no {attribute!r} attribute")
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NetworkValidationError(
            f"node {node!r} has a non-numeric {attribute!r}: {value!r}"
        ) from None
    if not math.isfinite(number) or number < 0:
        raise NetworkValidationError(
            f"node {node!r} has {attribute!r} = {value!r}; it must be a finite number >= 0"
        )
    return number


def _safety_factor(
    graph: nx.DiGraph,
    node: Hashable,
    safety_factor: str,
    node_service_level: str,
    service_level: float | None,
) -> float:
    """``z`` from the node's safety factor, its service level, or the default level."""
    z = _number(graph, node, safety_factor, required=False)
    if not math.isnan(z):
        return z
    level = graph.nodes[node].get(node_service_level, service_level)
    if level is None:
        raise NetworkValidationError(
            f"node {node!r} has neither {safety_factor!r} nor {node_service_level!r} "
            "and no default service_level was given"
        )
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise NetworkValidationError(
            f"node {node!r} has a non-numeric service level: {level!r}"
        ) from None
    # Below 0.5 the safety factor is negative and the cost stops being concave in the
    # replenishment time, which the exact method relies on.
    if not 0.5 <= level < 1.0:
        raise NetworkValidationError(
            f"node {node!r} has service level {level!r}; it must be in [0.5, 1)"
        )
    return float(norm.ppf(level))


def _cycle_message(graph: nx.DiGraph) -> str:
    cycle = nx.find_cycle(graph)
    nodes = [edge[0] for edge in cycle] + [cycle[-1][1]]
    return "the supply graph has a cycle: " + " -> ".join(repr(n) for n in nodes)


def _rule_nodes(graph: nx.DiGraph, nodes: Iterable[Hashable], rule: str) -> set[Hashable]:
    chosen = set(nodes)
    unknown = [n for n in chosen if n not in graph]
    if unknown:
        raise NetworkValidationError(f"{rule} names nodes not in the graph: {unknown!r}")
    return chosen


def gsm_network(
    graph: nx.DiGraph,
    service_level: float | None = None,
    *,
    processing_time: str = "processing_time",
    holding_cost: str = "holding_cost",
    demand_mean: str = "demand_mean",
    demand_std: str = "demand_std",
    max_outbound_cst: str = "max_outbound_cst",
    external_inbound_cst: str = "external_inbound_cst",
    safety_factor: str = "safety_factor",
    node_service_level: str = "service_level",
    units: str = "units",
    must_hold: Iterable[Hashable] = (),
    may_not_hold: Iterable[Hashable] = (),
) -> GsmNetwork:
    """Validate ``graph`` and extract the numbers of the guaranteed-service model.

    Demand nodes are the nodes without customers: each needs ``demand_mean`` and
    ``demand_std``. Any other node covers the pooled demand of the demand nodes it
    serves, ``sigma_j = sqrt(sum_d (phi_jd sigma_d)^2)`` and
    ``mu_j = sum_d phi_jd mu_d``, where ``phi_jd`` sums over the paths from ``j`` to
    ``d`` the product of the edges' ``units`` (units of the supplier per unit of the
    customer, default 1); a value given on the node itself is used instead.

    Parameters
    ----------
    graph : networkx.DiGraph
        Edges run from supplier to customer.
    service_level : float, optional
        Default service level for nodes without ``safety_factor`` or their own level.
    processing_time, holding_cost, demand_mean, demand_std, max_outbound_cst,
    external_inbound_cst, safety_factor, node_service_level : str
        Node attribute names.
    units : str
        Edge attribute name for units of the supplier per unit of the customer.
    must_hold, may_not_hold : iterable of nodes
        The per-node rules.

    Returns
    -------
    GsmNetwork

    Raises
    ------
    NetworkValidationError
        A cycle, a missing or negative attribute, a demand node without demand, an
        invalid service level, or a node under both rules (the message names it).
    """
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise NetworkValidationError("the supply graph must be a networkx.DiGraph")
    if graph.number_of_nodes() == 0:
        raise NetworkValidationError("the supply graph has no nodes")
    if not nx.is_directed_acyclic_graph(graph):
        raise NetworkValidationError(_cycle_message(graph))
    stocking = _rule_nodes(graph, must_hold, "must_hold")
    pass_through = _rule_nodes(graph, may_not_hold, "may_not_hold")
    both = stocking & pass_through
    if both:
        raise NetworkValidationError(
            f"nodes {sorted(map(repr, both))} are in both must_hold and may_not_hold: "
            "a node cannot both serve from stock and hold no stock"
        )

    # A stable topological order (ties broken by insertion order) keeps results
    # reproducible for the same graph.
    order = list(nx.lexicographical_topological_sort(graph, key=list(graph).index))
    position = {node: k for k, node in enumerate(order)}
    n = len(order)
    predecessors = tuple(tuple(position[p] for p in graph.predecessors(v)) for v in order)
    successors = tuple(tuple(position[s] for s in graph.successors(v)) for v in order)

    time = np.array([_number(graph, v, processing_time, required=True) for v in order])
    holding = np.array([_number(graph, v, holding_cost, required=True) for v in order])
    max_out = np.full(n, np.inf)
    ext_in = np.zeros(n)
    for k, v in enumerate(order):
        bound = _number(graph, v, max_outbound_cst, required=False)
        if not math.isnan(bound):
            max_out[k] = bound
        elif not successors[k]:
            max_out[k] = 0.0  # a demand node serves its customers immediately by default
        inbound = _number(graph, v, external_inbound_cst, required=False)
        if not math.isnan(inbound):
            ext_in[k] = inbound
    z = np.array(
        [_safety_factor(graph, v, safety_factor, node_service_level, service_level) for v in order]
    )

    given_mean = np.array([_number(graph, v, demand_mean, required=False) for v in order])
    given_std = np.array([_number(graph, v, demand_std, required=False) for v in order])
    demand_nodes = [k for k in range(n) if not successors[k]]
    for k in demand_nodes:
        if math.isnan(given_std[k]) or math.isnan(given_mean[k]):
            missing = demand_std if math.isnan(given_std[k]) else demand_mean
            raise NetworkValidationError(
                f"demand node {order[k]!r} (it has no customers) has no {missing!r}"
            )
    # phi[k][d]: units of node k per unit of demand node d, summed over paths.
    phi: list[dict[int, float]] = [{} for _ in range(n)]
    for k in reversed(range(n)):
        if not successors[k]:
            phi[k][k] = 1.0
        for s in successors[k]:
            per_unit = graph.edges[order[k], order[s]].get(units, 1.0)
            try:
                per_unit = float(per_unit)
            except (TypeError, ValueError):
                per_unit = math.nan
            if not math.isfinite(per_unit) or per_unit <= 0:
                raise NetworkValidationError(
                    f"edge {order[k]!r} -> {order[s]!r} has {units!r} = {per_unit!r}; "
                    "it must be a finite number > 0"
                )
            for d, value in phi[s].items():
                phi[k][d] = phi[k].get(d, 0.0) + per_unit * value
    mean = np.empty(n)
    std = np.empty(n)
    for k in range(n):
        pooled_mean = sum(v * given_mean[d] for d, v in phi[k].items())
        pooled_std = math.sqrt(sum((v * given_std[d]) ** 2 for d, v in phi[k].items()))
        mean[k] = pooled_mean if math.isnan(given_mean[k]) else given_mean[k]
        std[k] = pooled_std if math.isnan(given_std[k]) else given_std[k]

    return GsmNetwork(
        nodes=tuple(order),
        predecessors=predecessors,
        successors=successors,
        processing_time=np.round(time, TIME_DECIMALS),
        unit_holding_cost=holding,
        safety_factor=z,
        demand_mean=mean,
        demand_std=std,
        max_outbound=np.where(np.isinf(max_out), max_out, np.round(max_out, TIME_DECIMALS)),
        external_inbound=np.round(ext_in, TIME_DECIMALS),
        must_hold=np.array([v in stocking for v in order], dtype=bool),
        may_not_hold=np.array([v in pass_through for v in order], dtype=bool),
    )


def _forcing_chain(network: GsmNetwork, node: int, parent: list[int | None]) -> str:
    """Describe how the earliest possible service time at ``node`` comes about."""
    chain = []
    k: int | None = node
    while k is not None:
        chain.append(k)
        k = parent[k]
    chain.reverse()
    names = " -> ".join(repr(network.nodes[k]) for k in chain)
    start = chain[0]
    inbound = network.external_inbound[start]
    parts = [f"external inbound time {inbound:g} at {network.nodes[start]!r}"] if inbound else []
    passing = [k for k in chain if network.may_not_hold[k]]
    if passing:
        parts.append(
            "may_not_hold at "
            + ", ".join(repr(network.nodes[k]) for k in passing)
            + " (they pass their whole replenishment time downstream)"
        )
    return f"{names}: " + "; ".join(parts) if parts else names


def check_feasibility(network: GsmNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Return the earliest feasible service times, or raise naming the conflict.

    All constraints bound differences of service times, so the earliest times
    (``SI_j`` as small as the suppliers allow, ``S_j = 0`` unless ``may_not_hold``
    forces ``S_j = SI_j + T_j``) are feasible exactly when any choice is.

    Parameters
    ----------
    network : GsmNetwork

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Earliest outbound and inbound service times.

    Raises
    ------
    InfeasibleError
        Names each node whose ``max_outbound_cst`` cannot be met and the chain of
        rules and external inbound times that forces it.
    """
    n = network.size
    earliest_out = np.zeros(n)
    earliest_in = np.zeros(n)
    parent: list[int | None] = [None] * n
    for j in range(n):
        inbound = network.external_inbound[j]
        for i in network.predecessors[j]:
            if earliest_out[i] > inbound + TIME_TOLERANCE:
                inbound, parent[j] = earliest_out[i], i
        earliest_in[j] = inbound
        if network.may_not_hold[j]:
            earliest_out[j] = round(inbound + network.processing_time[j], TIME_DECIMALS)
    conflicts = [j for j in range(n) if earliest_out[j] > network.max_outbound[j] + TIME_TOLERANCE]
    if conflicts:
        lines = [
            f"node {network.nodes[j]!r} cannot meet max_outbound_cst = "
            f"{network.max_outbound[j]:g}: its outbound service time is at least "
            f"{earliest_out[j]:g} because of {_forcing_chain(network, j, parent)}"
            for j in conflicts
        ]
        raise InfeasibleError("no feasible service times: " + "; ".join(lines))
    return earliest_out, earliest_in
