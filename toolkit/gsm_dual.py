"""Placement bounds by dual coordinate ascent, and the few pairs an optimum can use.

The placement problem left after the reductions (:mod:`toolkit.gsm_reduction`) is a
min-sum problem over candidate service times: each stage's cost table is a factor
between its inbound time ``SI`` and outbound time ``S``, and each edge a factor that
is 0 when ``SI_customer >= S_supplier`` and infeasible otherwise. MPLP (Globerson and
Jaakkola 2008) ascends the dual of its LP relaxation (the relaxation the MILP of
:mod:`toolkit.gsm_milp` solves) one factor at a time. Each step moves cost between a
factor and its two variables: the *reparametrized* costs ``b`` still add up to the
true cost of every choice of times, and

    L = sum over variables of min b_v + sum over factors of min b_f

is a lower bound on the optimum that never falls from one step to the next.

Exactness does not depend on the ascent converging. Given a plan of cost ``U``, a
plan cheaper than ``U`` keeps every term of that sum within ``U - L`` of the term's
minimum. So the candidate pairs of a stage that can still appear in a better plan
are those whose factor and variable terms together stay within ``U - L``; once the
bound is close, they are few, and the MILP over them is exact.

Infeasible pairs are priced ``_INFEASIBLE`` (a large finite cost) instead of
infinity: that only lowers costs, so the bound stays valid.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from toolkit.gsm_milp import (
    Columns,
    build_placement_model,
    read_choice,
    solve_placement_model,
)
from toolkit.gsm_network import TIME_TOLERANCE
from toolkit.gsm_reduction import ReducedNetwork, stage_table

__all__ = ["DualAscentResult", "dual_ascent"]

log = logging.getLogger("toolkit.optimize")

_INFEASIBLE = 1e13

# A variable is ("in", stage) or ("out", stage): the stage's inbound or outbound time.
Variable = tuple[str, int]


@dataclass(frozen=True)
class DualAscentResult:
    """What the dual ascent proved and the candidate pairs the MILP needs.

    Attributes
    ----------
    columns : dict of int to Columns
        Per stage, every candidate pair that a plan cheaper than ``upper_bound`` could
        use (when ``complete``), the best plan's pair always among them.
    complete : bool
        True when ``columns`` holds all such pairs (the MILP over them is exact).
    lower_bound, upper_bound : float
        Proven bound on the optimum and the cost of the best plan found, both with
        the cost of the stages solved outside the MILP.
    start : dict of int to int
        Index into ``columns`` of the best plan's pair, per stage.
    sweeps : int
        Passes over all factors.
    stopped : str
        ``"closed"`` (bounds met), ``"few pairs"`` (the near-optimal pairs fit),
        ``"stalled"``, ``"deadline"`` or ``"sweeps"``.
    """

    columns: dict[int, Columns]
    complete: bool
    lower_bound: float
    upper_bound: float
    start: dict[int, int]
    sweeps: int
    stopped: str

    @property
    def best_plan(self) -> dict[int, tuple[int, int]]:
        """The best plan found: each stage's (inbound, outbound) candidate index."""
        return {
            key: (int(self.columns[key].rows[i]), int(self.columns[key].cols[i]))
            for key, i in self.start.items()
        }


