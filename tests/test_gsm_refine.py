"""Candidate refinement: its bound, its plan and the candidates it keeps are exact.

Random acyclic networks (the strategies of test_gsm_properties) against the brute
force, with two labels per variable to start with so that every run holds several
candidates and the refinement has to split and prune, and plans from the fewest
candidates, so that it prunes against poor plans.
"""

from __future__ import annotations

import numpy as np
import pytest
from gsm_brute_force import brute_force
from hypothesis import assume, given
from hypothesis import strategies as st
from test_gsm_properties import _assert_feasible, _settings, networks

from toolkit import gsm_refine, optimize
from toolkit.gsm_candidates import candidate_service_times
from toolkit.gsm_milp import Columns, build_placement_model, solve_placement_model
from toolkit.gsm_network import gsm_network
from toolkit.gsm_reduction import expand_choice, reduce_network, stage_table
from toolkit.gsm_refine import _split, refine_candidates, restrict_candidates
from toolkit.optimize import InfeasibleError, _stage_value, place_safety_stock

_WIDE = {"max_nodes": 6, "times": (0, 1, 2, 3, 5, 8), "bounds": (0, 2, 5)}


def _core(case):
    graph, must_hold, may_not_hold = case
    network = gsm_network(graph, must_hold=must_hold, may_not_hold=may_not_hold)
    reduced = reduce_network(network, candidate_service_times(network))
    constant = sum(_stage_value(reduced, k, *pair) for k, pair in reduced.fixed.items())
    return reduced, constant


def _exact_optimum(reduced, constant):
    """The MILP over every pair of the (possibly cut-down) core."""
    columns = {}
    for key in reduced.graph:
        table = stage_table(reduced.network, reduced.stages[key])
        rows, cols = np.nonzero(np.isfinite(table))
        columns[key] = Columns(rows, cols, table[rows, cols])
    model, handles = build_placement_model(reduced, columns, constant=constant)
    outcome = solve_placement_model(model, handles)
    return outcome.objective if outcome.has_solution else None


@_settings
@given(networks(dense=True, **_WIDE))
def test_refinement_bounds_the_optimum_and_keeps_an_optimal_plan(case):
    graph, must_hold, may_not_hold = case
    expected = brute_force(graph, must_hold, may_not_hold, 1.0)
    assume(expected is not None)
    reduced, constant = _core(case)
    assume(reduced.graph.number_of_nodes() > 0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gsm_refine, "INITIAL_LABELS", 2)
        # Poor first plans, so that pruning against them is put to the test.
        patch.setattr(gsm_refine, "_PLAN_CANDIDATES", 1)
        result = refine_candidates(reduced, max_entries=0, max_labels=4)
    slack = 1e-7 * max(1.0, abs(expected))
    assert result.lower_bound + constant <= expected + slack
    assert result.upper_bound + constant >= expected - slack
    # The best plan is a real plan of that cost, and it is among the kept candidates.
    outbound, inbound = expand_choice(reduced, result.best_plan)
    plan_cost = sum(_stage_value(reduced, k, *pair) for k, pair in result.best_plan.items())
    assert plan_cost == pytest.approx(result.upper_bound, rel=1e-9, abs=1e-9)
    for key, (row, col) in result.best_plan.items():
        assert result.keep[("in", key)][row] and result.keep[("out", key)][col]
        # A stage can always cover its suppliers' quotes.
        assert result.keep[("in", key)][-1] and result.keep[("out", key)][0]
    assert np.isfinite(outbound).all() and np.isfinite(inbound).all()
    # The kept candidates still hold an optimum.
    restricted = restrict_candidates(reduced, result.keep)
    assert _exact_optimum(restricted, constant) == pytest.approx(expected, rel=1e-7, abs=1e-9)


@_settings
@given(networks(dense=True, **_WIDE))
def test_placement_through_refinement_matches_brute_force(case):
    graph, must_hold, may_not_hold = case
    expected = brute_force(graph, must_hold, may_not_hold, 1.0)
    assume(expected is not None)
    with pytest.MonkeyPatch.context() as patch:
        # Every core counts as too large for the dual ascent's tables.
        patch.setattr(optimize, "REFINE_ABOVE_ENTRIES", 0)
        patch.setattr(optimize, "REFINED_ENTRIES", 0)
        patch.setattr(gsm_refine, "INITIAL_LABELS", 2)
        # Poor first plans, so that pruning against them is put to the test.
        patch.setattr(gsm_refine, "_PLAN_CANDIDATES", 1)
        plan = place_safety_stock(
            graph,
            must_hold=must_hold,
            may_not_hold=may_not_hold,
            full_model_pairs=1,
            method="dual ascent",
        )
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(expected, rel=1e-7, abs=1e-9)
    _assert_feasible(plan, graph, must_hold, may_not_hold)


