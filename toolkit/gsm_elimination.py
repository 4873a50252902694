"""Exact placement by variable elimination, for networks of tree-width at most two.

The placement problem left after the reductions (:mod:`toolkit.gsm_reduction`) is a
sum of pairwise terms over finite sets of candidate service times: each stage's cost
table links its inbound time ``SI`` to its outbound time ``S``, and each edge adds the
constraint ``SI_customer >= S_supplier``. Minimizing such a sum is a min-sum dynamic
program on the graph of these variables (bucket elimination, Dechter 1999):
eliminating a variable replaces the terms it appears in by their minimum over its
values, a new term between its neighbours. With at most two neighbours the new term
is again pairwise, so a network whose variable graph can be taken apart one variable
of degree at most two at a time (tree-width at most two: series-parallel supply
chains, many plants feeding the same pair of DCs) is solved exactly, with no gap and
no branching, however many candidate pairs its stages have.

Eliminations next to an edge constraint are running minima over sorted candidates
(``O(n^2)``); only two cost tables meeting at a variable need the min-plus product
(``O(n^3)``, done a row at a time). :func:`elimination_plan` finds the order and its
cost without touching a table, so callers can decline a network that would take too
long; :func:`solve_by_elimination` runs it and reads the optimal pairs back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from toolkit.gsm_network import TIME_TOLERANCE
from toolkit.gsm_reduction import ReducedNetwork, stage_table

__all__ = ["EliminationPlan", "elimination_plan", "solve_by_elimination"]

# A variable is ("in", stage) or ("out", stage): the stage's inbound or outbound time.
Variable = tuple[str, int]


@dataclass(frozen=True)
class EliminationPlan:
    """An order in which to eliminate the variables, and what it costs.

    Attributes
    ----------
    order : list of (str, int)
        Variables in elimination order.
    steps : list of float
        Table entries each elimination touches (a machine-independent measure of
        the work).
    peak_entries : float
        Table entries held in memory at the peak: every stage's cost table and every
        table an elimination creates (all kept to read the solution back), plus the
        largest step's working tables. Eight bytes each.
    """

    order: list[Variable]
    steps: list[float]
    peak_entries: float = 0.0

    @property
    def operations(self) -> float:
        """Table entries touched in all."""
        return float(sum(self.steps))


@dataclass
class _Term:
    """A pairwise term between variables ``a`` and ``b``.

    ``table[i, k]`` is its value at ``a = values[a][i]``, ``b = values[b][k]``
    (``inf`` = infeasible), or, when ``table`` is None, the term is the constraint
    ``value(a) >= value(b)`` (0 or ``inf``).
    """

    a: Variable
    b: Variable
    table: np.ndarray | None

    def other(self, v: Variable) -> Variable:
        return self.b if v == self.a else self.a

    def oriented(self, v: Variable, values: dict[Variable, np.ndarray]) -> np.ndarray:
        """The term as a dense table with ``v`` on the first axis."""
        table = self.table if self.table is not None else _at_least_table(values, self.a, self.b)
        return table if v == self.a else table.T


def _at_least_table(values: dict[Variable, np.ndarray], a: Variable, b: Variable) -> np.ndarray:
    return np.where(values[a][:, None] >= values[b][None, :] - TIME_TOLERANCE, 0.0, np.inf)


def _variables_and_terms(
    reduced: ReducedNetwork, with_tables: bool
) -> tuple[dict[Variable, np.ndarray], list[_Term]]:
    values: dict[Variable, np.ndarray] = {}
    terms: list[_Term] = []
    for key in reduced.graph:
        stage = reduced.stages[key]
        values[("in", key)] = np.asarray(stage.inbound, dtype=float)
        values[("out", key)] = np.asarray(stage.outbound, dtype=float)
        table = stage_table(reduced.network, stage) if with_tables else np.empty((0, 0))
        terms.append(_Term(("in", key), ("out", key), table))
    for supplier, customer in reduced.graph.edges:
        terms.append(_Term(("in", customer), ("out", supplier), None))
    return values, terms


def elimination_plan(
    reduced: ReducedNetwork,
    max_operations: float = 2e10,
    *,
    max_entries: float = np.inf,
    tries: int = 16,
    deadline: float | None = None,
) -> EliminationPlan | None:
    """Return an elimination order using only variables of degree two or less.

    Greedy: each step takes, among the variables with at most two neighbours, the best
    by some rule. For a graph of tree-width at most two such a variable always exists
    and eliminating it keeps the tree-width, so the greedy order never gets stuck.
    Which variable goes last on a path between two hubs sets the cost of the table
    joining them, and the cheapest step now is not always the cheapest order, so
    several rules are tried (fewest entries touched; largest candidate set first
    among cheap steps; seeded random perturbations of the first) and the order
    touching the fewest entries in all wins.

    Parameters
    ----------
    reduced : ReducedNetwork
    max_operations : float
        Give up (return None) when the best order would touch more table entries.
    max_entries : float
        Give up when every order would hold more table entries in memory at once
        (see ``EliminationPlan.peak_entries``).
    tries : int
        Randomly perturbed greedy orders tried besides the fixed rules.
    deadline : float, optional
        ``time.monotonic()`` value after which no further rule is tried (the best
        order so far is kept).

    Returns
    -------
    EliminationPlan or None
        None when some step would need a variable with three or more neighbours (the
        new term would join three variables) or the work exceeds ``max_operations``
        or the memory ``max_entries``.
    """
    values, term_list = _variables_and_terms(reduced, with_tables=False)
    size = {v: len(x) for v, x in values.items()}
    stage_entries = float(sum(size[("in", key)] * size[("out", key)] for key in reduced.graph))
    dense: dict[frozenset, bool] = {}  # True when some term between the two is a table
    adjacency: dict[Variable, set[Variable]] = {v: set() for v in values}
    for term in term_list:
        pair = frozenset((term.a, term.b))
        dense[pair] = dense.get(pair, False) or term.table is not None
        adjacency[term.a].add(term.b)
        adjacency[term.b].add(term.a)

    rules = [lambda v, cost: cost]
    for cap in (1e6, 1e7, 1e8):
        rules.append(lambda v, cost, cap=cap: (cost > cap, -size[v], cost))
    rng = np.random.default_rng(0)
    for _ in range(tries):
        noise: dict[Variable, float] = {}
        rules.append(
            lambda v, cost, noise=noise: cost * noise.setdefault(v, float(np.exp(rng.normal())))
        )
    best: EliminationPlan | None = None
    for rule in rules:
        if deadline is not None and best is not None and time.monotonic() > deadline:
            break
        plan = _greedy_order(
            size,
            dict(dense),
            {v: set(n) for v, n in adjacency.items()},
            rule,
            max_operations if best is None else min(max_operations, best.operations),
            stage_entries,
            max_entries,
        )
        if plan == "too wide":
            return None  # no order gets past a variable of three neighbours
        if plan is not None and (best is None or plan.operations < best.operations):
            best = plan
    return best


def _greedy_order(
    size: dict[Variable, int],
    dense: dict[frozenset, bool],
    adjacency: dict[Variable, set[Variable]],
    rule,
    max_operations: float,
    stage_entries: float,
    max_entries: float,
) -> EliminationPlan | str | None:
    """One greedy order under ``rule(variable, cost) -> sort key`` (smallest first).

    Returns the plan, None when it would exceed ``max_operations`` or hold more than
    ``max_entries`` table entries at once (``stage_entries`` are held from the
    start), or ``"too wide"`` when every variable left has three or more neighbours.
    """

    def working(v: Variable) -> tuple[float, float]:
        """Entries of the step's working tables, and of the new table it keeps."""
        around = [size[w] for w in adjacency[v]]
        if len(around) < 2:
            return 3.0 * size[v] * max(around, default=1), 0.0
        x, y = around
        return 3.0 * size[v] * (x + y) + x * y, float(x * y)

    def cost(v: Variable) -> float | None:
        around = adjacency[v]
        if len(around) > 2:
            return None
        if len(around) < 2:
            return float(size[v] * max((size[w] for w in around), default=1))
        x, y = around
        if dense[frozenset((v, x))] and dense[frozenset((v, y))]:
            return float(size[v] * size[x] * size[y])
        return float(size[v] * (size[x] + size[y]) + size[x] * size[y])

    order: list[Variable] = []
    steps: list[float] = []
    total = 0.0
    held = peak = stage_entries
    remaining = set(adjacency)
    while remaining:
        best, best_key, best_cost = None, None, 0.0
        for v in sorted(remaining):
            c = cost(v)
            if c is None:
                continue
            key = rule(v, c)
            if best_key is None or key < best_key:
                best, best_key, best_cost = v, key, c
        if best is None:
            return "too wide"
        steps.append(best_cost)
        total += best_cost
        temporary, kept = working(best)
        peak = max(peak, held + temporary)
        held += kept
        if total > max_operations or peak > max_entries:
            return None
        around = adjacency.pop(best)
        for w in around:
            adjacency[w].discard(best)
        if len(around) == 2:
            x, y = around
            dense[frozenset((x, y))] = True  # the new term is always a table
            adjacency[x].add(y)
            adjacency[y].add(x)
        remaining.discard(best)
        order.append(best)
    return EliminationPlan(order, steps, peak)


