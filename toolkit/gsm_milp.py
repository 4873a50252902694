"""The SCIP model of safety-stock placement over candidate (SI, S) pairs.

For every stage of the reduced network (see :mod:`toolkit.gsm_reduction`) the model
has one binary per candidate pair ``p = (SI, S)`` and chooses exactly one; the
objective adds the chosen pairs' tabulated costs, so the concave square root is
evaluated exactly at every candidate (no linearization). The service-time
constraint ``SI_j >= S_i`` of an edge becomes, for every candidate quote ``t`` of
the supplier,

    P(S_i >= t) <= P(SI_j >= t),

where ``P(S_i >= t)`` is the sum of the binaries of ``i``'s pairs quoting at least
``t``. For 0/1 choices this is exactly ``SI_j >= S_i``; its LP relaxation is the
local marginal polytope of the network, exact on trees and, on real supply chains,
usually tight. Each sum is written as a chain ``U_t = U_next + (pairs quoting t)``
of continuous variables, so every binary appears in three rows.

The steps are separate: :func:`build_placement_model` (a pure builder returning the
unsolved model and its variable handles), :func:`solve_placement_model`, and
:func:`read_choice` (reads the solution with a tolerance).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyscipopt import Model, quicksum

from toolkit.gsm_network import TIME_TOLERANCE
from toolkit.gsm_reduction import ReducedNetwork

__all__ = [
    "Columns",
    "ModelHandles",
    "SolveOutcome",
    "build_placement_model",
    "solve_placement_model",
    "read_choice",
    "scip_version",
]

# SCIP statuses mapped to the plan's status vocabulary.
_STATUS = {
    "optimal": "optimal",
    "timelimit": "time_limit",
    "gaplimit": "gap_limit",
    "infeasible": "infeasible",
    "userinterrupt": "interrupted",
    "nodelimit": "node_limit",
    "memlimit": "memory_limit",
}


@dataclass(frozen=True)
class Columns:
    """Candidate pairs of one stage: inbound and outbound candidate indices and costs."""

    rows: np.ndarray
    cols: np.ndarray
    costs: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ModelHandles:
    """Variable handles of a built model.

    Attributes
    ----------
    choose : dict of int to list
        Per stage, the binary of each candidate pair (same order as its Columns).
    columns : dict of int to Columns
        The candidate pairs the model was built from.
    constant : float
        Cost of the stages solved outside the model (added to the objective).
    """

    choose: dict[int, list]
    columns: dict[int, Columns]
    constant: float


@dataclass(frozen=True)
class SolveOutcome:
    """What SCIP reports after a solve."""

    status: str
    objective: float
    best_bound: float
    gap: float
    seconds: float
    nodes: int
    has_solution: bool


def scip_version(model: Model | None = None) -> str:
    """The SCIP version, e.g. ``"10.0.2"``."""
    model = model or Model()
    return f"{model.getMajorVersion()}.{model.getMinorVersion()}.{model.getTechVersion()}"


def segment_of(thresholds: list[float], value: float) -> int:
    """Index of the last threshold ``<= value`` (with tolerance), or -1."""
    return bisect.bisect_right(thresholds, value + TIME_TOLERANCE) - 1


def _at_least_chain(
    model: Model, name: str, thresholds: list[float], choose: list, times: np.ndarray
) -> dict[float, object]:
    """Variables ``P(time >= t)`` per threshold, as the chain ``X_t = X_next + (pairs in [t, next))``.

    ``choose`` are a stage's pair binaries and ``times`` each pair's quote or wait;
    a pair below the first threshold counts nowhere.
    """
    chain = [model.addVar(name=f"{name},{t:g}]", lb=0.0, ub=1.0) for t in thresholds]
    members: list[list] = [[] for _ in thresholds]
    for v, value in zip(choose, times, strict=True):
        k = segment_of(thresholds, float(value))
        if k >= 0:
            members[k].append(v)
    for k, t in enumerate(thresholds):
        following = [chain[k + 1]] if k + 1 < len(chain) else []
        model.addCons(chain[k] == quicksum(following + members[k]), name=f"{name},{t:g}]")
    return dict(zip(thresholds, chain, strict=True))


def build_placement_model(
    reduced: ReducedNetwork, columns: dict[int, Columns], *, constant: float = 0.0
) -> tuple[Model, ModelHandles]:
    """Build (do not solve) the placement MILP over the given candidate pairs.

    Parameters
    ----------
    reduced : ReducedNetwork
        Its ``graph`` lists the stages and edges of the model.
    columns : dict of int to Columns
        Candidate pairs per stage of ``reduced.graph`` (at least one each).
    constant : float
        Cost of the stages solved outside the model.

    Returns
    -------
    (pyscipopt.Model, ModelHandles)
    """
    graph = reduced.graph
    model = Model("safety_stock_placement")
    model.hideOutput()
    choose: dict[int, list] = {}
    for key in graph:
        cand = columns[key]
        choose[key] = [
            model.addVar(name=f"x[{key},{k}]", vtype="B", obj=float(cost))
            for k, cost in enumerate(cand.costs)
        ]
        model.addCons(quicksum(choose[key]) == 1, name=f"choose[{key}]")

    # P(S_i >= t) for every candidate quote t > 0 of each stage that has customers.
    quote_at_least: dict[int, dict[float, object]] = {}
    for key in graph:
        if not graph.out_degree(key):
            continue
        quotes = reduced.stages[key].outbound[columns[key].cols]
        thresholds = sorted({float(t) for t in quotes if t > TIME_TOLERANCE})
        quote_at_least[key] = _at_least_chain(model, f"U[{key}", thresholds, choose[key], quotes)

    # P(SI_j >= t) at every threshold of j's suppliers; pairs between two thresholds
    # count towards the lower one.
    for key in graph:
        suppliers = list(graph.predecessors(key))
        if not suppliers:
            continue
        waits = reduced.stages[key].inbound[columns[key].rows]
        thresholds = sorted({t for s in suppliers for t in quote_at_least.get(s, {})})
        if not thresholds:
            continue
        waits_at_least = _at_least_chain(model, f"W[{key}", thresholds, choose[key], waits)
        for s in suppliers:
            for t, quote in quote_at_least.get(s, {}).items():
                model.addCons(quote <= waits_at_least[t], name=f"edge[{s},{key},{t:g}]")
    return model, ModelHandles(choose=choose, columns=columns, constant=constant)


def solve_placement_model(
    model: Model,
    handles: ModelHandles,
    *,
    time_limit: float | None = None,
    gap: float = 0.0,
    log_path: str | Path | None = None,
    start: dict[int, int] | None = None,
) -> SolveOutcome:
    """Solve a freshly built model (never call this twice on the same model).

    Parameters
    ----------
    model, handles
        From :func:`build_placement_model`.
    time_limit : float, optional
        Seconds.
    gap : float
        Relative gap at which SCIP may stop.
    log_path : str or Path, optional
        Where SCIP writes its log (output is hidden otherwise).
    start : dict of int to int, optional
        A known solution (the index of the chosen pair per stage) to start from.

    Returns
    -------
    SolveOutcome
    """
    if log_path is not None:
        model.setLogfile(str(log_path))
    if time_limit is not None:
        model.setParam("limits/time", max(1.0, float(time_limit)))
    model.setParam("limits/gap", float(gap))
    if start:
        solution = model.createPartialSol()
        for key, index in start.items():
            for k, variable in enumerate(handles.choose[key]):
                model.setSolVal(solution, variable, 1.0 if k == index else 0.0)
        model.addSol(solution)
    model.optimize()
    status = _STATUS.get(model.getStatus(), model.getStatus())
    has_solution = model.getNSols() > 0
    objective = model.getObjVal() + handles.constant if has_solution else float("nan")
    bound = model.getDualbound() + handles.constant
    if status == "optimal" and has_solution:
        bound = objective
    return SolveOutcome(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=model.getGap() if has_solution else float("inf"),
        seconds=model.getSolvingTime(),
        nodes=model.getNNodes(),
        has_solution=has_solution,
    )


def read_choice(model: Model, handles: ModelHandles) -> dict[int, int]:
    """The chosen pair index per stage in the best solution (binaries read at > 0.5)."""
    solution = model.getBestSol()
    choice = {}
    for key, variables in handles.choose.items():
        values = np.array([model.getSolVal(solution, v) for v in variables])
        choice[key] = int(np.argmax(values))
        if values[choice[key]] < 0.5:
            raise RuntimeError(f"stage {key}: no candidate pair chosen in the solution")
    return choice
