"""The minimum-cut plan: feasible, bracketing the optimum, exact without concave stages."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from gsm_brute_force import brute_force
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_gsm_properties import networks, stage_data

from toolkit import gsm_cut
from toolkit.gsm_candidates import candidate_service_times
from toolkit.gsm_cut import cut_plan
from toolkit.gsm_dual import dual_ascent
from toolkit.gsm_network import gsm_network
from toolkit.gsm_reduction import expand_choice, reduce_network, stage_table
from toolkit.optimize import _follows_rules, _placements, _stage_value

_settings = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _cut(graph, must_hold=(), may_not_hold=()):
    """(plan cost, bound, follows every rule) over the whole network; None: no core."""
    network = gsm_network(graph, must_hold=must_hold, may_not_hold=may_not_hold)
    reduced = reduce_network(network, candidate_service_times(network))
    if reduced.graph.number_of_nodes() == 0:
        return None
    constant = sum(_stage_value(reduced, key, *pair) for key, pair in reduced.fixed.items())
    plan = cut_plan(reduced)
    assert plan is not None
    outbound, inbound = expand_choice(reduced, plan.choice)
    feasible = _follows_rules(network, outbound, inbound)
    if feasible:
        priced = sum(p.holding_cost for p in _placements(network, outbound, inbound))
        assert plan.cost + constant == pytest.approx(priced, rel=1e-9, abs=1e-9)
    return plan.cost + constant, plan.lower_bound + constant, feasible


def _check_bracket(graph, must_hold, may_not_hold, step):
    expected = brute_force(graph, must_hold, may_not_hold, step)
    assume(expected is not None)
    found = _cut(graph, must_hold, may_not_hold)
    assume(found is not None)
    cost, bound, feasible = found
    assert feasible
    # Flooring the costs to integers only lowers the bound. The brute force prices a
    # net replenishment time of float noise (0.1 + 0.2 - 0.3) as its square root, the
    # toolkit as 0 (within 1e-7 periods): hence the same 1e-7 as the other placement
    # property tests.
    assert bound <= expected + 1e-7 * max(1.0, expected)
    assert cost >= expected - 1e-7 * max(1.0, expected)


@_settings
@given(networks(max_nodes=8, dense=True))
def test_cut_plan_follows_every_rule_and_brackets_the_optimum(case):
    _check_bracket(*case, step=1.0)


@_settings
@given(networks(max_nodes=6, times=(0.0, 0.1, 0.2, 0.3, 0.7), bounds=(0.0, 0.1, 0.3), dense=True))
def test_cut_plan_brackets_the_optimum_with_fractional_times(case):
    # Every candidate time is a multiple of 0.1; 0.1 + 0.2 - 0.3 is not exactly 0 in
    # floating point, which the tolerances must absorb.
    _check_bracket(*case, step=0.1)


@st.composite
def plants_and_markets(draw):
    """Plants supplying markets directly, any plant any market: every stage has one
    service time free (plants their quote, markets their wait), so no cost is concave in
    two times and the cut is exact."""
    graph = nx.DiGraph()
    n_plants, n_markets = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    for name in [f"plant{p}" for p in range(n_plants)] + [f"market{m}" for m in range(n_markets)]:
        graph.add_node(name, **stage_data(draw, (1, 2, 3, 5)))
    for p in range(n_plants):
        for m in range(n_markets):
            if draw(st.booleans()):
                graph.add_edge(f"plant{p}", f"market{m}")
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    return graph


@_settings
@given(plants_and_markets())
def test_cut_is_exact_when_no_cost_is_concave_in_two_times(graph):
    assume(graph.number_of_nodes() > 0)
    found = _cut(graph)
    assume(found is not None)
    cost, bound, feasible = found
    expected = brute_force(graph, set(), set(), 1.0)
    assert feasible
    assert cost == pytest.approx(expected, rel=1e-9)
    assert bound == pytest.approx(expected, rel=1e-6)


def _ring() -> nx.DiGraph:
    """Three plants and three markets in a ring, each market supplied by two plants."""
    graph = nx.DiGraph()
    for p in range(3):
        graph.add_node(f"p{p}", processing_time=2, holding_cost=3.0, demand_std=1.0)
        graph.add_node(
            f"m{p}", processing_time=1, holding_cost=2.0, demand_std=1.0, demand_mean=1.0
        )
    for p in range(3):
        graph.add_edges_from([(f"p{p}", f"m{p}"), (f"p{p}", f"m{(p + 1) % 3}")])
    for node in graph:
        graph.nodes[node]["safety_factor"] = 1.0
    return graph


def test_cut_plan_on_a_hand_checked_core():
    # Three plants (T = 2, cost 3 sqrt(2 - S)) in a ring with three markets (T = 1,
    # quote 0, cost 2 sqrt(SI + 1)), each market supplied by two plants: no leaf, no
    # twins, so the core is all six. A market waits for the larger of its two quotes.
    # All quotes 0: 9 sqrt 2 + 6 = 18.73; all 1: 9 + 6 sqrt 2 = 17.49; all 2 (the
    # plants hold nothing): 6 sqrt 3 = 10.39; mixed quotes leave every market waiting
    # for the larger one and cost more (e.g. 2, 2, 0: 3 sqrt 2 + 6 sqrt 3 = 14.63).
    graph = _ring()
    cost, bound, feasible = _cut(graph)
    assert feasible
    assert cost == pytest.approx(6 * 3**0.5)
    assert bound == pytest.approx(6 * 3**0.5, rel=1e-6)


def test_a_cut_that_breaks_a_constraint_gives_no_plan(monkeypatch):
    # Every plant quoting its longest time while every market waits 0 breaks every
    # edge; such a reading of the cut must never reach the dual ascent as a plan.
    def inconsistent(relaxation, costs, constant):
        index = {name: len(cost) - 1 if name[0] == "out" else 0 for name, cost in costs.items()}
        return index, constant

    graph = _ring()
    network = gsm_network(graph)
    reduced = reduce_network(network, candidate_service_times(network))
    assert gsm_cut.cut_plan(reduced) is not None
    monkeypatch.setattr(gsm_cut, "_minimum_cut", inconsistent)
    assert gsm_cut.cut_plan(reduced) is None


def test_dual_ascent_ignores_a_start_that_breaks_an_edge():
    # Each stage at its own cheapest pair: plants quote their longest time, markets wait
    # 0. That breaks every edge and costs 0 in the tables; taken as the plan to beat, it
    # would let the pair filter drop the optimum.
    network = gsm_network(_ring())
    reduced = reduce_network(network, candidate_service_times(network))
    constant = sum(_stage_value(reduced, key, *pair) for key, pair in reduced.fixed.items())
    cheapest = {}
    for key in reduced.graph:
        table = stage_table(network, reduced.stages[key])
        row, col = np.unravel_index(int(np.argmin(table)), table.shape)
        cheapest[key] = (int(row), int(col))
    result = dual_ascent(reduced, constant=constant, max_sweeps=20, start=cheapest)
    assert result.upper_bound >= 6 * 3**0.5 - 1e-9
    assert result.lower_bound <= 6 * 3**0.5 + 1e-9