def _running_min(table: np.ndarray, reverse: bool) -> np.ndarray:
    """Running minimum along axis 0, from the end when ``reverse``."""
    if reverse:
        return np.minimum.accumulate(table[::-1], axis=0)[::-1]
    return np.minimum.accumulate(table, axis=0)


def _min_through_constraint(
    values: dict[Variable, np.ndarray],
    v: Variable,
    constraint: _Term,
    table: np.ndarray,
) -> np.ndarray:
    """``min over v`` of ``table[v, ...]`` subject to the edge constraint between ``v``
    and its other variable ``w``; returns an array indexed ``[w, ...]``."""
    w = constraint.other(v)
    mine, theirs = values[v], values[w]
    if v == constraint.a:
        # v >= w: the best of v's rows at or above each w.
        best = _running_min(table, reverse=True)
        first = np.searchsorted(mine, theirs - TIME_TOLERANCE, side="left")
        padded = np.concatenate([best, np.full((1, *best.shape[1:]), np.inf)])
        return padded[first]
    # w >= v: the best of v's rows at or below each w.
    best = _running_min(table, reverse=False)
    last = np.searchsorted(mine, theirs + TIME_TOLERANCE, side="right") - 1
    padded = np.concatenate([np.full((1, *best.shape[1:]), np.inf), best])
    return padded[last + 1]


