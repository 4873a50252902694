"""Building blocks of the placement: candidate times, reductions, pairs, instance reader."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from gsm_brute_force import brute_force
from gsm_examples import plants_to_dcs

from toolkit.gsm_candidates import CandidateLimitError, candidate_service_times
from toolkit.gsm_columns import pareto_columns
from toolkit.gsm_instances import read_gsm_instance
from toolkit.gsm_network import gsm_network
from toolkit.gsm_reduction import reduce_network, stage_table
from toolkit.optimize import place_safety_stock

GSM_DATA = Path(__file__).parent / "data" / "gsm"


def _camera():
    graph = read_gsm_instance(GSM_DATA / "digital_camera.txt", holding_rate=0.24)
    return graph, gsm_network(graph)


def test_candidates_are_integers_for_integer_data_and_include_downstream_quotes():
    network = _camera()[1]
    candidates = candidate_service_times(network)
    for values in candidates.outbound + candidates.inbound:
        assert np.array_equal(values, np.round(values))
        assert (np.diff(values) > 0).all()
    transfer = network.nodes.index("Transfer")
    # 2 = Ship's bound 5 minus its processing time 3.
    assert 2.0 in candidates.outbound[transfer]
    sources = [j for j in range(network.size) if not network.predecessors[j]]
    for j in sources:
        assert list(candidates.inbound[j]) == [0.0]


def test_real_valued_candidates_hold_the_sums_and_differences():
    graph = nx.DiGraph()
    graph.add_node("p", processing_time=1.3, holding_cost=1.0)
    graph.add_node("q", processing_time=0.4, holding_cost=1.0)
    graph.add_node(
        "m",
        processing_time=0.7,
        holding_cost=1.0,
        demand_mean=1,
        demand_std=1,
        max_outbound_cst=0.9,
    )
    graph.add_edges_from([("p", "m"), ("q", "m")])
    candidates = candidate_service_times(gsm_network(graph, 0.9))
    m = 2
    assert set(np.round(candidates.inbound[m], 6)) >= {0.0, 0.2, 0.4, 1.3}
    assert set(np.round(candidates.outbound[m], 6)) >= {0.0, 0.9}
    # p may quote 0.2 = 0.9 - 0.7 so that m holds nothing.
    assert 0.2 in set(np.round(candidates.outbound[0], 6))


def test_irregular_real_times_match_brute_force_on_the_decimal_grid():
    graph = nx.DiGraph()
    for name, time, cost in (("p", 1.3, 1.0), ("q", 0.4, 3.0), ("r", 0.8, 0.5)):
        graph.add_node(
            name,
            processing_time=time,
            holding_cost=cost,
            safety_factor=1.0,
            demand_std=2.0,
            demand_mean=1.0,
        )
    graph.add_node(
        "m",
        processing_time=0.7,
        holding_cost=2.0,
        safety_factor=1.0,
        demand_std=3.0,
        demand_mean=1.0,
        max_outbound_cst=0.9,
    )
    graph.add_edges_from([("p", "r"), ("q", "r"), ("p", "m"), ("r", "m")])
    expected = brute_force(graph, set(), set(), 0.1)
    plan = place_safety_stock(graph)
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(expected, rel=1e-9)


def test_candidate_limit():
    _, network = _camera()
    with pytest.raises(CandidateLimitError, match="more than 5 candidate"):
        candidate_service_times(network, max_values=5)


def test_a_tree_reduces_completely():
    network = _camera()[1]
    reduced = reduce_network(network, candidate_service_times(network))
    assert reduced.graph.number_of_nodes() == 0
    assert len(reduced.fixed) == 1


def test_twin_sources_merge_and_the_core_survives():
    graph = nx.DiGraph()
    for name in ("p1", "p2", "p3", "p4"):
        graph.add_node(name, processing_time=2, holding_cost=1.0)
    for name in ("a", "b", "c"):
        graph.add_node(name, processing_time=1, holding_cost=2.0, demand_mean=1, demand_std=1)
    # p1-a-p3-c-p2-b-p1 is a cycle; p4 supplies what p1 supplies: the two merge.
    graph.add_edges_from(
        [
            ("p1", "a"),
            ("p1", "b"),
            ("p2", "b"),
            ("p2", "c"),
            ("p3", "c"),
            ("p3", "a"),
            ("p4", "a"),
            ("p4", "b"),
        ]
    )
    network = gsm_network(graph, 0.95)
    reduced = reduce_network(network, candidate_service_times(network))
    assert reduced.graph.number_of_nodes() == 6
    merged = [k for k in reduced.graph if reduced.stages[k].origin is None]
    assert len(merged) == 1
    assert {a.stage for a in reduced.stages[merged[0]].absorbed} == {0, 3}
    assert place_safety_stock(graph, 0.95).is_optimal


def test_pareto_pairs_are_not_dominated():
    graph = read_gsm_instance(GSM_DATA / "bulldozer.txt", holding_rate=0.3)
    graph.add_edge("Engine", "Transmission")
    graph.add_edge("Case", "Final_Drive&Brake")
    network = gsm_network(graph)
    reduced = reduce_network(network, candidate_service_times(network))
    assert reduced.graph.number_of_nodes() > 0
    for key in reduced.graph:
        stage = reduced.stages[key]
        table = stage_table(network, stage)
        columns = pareto_columns(reduced, key)
        assert np.allclose(table[columns.rows, columns.cols], columns.costs)
        waits = stage.inbound[columns.rows]
        quotes = stage.outbound[columns.cols]
        for k in range(len(columns)):
            dominating = (
                (waits >= waits[k]) & (quotes <= quotes[k]) & (columns.costs <= columns.costs[k])
            )
            assert dominating.sum() == 1  # only itself
        # every finite pair is dominated by (or is) a kept pair
        for r, c in zip(*np.nonzero(np.isfinite(table)), strict=True):
            kept = (
                (waits >= stage.inbound[r])
                & (quotes <= stage.outbound[c])
                & (columns.costs <= table[r, c] + 1e-12)
            )
            assert kept.any()


def test_instance_reader_cumulative_cost_and_pooled_factor(tmp_path):
    text = (
        "stage_id,lead_time,max_s_time,cost,risk_pool,ext_demand_mean,ext_demand_std,"
        "ext_demand_thres,up_stages\n"
        "part,2,,3,2,,,,\n"
        "kit,1,,5,2,,,,part,2\n"
        "east,1,0,1,,10,3,1.645,kit,1\n"
        "west,1,1,1,,20,4,2.0,kit,1\n"
    )
    path = tmp_path / "toy.txt"
    path.write_text(text)
    graph = read_gsm_instance(path, holding_rate=0.5)
    assert graph.nodes["kit"]["cumulative_cost"] == 5 + 2 * 3
    assert graph.nodes["east"]["holding_cost"] == 0.5 * (1 + 11)
    assert graph.edges["part", "kit"]["units"] == 2
    assert graph.nodes["west"]["max_outbound_cst"] == 1
    # Different safety factors at the demand stages: internal stages carry z sigma.
    assert graph.nodes["kit"]["safety_factor"] == 1.0
    assert graph.nodes["kit"]["demand_std"] == pytest.approx(math.hypot(1.645 * 3, 2.0 * 4))
    assert graph.nodes["part"]["demand_std"] == pytest.approx(2 * math.hypot(1.645 * 3, 2.0 * 4))
    assert place_safety_stock(graph).is_optimal


def test_generation_past_its_deadline_skips_the_hopeless_enumeration(monkeypatch):
    import toolkit.gsm_columns as gsm_columns

    # Three plants each feeding three DCs (tree-width three), real-valued times:
    # column generation needs some 37 rounds; stopped after the first, its gap is wide
    # (59%).
    graph = plants_to_dcs(3, 3)
    for k, node in enumerate(sorted(graph)):
        graph.nodes[node]["processing_time"] = 3 * graph.nodes[node]["processing_time"] + k % 7 / 10
    network = gsm_network(graph, 0.95)
    reduced = reduce_network(network, candidate_service_times(network))

    def must_not_run(*args, **kwargs):
        raise AssertionError("enumerated pairs past the deadline with a wide gap")

    monkeypatch.setattr(gsm_columns, "_include_near_optimal", must_not_run)
    result = gsm_columns.generate_columns(reduced, deadline=0.0)
    assert result.stopped == "deadline" and result.iterations == 1
    assert not result.complete
    assert result.upper_bound - result.lower_bound > 1e-3 * result.upper_bound
    # Given the time, the same network is closed and proven.
    monkeypatch.undo()
    assert gsm_columns.generate_columns(reduced).complete


def test_dual_ascent_is_not_closed_before_it_has_a_plan():
    # A diamond where the first decoded plans break a rule (the hub must hold stock,
    # the two branches may not): "closed" once compared an infinite plan cost with
    # an infinite tolerance, and handed on pairs without any feasible plan.
    from toolkit.gsm_dual import dual_ascent

    graph = nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)])
    for node, time in {0: 1, 1: 0, 2: 0, 3: 1}.items():
        graph.add_node(
            node,
            processing_time=time,
            holding_cost=1.0,
            safety_factor=1.0,
            demand_std=1.0,
            demand_mean=1.0,
        )
    graph.nodes[3]["max_outbound_cst"] = 1
    network = gsm_network(graph, must_hold={1}, may_not_hold={2, 3})
    reduced = reduce_network(network, candidate_service_times(network))
    result = dual_ascent(reduced, max_pairs=8, check_every=1)
    assert math.isfinite(result.upper_bound)
    assert result.upper_bound == pytest.approx(brute_force(graph, {1}, {2, 3}, 1.0))
    assert result.lower_bound <= result.upper_bound + 1e-9


@pytest.mark.parametrize("seed", range(20))
def test_pruned_column_minima_equal_the_whole_table(seed):
    # Same values and the same first rows as np.argmin over the full table, with
    # inbound costs that fall (as a folded supplier's), rise or jump about, some
    # infinite, and fractional times that make ties and infeasible corners.
    from toolkit import gsm_reduction
    from toolkit.gsm_reduction import Stage, _pruned_column_minima

    rng = np.random.default_rng(seed)
    graph = nx.DiGraph()
    graph.add_node("n", processing_time=float(rng.choice([0.0, 1.5, 3.0])), holding_cost=1.0)
    graph.nodes["n"].update(demand_std=1.0, safety_factor=1.0, demand_mean=1.0)
    network = gsm_network(graph)
    n_in, n_out = rng.integers(1, 300, size=2)
    inbound = np.unique(np.round(rng.uniform(0, 20, n_in), 1))
    outbound = np.unique(np.round(rng.uniform(0, 22, n_out), 1))
    shape = ("falling", "rising", "random")[seed % 3]
    cost = np.round(rng.uniform(0, 10, len(inbound)), 1)
    cost = {"falling": np.sort(cost)[::-1], "rising": np.sort(cost), "random": cost}[shape]
    cost[rng.random(len(inbound)) < 0.05] = np.inf
    stage = Stage(inbound, outbound, 0, cost, np.round(rng.uniform(0, 3, len(outbound)), 1))
    table = stage_table(network, stage)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gsm_reduction, "_BLOCK_ROWS", int(rng.integers(1, 9)))
        patch.setattr(gsm_reduction, "_CHUNK_ENTRIES", int(rng.integers(10, 500)))
        best, rows = _pruned_column_minima(network, stage)
    assert np.array_equal(best, table.min(axis=0))
    assert np.array_equal(rows, np.argmin(table, axis=0))


def test_pruned_column_minima_price_a_time_within_the_tolerance_as_none():
    # A block whose first inbound time leaves a net replenishment time of 5e-8 (float
    # noise, priced 0 in the table) must not be bounded by its square root and
    # skipped: it holds the cheapest entry (found by a review).
    from toolkit.gsm_reduction import Stage, _pruned_column_minima

    graph = nx.DiGraph()
    graph.add_node("n", processing_time=1.0, holding_cost=1.0, demand_std=1.0, safety_factor=1.0)
    graph.nodes["n"]["demand_mean"] = 1.0
    network = gsm_network(graph)
    quote = 10.0
    inbound = np.arange(128, dtype=float)
    inbound[:63] = np.arange(63) * 0.1
    inbound[63] = quote - 1.0 - 5e-8
    inbound[64] = quote - 1.0 + 5e-8
    inbound[65:] = quote + np.arange(63)
    cost = np.where(np.arange(128) < 64, 1.0001, 1.0)
    stage = Stage(inbound, np.full(3, quote), 0, cost, np.zeros(3))
    table = stage_table(network, stage)
    best, rows = _pruned_column_minima(network, stage)
    assert np.array_equal(best, table.min(axis=0)) and best[0] == 1.0
    assert np.array_equal(rows, np.argmin(table, axis=0))
