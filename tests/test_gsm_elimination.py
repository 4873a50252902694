"""Variable elimination: its steps by hand, when it declines, and its answers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from gsm_examples import plants_to_dcs

from toolkit.gsm_candidates import candidate_service_times
from toolkit.gsm_elimination import (
    _min_plus,
    _min_through_constraint,
    _Term,
    elimination_plan,
    solve_by_elimination,
)
from toolkit.gsm_network import gsm_network
from toolkit.gsm_reduction import reduce_network
from toolkit.optimize import place_safety_stock


def _reduced(graph: nx.DiGraph):
    network = gsm_network(graph, 0.95)
    return reduce_network(network, candidate_service_times(network))


def test_running_minimum_through_an_edge_constraint_by_hand():
    values = {("in", 1): np.array([0.0, 1.0, 2.0]), ("out", 0): np.array([0.0, 1.5, 3.0])}
    table = np.array([[5.0, 9.0], [7.0, 1.0], [6.0, 4.0]])  # over in_1 (rows) and one more axis
    constraint = _Term(("in", 1), ("out", 0), None)  # in_1 >= out_0
    # out_0 = 0: rows 0-2 allowed; 1.5: row 2 only; 3: none.
    result = _min_through_constraint(values, ("in", 1), constraint, table)
    assert result.tolist() == [[5.0, 1.0], [6.0, 4.0], [np.inf, np.inf]]
    # Seen from the supplier's side: out_0 <= in_1.
    table_out = np.array([[2.0], [1.0], [8.0]])  # over out_0
    result = _min_through_constraint(values, ("out", 0), constraint, table_out)
    assert result.ravel().tolist() == [2.0, 2.0, 1.0]  # in_1 = 0, 1, 2


def test_min_plus_by_hand():
    left = np.array([[1.0, 4.0], [3.0, 0.0]])  # [v, x]
    right = np.array([[2.0, np.inf], [1.0, 5.0]])  # [v, y]
    # out[x, y] = min_v left[v, x] + right[v, y]
    assert _min_plus(left, right).tolist() == [[3.0, 8.0], [1.0, 5.0]]


def test_two_dcs_are_solved_and_three_are_declined():
    two = _reduced(plants_to_dcs(3, 2))
    plan = elimination_plan(two)
    assert plan is not None and len(plan.order) == 2 * len(two.graph)
    assert elimination_plan(two, max_operations=1.0) is None
    _, choice = solve_by_elimination(two, plan)
    assert set(choice) == set(two.graph)
    # Three plants x three DCs contain a subdivided K(3,3): tree-width three.
    assert elimination_plan(_reduced(plants_to_dcs(3, 3))) is None


def test_placement_by_elimination_equals_the_milp():
    graph = plants_to_dcs(4, 2)
    milp = place_safety_stock(graph, 0.95, method="milp")
    eliminated = place_safety_stock(graph, 0.95, method="elimination")
    assert eliminated.method == "elimination" and eliminated.is_optimal
    assert eliminated.total_cost == pytest.approx(milp.total_cost, rel=1e-9)
    frame = eliminated.to_frame()
    for supplier, customer in graph.edges:
        inbound = frame.at[customer, "inbound_service_time"]
        assert inbound >= frame.at[supplier, "outbound_service_time"] - 1e-9
    with pytest.raises(ValueError, match="tree-width"):
        place_safety_stock(plants_to_dcs(3, 3), 0.95, method="elimination")
    # auto: small cores stay with the MILP, large ones of tree-width three go to the
    # dual ascent (which closes this one), or to column generation under "milp".
    assert place_safety_stock(graph, 0.95).method == "milp"
    wide = plants_to_dcs(3, 3)
    assert place_safety_stock(wide, 0.95, full_model_pairs=1).method == "dual ascent"
    generated = place_safety_stock(wide, 0.95, full_model_pairs=1, method="milp")
    assert generated.method == "column generation"
    with pytest.raises(ValueError, match="method"):
        place_safety_stock(graph, 0.95, method="dp")


def test_memory_estimate_covers_what_elimination_holds(monkeypatch):
    import tracemalloc

    # Long, real-valued times: thousands of candidates, so the tables dominate memory.
    graph = plants_to_dcs(6, 2)
    for k, node in enumerate(sorted(graph)):
        graph.nodes[node]["processing_time"] = 5 * graph.nodes[node]["processing_time"] + k % 7 / 10
    reduced = _reduced(graph)
    plan = elimination_plan(reduced)
    stage_entries = sum(np.prod(reduced.stages[key].shape) for key in reduced.graph)
    assert plan.peak_entries > stage_entries
    tracemalloc.start()
    try:
        solve_by_elimination(reduced, plan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # float64 tables; the estimate is close, and errs on the safe side.
    assert 0.7 * 8 * plan.peak_entries <= peak <= 1.05 * 8 * plan.peak_entries
    # Only the stage tables fit: no order can run.
    assert elimination_plan(reduced, max_entries=stage_entries) is None
    assert elimination_plan(reduced, max_entries=plan.peak_entries) is not None

    import toolkit.optimize as optimize

    monkeypatch.setattr(optimize, "ELIMINATION_MEMORY_BYTES", 8.0 * stage_entries)
    with pytest.raises(ValueError, match="memory"):
        place_safety_stock(graph, 0.95, method="elimination")
