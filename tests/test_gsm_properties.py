"""The placement is exact: it equals a brute-force enumeration of service times.

Small random acyclic networks (assembly and distribution mixed, not only trees) with
random bounds, external inbound times and rules. The brute force enumerates every
outbound service time on a grid that contains all candidate values (the integers for
integer data, multiples of 0.5 for data in halves), sets each inbound time to the
latest supplier quote and keeps the cheapest feasible choice. Both solution paths are
checked: one MILP over all candidate pairs, and column generation.
"""

from __future__ import annotations

import networkx as nx
import pytest
from gsm_brute_force import brute_force
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.optimize import InfeasibleError, place_safety_stock


@st.composite
def networks(draw, max_nodes: int = 7, times=(0, 1, 2, 3), bounds=(0, 1, 2)):
    n = draw(st.integers(1, max_nodes))
    graph = nx.DiGraph()
    for j in range(n):
        graph.add_node(
            j,
            processing_time=draw(st.sampled_from(times)),
            holding_cost=draw(st.floats(0.1, 5.0)),
            safety_factor=draw(st.sampled_from([1.0, 1.645, 2.33])),
            demand_std=draw(st.floats(0.5, 5.0)),
            demand_mean=1.0,
        )
    for j in range(n):
        for i in range(j):
            if draw(st.booleans()) and draw(st.booleans()):
                graph.add_edge(i, j)
    for j in range(n):
        if draw(st.integers(0, 3)) == 0:
            graph.nodes[j]["max_outbound_cst"] = draw(st.sampled_from(bounds))
        if graph.in_degree(j) == 0 and draw(st.integers(0, 3)) == 0:
            graph.nodes[j]["external_inbound_cst"] = draw(st.sampled_from(bounds))
    must_hold = {j for j in range(n) if draw(st.integers(0, 9)) == 0}
    may_not_hold = {j for j in range(n) if j not in must_hold and draw(st.integers(0, 9)) == 0}
    return graph, must_hold, may_not_hold


def _check(graph, must_hold, may_not_hold, step, full_model_pairs):
    expected = brute_force(graph, must_hold, may_not_hold, step)
    if expected is None:
        with pytest.raises(InfeasibleError):
            place_safety_stock(
                graph,
                must_hold=must_hold,
                may_not_hold=may_not_hold,
                full_model_pairs=full_model_pairs,
            )
        return
    plan = place_safety_stock(
        graph, must_hold=must_hold, may_not_hold=may_not_hold, full_model_pairs=full_model_pairs
    )
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(expected, rel=1e-7, abs=1e-9)
    frame = plan.to_frame()
    # The reported service times are feasible.
    for supplier, customer in graph.edges:
        assert (
            frame.at[customer, "inbound_service_time"]
            >= frame.at[supplier, "outbound_service_time"] - 1e-9
        )
    assert (frame["net_replenishment_time"] >= 0).all()
    assert (frame.loc[list(must_hold), "outbound_service_time"] == 0).all()
    assert (frame.loc[list(may_not_hold), "net_replenishment_time"] == 0).all()


_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
