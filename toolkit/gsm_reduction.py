"""Exact reductions of a guaranteed-service network before the MILP.

Each node becomes a *stage*: a table of costs over pairs (inbound service time
``SI``, outbound service time ``S``) drawn from the node's candidate values. Three
rules shrink the network without losing optimality; each records how to recover
the removed nodes' service times from the stage that absorbed them:

fold a leaf
    A node ``k`` with a single neighbour ``j`` (a spur of the network) is optimized
    for every candidate value of the service time it shares with ``j``. If ``k`` is a
    customer of ``j`` it only needs ``SI_k >= S_j``, so its best cost is a function of
    ``S_j``; if it is a supplier, of ``SI_j``. Repeated, this is the Graves-Willems
    dynamic program on every tree-shaped part of the network.
collapse an end
    A stage without suppliers (customers) left only matters through its outbound
    (inbound) time; its table shrinks to the best cost per value of that time.
merge twins
    Stages without suppliers that serve exactly the same customers are one
    constraint on those customers (their inbound time covers the largest quote),
    so they merge into one stage whose cost at quote ``s`` adds each twin's best
    cost at a quote ``<= s``; likewise end stages with the same suppliers.

What is left (the 2-core of the network after merging) goes to the MILP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from toolkit.gsm_candidates import ServiceTimeCandidates
from toolkit.gsm_network import TIME_TOLERANCE, GsmNetwork

__all__ = [
    "Stage",
    "ReducedNetwork",
    "reduce_network",
    "stage_table",
    "table_chunks",
    "expand_choice",
]

# Largest number of table entries held in memory at once.
_CHUNK_ENTRIES = 2_000_000
# Inbound candidates per block when column minima are found without the whole table.
_BLOCK_ROWS = 64


@dataclass
class _Absorbed:
    """A stage folded or merged into another, with its best choice per shared value.

    ``pick_row[k]`` and ``pick_col[k]`` are the absorbed stage's inbound and outbound
    candidate indices when the absorbing stage uses its ``k``-th outbound value
    (``side == "outbound"``) or ``k``-th inbound value (``side == "inbound"``).
    """

    stage: int
    side: str
    pick_row: np.ndarray
    pick_col: np.ndarray


@dataclass
class Stage:
    """One node of the reduced network: a cost table over (SI, S) candidate pairs.

    The cost of the pair ``(inbound[r], outbound[c])`` is the original node's safety
    stock cost (when ``origin`` is a node position) plus ``inbound_cost[r]`` plus
    ``outbound_cost[c]`` (the best costs of the stages absorbed on either side);
    ``inf`` marks infeasible pairs.
    """

    inbound: np.ndarray
    outbound: np.ndarray
    origin: int | None
    inbound_cost: np.ndarray
    outbound_cost: np.ndarray
    absorbed: list[_Absorbed] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        """(number of inbound candidates, number of outbound candidates)."""
        return len(self.inbound), len(self.outbound)


@dataclass
class ReducedNetwork:
    """The network left after the exact reductions.

    Attributes
    ----------
    network : GsmNetwork
        The original problem.
    stages : dict of int to Stage
        Every stage ever made (absorbed ones included, for expanding a solution).
    graph : networkx.DiGraph
        The remaining stages (ids of ``stages``) and the edges between them.
    fixed : dict of int to (int, int)
        Stages left without any neighbour, solved on their own: their best pair.
    """

    network: GsmNetwork
    stages: dict[int, Stage]
    graph: nx.DiGraph
    fixed: dict[int, tuple[int, int]]


def stage_table(network: GsmNetwork, stage: Stage, rows: slice | None = None) -> np.ndarray:
    """Cost table of ``stage`` (all rows, or the given slice of inbound candidates)."""
    rows = rows if rows is not None else slice(0, len(stage.inbound))
    inbound = stage.inbound[rows]
    table = np.zeros((len(inbound), len(stage.outbound)))
    j = stage.origin
    if j is not None:
        ready = inbound[:, None] + network.processing_time[j]
        outbound = stage.outbound[None, :]
        replenishment = ready - outbound
        feasible = replenishment >= -TIME_TOLERANCE
        if network.may_not_hold[j]:
            feasible &= replenishment <= TIME_TOLERANCE
        replenishment = np.where(replenishment > TIME_TOLERANCE, replenishment, 0.0)
        table = np.where(feasible, network.cost_coefficient[j] * np.sqrt(replenishment), np.inf)
    return table + stage.inbound_cost[rows, None] + stage.outbound_cost[None, :]


def table_chunks(network: GsmNetwork, stage: Stage) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, table rows) blocks of at most about two million entries."""
    n_rows, n_cols = stage.shape
    step = max(1, _CHUNK_ENTRIES // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield start, stage_table(network, stage, slice(start, min(n_rows, start + step)))


def _row_minima(network: GsmNetwork, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
    """Best cost per inbound candidate and the outbound index attaining it."""
    values, args = [], []
    for _, block in table_chunks(network, stage):
        args.append(np.argmin(block, axis=1))
        values.append(block[np.arange(len(block)), args[-1]])
    return np.concatenate(values), np.concatenate(args)


def _column_minima(network: GsmNetwork, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
    """Best cost per outbound candidate and the inbound index attaining it."""
    j = stage.origin
    if (
        j is not None
        and not network.may_not_hold[j]
        and stage.shape[0] * stage.shape[1] > _CHUNK_ENTRIES
    ):
        return _pruned_column_minima(network, stage)
    best = np.full(len(stage.outbound), np.inf)
    arg = np.zeros(len(stage.outbound), dtype=np.int64)
    for start, block in table_chunks(network, stage):
        rows = np.argmin(block, axis=0)
        values = block[rows, np.arange(block.shape[1])]
        better = values < best
        best[better] = values[better]
        arg[better] = rows[better] + start
    return best, arg


def _table_entries(
    network: GsmNetwork, stage: Stage, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """``stage_table(network, stage)[rows, cols]``, entry by entry, by the same formula."""
    j = stage.origin
    replenishment = stage.inbound[rows] + network.processing_time[j] - stage.outbound[cols]
    feasible = replenishment >= -TIME_TOLERANCE
    replenishment = np.where(replenishment > TIME_TOLERANCE, replenishment, 0.0)
    table = np.where(feasible, network.cost_coefficient[j] * np.sqrt(replenishment), np.inf)
    return table + stage.inbound_cost[rows] + stage.outbound_cost[cols]


def _best_in_blocks(
    network: GsmNetwork,
    stage: Stage,
    starts: np.ndarray,
    stops: np.ndarray,
    blocks: np.ndarray,
    cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each (row block, column) pair: the least entry and its first row."""
    width = int((stops - starts).max())
    values, rows = np.empty(len(blocks)), np.empty(len(blocks), dtype=np.int64)
    step = max(1, _CHUNK_ENTRIES // width)
    for first in range(0, len(blocks), step):
        part = slice(first, first + step)
        grid = starts[blocks[part], None] + np.arange(width)[None, :]
        inside = grid < stops[blocks[part], None]
        grid = np.minimum(grid, len(stage.inbound) - 1)
        entries = _table_entries(network, stage, grid, cols[part, None])
        entries = np.where(inside, entries, np.inf)
        best = np.argmin(entries, axis=1)
        values[part] = entries[np.arange(len(best)), best]
        rows[part] = grid[np.arange(len(best)), best]
    return values, rows


def _pruned_column_minima(network: GsmNetwork, stage: Stage) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_column_minima` without building the whole table (the same values and rows).

    The inbound candidates are cut into blocks. A block's entries in a column are at
    least the cost at its smallest inbound time plus its least inbound cost; the
    block with the least such bound is evaluated first, and then only the blocks
    whose bound does not exceed what it found. The square root makes far blocks
    dear, so a column needs few.
    """
    n_rows, n_cols = stage.shape
    j = stage.origin
    starts = np.arange(0, n_rows, _BLOCK_ROWS)
    stops = np.minimum(starts + _BLOCK_ROWS, n_rows)
    cheapest = np.minimum.reduceat(stage.inbound_cost, starts)
    ready = stage.inbound + network.processing_time[j]
    coefficient = network.cost_coefficient[j]
    best = np.full(n_cols, np.inf)
    arg = np.zeros(n_cols, dtype=np.int64)
    step = max(1, _CHUNK_ENTRIES // len(starts))
    for first in range(0, n_cols, step):
        cols = np.arange(first, min(n_cols, first + step))
        quotes = stage.outbound[cols][None, :]
        shortest = ready[starts, None] - quotes
        # As in stage_table: a time within the tolerance costs nothing.
        shortest = np.where(shortest > TIME_TOLERANCE, shortest, 0.0)
        bound = coefficient * np.sqrt(shortest)
        bound = bound + cheapest[:, None] + stage.outbound_cost[cols][None, :]
        bound = np.where(ready[stops - 1, None] - quotes >= -TIME_TOLERANCE, bound, np.inf)
        # Float rounding must not let a bound pass the entries it bounds.
        bound = bound - 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0.0)))
        guess = np.argmin(bound, axis=0)
        found, rows = _best_in_blocks(network, stage, starts, stops, guess, cols)
        need = (bound <= found[None, :]) & np.isfinite(bound)
        need[guess, np.arange(len(cols))] = False
        blocks, where = np.nonzero(need)
        more, more_rows = _best_in_blocks(network, stage, starts, stops, blocks, cols[where])
        # The least value per column, the first row among equals (as np.argmin).
        values = np.concatenate([found, more])
        picked = np.concatenate([rows, more_rows])
        column = np.concatenate([np.arange(len(cols)), where])
        order = np.lexsort((picked, values, column))
        _, firsts = np.unique(column[order], return_index=True)
        best[cols] = values[order][firsts]
        arg[cols] = picked[order][firsts]
    return best, arg


def _running_minimum(values: np.ndarray, *, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Prefix (or suffix) minima of ``values`` and the index attaining each."""
    order = np.arange(len(values))
    if reverse:
        values, order = values[::-1], order[::-1]
    best = np.minimum.accumulate(values)
    # The attaining index is the last position where the running minimum changed.
    changed = np.concatenate([[True], best[1:] < best[:-1]])
    arg = order[np.maximum.accumulate(np.where(changed, np.arange(len(values)), 0))]
    if reverse:
        best, arg = best[::-1], arg[::-1]
    return best, arg


def _lookup(best: np.ndarray, index: np.ndarray) -> np.ndarray:
    valid = (index >= 0) & (index < len(best))
    return np.where(valid, best[np.clip(index, 0, len(best) - 1)], np.inf)


class _Reducer:
    def __init__(self, network: GsmNetwork, candidates: ServiceTimeCandidates) -> None:
        self.network = network
        self.stages: dict[int, Stage] = {}
        self.graph = nx.DiGraph()
        self.fixed: dict[int, tuple[int, int]] = {}
        for j in range(network.size):
            inbound = candidates.inbound[j]
            outbound = candidates.outbound[j]
            self.stages[j] = Stage(
                inbound, outbound, j, np.zeros(len(inbound)), np.zeros(len(outbound))
            )
            self.graph.add_node(j)
        self.graph.add_edges_from(network.edges())

    def _new_stage(self, stage: Stage) -> int:
        key = len(self.stages)
        self.stages[key] = stage
        return key

    def fold(self, leaf: int, into: int) -> None:
        stage, host = self.stages[leaf], self.stages[into]
        if self.graph.has_edge(into, leaf):
            # The leaf is a customer: it needs SI_leaf >= S_into.
            best, best_col = _row_minima(self.network, stage)
            best, best_row = _running_minimum(best, reverse=True)
            index = np.searchsorted(stage.inbound, host.outbound - TIME_TOLERANCE, side="left")
            host.outbound_cost = host.outbound_cost + _lookup(best, index)
            rows = best_row[np.clip(index, 0, len(best) - 1)]
            host.absorbed.append(_Absorbed(leaf, "outbound", rows, best_col[rows]))
        else:
            # The leaf is a supplier: it needs S_leaf <= SI_into.
            best, best_row = _column_minima(self.network, stage)
            best, best_col = _running_minimum(best, reverse=False)
            index = np.searchsorted(stage.outbound, host.inbound + TIME_TOLERANCE, side="right") - 1
            host.inbound_cost = host.inbound_cost + _lookup(best, index)
            cols = best_col[np.clip(index, 0, len(best) - 1)]
            host.absorbed.append(_Absorbed(leaf, "inbound", best_row[cols], cols))
        self.graph.remove_node(leaf)

    def _replace(self, old: list[int], new: int) -> None:
        preds = {p for k in old for p in self.graph.predecessors(k)}
        succs = {s for k in old for s in self.graph.successors(k)}
        self.graph.remove_nodes_from(old)
        self.graph.add_node(new)
        self.graph.add_edges_from((p, new) for p in preds)
        self.graph.add_edges_from((new, s) for s in succs)

    def collapse_start(self, key: int) -> None:
        """A stage without suppliers keeps only its best cost per outbound value."""
        stage = self.stages[key]
        best, rows = _column_minima(self.network, stage)
        new = Stage(np.zeros(1), stage.outbound, None, np.zeros(1), best)
        new.absorbed.append(_Absorbed(key, "outbound", rows, np.arange(len(best))))
        self._replace([key], self._new_stage(new))

    def collapse_end(self, key: int) -> None:
        """A stage without customers keeps only its best cost per inbound value."""
        stage = self.stages[key]
        best, cols = _row_minima(self.network, stage)
        new = Stage(stage.inbound, np.zeros(1), None, best, np.zeros(1))
        new.absorbed.append(_Absorbed(key, "inbound", np.arange(len(best)), cols))
        self._replace([key], self._new_stage(new))

    def merge_starts(self, members: list[int]) -> None:
        """Twins without suppliers: the merged quote is the largest twin quote."""
        outbound = np.unique(np.concatenate([self.stages[m].outbound for m in members]))
        cost = np.zeros(len(outbound))
        new = Stage(np.zeros(1), outbound, None, np.zeros(1), cost)
        for m in members:
            stage = self.stages[m]
            per_col, rows = _column_minima(self.network, stage)
            best, cols = _running_minimum(per_col, reverse=False)
            index = np.searchsorted(stage.outbound, outbound + TIME_TOLERANCE, side="right") - 1
            cost += _lookup(best, index)
            picks = cols[np.clip(index, 0, len(cols) - 1)]
            new.absorbed.append(_Absorbed(m, "outbound", rows[picks], picks))
        self._replace(members, self._new_stage(new))

    def merge_ends(self, members: list[int]) -> None:
        """Twins without customers: the merged inbound time is the smallest twin's."""
        inbound = np.unique(np.concatenate([self.stages[m].inbound for m in members]))
        cost = np.zeros(len(inbound))
        new = Stage(inbound, np.zeros(1), None, cost, np.zeros(1))
        for m in members:
            stage = self.stages[m]
            per_row, cols = _row_minima(self.network, stage)
            best, rows = _running_minimum(per_row, reverse=True)
            index = np.searchsorted(stage.inbound, inbound - TIME_TOLERANCE, side="left")
            cost += _lookup(best, index)
            picks = rows[np.clip(index, 0, len(rows) - 1)]
            new.absorbed.append(_Absorbed(m, "inbound", picks, cols[picks]))
        self._replace(members, self._new_stage(new))

    def solve_alone(self, key: int) -> None:
        best_value, best = np.inf, (0, 0)
        for start, block in table_chunks(self.network, self.stages[key]):
            flat = int(np.argmin(block))
            if block.flat[flat] < best_value:
                best_value = block.flat[flat]
                best = (start + flat // block.shape[1], flat % block.shape[1])
        self.fixed[key] = best
        self.graph.remove_node(key)

    def run(self) -> None:
        changed = True
        while changed:
            changed = False
            queue = [k for k in self.graph if self.graph.degree(k) <= 1]
            while queue:
                key = queue.pop()
                if key not in self.graph:
                    continue
                degree = self.graph.degree(key)
                if degree == 0:
                    self.solve_alone(key)
                elif degree == 1:
                    (neighbour,) = set(self.graph.predecessors(key)) | set(
                        self.graph.successors(key)
                    )
                    self.fold(key, neighbour)
                    if self.graph.degree(neighbour) <= 1:
                        queue.append(neighbour)
                changed = True
            for key in list(self.graph):
                rows, cols = self.stages[key].shape
                if self.graph.in_degree(key) == 0 and rows > 1:
                    self.collapse_start(key)
                    changed = True
                elif self.graph.out_degree(key) == 0 and cols > 1:
                    self.collapse_end(key)
                    changed = True
            for side in ("start", "end"):
                groups: dict[frozenset[int], list[int]] = {}
                for key in self.graph:
                    if side == "start" and self.graph.in_degree(key) == 0:
                        groups.setdefault(frozenset(self.graph.successors(key)), []).append(key)
                    elif side == "end" and self.graph.out_degree(key) == 0:
                        groups.setdefault(frozenset(self.graph.predecessors(key)), []).append(key)
                for members in groups.values():
                    if len(members) > 1:
                        (self.merge_starts if side == "start" else self.merge_ends)(members)
                        changed = True


def reduce_network(network: GsmNetwork, candidates: ServiceTimeCandidates) -> ReducedNetwork:
    """Apply the exact reductions (fold leaves, collapse ends, merge twins).

    Parameters
    ----------
    network : GsmNetwork
    candidates : ServiceTimeCandidates

    Returns
    -------
    ReducedNetwork
        A tree-shaped network reduces to stages in ``fixed`` and an empty graph.
    """
    reducer = _Reducer(network, candidates)
    reducer.run()
    return ReducedNetwork(network, reducer.stages, reducer.graph, reducer.fixed)


def expand_choice(
    reduced: ReducedNetwork, choice: dict[int, tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Service times of every original node from the chosen pair of each stage.

    Parameters
    ----------
    reduced : ReducedNetwork
    choice : dict of int to (int, int)
        (inbound index, outbound index) for every stage of ``reduced.graph``; the
        stages in ``reduced.fixed`` are added here.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Outbound and inbound service times per original node position.
    """
    network = reduced.network
    outbound = np.full(network.size, np.nan)
    inbound = np.full(network.size, np.nan)
    pending = list({**choice, **reduced.fixed}.items())
    while pending:
        key, (row, col) = pending.pop()
        stage = reduced.stages[key]
        if stage.origin is not None:
            outbound[stage.origin] = stage.outbound[col]
            inbound[stage.origin] = stage.inbound[row]
        for absorbed in stage.absorbed:
            k = col if absorbed.side == "outbound" else row
            pending.append((absorbed.stage, (int(absorbed.pick_row[k]), int(absorbed.pick_col[k]))))
    if np.isnan(outbound).any():
        missing = [network.nodes[j] for j in np.flatnonzero(np.isnan(outbound))]
        raise RuntimeError(f"internal error: no service times recovered for {missing!r}")
    return outbound, inbound
