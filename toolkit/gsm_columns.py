"""Which candidate pairs the placement MILP needs: all of them, or a priced subset.

Small problems hand every non-dominated candidate pair to the MILP. Large ones (a
long time axis or real-valued processing times make the candidate sets long) would
give a MILP with millions of binaries, so the pairs are generated: the LP relaxation
of the MILP (see :mod:`toolkit.gsm_milp`) is solved over a growing set of pairs, with
a row for every candidate threshold so that its duals price every candidate pair,
and each round adds the pairs of each stage with the most negative reduced cost.
Prices are taken at a smoothed dual point (Wentges), which cuts the tail of the
iterations. The LP is solved by HiGHS (``scipy.optimize.linprog``): from scratch it
is much faster than SoPlex on this large, sparse, network-like matrix, and SCIP
solves the final MILP.

Exactness does not depend on pricing converging. For any edge multipliers
``mu <= 0`` the Lagrangian bound ``L(mu) = sum_stage min_pair rc(pair, mu)`` is a lower
bound on the optimum, and every solution cheaper than a known one (``upper``) uses at
each stage a pair whose reduced cost is below that stage's minimum plus
``upper - L(mu)``. So once the gap is small, all such pairs are enumerated and the
MILP over them (plus the generated ones) is exact. If they are too many within the
limits, the result is reported as not proven optimal, with the bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from toolkit.gsm_milp import Columns
from toolkit.gsm_network import TIME_TOLERANCE
from toolkit.gsm_reduction import ReducedNetwork, Stage, stage_table, table_chunks

__all__ = [
    "pareto_columns",
    "all_columns",
    "ColumnGenerationResult",
    "generate_columns",
]

log = logging.getLogger("toolkit.optimize")

_CACHE_ENTRIES = 12_000_000


def pareto_columns(reduced: ReducedNetwork, key: int) -> Columns:
    """The candidate pairs of a stage that no other pair of it dominates.

    A pair ``(SI', S')`` with ``SI' >= SI``, ``S' <= S`` and no higher cost can replace
    ``(SI, S)`` in any solution: a later inbound time still covers the suppliers and
    an earlier quote still suits the customers.
    """
    network, stage = reduced.network, reduced.stages[key]
    n_cols = stage.shape[1]
    blocks = list(table_chunks(network, stage))
    below = np.full(n_cols, np.inf)  # best over later rows, quotes <= each column
    kept_rows, kept_cols, kept_costs = [], [], []
    for start, block in reversed(blocks):
        prefix = np.minimum.accumulate(block, axis=1)
        for r in range(block.shape[0] - 1, -1, -1):
            row = block[r]
            left = np.concatenate([[np.inf], prefix[r, :-1]])
            keep = np.isfinite(row) & (row < left) & (row < below)
            cols = np.flatnonzero(keep)
            kept_rows.append(np.full(len(cols), start + r))
            kept_cols.append(cols)
            kept_costs.append(row[cols])
            below = np.minimum(below, prefix[r])
    return Columns(
        rows=np.concatenate(kept_rows).astype(np.int64),
        cols=np.concatenate(kept_cols).astype(np.int64),
        costs=np.concatenate(kept_costs),
    )


def all_columns(reduced: ReducedNetwork) -> dict[int, Columns]:
    """Every non-dominated candidate pair of every stage left in the reduced graph."""
    return {key: pareto_columns(reduced, key) for key in reduced.graph}


@dataclass(frozen=True)
class ColumnGenerationResult:
    """The pairs to hand to the MILP and what the generation proved.

    Attributes
    ----------
    columns : dict of int to Columns
        Candidate pairs per stage for the final MILP.
    complete : bool
        True when ``columns`` holds every pair that can appear in a solution cheaper
        than ``upper_bound`` (then the MILP over them is exact).
    lower_bound, upper_bound : float
        Proven bound on the optimum and best solution value found (``inf`` if none),
        both including the cost of stages solved outside the MILP.
    start : dict of int to int or None
        Index into ``columns`` of the best solution found, per stage.
    iterations : int
        LP rounds.
    stopped : str
        Why generation stopped: ``"converged"`` (no pair prices out), ``"closed"``
        (bounds met), ``"gap"``, ``"deadline"`` or ``"stalled"``.
    """

    columns: dict[int, Columns]
    complete: bool
    lower_bound: float
    upper_bound: float
    start: dict[int, int] | None
    iterations: int
    stopped: str = "converged"


class _Master:
    """The restricted LP: every threshold row present, candidate pairs added per round.

    Rows: one "choose one pair" row per stage; for each stage with customers the chain
    ``U_t = U_next + (pairs quoting t)`` over all its candidate quotes ``t > 0``; for
    each stage with suppliers the chain ``W_t = W_next + (pairs waiting in [t, next))``
    over all its suppliers' quotes; and ``U_t <= W_t`` per edge and quote. With every
    threshold present the LP duals price every candidate pair exactly. The LP is
    solved from scratch each round by HiGHS (``scipy.optimize.linprog``), which is
    fast on this sparse, network-like matrix; the final MILP is SCIP's.
    """

    def __init__(self, reduced: ReducedNetwork) -> None:
        self.reduced = reduced
        self.graph = reduced.graph
        self.keys = list(self.graph)
        self.position = {key: k for k, key in enumerate(self.keys)}
        self.quotes: dict[int, np.ndarray] = {}
        self.waits: dict[int, np.ndarray] = {}
        for key in self.keys:
            outbound = reduced.stages[key].outbound
            positive = outbound[outbound > TIME_TOLERANCE]
            if self.graph.out_degree(key) and len(positive):
                self.quotes[key] = positive
        for key in self.keys:
            suppliers = [s for s in self.graph.predecessors(key) if s in self.quotes]
            if suppliers:
                self.waits[key] = np.unique(np.concatenate([self.quotes[s] for s in suppliers]))
        # Auxiliary variables and their defining rows, numbered after the convexity rows.
        n_stages = len(self.keys)
        self.u_first: dict[int, int] = {}
        self.w_first: dict[int, int] = {}
        aux = 0
        for key, values in self.quotes.items():
            self.u_first[key] = aux
            aux += len(values)
        for key, values in self.waits.items():
            self.w_first[key] = aux
            aux += len(values)
        self.n_aux = aux
        rows, cols, vals = [], [], []
        for chains in (self.quotes, self.waits):
            first_of = self.u_first if chains is self.quotes else self.w_first
            for key, values in chains.items():
                first = first_of[key]
                k = np.arange(len(values))
                rows += [n_stages + first + k, n_stages + first + k[:-1]]
                cols += [first + k, first + k[1:]]
                vals += [np.ones(len(k)), -np.ones(len(k) - 1)]
        empty = [np.zeros(0, dtype=np.int64)]
        self.aux_eq = (
            np.concatenate(rows or empty),
            np.concatenate(cols or empty),
            np.concatenate(vals or [np.zeros(0)]),
        )
        edge_rows, edge_cols, edge_vals = [], [], []
        self.edge_index: list[tuple[int, int, np.ndarray]] = []
        count = 0
        for supplier, customer in self.graph.edges:
            if supplier not in self.quotes:
                continue
            values = self.quotes[supplier]
            at = np.searchsorted(self.waits[customer], values - TIME_TOLERANCE, side="left")
            r = count + np.arange(len(values))
            edge_rows += [r, r]
            edge_cols += [
                self.u_first[supplier] + np.arange(len(values)),
                self.w_first[customer] + at,
            ]
            edge_vals += [np.ones(len(values)), -np.ones(len(values))]
            self.edge_index.append((supplier, customer, values))
            count += len(values)
        self.n_edge_rows = count
        self.aux_ub = (
            (np.concatenate(edge_rows), np.concatenate(edge_cols), np.concatenate(edge_vals))
            if count
            else None
        )
        # Per stage: (inbound index, outbound index) -> cost, and rounds unused.
        self.pairs: dict[int, dict[tuple[int, int], float]] = {key: {} for key in self.keys}
        self.idle: dict[int, dict[tuple[int, int], int]] = {key: {} for key in self.keys}

    def add_pair(self, key: int, row: int, col: int, cost: float) -> bool:
        if (row, col) in self.pairs[key]:
            return False
        self.pairs[key][(row, col)] = float(cost)
        self.idle[key][(row, col)] = 0
        return True

    def prune(
        self,
        values: dict[int, np.ndarray],
        prices: dict[int, tuple[np.ndarray, np.ndarray]],
        pi: dict[int, float],
        keep: dict[int, tuple[int, int]] | None,
        rounds: int = 10,
    ) -> int:
        """Drop pairs unused for ``rounds`` rounds whose reduced cost is positive.

        This keeps the LP small; any pair that could matter is found again by pricing
        or by the final enumeration.
        """
        dropped = 0
        for key in self.keys:
            wait_price, quote_price = prices[key]
            for (row, col), x in zip(list(self.pairs[key]), values[key], strict=True):
                idle = 0 if x > 1e-9 else self.idle[key][(row, col)] + 1
                self.idle[key][(row, col)] = idle
                reduced = self.pairs[key][(row, col)] + wait_price[row] + quote_price[col] - pi[key]
                protected = keep is not None and keep.get(key) == (row, col)
                if idle >= rounds and reduced > 1e-6 * max(1.0, abs(pi[key])) and not protected:
                    del self.pairs[key][(row, col)]
                    del self.idle[key][(row, col)]
                    dropped += 1
        return dropped

    def solve(self) -> tuple[float, dict[int, np.ndarray], dict[int, float], dict]:
        """Solve the LP; return its value, pair values per stage, stage and edge duals."""
        n_stages = len(self.keys)
        rows, cols, vals, costs = [], [], [], []
        offset = 0
        for key in self.keys:
            pairs = np.array(list(self.pairs[key]), dtype=np.int64).reshape(-1, 2)
            stage = self.reduced.stages[key]
            n = len(pairs)
            index = offset + np.arange(n)
            rows.append(np.full(n, self.position[key]))
            cols.append(index)
            vals.append(np.ones(n))
            if key in self.quotes:
                quote = stage.outbound[pairs[:, 1]]
                at = np.searchsorted(self.quotes[key], quote - TIME_TOLERANCE, side="left")
                positive = quote > TIME_TOLERANCE
                rows.append(n_stages + self.u_first[key] + at[positive])
                cols.append(index[positive])
                vals.append(-np.ones(positive.sum()))
            if key in self.waits:
                wait = stage.inbound[pairs[:, 0]]
                at = np.searchsorted(self.waits[key], wait + TIME_TOLERANCE, side="right") - 1
                inside = at >= 0
                rows.append(n_stages + self.w_first[key] + at[inside])
                cols.append(index[inside])
                vals.append(-np.ones(inside.sum()))
            costs.append(np.fromiter(self.pairs[key].values(), dtype=float, count=n))
            offset += n
        n_pairs = offset
        aux_rows, aux_cols, aux_vals = self.aux_eq
        eq = coo_matrix(
            (
                np.concatenate([*vals, aux_vals]),
                (np.concatenate([*rows, aux_rows]), np.concatenate([*cols, aux_cols + n_pairs])),
            ),
            shape=(n_stages + self.n_aux, n_pairs + self.n_aux),
        ).tocsr()
        ub = None
        if self.aux_ub is not None:
            r, c, v = self.aux_ub
            ub = coo_matrix(
                (v, (r, c + n_pairs)), shape=(self.n_edge_rows, n_pairs + self.n_aux)
            ).tocsr()
        result = linprog(
            np.concatenate([*costs, np.zeros(self.n_aux)]),
            A_ub=ub,
            b_ub=np.zeros(self.n_edge_rows) if ub is not None else None,
            A_eq=eq,
            b_eq=np.concatenate([np.ones(n_stages), np.zeros(self.n_aux)]),
            bounds=[(0, None)] * n_pairs + [(None, None)] * self.n_aux,
            method="highs",
        )
        if result.status != 0:
            raise RuntimeError(f"the LP relaxation of the placement model failed: {result.message}")
        values, start = {}, 0
        for key in self.keys:
            n = len(self.pairs[key])
            values[key] = result.x[start : start + n]
            start += n
        duals = {key: float(result.eqlin.marginals[self.position[key]]) for key in self.keys}
        edge_duals = {}
        if ub is not None:
            # Edge rows are <= rows of a minimization: their multipliers are <= 0.
            marginals = np.minimum(result.ineqlin.marginals, 0.0)
            start = 0
            for supplier, customer, quotes in self.edge_index:
                edge_duals[(supplier, customer)] = (quotes, marginals[start : start + len(quotes)])
                start += len(quotes)
        return float(result.fun), values, duals, edge_duals

    def integral_choice(self, values: dict[int, np.ndarray]) -> dict[int, tuple[int, int]] | None:
        choice = {}
        for key, x in values.items():
            best = int(np.argmax(x))
            if x[best] < 1.0 - 1e-6:
                return None
            choice[key] = list(self.pairs[key])[best]
        return choice

    def columns(self) -> dict[int, Columns]:
        out = {}
        for key in self.keys:
            pairs = np.array(list(self.pairs[key]), dtype=np.int64).reshape(-1, 2)
            costs = np.fromiter(self.pairs[key].values(), dtype=float, count=len(pairs))
            out[key] = Columns(pairs[:, 0], pairs[:, 1], costs)
        return out


def _stage_prices(master: _Master, mu: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per stage, the price of each inbound and outbound candidate under multipliers ``mu``.

    ``mu`` has one entry per edge row (``<= 0``). A pair quoting ``S`` pays
    ``-sum mu`` over its customers' rows at quotes ``t <= S``; a pair waiting ``SI``
    earns ``sum mu`` over its suppliers' rows at quotes ``t <= SI``.
    """
    prices = {
        key: (
            np.zeros(master.reduced.stages[key].shape[0]),
            np.zeros(master.reduced.stages[key].shape[1]),
        )
        for key in master.keys
    }
    start = 0
    for supplier, customer, quotes in master.edge_index:
        heights = np.cumsum(mu[start : start + len(quotes)])
        start += len(quotes)
        outbound = master.reduced.stages[supplier].outbound
        at = np.searchsorted(quotes, outbound + TIME_TOLERANCE, side="right") - 1
        prices[supplier][1][:] -= np.where(at >= 0, heights[np.clip(at, 0, None)], 0.0)
        inbound = master.reduced.stages[customer].inbound
        at = np.searchsorted(quotes, inbound + TIME_TOLERANCE, side="right") - 1
        prices[customer][0][:] += np.where(at >= 0, heights[np.clip(at, 0, None)], 0.0)
    return prices