def test_split_halves_the_least_slack_labels_within_the_cap():
    starts, stops = np.array([0, 4, 6, 7]), np.array([4, 6, 7, 10])
    slack = np.array([5.0, 1.0, 0.0, 2.0])
    # Label 0 is pruned (not alive); 3 labels alive, room for 2 more: label 2 has one
    # candidate, so labels 1 and 3 (least slack among the wide ones) are halved.
    new_starts, new_stops, parent = _split(slack, starts, stops, np.array([1, 2, 3]), 5)
    assert new_starts.tolist() == [4, 5, 6, 7, 8]
    assert new_stops.tolist() == [5, 6, 7, 8, 10]
    assert parent.tolist() == [1, 1, 2, 3, 3]


def test_restricted_core_reads_back_through_the_absorbed_stages():
    # A diamond with a leaf folded into each middle stage: cutting the core's
    # candidates must cut the picks of the absorbed leaves with them.
    import networkx as nx

    graph = nx.DiGraph()
    for node, time in {"p": 2, "a": 3, "b": 1, "m": 2, "la": 4, "lb": 2}.items():
        graph.add_node(
            node, processing_time=time, holding_cost=1.0, demand_std=1.0, safety_factor=1.0
        )
    graph.add_edges_from([("p", "a"), ("p", "b"), ("a", "m"), ("b", "m"), ("la", "a"), ("lb", "b")])
    graph.nodes["m"]["demand_mean"] = 1.0
    network = gsm_network(graph)
    reduced = reduce_network(network, candidate_service_times(network))
    assert reduced.graph.number_of_nodes() > 0
    keep = {}
    for key in reduced.graph:
        stage = reduced.stages[key]
        keep[("in", key)] = np.arange(len(stage.inbound)) % 2 == 0
        keep[("in", key)][-1] = True
        keep[("out", key)] = np.arange(len(stage.outbound)) % 2 == 0
    restricted = restrict_candidates(reduced, keep)
    for key in reduced.graph:
        old, new = reduced.stages[key], restricted.stages[key]
        assert new.inbound.tolist() == old.inbound[keep[("in", key)]].tolist()
        assert new.outbound.tolist() == old.outbound[keep[("out", key)]].tolist()
    # Any plan of the cut-down core expands to the same times as in the full core.
    choice = {key: (len(restricted.stages[key].inbound) - 1, 0) for key in restricted.graph}
    full = {
        key: (int(np.flatnonzero(keep[("in", key)])[r]), int(np.flatnonzero(keep[("out", key)])[c]))
        for key, (r, c) in choice.items()
    }
    for got, want in zip(
        expand_choice(restricted, choice), expand_choice(reduced, full), strict=True
    ):
        assert np.array_equal(got, want)


@_settings
@given(
    networks(dense=True, max_nodes=6, times=(0.0, 0.1, 0.2, 0.3, 1.7), bounds=(0.0, 0.3, 0.6)),
    st.integers(1, 4),
)
def test_relaxation_never_prices_a_pair_of_runs_above_its_cheapest_pair(case, run):
    # Fractional times make net replenishment times of float noise (0.1 + 0.2 - 0.3):
    # those cost nothing in the stage tables and must cost nothing in the relaxation.
    from toolkit.gsm_dual import _INFEASIBLE
    from toolkit.gsm_refine import _relaxation

    try:
        reduced, _ = _core(case)
    except InfeasibleError:
        return
    assume(reduced.graph.number_of_nodes() > 0)
    labels = {}
    for key in reduced.graph:
        stage = reduced.stages[key]
        for side, size in (("in", len(stage.inbound)), ("out", len(stage.outbound))):
            starts = np.arange(0, size, run)
            labels[(side, key)] = (starts, np.minimum(starts + run, size))
    factors = _relaxation(reduced, labels)
    for key in reduced.graph:
        exact = np.minimum(stage_table(reduced.network, reduced.stages[key]), _INFEASIBLE)
        (in_starts, in_stops), (out_starts, out_stops) = labels[("in", key)], labels[("out", key)]
        for r, (a, b) in enumerate(zip(in_starts, in_stops, strict=True)):
            for c, (x, y) in enumerate(zip(out_starts, out_stops, strict=True)):
                cheapest = exact[a:b, x:y].min()
                assert factors.tables[key][r, c] <= cheapest + 1e-12 * max(1.0, cheapest)
                if run == 1:
                    assert factors.tables[key][r, c] == cheapest
