"""The placement is exact: it equals a brute-force enumeration of service times.

Small random acyclic networks (assembly and distribution mixed, not only trees) with
random bounds, external inbound times and rules. The brute force enumerates every
outbound service time on a grid that contains all candidate values (the integers for
integer data, multiples of 0.5 for data in halves), sets each inbound time to the
latest supplier quote and keeps the cheapest feasible choice. Every solution path is
checked: one MILP over all candidate pairs, column generation, and variable
elimination (on the networks of tree-width at most two it accepts).
"""

from __future__ import annotations

import networkx as nx
import pytest
from gsm_brute_force import brute_force
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from networkx.algorithms.approximation import treewidth_min_fill_in

from toolkit.optimize import InfeasibleError, place_safety_stock


def stage_data(draw, times) -> dict:
    """Random attributes of one stage, its processing time drawn from ``times``."""
    return {
        "processing_time": draw(st.sampled_from(times)),
        "holding_cost": draw(st.floats(0.1, 5.0)),
        "safety_factor": draw(st.sampled_from([1.0, 1.645, 2.33])),
        "demand_std": draw(st.floats(0.5, 5.0)),
        "demand_mean": 1.0,
    }


@st.composite
def networks(draw, max_nodes: int = 7, times=(0, 1, 2, 3), bounds=(0, 1, 2), dense=False):
    n = draw(st.integers(1, max_nodes))
    graph = nx.DiGraph()
    for j in range(n):
        graph.add_node(j, **stage_data(draw, times))
    for j in range(n):
        for i in range(j):
            if draw(st.booleans()) and (dense or draw(st.booleans())):
                graph.add_edge(i, j)
    for j in range(n):
        if draw(st.integers(0, 3)) == 0:
            graph.nodes[j]["max_outbound_cst"] = draw(st.sampled_from(bounds))
        if graph.in_degree(j) == 0 and draw(st.integers(0, 3)) == 0:
            graph.nodes[j]["external_inbound_cst"] = draw(st.sampled_from(bounds))
    must_hold = {j for j in range(n) if draw(st.integers(0, 9)) == 0}
    may_not_hold = {j for j in range(n) if j not in must_hold and draw(st.integers(0, 9)) == 0}
    return graph, must_hold, may_not_hold


def _assert_feasible(plan, graph, must_hold, may_not_hold):
    frame = plan.to_frame()
    for supplier, customer in graph.edges:
        assert (
            frame.at[customer, "inbound_service_time"]
            >= frame.at[supplier, "outbound_service_time"] - 1e-9
        )
    assert (frame["net_replenishment_time"] >= -1e-9).all()
    assert (frame.loc[list(must_hold), "outbound_service_time"] == 0).all()
    assert (frame.loc[list(may_not_hold), "net_replenishment_time"].abs() <= 1e-9).all()
    for node, data in graph.nodes(data=True):
        bound = data.get("max_outbound_cst", 0.0 if graph.out_degree(node) == 0 else None)
        if bound is not None:
            assert frame.at[node, "outbound_service_time"] <= bound + 1e-9
        inbound = frame.at[node, "inbound_service_time"]
        assert inbound >= data.get("external_inbound_cst", 0.0) - 1e-9


def _check(graph, must_hold, may_not_hold, step, full_model_pairs, method="milp"):
    expected = brute_force(graph, must_hold, may_not_hold, step)
    options = {
        "must_hold": must_hold,
        "may_not_hold": may_not_hold,
        "full_model_pairs": full_model_pairs,
        "method": method,
    }
    if expected is None:
        with pytest.raises(InfeasibleError):
            place_safety_stock(graph, **options)
        return
    plan = place_safety_stock(graph, **options)
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(expected, rel=1e-7, abs=1e-9)
    _assert_feasible(plan, graph, must_hold, may_not_hold)


_settings = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@_settings
@given(networks())
def test_integer_times_match_brute_force(case):
    _check(*case, step=1.0, full_model_pairs=20_000)


@_settings
@given(networks())
def test_column_generation_matches_brute_force(case):
    _check(*case, step=1.0, full_model_pairs=1)


@_settings
@given(networks(max_nodes=5, times=(0.0, 0.5, 1.5, 2.5), bounds=(0.0, 0.5, 1.5)))
def test_real_valued_times_match_brute_force_on_a_fine_grid(case):
    # Every candidate value is a multiple of 0.5 here; the brute force does not use the
    # candidate sets at all, so this also checks that they contain the optimum.
    _check(*case, step=0.5, full_model_pairs=20_000)