class _Tables:
    """Cost tables, cached while they fit in the memory budget."""

    def __init__(self, reduced: ReducedNetwork) -> None:
        self.reduced = reduced
        self.cache: dict[int, np.ndarray] = {}
        budget = _CACHE_ENTRIES
        for key in sorted(reduced.graph, key=lambda k: np.prod(reduced.stages[k].shape)):
            size = int(np.prod(reduced.stages[key].shape))
            if size <= budget:
                self.cache[key] = stage_table(reduced.network, reduced.stages[key])
                budget -= size

    def blocks(self, key: int):
        if key in self.cache:
            yield 0, self.cache[key]
        else:
            yield from table_chunks(self.reduced.network, self.reduced.stages[key])


def _initial_choice(reduced: ReducedNetwork, tables: _Tables) -> dict[int, tuple[int, int]]:
    """A feasible pair per stage: the earliest inbound time, then the earliest quote."""
    import networkx as nx

    choice: dict[int, tuple[int, int]] = {}
    for key in nx.topological_sort(reduced.graph):
        stage: Stage = reduced.stages[key]
        earliest = max(
            (
                float(reduced.stages[p].outbound[choice[p][1]])
                for p in reduced.graph.predecessors(key)
            ),
            default=-np.inf,
        )
        first_row = int(np.searchsorted(stage.inbound, earliest - TIME_TOLERANCE, side="left"))
        found = None
        for start, block in tables.blocks(key):
            for r in range(max(0, first_row - start), block.shape[0]):
                finite = np.flatnonzero(np.isfinite(block[r]))
                if len(finite):
                    found = (start + r, int(finite[0]))
                    break
            if found:
                break
        if found is None:
            raise RuntimeError(f"internal error: stage {key} has no feasible candidate pair")
        choice[key] = found
    return choice


