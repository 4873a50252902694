"""Brute-force reference for the safety-stock placement tests."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np


def brute_force(graph: nx.DiGraph, must_hold, may_not_hold, step: float) -> float | None:
    """Cheapest cost over outbound service times on multiples of ``step`` (None: infeasible)."""
    order = list(nx.topological_sort(graph))
    column = {node: k for k, node in enumerate(order)}
    quotes = np.zeros((1, 0))
    waits = np.zeros((1, 0))
    for node in order:
        data = graph.nodes[node]
        wait = np.full(len(quotes), float(data.get("external_inbound_cst", 0.0)))
        for supplier in graph.predecessors(node):
            wait = np.maximum(wait, quotes[:, column[supplier]])
        ready = wait + data["processing_time"]
        bound = data.get("max_outbound_cst", 0.0 if graph.out_degree(node) == 0 else math.inf)
        high = np.minimum(ready, bound)
        if node in must_hold:
            low, high = np.zeros(len(quotes)), np.minimum(high, 0.0)
        elif node in may_not_hold:
            low = ready
            high = np.where(low <= high + 1e-9, low, -1.0)
        else:
            low = np.zeros(len(quotes))
        first = np.ceil(low / step - 1e-9).astype(int)
        last = np.floor(high / step + 1e-9).astype(int)
        counts = np.maximum(0, last - first + 1)
        rows = np.repeat(np.arange(len(quotes)), counts)
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        quotes = np.column_stack([quotes[rows], (first[rows] + offsets) * step])
        waits = np.column_stack([waits[rows], wait[rows]])
        if len(quotes) == 0:
            return None
    times = np.array([graph.nodes[n]["processing_time"] for n in order])
    weights = np.array(
        [
            graph.nodes[n]["holding_cost"]
            * graph.nodes[n]["safety_factor"]
            * graph.nodes[n]["demand_std"]
            for n in order
        ]
    )
    # Every time here is a multiple of step: snap away float noise (0.1 + 0.2 - 0.3),
    # whose square root would otherwise price a net replenishment time of 0.
    replenishment = np.maximum(0.0, np.round((waits + times - quotes) / step) * step)
    return float((np.sqrt(replenishment) * weights).sum(axis=1).min())