@st.composite
def two_hub_networks(draw):
    """Plants each supplying both of two DCs (some through a component stage), the DCs
    supplying one market: the series-parallel shape variable elimination is for."""
    graph = nx.DiGraph()

    def node(name):
        graph.add_node(name, **stage_data(draw, (0, 1, 2)))

    for name in ("dc_a", "dc_b", "market"):
        node(name)
    graph.add_edges_from([("dc_a", "market"), ("dc_b", "market")])
    graph.nodes["market"]["max_outbound_cst"] = draw(st.sampled_from((0, 1)))
    for p in range(draw(st.integers(1, 3))):
        plant = f"plant_{p}"
        node(plant)
        for dc in ("dc_a", "dc_b"):
            if draw(st.integers(0, 3)) == 0:
                via = f"part_{p}_{dc}"
                node(via)
                graph.add_edges_from([(plant, via), (via, dc)])
            else:
                graph.add_edge(plant, dc)
    must_hold = {n for n in graph if draw(st.integers(0, 9)) == 0}
    return graph, must_hold, set()


def _small_tree_width(graph: nx.DiGraph) -> bool:
    # Stage variables (SI, S) joined by stage tables and edge constraints; the
    # reductions only shrink this graph, so width 2 here means elimination applies.
    variables = nx.Graph()
    for j in graph:
        variables.add_edge(("SI", j), ("S", j))
    for i, j in graph.edges:
        variables.add_edge(("SI", j), ("S", i))
    return treewidth_min_fill_in(variables)[0] <= 2


@_settings
@given(networks(dense=True))
def test_variable_elimination_matches_brute_force(case):
    assume(_small_tree_width(case[0]))
    _check(*case, step=1.0, full_model_pairs=1, method="elimination")


@_settings
@given(networks(max_nodes=5, times=(0.0, 0.5, 1.5, 2.5), bounds=(0.0, 0.5, 1.5), dense=True))
def test_variable_elimination_with_real_valued_times(case):
    assume(_small_tree_width(case[0]))
    _check(*case, step=0.5, full_model_pairs=1, method="elimination")


@_settings
@given(two_hub_networks())
def test_variable_elimination_on_two_hub_networks(case):
    _check(*case, step=1.0, full_model_pairs=1, method="elimination")


@_settings
@given(case=networks(max_nodes=5, times=(0.0, 0.5, 1.5, 2.5), bounds=(0.0, 1.0, 2.0)))
def test_rounded_times_bracket_the_optimum(monkeypatch_candidates, case):
    # The exact candidate set is declared too large, so the optimum is bracketed on a
    # one-period grid: the bound must not exceed the brute-force optimum, the plan
    # must be feasible for the true times and cost at least the optimum.
    graph, must_hold, may_not_hold = case
    expected = brute_force(graph, must_hold, may_not_hold, 0.5)
    assume(expected is not None)
    try:
        plan = place_safety_stock(
            graph, must_hold=must_hold, may_not_hold=may_not_hold, rounding_grids=(1.0,)
        )
    except InfeasibleError:
        # Rounding up can make a may-not-hold chain miss its bound.
        assume(False)
    assert plan.method == "rounded times (1)"
    assert plan.best_bound <= expected + 1e-7 * max(1.0, expected)
    assert plan.total_cost >= expected - 1e-7 * max(1.0, expected)
    assert plan.is_optimal == (plan.gap == 0)
    if not plan.is_optimal:
        assert plan.status == "not_proven" and plan.gap > 0
    _assert_feasible(plan, graph, must_hold, may_not_hold)


@pytest.fixture(scope="module")
def monkeypatch_candidates():
    """Make every exact candidate set 'too large' (the rounded ones use a lower limit)."""
    from toolkit import optimize
    from toolkit.gsm_candidates import CandidateLimitError, candidate_service_times

    def limited(network, *, max_values=optimize.EXACT_CANDIDATES):
        if max_values == optimize.EXACT_CANDIDATES:
            raise CandidateLimitError("too many candidate service times (test)")
        return candidate_service_times(network, max_values=max_values)

    original = optimize.candidate_service_times
    optimize.candidate_service_times = limited
    yield
    optimize.candidate_service_times = original


@_settings
@given(networks())
def test_dual_ascent_matches_brute_force(case):
    # full_model_pairs=1: the dual bound must (nearly) close before the MILP may run,
    # else column generation takes over; either way the answer is exact.
    _check(*case, step=1.0, full_model_pairs=1, method="dual ascent")