def generate_columns(
    reduced: ReducedNetwork,
    *,
    constant: float = 0.0,
    deadline: float | None = None,
    gap: float = 0.0,
    pairs_per_round: int = 20,
    smoothing: float = 0.7,
    max_included: int = 50_000,
    prune_above: int = 20_000,
    restricted_solve=None,
) -> ColumnGenerationResult:
    """Generate the candidate pairs of the placement MILP by pricing its LP relaxation.

    Parameters
    ----------
    reduced : ReducedNetwork
    constant : float
        Cost of the stages solved outside the MILP (added to the bounds).
    deadline : float, optional
        ``time.monotonic()`` value at which to stop generating.
    gap : float
        Stop once the relative gap between the bounds is at most this.
    pairs_per_round : int
        Most pairs added per stage and round.
    smoothing : float
        Weight of the best dual point in the pricing point (0 = plain LP duals).
    max_included : int
        Most pairs the final enumeration may add.
    prune_above : int
        Above this many generated pairs, pairs unused for ten rounds and with positive
        reduced cost are dropped from the LP.
    restricted_solve : callable, optional
        ``restricted_solve(columns) -> (value, start) or None``: a quick MILP over the
        generated pairs, used for an upper bound when the LP stays fractional.

    Returns
    -------
    ColumnGenerationResult
    """
    started = time.monotonic()
    master = _Master(reduced)
    tables = _Tables(reduced)
    first_choice = _initial_choice(reduced, tables)
    first_value = constant
    for key, (row, col) in first_choice.items():
        cost = _pair_costs(tables, key, [(row, col)])[0]
        master.add_pair(key, row, col, cost)
        first_value += cost

    best_bound, center, center_minima = -np.inf, None, {}
    upper, start = np.inf, None
    iterations, stalled = 0, 0
    while True:
        iterations += 1
        lp_value, values, pi, edge_duals = master.solve()
        lp_value += constant
        choice = master.integral_choice(values)
        if choice is not None and lp_value < upper:
            upper, start = lp_value, choice
        mu_lp = np.concatenate(
            [edge_duals[(s, c)][1] for s, c, _ in master.edge_index] or [np.zeros(0)]
        )
        mu_s = mu_lp if center is None else smoothing * center + (1 - smoothing) * mu_lp
        if sum(len(p) for p in master.pairs.values()) > prune_above:
            master.prune(values, _stage_prices(master, mu_lp), pi, start)
        added, bound_s, minima_s = _price_round(master, tables, mu_s, mu_lp, pi, pairs_per_round)
        bound_s += constant
        if bound_s > best_bound:
            best_bound, center, center_minima = bound_s, mu_s, minima_s
            stalled = 0
        else:
            stalled += 1
        if not added and mu_s is not mu_lp:
            # Mis-pricing at the smoothed point: price at the LP duals themselves.
            added, bound_lp, minima_lp = _price_round(
                master, tables, mu_lp, mu_lp, pi, pairs_per_round
            )
            bound_lp += constant
            if bound_lp > best_bound:
                best_bound, center, center_minima = bound_lp, mu_lp, minima_lp
        log.debug(
            "column generation round %d: LP %.8g, bound %.8g, best %.8g, pairs %d, added %d",
            iterations,
            lp_value,
            best_bound,
            upper,
            sum(len(p) for p in master.pairs.values()),
            added,
        )
        if not added:
            best_bound = max(best_bound, lp_value)
        if upper - best_bound <= 1e-9 * max(1.0, abs(upper)):
            stopped = "closed"
            break
        if not added:
            stopped = "converged"
            break
        if gap > 0 and upper < np.inf and upper - best_bound <= gap * abs(upper):
            stopped = "gap"
            break
        if deadline is not None and time.monotonic() > deadline:
            stopped = "deadline"
            break
        if stalled >= 30 and upper - best_bound <= 1e-3 * abs(upper):
            # The bound tails off; the final enumeration closes a gap this small.
            stopped = "stalled"
            break
    if upper == np.inf and restricted_solve is not None:
        columns = master.columns()
        found = restricted_solve(columns)
        if found is not None:
            upper = found[0]
            start = {
                key: (int(columns[key].rows[i]), int(columns[key].cols[i]))
                for key, i in found[1].items()
            }
    if start is None or first_value < upper:
        # The first pairs form a feasible solution.
        start, upper = first_choice, first_value
    for key, (row, col) in start.items():
        master.add_pair(key, row, col, _pair_costs(tables, key, [(row, col)])[0])
    complete = upper - best_bound <= 1e-9 * max(1.0, abs(upper))
    within_gap = gap > 0 and upper - best_bound <= gap * abs(upper)
    # Past the deadline with a wide gap, the enumeration would only overflow: skip it.
    hopeless = stopped == "deadline" and upper - best_bound > 1e-3 * abs(upper)
    if not complete and not within_gap and center is not None and not hopeless:
        complete = _include_near_optimal(
            master, tables, center, center_minima, upper - best_bound, max_included
        )
    columns = master.columns()
    log.info(
        "column generation: %d rounds, %.1f s, bound %.8g, best %.8g, %d pairs, complete=%s",
        iterations,
        time.monotonic() - started,
        best_bound,
        upper,
        sum(len(c) for c in columns.values()),
        complete,
    )
    index = {key: {pair: i for i, pair in enumerate(master.pairs[key])} for key in master.keys}
    start_index = {key: index[key][pair] for key, pair in start.items()}
    return ColumnGenerationResult(
        columns, complete, best_bound, upper, start_index, iterations, stopped
    )