def _min_plus(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``out[x, y] = min_v left[v, x] + right[v, y]``, a row of ``v`` at a time."""
    out = np.full((left.shape[1], right.shape[1]), np.inf)
    for row_left, row_right in zip(left, right, strict=True):
        if np.isfinite(row_left).any() and np.isfinite(row_right).any():
            np.minimum(out, row_left[:, None] + row_right[None, :], out=out)
    return out


@dataclass
class _Bucket:
    """What eliminating a variable left behind, to choose its value afterwards."""

    variable: Variable
    unary: np.ndarray
    terms: list[_Term]


def solve_by_elimination(
    reduced: ReducedNetwork, plan: EliminationPlan | None = None
) -> tuple[float, dict[int, tuple[int, int]]] | None:
    """Solve the reduced placement problem exactly by variable elimination.

    Parameters
    ----------
    reduced : ReducedNetwork
        The network left after the reductions (its ``fixed`` stages are not part of
        the result).
    plan : EliminationPlan, optional
        From :func:`elimination_plan`; computed when not given.

    Returns
    -------
    (float, dict of int to (int, int)) or None
        The optimal cost of the stages in ``reduced.graph`` and the chosen
        ``(inbound index, outbound index)`` per stage; None when no plan exists (see
        :func:`elimination_plan`).

    Raises
    ------
    RuntimeError
        When no choice of candidates satisfies every constraint (the reductions
        leave only feasible problems, so this is an internal error).
    """
    plan = plan if plan is not None else elimination_plan(reduced)
    if plan is None:
        return None
    values, term_list = _variables_and_terms(reduced, with_tables=True)
    terms = dict(enumerate(term_list))
    incident: dict[Variable, set[int]] = {v: set() for v in values}
    for t, term in terms.items():
        incident[term.a].add(t)
        incident[term.b].add(t)
    unary = {v: np.zeros(len(x)) for v, x in values.items()}
    buckets: list[_Bucket] = []
    total = 0.0
    next_id = len(terms)
    for v in plan.order:
        mine = []
        for t in incident.pop(v):
            term = terms.pop(t)
            incident[term.other(v)].discard(t)
            mine.append(term)
        buckets.append(_Bucket(v, unary.pop(v), mine))
        by_neighbour: dict[Variable, list[_Term]] = {}
        for term in mine:
            by_neighbour.setdefault(term.other(v), []).append(term)
        own = buckets[-1].unary
        if not by_neighbour:
            total += float(own.min())
            continue
        if len(by_neighbour) == 1:
            ((w, group),) = by_neighbour.items()
            table = own[:, None] + _sum_terms(values, v, w, group)
            unary[w] = unary[w] + table.min(axis=0)
            continue
        (x, group_x), (y, group_y) = by_neighbour.items()
        new = _eliminate_between(values, v, own, x, group_x, y, group_y)
        terms[next_id] = _Term(x, y, new)
        incident[x].add(next_id)
        incident[y].add(next_id)
        next_id += 1
    if not np.isfinite(total):
        raise RuntimeError("internal error: the reduced placement problem has no feasible choice")
    assignment = _assign(values, buckets)
    choice = {key: (assignment[("in", key)], assignment[("out", key)]) for key in reduced.graph}
    return total, choice


def _sum_terms(
    values: dict[Variable, np.ndarray], v: Variable, w: Variable, group: list[_Term]
) -> np.ndarray:
    """The terms between ``v`` and ``w`` added up, as a table indexed ``[v, w]``."""
    table = np.zeros((len(values[v]), len(values[w])))
    for term in group:
        table = table + term.oriented(v, values)
    return table


def _eliminate_between(
    values: dict[Variable, np.ndarray],
    v: Variable,
    own: np.ndarray,
    x: Variable,
    group_x: list[_Term],
    y: Variable,
    group_y: list[_Term],
) -> np.ndarray:
    """The new term ``[x, y]``: the minimum over ``v`` of everything ``v`` appears in."""
    if len(group_x) == 1 and group_x[0].table is None:
        # An edge constraint alone on x's side: a running minimum does it.
        table_y = own[:, None] + _sum_terms(values, v, y, group_y)
        return _min_through_constraint(values, v, group_x[0], table_y)
    if len(group_y) == 1 and group_y[0].table is None:
        table_x = own[:, None] + _sum_terms(values, v, x, group_x)
        return _min_through_constraint(values, v, group_y[0], table_x).T
    left = own[:, None] + _sum_terms(values, v, x, group_x)
    return _min_plus(left, _sum_terms(values, v, y, group_y))


def _column(values: dict[Variable, np.ndarray], term: _Term, v: Variable, at: int) -> np.ndarray:
    """The term's values over ``v`` with its other variable at index ``at``."""
    w = term.other(v)
    if term.table is not None:
        return term.table[:, at] if v == term.a else term.table[at, :]
    if v == term.a:  # v >= w
        feasible = values[v] >= values[w][at] - TIME_TOLERANCE
    else:  # w >= v
        feasible = values[w][at] >= values[v] - TIME_TOLERANCE
    return np.where(feasible, 0.0, np.inf)


def _assign(values: dict[Variable, np.ndarray], buckets: list[_Bucket]) -> dict[Variable, int]:
    """Choose each variable's best value given those eliminated after it (backwards)."""
    assignment: dict[Variable, int] = {}
    for bucket in reversed(buckets):
        score = bucket.unary.copy()
        for term in bucket.terms:
            score = score + _column(
                values, term, bucket.variable, assignment[term.other(bucket.variable)]
            )
        best = int(np.argmin(score))
        if not np.isfinite(score[best]):
            raise RuntimeError(
                f"internal error: no feasible value for {bucket.variable} when reading the plan"
            )
        assignment[bucket.variable] = best
    return assignment