@_settings
@given(networks(dense=True))
def test_dual_ascent_brackets_the_optimum_and_keeps_the_pairs_it_needs(case):
    from toolkit.gsm_candidates import candidate_service_times
    from toolkit.gsm_dual import dual_ascent
    from toolkit.gsm_milp import build_placement_model, solve_placement_model
    from toolkit.gsm_network import gsm_network
    from toolkit.gsm_reduction import reduce_network
    from toolkit.optimize import _stage_value

    graph, must_hold, may_not_hold = case
    expected = brute_force(graph, must_hold, may_not_hold, 1.0)
    assume(expected is not None)
    network = gsm_network(graph, must_hold=must_hold, may_not_hold=may_not_hold)
    reduced = reduce_network(network, candidate_service_times(network))
    assume(reduced.graph.number_of_nodes() > 0)
    constant = sum(_stage_value(reduced, k, *pair) for k, pair in reduced.fixed.items())
    # Stopped after two sweeps, then run until the pairs a better plan could use are
    # at most two per stage (or the bound stalls).
    for sweeps in (2, 100_000):
        result = dual_ascent(
            reduced,
            constant=constant,
            max_sweeps=sweeps,
            max_pairs=2 * reduced.graph.number_of_nodes(),
            check_every=1,
        )
        slack = 1e-7 * max(1.0, abs(expected))
        assert result.lower_bound <= expected + slack <= result.upper_bound + 2 * slack
    if result.complete:
        # Those pairs hold an optimum: the MILP over them finds the brute force's cost.
        model, handles = build_placement_model(reduced, result.columns, constant=constant)
        outcome = solve_placement_model(model, handles, start=result.start)
        assert outcome.status == "optimal"
        assert outcome.objective == pytest.approx(expected, rel=1e-7, abs=1e-9)


def _naive_closure(network, candidates):
    """The candidate rules applied to every value until nothing changes (the reference)."""
    import numpy as np

    from toolkit.gsm_network import TIME_DECIMALS, TIME_TOLERANCE

    def clip(values, low, high):
        values = set(np.round(np.asarray(list(values), dtype=float), TIME_DECIMALS).tolist())
        return {v for v in values if low - TIME_TOLERANCE <= v <= high + TIME_TOLERANCE}

    c, time = candidates, network.processing_time
    outbound = [
        clip(
            {c.earliest_outbound[j], c.latest_outbound[j]},
            c.earliest_outbound[j],
            c.latest_outbound[j],
        )
        for j in range(network.size)
    ]
    inbound = [
        clip(
            {network.external_inbound[j], c.earliest_inbound[j]},
            c.earliest_inbound[j],
            c.latest_inbound[j],
        )
        for j in range(network.size)
    ]
    changed = True
    while changed:
        before = [set(v) for v in inbound + outbound]
        for j in range(network.size):
            reach = inbound[j] | {v - time[j] for v in outbound[j]}
            reach |= {v for i in network.predecessors[j] for v in outbound[i]}
            inbound[j] = clip(reach, c.earliest_inbound[j], c.latest_inbound[j])
        for j in range(network.size):
            if network.must_hold[j]:
                continue
            reach = outbound[j] | {min(v + time[j], c.latest_outbound[j]) for v in inbound[j]}
            reach |= {v for k in network.successors[j] for v in inbound[k]}
            outbound[j] = clip(reach, c.earliest_outbound[j], c.latest_outbound[j])
        changed = before != [set(v) for v in inbound + outbound]
    return inbound, outbound


@_settings
@given(networks(max_nodes=6, times=(0.0, 0.3, 1.25, 2.0), bounds=(0.0, 0.7, 2.0)))
def test_candidate_closure_equals_the_naive_fixed_point(case):
    # The closure applies each rule once per new value; repeating every rule on every
    # value until nothing changes must give the same sets.
    from toolkit.gsm_candidates import candidate_service_times
    from toolkit.gsm_network import gsm_network

    graph, must_hold, may_not_hold = case
    network = gsm_network(graph, must_hold=must_hold, may_not_hold=may_not_hold)
    try:
        candidates = candidate_service_times(network)
    except InfeasibleError:
        return
    inbound, outbound = _naive_closure(network, candidates)
    assert [set(v.tolist()) for v in candidates.inbound] == inbound
    assert [set(v.tolist()) for v in candidates.outbound] == outbound