def _pair_costs(tables: _Tables, key: int, pairs: list[tuple[int, int]]) -> list[float]:
    stage = tables.reduced.stages[key]
    out = []
    for row, col in pairs:
        block = stage_table(tables.reduced.network, stage, slice(row, row + 1))
        out.append(float(block[0, col]))
    return out


def _price_round(
    master: _Master,
    tables: _Tables,
    mu: np.ndarray,
    mu_lp: np.ndarray,
    pi: dict[int, float],
    per_stage: int,
) -> tuple[int, float, dict[int, float]]:
    """Price every pair at ``mu``; add those with negative reduced cost at the LP duals.

    Returns the number added, the Lagrangian bound ``sum_stage min rc(mu)`` and the
    per-stage minima.
    """
    prices = _stage_prices(master, mu)
    prices_lp = prices if mu is mu_lp else _stage_prices(master, mu_lp)
    added, bound, minima = 0, 0.0, {}
    for key in master.keys:
        wait_price, quote_price = prices[key]
        wait_lp, quote_lp = prices_lp[key]
        tolerance = 1e-9 * max(1.0, abs(pi[key]))
        best = np.inf
        picks: list[tuple[float, int, int, float]] = []
        for start, block in tables.blocks(key):
            rows = slice(start, start + block.shape[0])
            reduced_cost = block + wait_price[rows, None] + quote_price[None, :]
            best = min(best, float(reduced_cost.min()))
            at_lp = (
                reduced_cost
                + (wait_lp - wait_price)[rows, None]
                + (quote_lp - quote_price)[None, :]
                - pi[key]
            )
            flat = np.flatnonzero(at_lp.ravel() < -tolerance)
            if len(flat) > per_stage:
                flat = flat[np.argpartition(reduced_cost.ravel()[flat], per_stage - 1)[:per_stage]]
            for index in flat:
                r, c = divmod(int(index), block.shape[1])
                picks.append((float(reduced_cost[r, c]), start + r, c, float(block[r, c])))
        minima[key] = best
        bound += best
        picks.sort()
        for _, r, c, cost in picks[:per_stage]:
            added += master.add_pair(key, r, c, cost)
    return added, bound, minima