class _Factors:
    """The factors, their messages and the variables' reparametrized costs."""

    def __init__(
        self,
        reduced: ReducedNetwork,
        values: dict[Variable, np.ndarray] | None = None,
        tables: dict[int, np.ndarray] | None = None,
    ) -> None:
        """The candidates' values and cost tables, or the ``values`` and ``tables`` given
        (a relaxation over other labels, :mod:`toolkit.gsm_refine`)."""
        self.reduced = reduced
        self.values: dict[Variable, np.ndarray] = {}
        self.tables: dict[int, np.ndarray] = {}
        for key in reduced.graph:
            stage = reduced.stages[key]
            if values is not None and tables is not None:
                self.values[("in", key)] = values[("in", key)]
                self.values[("out", key)] = values[("out", key)]
                self.tables[key] = np.minimum(tables[key], _INFEASIBLE)
                continue
            self.values[("in", key)] = np.asarray(stage.inbound, dtype=float)
            self.values[("out", key)] = np.asarray(stage.outbound, dtype=float)
            self.tables[key] = np.minimum(stage_table(reduced.network, stage), _INFEASIBLE)
        # Edge factors: for each inbound candidate of the customer the last supplier
        # quote it covers, and for each quote the first inbound candidate covering it.
        self.edges: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        for supplier, customer in reduced.graph.edges:
            waits = self.values[("in", customer)]
            quotes = self.values[("out", supplier)]
            last = np.searchsorted(quotes, waits + TIME_TOLERANCE, side="right") - 1
            first = np.searchsorted(waits, quotes - TIME_TOLERANCE, side="left")
            self.edges.append((supplier, customer, last, first))
        self.belief = {v: np.zeros(len(x)) for v, x in self.values.items()}
        # Messages from each factor to its (inbound, outbound) or (customer's inbound,
        # supplier's outbound) variables.
        self.stage_message = {
            key: (np.zeros(t.shape[0]), np.zeros(t.shape[1])) for key, t in self.tables.items()
        }
        self.edge_message = [
            (np.zeros(len(last)), np.zeros(len(first))) for _, _, last, first in self.edges
        ]

    def _update(self, a: Variable, b: Variable, messages, best_a, best_b) -> tuple:
        """One MPLP step on a factor between ``a`` and ``b``; returns its new messages."""
        old_a, old_b = messages
        rest_a = self.belief[a] - old_a
        rest_b = self.belief[b] - old_b
        reach_a, reach_b = best_a(rest_b), best_b(rest_a)
        new_a = np.minimum(0.5 * (reach_a - rest_a), _INFEASIBLE)
        new_b = np.minimum(0.5 * (reach_b - rest_b), _INFEASIBLE)
        self.belief[a] = np.minimum(rest_a + new_a, _INFEASIBLE)
        self.belief[b] = np.minimum(rest_b + new_b, _INFEASIBLE)
        return new_a, new_b

    def inherit(self, coarse: _Factors, parent: dict[Variable, np.ndarray]) -> None:
        """Take the messages of ``coarse``, whose label ``parent[v][k]`` holds label ``k``
        of variable ``v`` here. Any messages give a valid bound; these start it where
        the coarse ascent left off."""
        for key in self.tables:
            to_in, to_out = coarse.stage_message[key]
            self.stage_message[key] = (to_in[parent[("in", key)]], to_out[parent[("out", key)]])
        for index, (supplier, customer, _, _) in enumerate(self.edges):
            to_wait, to_quote = coarse.edge_message[index]
            self.edge_message[index] = (
                to_wait[parent[("in", customer)]],
                to_quote[parent[("out", supplier)]],
            )
        for variable in self.belief:
            self.belief[variable] = coarse.belief[variable][parent[variable]]

    def sweep(self, reverse: bool) -> None:
        """One MPLP step on every factor (stages, then edges; backwards when ``reverse``)."""
        steps = [("stage", key) for key in self.tables] + [
            ("edge", k) for k in range(len(self.edges))
        ]
        for kind, index in reversed(steps) if reverse else steps:
            if kind == "stage":
                table = self.tables[index]
                self.stage_message[index] = self._update(
                    ("in", index),
                    ("out", index),
                    self.stage_message[index],
                    lambda rest_b, t=table: (t + rest_b[None, :]).min(axis=1),
                    lambda rest_a, t=table: (t + rest_a[:, None]).min(axis=0),
                )
            else:
                supplier, customer, last, first = self.edges[index]
                self.edge_message[index] = self._update(
                    ("in", customer),
                    ("out", supplier),
                    self.edge_message[index],
                    lambda rest_b, last=last: _covered_minimum(rest_b, last),
                    lambda rest_a, first=first: _covering_minimum(rest_a, first),
                )

    def factor(self, key: int, rows: slice = slice(None)) -> np.ndarray:
        """A stage's reparametrized cost table (its rows ``rows``)."""
        to_in, to_out = self.stage_message[key]
        return self.tables[key][rows] - to_in[rows, None] - to_out[None, :]

    def first_covering_row(self, key: int, choice: dict[int, tuple[int, int]]) -> int:
        """The first inbound candidate of ``key`` covering its suppliers' chosen quotes."""
        earliest = max(
            (
                float(self.values[("out", s)][choice[s][1]])
                for s in self.reduced.graph.predecessors(key)
            ),
            default=-np.inf,
        )
        waits = self.values[("in", key)]
        return int(np.searchsorted(waits, earliest - TIME_TOLERANCE, side="left"))

    def stage_slack(self, key: int) -> np.ndarray:
        """Each pair's reparametrized stage and variable costs above their minima."""
        factor = self.factor(key)
        wait = self.belief[("in", key)]
        quote = self.belief[("out", key)]
        return factor - factor.min() + (wait - wait.min())[:, None] + (quote - quote.min())[None, :]

    def bound(self) -> float:
        """The dual bound ``L`` (without the stages solved outside)."""
        total = sum(float(b.min()) for b in self.belief.values())
        total += sum(float(self.factor(key).min()) for key in self.tables)
        for (_, _, last, _), (to_wait, to_quote) in zip(self.edges, self.edge_message, strict=True):
            covered = _covered_minimum(-to_quote, last)
            total += float((covered - to_wait).min())
        return total

    def decode(self) -> tuple[dict[int, tuple[int, int]], float]:
        """A plan from the reparametrized costs, then improved by :meth:`improve`:
        stage by stage downstream, the pair of least reparametrized cost that covers
        the suppliers' quotes."""
        choice: dict[int, tuple[int, int]] = {}
        for key in nx.topological_sort(self.reduced.graph):
            first = self.first_covering_row(key, choice)
            rows = slice(first, None)
            score = (
                self.factor(key, rows)
                + self.belief[("in", key)][rows, None]
                + self.belief[("out", key)][None, :]
            )
            score = np.where(self.tables[key][rows] >= _INFEASIBLE, np.inf, score)
            row, col = np.unravel_index(int(np.argmin(score)), score.shape)
            choice[key] = (first + int(row), int(col))
        return self.improve(choice)

    def feasible(self, choice: dict[int, tuple[int, int]]) -> bool:
        """Whether ``choice`` prices every stage finitely and covers every edge."""
        if set(choice) != set(self.tables):
            return False
        if any(self.tables[key][pair] >= _INFEASIBLE for key, pair in choice.items()):
            return False
        return all(
            self.values[("out", a)][choice[a][1]]
            <= self.values[("in", b)][choice[b][0]] + TIME_TOLERANCE
            for a, b in self.reduced.graph.edges
        )

    def improve(
        self, choice: dict[int, tuple[int, int]], passes: int = 5
    ) -> tuple[dict[int, tuple[int, int]], float]:
        """Local search: each stage in turn takes its cheapest pair that still covers
        its suppliers' quotes and is covered by its customers' inbound times."""
        graph = self.reduced.graph
        for _ in range(passes):
            changed = False
            for key in nx.topological_sort(graph):
                latest = min(
                    (float(self.values[("in", c)][choice[c][0]]) for c in graph.successors(key)),
                    default=np.inf,
                )
                first = self.first_covering_row(key, choice)
                quotes = self.values[("out", key)]
                stop = int(np.searchsorted(quotes, latest + TIME_TOLERANCE, side="right"))
                window = self.tables[key][first:, :stop]
                row, col = np.unravel_index(int(np.argmin(window)), window.shape)
                better = (first + int(row), int(col))
                if window[row, col] < self.tables[key][choice[key]] - 1e-12:
                    choice[key], changed = better, True
            if not changed:
                break
        cost = sum(float(self.tables[key][pair]) for key, pair in choice.items())
        return choice, cost if cost < _INFEASIBLE else np.inf


