"""Safety-stock placement in supply networks: the guaranteed-service model, solved exactly.

The model (Graves and Willems 2000)
-----------------------------------
Every node ``j`` of a supply network (edges run from supplier to customer) promises
its customers an *outbound service time* ``S_j`` and is promised an *inbound service
time* ``SI_j`` by its suppliers: it can start on an order once every supplier has
delivered, so ``SI_j >= S_i`` for every supplier ``i`` (and ``SI_j`` is at least the
node's ``external_inbound_cst``, the time outside suppliers quote a source). After
its processing time ``T_j`` the node must ship within ``S_j``; stock covers the gap,
the *net replenishment time* ``NRT_j = SI_j + T_j - S_j >= 0``. With demand bounded by
``mu + z sigma sqrt(t)`` over ``t`` periods the node holds

    safety_stock_j = z_j sigma_j sqrt(NRT_j),    base_stock_j = mu_j NRT_j + safety_stock_j,

and the placement minimizes the holding cost ``sum_j h_j z_j sigma_j sqrt(NRT_j)``
subject to ``0 <= S_j <= max_outbound_cst_j`` (0 at demand nodes unless given).

Per-node rules
--------------
``must_hold``
    The node is a stocking point that serves its customers from stock: ``S_j = 0``.
    Its safety stock then covers its whole replenishment time ``SI_j + T_j``, which
    includes its own processing time.
``may_not_hold``
    The node holds no safety stock: ``NRT_j = 0``, it passes its full replenishment
    time downstream (``S_j = SI_j + T_j``).

How it is solved (exactly)
--------------------------
The cost is concave, so an optimum lies at a vertex of the constraint polytope,
where every service time is a bound plus or minus processing times along a path:
a finite candidate set (:mod:`toolkit.gsm_candidates`), the integers where processing
times are integers. Tree-shaped parts of the network are solved exactly by folding
them into the rest (:mod:`toolkit.gsm_reduction`); the remaining core is a SCIP MILP
with one binary per candidate (SI, S) pair of each node, the square root evaluated
exactly at each candidate (:mod:`toolkit.gsm_milp`). When the candidate pairs are
too many, a core of tree-width at most two (series-parallel networks, such as many
plants feeding the same two DCs) is solved by a min-sum dynamic program over the
candidate service times (:mod:`toolkit.gsm_elimination`); a core too large for
cost tables is first cut down to the candidates a better plan could still use, by
a relaxation over runs of candidates refined where the optimum can be
(:mod:`toolkit.gsm_refine`); any other core is first bounded by dual coordinate
ascent, and the MILP gets only the pairs a better plan
could still use (:mod:`toolkit.gsm_dual`); if those are too many, pairs are priced
from the MILP's LP relaxation and a reduced-cost argument proves that no omitted
pair can improve the solution (:mod:`toolkit.gsm_columns`). Real-valued
times whose exact candidate set is too large are bracketed instead: rounded down to
a grid for a proven lower bound, rounded up for a plan, which is then ``not_proven``
with its gap (see ``rounding_grids``).

Examples
--------
>>> import networkx as nx
>>> g = nx.DiGraph()
>>> g.add_node("plant", processing_time=4, holding_cost=1.0)
>>> g.add_node("dc", processing_time=1, holding_cost=2.0, demand_mean=10, demand_std=3)
>>> g.add_edge("plant", "dc")
>>> plan = place_safety_stock(g, service_level=0.95)
>>> plan.status, round(plan.total_cost, 2)
('optimal', 22.07)
>>> plan.to_frame()["outbound_service_time"].to_dict()
{'plant': 0.0, 'dc': 0.0}
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.gsm_candidates import (
    CandidateLimitError,
    ServiceTimeCandidates,
    candidate_service_times,
)
from toolkit.gsm_columns import all_columns, generate_columns
from toolkit.gsm_cut import cut_plan
from toolkit.gsm_dual import dual_ascent
from toolkit.gsm_elimination import elimination_plan, solve_by_elimination
from toolkit.gsm_milp import (
    Columns,
    build_placement_model,
    read_choice,
    scip_version,
    solve_placement_model,
)
from toolkit.gsm_network import (
    TIME_TOLERANCE,
    GsmNetwork,
    InfeasibleError,
    NetworkValidationError,
    gsm_network,
)
from toolkit.gsm_reduction import ReducedNetwork, expand_choice, reduce_network, stage_table
from toolkit.gsm_refine import refine_candidates, restrict_candidates

__all__ = [
    "NetworkValidationError",
    "InfeasibleError",
    "CandidateLimitError",
    "NodePlacement",
    "SafetyStockPlan",
    "place_safety_stock",
    "cost_service_frontier",
    "plot_cost_service_frontier",
]

log = logging.getLogger("toolkit.optimize")

# The MILP gets every non-dominated candidate pair up to this many binaries; beyond,
# the pairs are generated from its LP relaxation.
FULL_MODEL_PAIRS = 20_000

# Variable elimination is tried on larger cores when its table work stays below this
# many entries (about 10 s per 5e9 on the development machine).
ELIMINATION_OPERATIONS = 5e10
# ... and the tables it holds at once stay below this many bytes (Willems chain 20
# holds 1.5 GB).
ELIMINATION_MEMORY_BYTES = 4e9
# For respecting a time limit: measured 2.6e8 to 1.1e9 entries per second (whole
# solve, tables built included) on the Willems cores and on generated ones of 8 to
# 1,800 steps, under 0.1 ms overhead per step. 5e7 was once assumed: it sent
# Willems chain 20 (8.7e9 entries, 19 s) to column generation under 120 s.
_ELIMINATION_ENTRIES_PER_SECOND = 2e8

# Larger cores are first bounded by dual ascent (MPLP) when their cost tables fit in
# this many bytes, for at most this many sweeps; the MILP then gets the pairs a better
# plan could still use, if they are at most ``full_model_pairs``.
DUAL_ASCENT_MEMORY_BYTES = 4e9
DUAL_ASCENT_SWEEPS = 3_000
# Share of the time left that the dual ascent may take. Its bound keeps rising where
# column generation's stalls: Willems chain 24 closes after 650 sweeps (about 220 s),
# which a quarter of 600 s cut off.
DUAL_ASCENT_SHARE = 0.5
# The dual ascent starts from the minimum cut's plan (toolkit.gsm_cut) when the core
# has at most this many free candidate times: Willems chain 24's 211,000 take 3 s;
# scipy's maximum flow cannot be interrupted, and 1.6 million had not finished in 6 minutes.
CUT_TIMES = 500_000
# Cores whose cost tables would not fit the dual ascent's memory (more entries than
# this) are first cut down by candidate refinement (toolkit.gsm_refine), with at most
# this share of the time left, until the candidates left make at most this many
# cost-table entries.
REFINE_ABOVE_ENTRIES = DUAL_ASCENT_MEMORY_BYTES / 8
REFINEMENT_SHARE = 0.5
REFINED_ENTRIES = 20_000_000
# ... and when it fits in a tenth of the time left at this many free times a second.
_CUT_TIMES_PER_SECOND = 60_000

_METHODS = ("auto", "milp", "elimination", "dual ascent")

# The exact candidate set may hold this many service times (Willems chain 26: 8.9
# million, 8.5 s to enumerate). The reductions go through each node's candidate
# pairs: an exact solve is tried only when that fits half of the time left, at this
# many pairs (summed over the nodes, before reductions) per second. Chain 26 has
# 4.7e10 and takes 11 s, its column minima found without whole tables; a whole
# table goes at about 1.4e8 entries per second.
EXACT_CANDIDATES = 20_000_000
_REDUCTION_PAIRS_PER_SECOND = 1e9

# Grids (in periods) for bracketing the optimum when real-valued times make the exact
# candidate set too large, finest first; the finest with at most ROUNDED_CANDIDATES
# candidate service times is used (Willems chain 26, were it not solved exactly: 0.1
# periods, both halves in 22 s with the dual ascent, within 0.067%; 0.05 would take
# 71 s, 0.02 not finish in 300 s).
ROUNDING_GRIDS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
ROUNDED_CANDIDATES = 400_000

_FRAME_COLUMNS = [
    "outbound_service_time",
    "inbound_service_time",
    "processing_time",
    "net_replenishment_time",
    "safety_factor",
    "demand_mean",
    "demand_std",
    "safety_stock",
    "base_stock",
    "unit_holding_cost",
    "holding_cost",
]


@dataclass(frozen=True)
class NodePlacement:
    """The placement at one node.

    ``holding_cost`` is the cost per period of the node's safety stock
    (``unit_holding_cost x safety_stock``).
    """

    node: Hashable
    outbound_service_time: float
    inbound_service_time: float
    processing_time: float
    net_replenishment_time: float
    safety_factor: float
    demand_mean: float
    demand_std: float
    safety_stock: float
    base_stock: float
    unit_holding_cost: float
    holding_cost: float


@dataclass(frozen=True)
class SafetyStockPlan:
    """Result of :func:`place_safety_stock`.

    Attributes
    ----------
    placements : tuple of NodePlacement
        The best solution found, one entry per node (topological order).
    total_cost : float
        Its holding cost of safety stock per period.
    status : str
        ``"optimal"`` (proven), ``"time_limit"``, ``"gap_limit"`` (stopped at the
        requested gap), ``"not_proven"`` (the candidate pairs that could still
        improve the plan were too many to enumerate) or another SCIP status. Only
        ``"optimal"`` is proven.
    gap : float
        Relative distance between ``total_cost`` and ``best_bound`` (0 when optimal).
    best_bound : float
        Proven lower bound on the optimal cost.
    solve_seconds : float
        Wall-clock seconds of the whole placement (validation to solution).
    scip_version : str
    method : str
        ``"tree"`` (the reductions solved it, no MILP needed), ``"milp"`` (every
        candidate pair in one MILP), ``"elimination"`` (variable elimination, no
        MILP), ``"dual ascent"`` (the MILP over the pairs the dual bound leaves, or,
        unproven, the dual ascent's best plan when column generation found none
        better) or ``"column generation"``.
    candidate_pairs : int
        Binaries of the final MILP (0 for ``"tree"``; for ``"elimination"`` the
        candidate pairs of the stages it solved).
    bnb_nodes : int
        Branch-and-bound nodes of the final MILP.
    generation_rounds : int
        LP rounds of column generation, or sweeps of the dual ascent (0 without
        either).
    """

    placements: tuple[NodePlacement, ...]
    total_cost: float
    status: str
    gap: float
    best_bound: float
    solve_seconds: float
    scip_version: str
    method: str
    candidate_pairs: int
    bnb_nodes: int
    generation_rounds: int

    @property
    def is_optimal(self) -> bool:
        """True only when optimality is proven."""
        return self.status == "optimal"

    def to_frame(self) -> pd.DataFrame:
        """One row per node (index ``node``) with the service times and stocks."""
        frame = pd.DataFrame(
            [{name: getattr(p, name) for name in _FRAME_COLUMNS} for p in self.placements],
            index=pd.Index([p.node for p in self.placements], name="node"),
            columns=_FRAME_COLUMNS,
        )
        return frame


def _stage_value(reduced: ReducedNetwork, key: int, row: int, col: int) -> float:
    stage = reduced.stages[key]
    return float(stage_table(reduced.network, stage, slice(row, row + 1))[0, col])


def _placements(
    network: GsmNetwork, outbound: np.ndarray, inbound: np.ndarray
) -> tuple[NodePlacement, ...]:
    replenishment = inbound + network.processing_time - outbound
    if (replenishment < -TIME_TOLERANCE).any():
        raise RuntimeError("internal error: a negative net replenishment time")
    replenishment = np.where(replenishment > TIME_TOLERANCE, replenishment, 0.0)
    safety = network.safety_factor * network.demand_std * np.sqrt(replenishment)
    base = network.demand_mean * replenishment + safety
    return tuple(
        NodePlacement(
            node=network.nodes[j],
            outbound_service_time=float(outbound[j]),
            inbound_service_time=float(inbound[j]),
            processing_time=float(network.processing_time[j]),
            net_replenishment_time=float(replenishment[j]),
            safety_factor=float(network.safety_factor[j]),
            demand_mean=float(network.demand_mean[j]),
            demand_std=float(network.demand_std[j]),
            safety_stock=float(safety[j]),
            base_stock=float(base[j]),
            unit_holding_cost=float(network.unit_holding_cost[j]),
            holding_cost=float(network.unit_holding_cost[j] * safety[j]),
        )
        for j in range(network.size)
    )


def _cut_fits(reduced: ReducedNetwork, deadline: float | None) -> bool:
    """Whether the minimum cut is small enough, also for a tenth of the time left."""
    times = _free_time_count(reduced)
    if times > CUT_TIMES:
        return False
    return deadline is None or times / _CUT_TIMES_PER_SECOND <= 0.1 * (deadline - time.monotonic())


def _checked_placements(
    network: GsmNetwork, reduced: ReducedNetwork, choice: dict[int, tuple[int, int]]
) -> tuple[NodePlacement, ...] | None:
    """The placements of ``choice``, or None when its times break an edge, bound or rule."""
    outbound, inbound = expand_choice(reduced, choice)
    if not _follows_rules(network, outbound, inbound):
        return None
    return _placements(network, outbound, inbound)


def _follows_rules(network: GsmNetwork, outbound: np.ndarray, inbound: np.ndarray) -> bool:
    """Whether service times meet every edge, bound and rule of ``network``."""
    tolerance = TIME_TOLERANCE
    replenishment = inbound + network.processing_time - outbound
    return bool(
        all(outbound[i] <= inbound[j] + tolerance for i, j in network.edges())
        and (replenishment >= -tolerance).all()
        and (outbound <= network.max_outbound + tolerance).all()
        and (inbound >= network.external_inbound - tolerance).all()
        and (np.abs(outbound[network.must_hold]) <= tolerance).all()
        and (np.abs(replenishment[network.may_not_hold]) <= tolerance).all()
    )


def _free_time_count(reduced: ReducedNetwork) -> int:
    """Candidate service times of the core that are not fixed (one is, per side)."""
    return sum(sum(n for n in reduced.stages[key].shape if n > 1) for key in reduced.graph.nodes)


def _pair_count_estimate(reduced: ReducedNetwork) -> int:
    return sum(int(np.prod(reduced.stages[k].shape)) for k in reduced.graph)


def place_safety_stock(
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
    time_limit: float | None = None,
    gap: float = 0.0,
    log_path: str | Path | None = None,
    full_model_pairs: int = FULL_MODEL_PAIRS,
    method: str = "auto",
    rounding_grids: Sequence[float] | None = ROUNDING_GRIDS,
) -> SafetyStockPlan:
    """Place safety stock optimally in a supply network (guaranteed-service model).

    Parameters
    ----------
    graph : networkx.DiGraph
        Acyclic; edges run from supplier to customer. Node attributes (names set by
        the keywords below): processing time, unit holding cost per period, and at
        demand nodes (no customers) demand mean and standard deviation per period;
        optionally a safety factor or service level, ``max_outbound_cst`` and
        ``external_inbound_cst``. Internal nodes cover the demand they serve, pooled
        (see :func:`toolkit.gsm_network.gsm_network`).
    service_level : float, optional
        Service level for nodes without their own ``safety_factor`` or service
        level; the safety factor is its standard normal quantile.
    processing_time, holding_cost, demand_mean, demand_std, max_outbound_cst,
    external_inbound_cst, safety_factor, node_service_level : str
        Node attribute names.
    units : str
        Edge attribute: units of the supplier's item per unit of the customer's
        (default 1), used to pool demand through bills of material.
    must_hold : iterable of nodes
        Stocking points: ``S_j = 0`` (they serve from stock; their safety stock
        covers their whole replenishment time, own processing time included).
    may_not_hold : iterable of nodes
        Nodes without safety stock: ``NRT_j = 0``.
    time_limit : float, optional
        Seconds for the whole solve. When reached, the best plan found is returned
        with ``status="time_limit"`` and its proven ``best_bound``.
    gap : float
        Relative optimality gap at which to stop (0 = prove optimality).
    log_path : str or Path, optional
        File for SCIP's log of the MILP (the solver is silent otherwise).
    full_model_pairs : int
        Largest number of candidate pairs given to the MILP at once; larger models
        are solved by variable elimination or column generation (all exact).
    method : {"auto", "milp", "elimination", "dual ascent"}
        ``"auto"``: the MILP up to ``full_model_pairs`` pairs; beyond, variable
        elimination when the core's tree-width is at most two and its work is at
        most ``ELIMINATION_OPERATIONS`` table entries in at most
        ``ELIMINATION_MEMORY_BYTES`` (and fits the time limit); else dual ascent,
        and the MILP over the pairs it leaves when they are at most
        ``full_model_pairs``; else column generation. A core whose cost tables
        would hold more than ``REFINE_ABOVE_ENTRIES`` entries is first cut down by
        candidate refinement (:mod:`toolkit.gsm_refine`). ``"milp"``: the MILP over
        all pairs or generated ones (no elimination, no dual ascent). ``"dual
        ascent"``: as ``"auto"`` without elimination. ``"elimination"``: only
        elimination (``ValueError`` when the core does not allow it; a network the
        reductions solve whole is still ``"tree"``), which then runs to the end
        whatever ``time_limit`` says.
    rounding_grids : sequence of float, optional
        When real-valued processing times make the exact candidate set too large
        (more than ``EXACT_CANDIDATES`` service times, or more pairs of them than
        the reductions can go through in half the time limit), the finest of these
        grids (periods) that keeps it at most ``ROUNDED_CANDIDATES`` brackets the
        optimum: times rounded down give a proven
        lower bound, times rounded up a plan, evaluated with the true times. The plan
        is then ``"not_proven"`` (or ``"gap_limit"``) with its gap, never
        ``"optimal"`` unless the bounds meet. None or empty: raise
        ``CandidateLimitError`` instead.

    Returns
    -------
    SafetyStockPlan

    Raises
    ------
    NetworkValidationError
        Cycles, missing or negative attributes, demand nodes without demand, a node
        under both rules (the message names the node and attribute).
    InfeasibleError
        When no service times meet the bounds and rules; names the nodes whose
        ``max_outbound_cst`` cannot be met and what forces them.
    CandidateLimitError
        Real-valued processing times whose candidate set is too large, even on the
        coarsest of ``rounding_grids``.
    """
    if method not in _METHODS:
        raise ValueError(f"place_safety_stock: method must be one of {_METHODS}, not {method!r}")
    started = time.monotonic()
    deadline = started + time_limit if time_limit is not None else None
    network = gsm_network(
        graph,
        service_level,
        processing_time=processing_time,
        holding_cost=holding_cost,
        demand_mean=demand_mean,
        demand_std=demand_std,
        max_outbound_cst=max_outbound_cst,
        external_inbound_cst=external_inbound_cst,
        safety_factor=safety_factor,
        node_service_level=node_service_level,
        units=units,
        must_hold=must_hold,
        may_not_hold=may_not_hold,
    )
    options = {
        "deadline": deadline,
        "gap": gap,
        "log_path": log_path,
        "full_model_pairs": full_model_pairs,
        "method": method,
    }
    try:
        candidates = candidate_service_times(network, max_values=EXACT_CANDIDATES)
        _check_reduction_time(candidates, deadline)
    except CandidateLimitError as error:
        if rounding_grids is None or not len(rounding_grids):
            raise
        plan = _bracket_by_rounding(network, rounding_grids, options)
        if plan is None:
            raise CandidateLimitError(
                f"{error}; no rounding grid of {tuple(rounding_grids)} gives at most "
                f"{ROUNDED_CANDIDATES:,} candidates"
            ) from error
        return replace(plan, solve_seconds=time.monotonic() - started)
    return _solve_network(network, candidates, started=started, **options)


def _check_reduction_time(candidates: ServiceTimeCandidates, deadline: float | None) -> None:
    """Raise ``CandidateLimitError`` when reducing would take over half the time left."""
    if deadline is None:
        return
    pairs = sum(
        len(a) * len(b) for a, b in zip(candidates.inbound, candidates.outbound, strict=True)
    )
    seconds = pairs / _REDUCTION_PAIRS_PER_SECOND
    if seconds > 0.5 * (deadline - time.monotonic()):
        raise CandidateLimitError(
            f"{candidates.total:,} candidate service times make {pairs:.3g} pairs to "
            f"reduce, about {seconds:.0f} s: more than half the time left"
        )


def _solve_network(
    network: GsmNetwork,
    candidates: ServiceTimeCandidates,
    *,
    started: float,
    deadline: float | None,
    gap: float,
    log_path: str | Path | None,
    full_model_pairs: int,
    method: str,
) -> SafetyStockPlan:
    """Reduce, then solve the core (:func:`_solve_core`)."""
    reduced = reduce_network(network, candidates)
    log.info(
        "safety-stock placement: %d nodes, %d candidate service times, %d stages left "
        "after reductions",
        network.size,
        candidates.total,
        reduced.graph.number_of_nodes(),
    )
    return _solve_core(
        network,
        reduced,
        started=started,
        deadline=deadline,
        gap=gap,
        log_path=log_path,
        full_model_pairs=full_model_pairs,
        method=method,
    )


def _solve_core(
    network: GsmNetwork,
    reduced: ReducedNetwork,
    *,
    started: float,
    deadline: float | None,
    gap: float,
    log_path: str | Path | None,
    full_model_pairs: int,
    method: str,
    refine: bool = True,
) -> SafetyStockPlan:
    """Solve a core by the tree DP, the MILP, elimination, candidate refinement, dual
    ascent or column generation (docs/safety_stock.md, "How it is solved")."""
    constant = sum(_stage_value(reduced, key, *pair) for key, pair in reduced.fixed.items())

    if reduced.graph.number_of_nodes() == 0:
        return _exact_plan(network, reduced, {}, started, method="tree")

    columns: dict[int, Columns] | None = None
    if method != "elimination" and _pair_count_estimate(reduced) <= 4 * full_model_pairs:
        columns = all_columns(reduced)
        if sum(len(c) for c in columns.values()) > full_model_pairs:
            columns = None
    if columns is None and method in ("auto", "elimination"):
        solved = _solve_by_elimination(reduced, constant, deadline, required=method != "auto")
        if solved is not None:
            return _exact_plan(network, reduced, solved, started)
    if (
        refine
        and columns is None
        and method in ("auto", "dual ascent")
        and _pair_count_estimate(reduced) > REFINE_ABOVE_ENTRIES
    ):
        refined = _solve_by_refinement(
            network,
            reduced,
            constant,
            started=started,
            deadline=deadline,
            gap=gap,
            log_path=log_path,
            full_model_pairs=full_model_pairs,
            method=method,
        )
        if refined is not None:
            return refined
    used = "milp"
    complete, lower, start, rounds, stopped = True, -math.inf, None, 0, "converged"
    fallback: tuple[NodePlacement, ...] | None = None
    if (
        columns is None
        and method in ("auto", "dual ascent")
        and 8 * _pair_count_estimate(reduced) <= DUAL_ASCENT_MEMORY_BYTES
    ):
        first = cut_plan(reduced) if _cut_fits(reduced, deadline) else None
        dual = dual_ascent(
            reduced,
            constant=constant,
            deadline=_share_of_time_left(deadline, DUAL_ASCENT_SHARE),
            max_sweeps=DUAL_ASCENT_SWEEPS,
            max_pairs=full_model_pairs,
            start=None if first is None else first.choice,
        )
        lower, rounds = dual.lower_bound, dual.sweeps
        if first is not None:
            lower = max(lower, first.lower_bound + constant)
        if dual.complete:
            used, columns, start, stopped = "dual ascent", dual.columns, dual.start, dual.stopped
        elif math.isfinite(dual.upper_bound):
            # Column generation starts from its own plans; this one may stay better.
            fallback = _checked_placements(network, reduced, dual.best_plan)
    if columns is None:
        used = "column generation"
        generation = generate_columns(
            reduced,
            constant=constant,
            deadline=_share_of_time_left(deadline, 0.75),
            gap=gap,
            restricted_solve=lambda cols: _restricted_solve(reduced, cols, constant, deadline),
        )
        columns, complete = generation.columns, generation.complete
        lower = max(lower, generation.lower_bound)
        start, rounds = generation.start, rounds + generation.iterations
        stopped = generation.stopped

    model, handles = build_placement_model(reduced, columns, constant=constant)
    remaining = None if deadline is None else max(1.0, deadline - time.monotonic())
    outcome = solve_placement_model(
        model, handles, time_limit=remaining, gap=gap, log_path=log_path, start=start
    )
    placements, total = None, math.inf
    if outcome.has_solution or start is not None:
        # Without a solution, SCIP stopped before taking the known one in: report that.
        choice = read_choice(model, handles) if outcome.has_solution else start
        pairs = {
            key: (int(columns[key].rows[index]), int(columns[key].cols[index]))
            for key, index in choice.items()
        }
        outbound, inbound = expand_choice(reduced, pairs)
        placements = _placements(network, outbound, inbound)
        total = sum(p.holding_cost for p in placements)
        if outcome.has_solution and abs(total - outcome.objective) > 1e-6 * max(1.0, abs(total)):
            warnings.warn(
                f"placement cost {total:.6g} differs from the MILP objective "
                f"{outcome.objective:.6g}",
                RuntimeWarning,
                stacklevel=2,
            )
    elif fallback is None and outcome.status == "infeasible":
        raise InfeasibleError("SCIP found the placement model infeasible")
    elif fallback is None:
        raise RuntimeError(f"SCIP returned no solution (status {outcome.status})")
    if fallback is not None:
        kept = sum(p.holding_cost for p in fallback)
        if kept < total - 1e-9 * max(1.0, abs(total)):
            placements, total, used = fallback, kept, "dual ascent"

    # The MILP's bound is a bound on the optimum only when its pairs are complete.
    bound = max(lower, outcome.best_bound) if complete else lower
    bound = min(bound, total)
    relative_gap = _relative_gap(total, bound)
    if relative_gap <= 1e-9 or (outcome.status == "optimal" and complete):
        status, relative_gap, bound = "optimal", 0.0, total
    elif outcome.status in ("optimal", "gap_limit"):
        # The MILP finished, but over an incomplete set of candidate pairs.
        unproven = "time_limit" if stopped == "deadline" else "not_proven"
        status = _unproven_status(relative_gap, gap, unproven)
    else:
        status = outcome.status
    return SafetyStockPlan(
        placements=placements,
        total_cost=total,
        status=status,
        gap=relative_gap,
        best_bound=bound,
        solve_seconds=time.monotonic() - started,
        scip_version=scip_version(model),
        method=used,
        candidate_pairs=sum(len(c) for c in columns.values()),
        bnb_nodes=outcome.nodes,
        generation_rounds=rounds,
    )


def _solve_by_refinement(
    network: GsmNetwork,
    reduced: ReducedNetwork,
    constant: float,
    *,
    started: float,
    **options,
) -> SafetyStockPlan | None:
    """Cut the core's candidates down by refinement (:mod:`toolkit.gsm_refine`), then
    solve what is left exactly; None when the refinement found no plan."""
    deadline = options["deadline"]
    refined = refine_candidates(
        reduced,
        deadline=_share_of_time_left(deadline, REFINEMENT_SHARE),
        max_entries=REFINED_ENTRIES,
    )
    if refined.best_plan is None:
        return None
    lower = refined.lower_bound + constant
    placements = _checked_placements(network, reduced, refined.best_plan)
    if placements is None:
        raise RuntimeError("internal error: the refinement's plan breaks a constraint")
    total = sum(p.holding_cost for p in placements)
    rounds, pairs, nodes = refined.rounds, refined.kept_entries, 0
    unproven = "time_limit" if refined.stopped == "deadline" else "not_proven"
    if refined.stopped == "fits" or (
        refined.stopped in ("exact", "stalled")
        and 8 * refined.kept_entries <= DUAL_ASCENT_MEMORY_BYTES
    ):
        # Every plan cheaper than the refinement's is in the cut-down core, and so is
        # that plan: its optimum and bound hold for the whole core.
        plan = _solve_core(
            network,
            restrict_candidates(reduced, refined.keep),
            started=started,
            refine=False,
            **options,
        )
        lower = max(lower, plan.best_bound)
        rounds += plan.generation_rounds
        pairs, nodes = plan.candidate_pairs, plan.bnb_nodes
        if plan.status == "time_limit":
            unproven = "time_limit"
        if plan.total_cost < total:
            placements, total = plan.placements, plan.total_cost
    return _bounded_plan(
        placements,
        lower,
        options["gap"],
        unproven,
        started=started,
        scip=scip_version(),
        method="candidate refinement",
        counts=(pairs, nodes, rounds),
    )


def _bounded_plan(
    placements: tuple[NodePlacement, ...],
    lower: float,
    requested_gap: float,
    unproven: str,
    *,
    started: float,
    scip: str,
    method: str,
    counts: tuple[int, int, int],
) -> SafetyStockPlan:
    """A plan and a proven lower bound: ``optimal`` when they meet, else ``unproven``
    (``gap_limit`` within the requested gap). ``counts``: candidate pairs, branch and
    bound nodes, generation rounds."""
    total = sum(p.holding_cost for p in placements)
    bound = min(lower, total)
    relative_gap = _relative_gap(total, bound)
    if relative_gap <= 1e-9:
        status, relative_gap, bound = "optimal", 0.0, total
    else:
        status = _unproven_status(relative_gap, requested_gap, unproven)
    return SafetyStockPlan(
        placements=placements,
        total_cost=total,
        status=status,
        gap=relative_gap,
        best_bound=bound,
        solve_seconds=time.monotonic() - started,
        scip_version=scip,
        method=method,
        candidate_pairs=counts[0],
        bnb_nodes=counts[1],
        generation_rounds=counts[2],
    )


def _share_of_time_left(deadline: float | None, share: float) -> float | None:
    """The ``time.monotonic()`` value after ``share`` of the time left to ``deadline``."""
    if deadline is None:
        return None
    now = time.monotonic()
    return now + share * (deadline - now)


def _relative_gap(total: float, bound: float) -> float:
    return (total - bound) / abs(total) if total else 0.0


def _unproven_status(relative_gap: float, requested_gap: float, otherwise: str) -> str:
    """``gap_limit`` within a requested gap, else ``otherwise``."""
    return "gap_limit" if requested_gap > 0 and relative_gap <= requested_gap + 1e-12 else otherwise


def _bracket_by_rounding(
    network: GsmNetwork, grids: Sequence[float], options: dict
) -> SafetyStockPlan | None:
    """Bound the optimum between two rounded problems (see ``rounding_grids``).

    Rounding every processing time down can only lower the optimum: from an optimal
    plan for the true times, ``S_j = min(S_j, SI_j + T_j')`` is feasible for the
    shorter times ``T'`` (quotes only fall; every rule still holds) and no net
    replenishment time grows. So the rounded-down optimum, or its proven bound, is a
    lower bound. Rounding up gives service times that, with ``S_j`` capped at
    ``SI_j + T_j``, are feasible for the true times: a plan, priced exactly.
    """
    for grid in sorted(float(g) for g in grids):
        down = replace(
            network, processing_time=np.floor(network.processing_time / grid + 1e-9) * grid
        )
        up = replace(network, processing_time=np.ceil(network.processing_time / grid - 1e-9) * grid)
        try:
            down_candidates = candidate_service_times(down, max_values=ROUNDED_CANDIDATES)
            up_candidates = candidate_service_times(up, max_values=ROUNDED_CANDIDATES)
        except CandidateLimitError:
            continue
        log.info("candidate set too large: bracketing the optimum on a %g-period grid", grid)
        deadline = options["deadline"]
        halfway = None if deadline is None else (time.monotonic() + deadline) / 2
        started = time.monotonic()
        lower = _solve_network(
            down, down_candidates, started=started, **{**options, "deadline": halfway}
        )
        upper = _solve_network(up, up_candidates, started=started, **options)
        inbound = np.array([p.inbound_service_time for p in upper.placements])
        outbound = np.array([p.outbound_service_time for p in upper.placements])
        outbound = np.minimum(outbound, inbound + network.processing_time)
        return _bounded_plan(
            _placements(network, outbound, inbound),
            lower.best_bound,
            options["gap"],
            "not_proven",
            started=started,
            scip=upper.scip_version,
            method=f"rounded times ({grid:g})",
            counts=(
                upper.candidate_pairs,
                lower.bnb_nodes + upper.bnb_nodes,
                lower.generation_rounds + upper.generation_rounds,
            ),
        )
    return None


def _solve_by_elimination(
    reduced: ReducedNetwork, constant: float, deadline: float | None, *, required: bool
) -> dict[int, tuple[int, int]] | None:
    """The optimal pair per stage by variable elimination, or None when not suited.

    With ``required``, a core that does not allow it raises ``ValueError`` instead.
    """
    budget = ELIMINATION_OPERATIONS
    if deadline is not None and not required:
        budget = min(budget, (deadline - time.monotonic()) * _ELIMINATION_ENTRIES_PER_SECOND)
    # Planning gets a tenth of the time left; past it the best order so far is used.
    plan_deadline = (
        None
        if deadline is None or required
        else time.monotonic() + 0.1 * (deadline - time.monotonic())
    )
    plan = (
        elimination_plan(
            reduced,
            max_operations=budget,
            max_entries=ELIMINATION_MEMORY_BYTES / 8,
            deadline=plan_deadline,
        )
        if budget > 0
        else None
    )
    if plan is None:
        if required:
            raise ValueError(
                "place_safety_stock: variable elimination needs a network core of "
                "tree-width at most two within the work and memory limits; use "
                "method='auto'"
            )
        log.info(
            "variable elimination declined: the core has tree-width above two, or every "
            "order needs more than %.3g table entries or %.3g bytes",
            budget,
            ELIMINATION_MEMORY_BYTES,
        )
        return None
    started = time.monotonic()
    value, choice = solve_by_elimination(reduced, plan)
    log.info(
        "variable elimination: %d variables, %.3g table entries, %.1f s, cost %.8g",
        len(plan.order),
        plan.operations,
        time.monotonic() - started,
        value + constant,
    )
    return choice


def _exact_plan(
    network: GsmNetwork,
    reduced: ReducedNetwork,
    choice: dict[int, tuple[int, int]],
    started: float,
    method: str = "elimination",
) -> SafetyStockPlan:
    """The plan of a choice proven optimal outside SCIP (the reductions alone, or
    variable elimination)."""
    outbound, inbound = expand_choice(reduced, choice)
    placements = _placements(network, outbound, inbound)
    # Proven optimal: its own cost is the bound.
    return _bounded_plan(
        placements,
        sum(p.holding_cost for p in placements),
        0.0,
        "not_proven",
        started=started,
        scip=scip_version(),
        method=method,
        counts=(_pair_count_estimate(reduced), 0, 0),
    )


def _restricted_solve(
    reduced: ReducedNetwork,
    columns: dict[int, Columns],
    constant: float,
    deadline: float | None,
) -> tuple[float, dict[int, int]] | None:
    """A quick MILP over the generated pairs, for an upper bound."""
    model, handles = build_placement_model(reduced, columns, constant=constant)
    limit = 60.0 if deadline is None else max(1.0, 0.5 * (deadline - time.monotonic()))
    outcome = solve_placement_model(model, handles, time_limit=limit)
    if not outcome.has_solution:
        return None
    return outcome.objective, read_choice(model, handles)


def cost_service_frontier(
    graph: nx.DiGraph,
    service_levels: Sequence[float] = (0.90, 0.95, 0.975, 0.99, 0.995),
    **options,
) -> pd.DataFrame:
    """Optimal safety-stock cost at each service level (a fresh model per level).

    Nodes with their own ``safety_factor`` or service level keep it; the others use
    each level in turn.

    Parameters
    ----------
    graph : networkx.DiGraph
        As for :func:`place_safety_stock`.
    service_levels : sequence of float
    **options
        Keywords of :func:`place_safety_stock` (attribute names, rules, limits).

    Returns
    -------
    pandas.DataFrame
        One row per level: ``service_level, total_cost, safety_stock`` (units summed
        over nodes), ``stocking_nodes`` (nodes holding safety stock), ``status, gap,
        best_bound, solve_seconds``.
    """
    rows = []
    for level in service_levels:
        plan = place_safety_stock(graph, level, **options)
        frame = plan.to_frame()
        rows.append(
            {
                "service_level": float(level),
                "total_cost": plan.total_cost,
                "safety_stock": float(frame["safety_stock"].sum()),
                "stocking_nodes": int((frame["safety_stock"] > 0).sum()),
                "status": plan.status,
                "gap": plan.gap,
                "best_bound": plan.best_bound,
                "solve_seconds": plan.solve_seconds,
            }
        )
    return pd.DataFrame(rows)


def plot_cost_service_frontier(frame: pd.DataFrame, ax=None):
    """Draw the cost-service frontier from :func:`cost_service_frontier`.

    Points not proven optimal are drawn hollow and labelled with their status.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``service_level``, ``total_cost`` and ``status``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new figure when omitted).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ordered = frame.sort_values("service_level")
    ax.plot(ordered["service_level"], ordered["total_cost"], color="C0", zorder=1)
    proven = ordered["status"] == "optimal"
    ax.scatter(
        ordered.loc[proven, "service_level"],
        ordered.loc[proven, "total_cost"],
        color="C0",
        zorder=2,
        label="proven optimal",
    )
    if (~proven).any():
        ax.scatter(
            ordered.loc[~proven, "service_level"],
            ordered.loc[~proven, "total_cost"],
            facecolors="white",
            edgecolors="C3",
            zorder=2,
            label="not proven optimal",
        )
        for _, row in ordered.loc[~proven].iterrows():
            ax.annotate(
                row["status"],
                (row["service_level"], row["total_cost"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    ax.set_xlabel("service level")
    ax.set_ylabel("safety-stock holding cost per period")
    ax.set_title("Cost of service")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return ax