def _include_near_optimal(
    master: _Master,
    tables: _Tables,
    center: np.ndarray,
    minima: dict[int, float],
    slack: float,
    max_included: int,
) -> bool:
    """Add every pair whose reduced cost at ``center`` is within ``slack`` of its stage's
    minimum; return whether all of them fit within ``max_included``."""
    prices = _stage_prices(master, center)
    margin = slack + 1e-9 * max(1.0, abs(slack)) + 1e-7
    found: list[tuple[float, int, int, int, float]] = []
    overflow = False
    for key in master.keys:
        wait_price, quote_price = prices[key]
        for start, block in tables.blocks(key):
            rows = slice(start, start + block.shape[0])
            reduced_cost = block + wait_price[rows, None] + quote_price[None, :]
            index = np.flatnonzero(reduced_cost.ravel() < minima[key] + margin)
            if len(found) + len(index) > 4 * max_included:
                overflow = True
                index = index[np.argsort(reduced_cost.ravel()[index])[: 4 * max_included]]
            for i in index:
                r, c = divmod(int(i), block.shape[1])
                if (start + r, c) not in master.pairs[key]:
                    found.append(
                        (
                            float(reduced_cost[r, c]) - minima[key],
                            key,
                            start + r,
                            c,
                            float(block[r, c]),
                        )
                    )
    complete = not overflow and len(found) <= max_included
    found.sort()
    for _, key, r, c, cost in found[:max_included]:
        master.add_pair(key, r, c, cost)
    return complete