def _covered_minimum(values: np.ndarray, last: np.ndarray) -> np.ndarray:
    """For each entry of ``last``: the least of ``values[: last + 1]`` (infeasible if < 0)."""
    running = np.minimum.accumulate(values)
    return np.where(last >= 0, running[np.clip(last, 0, None)], _INFEASIBLE)


def _covering_minimum(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each entry of ``first``: the least of ``values[first:]`` (infeasible past the end)."""
    running = np.minimum.accumulate(values[::-1])[::-1]
    inside = first < len(values)
    return np.where(inside, running[np.clip(first, None, len(values) - 1)], _INFEASIBLE)


def _near_optimal_columns(
    factors: _Factors, slack: float, start: dict[int, tuple[int, int]], max_pairs: int
) -> tuple[dict[int, Columns], dict[int, int]] | None:
    """Every pair within ``slack`` per stage, or None when they are more than ``max_pairs``."""
    margin = slack + 1e-9 * max(1.0, abs(slack)) + 1e-7
    columns, start_index, total = {}, {}, 0
    for key in factors.tables:
        rows, cols = np.nonzero(factors.stage_slack(key) <= margin)
        total += len(rows)
        if total > max_pairs:
            return None
        row, col = start[key]
        found = np.flatnonzero((rows == row) & (cols == col))
        if not len(found):
            rows, cols = np.append(rows, row), np.append(cols, col)
            found = [len(rows) - 1]
        columns[key] = Columns(rows, cols, factors.tables[key][rows, cols])
        start_index[key] = int(found[0])
    return columns, start_index


def _slack_threshold(factors: _Factors, max_pairs: int) -> float:
    """The largest slack within which all stages together keep at most ``max_pairs``."""
    smallest = []
    for key in factors.tables:
        slack = factors.stage_slack(key).ravel()
        if len(slack) > max_pairs:
            slack = np.partition(slack, max_pairs)[: max_pairs + 1]
        smallest.append(slack)
    pooled = np.concatenate(smallest)
    if len(pooled) <= max_pairs:
        return float(pooled.max())
    # Just below the first value too many, clear of _near_optimal_columns' margin.
    first_out = float(np.partition(pooled, max_pairs)[max_pairs])
    return first_out - 2e-9 * max(1.0, abs(first_out)) - 2e-7


def _restricted_plan(
    factors: _Factors,
    columns: dict[int, Columns],
    start: dict[int, int],
    time_limit: float,
) -> tuple[dict[int, tuple[int, int]], float]:
    """The best plan over the given pairs (SCIP, within ``time_limit`` seconds)."""
    model, handles = build_placement_model(factors.reduced, columns)
    outcome = solve_placement_model(model, handles, time_limit=time_limit, start=start)
    chosen = read_choice(model, handles) if outcome.has_solution else start
    choice = {
        key: (int(columns[key].rows[i]), int(columns[key].cols[i])) for key, i in chosen.items()
    }
    return choice, sum(float(factors.tables[key][pair]) for key, pair in choice.items())


def _plan_columns(
    factors: _Factors, choice: dict[int, tuple[int, int]]
) -> tuple[dict[int, Columns], dict[int, int]]:
    """One pair per stage: the plan's."""
    columns = {
        key: Columns(np.array([row]), np.array([col]), factors.tables[key][[row], [col]])
        for key, (row, col) in choice.items()
    }
    return columns, dict.fromkeys(choice, 0)


def dual_ascent(
    reduced: ReducedNetwork,
    *,
    constant: float = 0.0,
    deadline: float | None = None,
    max_sweeps: int = 100_000,
    max_pairs: int = 50_000,
    check_every: int = 10,
    start: dict[int, tuple[int, int]] | None = None,
) -> DualAscentResult:
    """Bound the placement optimum by MPLP and keep the pairs a better plan could use.

    Parameters
    ----------
    reduced : ReducedNetwork
    constant : float
        Cost of the stages solved outside (added to both bounds).
    deadline : float, optional
        ``time.monotonic()`` value at which to stop.
    max_sweeps : int
        Most passes over all factors.
    max_pairs : int
        Stop as soon as the pairs that could still improve the best plan are at most
        this many (the MILP then settles it exactly).
    check_every : int
        Sweeps between looking for a better plan and counting those pairs.
    start : dict of int to (int, int), optional
        A plan from elsewhere (each remaining stage's inbound and outbound candidate
        index), improved by the local search and kept if it beats the first decoded.

    Returns
    -------
    DualAscentResult
    """
    started = time.monotonic()
    factors = _Factors(reduced)
    best_choice, best_cost = factors.decode()
    if start is not None and factors.feasible(start):
        choice, cost = factors.improve(dict(start))
        if cost < best_cost:
            best_choice, best_cost = choice, cost
    elif start is not None:
        # A start breaking a rule would look cheap and make the pair filter unsound.
        log.warning("dual ascent: the start plan breaks a constraint; ignored")
    lower, previous, sweeps, stopped = -np.inf, -np.inf, 0, "sweeps"
    found = None
    while sweeps < max_sweeps:
        factors.sweep(reverse=bool(sweeps % 2))
        sweeps += 1
        if sweeps % check_every and sweeps < max_sweeps:
            continue
        # The slacks prove only against the current reparametrization's own bound
        # (in floating point it can dip below an earlier one).
        current = factors.bound()
        lower = max(lower, current)
        choice, cost = factors.decode()
        if cost < best_cost:
            best_choice, best_cost = choice, cost
        slack = best_cost - current
        log.debug(
            "dual ascent sweep %d: bound %.8g, best %.8g", sweeps, lower + constant, best_cost
        )
        # Without a plan yet (infinite cost) nothing is closed, and the stall test
        # measures the bound against itself.
        scale = abs(best_cost) if np.isfinite(best_cost) else max(1.0, abs(lower))
        if np.isfinite(best_cost) and slack <= 1e-9 * max(1.0, scale):
            stopped = "closed"
            break
        found = _near_optimal_columns(factors, slack, best_choice, max_pairs)
        if found is not None:
            stopped = "few pairs"
            break
        stalling = lower - previous <= 1e-7 * scale
        if stalling:
            # The bound has settled: a better plan from the MILP over the pairs of
            # least slack. If it lies within that slack of the bound, those pairs
            # hold every better plan.
            within = _slack_threshold(factors, max_pairs)
            subset = _near_optimal_columns(factors, within, best_choice, max_pairs)
            if subset is not None:
                remaining = 60.0 if deadline is None else deadline - time.monotonic()
                limit = max(1.0, min(30.0, 0.5 * remaining))
                choice, cost = _restricted_plan(factors, *subset, limit)
                if cost < best_cost:
                    best_choice, best_cost = choice, cost
                found = _near_optimal_columns(factors, best_cost - current, best_choice, max_pairs)
                if found is not None:
                    stopped = "few pairs"
                    break
        if stalling:
            stopped = "stalled"
            break
        previous = lower
        if deadline is not None and time.monotonic() > deadline:
            stopped = "deadline"
            break
    if found is None:
        # Closed: the best plan is optimal. Otherwise it is all there is to hand on.
        found = _plan_columns(factors, best_choice)
    columns, start = found
    complete = stopped in ("closed", "few pairs")
    log.info(
        "dual ascent: %d sweeps, %.1f s, bound %.8g, best %.8g, %s",
        sweeps,
        time.monotonic() - started,
        lower + constant,
        best_cost + constant,
        stopped,
    )
    return DualAscentResult(
        columns=columns,
        complete=complete,
        lower_bound=lower + constant,
        upper_bound=best_cost + constant,
        start=start,
        sweeps=sweeps,
        stopped=stopped,
    )
