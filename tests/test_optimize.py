"""Safety-stock placement: published optima, hand-computed cases, rules, errors, API."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from toolkit import optimize
from toolkit.gsm_columns import ColumnGenerationResult
from toolkit.gsm_instances import read_gsm_instance
from toolkit.gsm_milp import Columns
from toolkit.gsm_reduction import stage_table
from toolkit.optimize import (
    CandidateLimitError,
    InfeasibleError,
    NetworkValidationError,
    cost_service_frontier,
    place_safety_stock,
    plot_cost_service_frontier,
)

matplotlib.use("Agg")

GSM_DATA = Path(__file__).parent / "data" / "gsm"


def _graph(nodes: dict, edges: list[tuple]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, attributes in nodes.items():
        graph.add_node(name, **attributes)
    graph.add_edges_from(edges)
    return graph


# --- published optima (Graves and Willems 2000; the snc digital camera) -----------------


@pytest.mark.parametrize(
    ("name", "holding_rate", "published"),
    [("bulldozer", 0.30, 633_000), ("battery", 0.25, 853_000)],
)
def test_graves_willems_chains_reproduce_published_optimum(name, holding_rate, published):
    graph = read_gsm_instance(GSM_DATA / f"{name}.txt", holding_rate=holding_rate)
    plan = place_safety_stock(graph)
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(published, rel=1e-3)
    frame = plan.to_frame()
    solution = dict(json.loads((GSM_DATA / f"{name}_solution.json").read_text()))
    assert len(solution) == len(frame)
    for stage, expected in solution.items():
        assert frame.at[stage, "outbound_service_time"] == expected["s"], stage
        if expected["cost"] == 0:
            assert frame.at[stage, "holding_cost"] == 0, stage
        else:
            assert frame.at[stage, "holding_cost"] == pytest.approx(expected["cost"], rel=1e-3)


@pytest.mark.parametrize(
    ("served_from_stock", "published"),
    [
        ([], 71_757),
        (["Imager"], 78_000),
        (["Imager", "Transfer", "Build_Test_Pack"], 89_000),
        (["Imager", "Transfer"], 81_000),
    ],
)
def test_digital_camera_scenarios(served_from_stock, published):
    # The published figures are rounded; the exact optimum of the data is within 0.5%.
    graph = read_gsm_instance(GSM_DATA / "digital_camera.txt", holding_rate=0.24)
    for stage in served_from_stock:
        graph.nodes[stage]["max_outbound_cst"] = 0
    plan = place_safety_stock(graph)
    assert plan.is_optimal
    assert plan.total_cost == pytest.approx(published, rel=0.01)
    frame = plan.to_frame()
    if served_from_stock == ["Imager"]:
        holds = frame["safety_stock"] > 0
        assert holds[["Camera", "Imager", "Circuit_Board", "Build_Test_Pack"]].all()
        assert not holds[["Transfer", "Ship"]].any()
        assert frame.at["Transfer", "outbound_service_time"] == 2
        assert frame.at["Ship", "outbound_service_time"] == 5


def test_digital_camera_uses_a_quote_derived_from_a_downstream_bound():
    # Transfer quotes 2 = Ship's max outbound time 5 minus its processing time 3, so
    # Ship holds nothing: a candidate that no upstream path sum produces.
    graph = read_gsm_instance(GSM_DATA / "digital_camera.txt", holding_rate=0.24)
    frame = place_safety_stock(graph).to_frame()
    assert frame.at["Transfer", "outbound_service_time"] == 2
    assert frame.at["Ship", "net_replenishment_time"] == 0
    assert frame.at["Build_Test_Pack", "inbound_service_time"] == 60


# --- hand-computed cases ------------------------------------------------------------------


def test_serial_two_stage_by_hand():
    # cost(s) = 1*2*3*sqrt(4 - s) + 2*2*3*sqrt(s + 1) for the plant's quote s in 0..4:
    # s = 0 gives 12 + 12 = 24, the minimum (s = 4 gives 12 sqrt 5 = 26.8).
    graph = _graph(
        {
            "plant": {"processing_time": 4, "holding_cost": 1.0, "safety_factor": 2.0},
            "dc": {
                "processing_time": 1,
                "holding_cost": 2.0,
                "safety_factor": 2.0,
                "demand_mean": 10.0,
                "demand_std": 3.0,
            },
        },
        [("plant", "dc")],
    )
    plan = place_safety_stock(graph)
    frame = plan.to_frame()
    assert plan.total_cost == pytest.approx(24.0)
    assert frame["outbound_service_time"].to_dict() == {"plant": 0.0, "dc": 0.0}
    assert frame.at["plant", "net_replenishment_time"] == 4
    assert frame.at["dc", "net_replenishment_time"] == 1
    assert frame.at["dc", "base_stock"] == pytest.approx(10 * 1 + 2 * 3 * 1)


def test_assembly_by_hand_ties_the_cheap_supplier_to_the_slow_one():
    # A (T=4, h=10) passes through (S_A = 4). B (T=2, external inbound 3, h=1) can quote
    # at most 5; quoting 5 costs nothing at B but makes C wait 5 (5*sqrt(6) = 12.25),
    # quoting 4 = S_A costs 1*sqrt(1) at B and C waits 4 (1 + 5*sqrt(5) = 12.18).
    unit = {"safety_factor": 1.0}
    graph = _graph(
        {
            "A": {"processing_time": 4, "holding_cost": 10.0, **unit},
            "B": {"processing_time": 2, "holding_cost": 1.0, "external_inbound_cst": 3, **unit},
            "C": {
                "processing_time": 1,
                "holding_cost": 5.0,
                "demand_mean": 1.0,
                "demand_std": 1.0,
                **unit,
            },
        },
        [("A", "C"), ("B", "C")],
    )
    plan = place_safety_stock(graph)
    frame = plan.to_frame()
    assert plan.total_cost == pytest.approx(1 + 5 * math.sqrt(5))
    assert frame.at["A", "outbound_service_time"] == 4
    assert frame.at["B", "outbound_service_time"] == 4
    assert frame.at["B", "inbound_service_time"] == 3
    assert frame.at["C", "inbound_service_time"] == 4


def test_distribution_by_hand_pools_demand():
    # sigma_D = sqrt(3^2 + 4^2) = 5; cost(s) = 5 sqrt(3 - s) + 6 sqrt(s + 1)
    # + 8 sqrt(max(0, s + 2 - 1)); s = 0 gives 5 sqrt 3 + 14, the minimum.
    unit = {"safety_factor": 1.0}
    graph = _graph(
        {
            "D": {"processing_time": 3, "holding_cost": 1.0, **unit},
            "M1": {
                "processing_time": 1,
                "holding_cost": 2.0,
                "demand_mean": 5,
                "demand_std": 3.0,
                **unit,
            },
            "M2": {
                "processing_time": 2,
                "holding_cost": 2.0,
                "demand_mean": 7,
                "demand_std": 4.0,
                "max_outbound_cst": 1,
                **unit,
            },
        },
        [("D", "M1"), ("D", "M2")],
    )
    plan = place_safety_stock(graph)
    frame = plan.to_frame()
    assert plan.total_cost == pytest.approx(5 * math.sqrt(3) + 14)
    assert frame.at["D", "demand_std"] == pytest.approx(5.0)
    assert frame.at["D", "demand_mean"] == pytest.approx(12.0)
    assert frame.at["M2", "outbound_service_time"] == 1
    assert frame.at["M2", "net_replenishment_time"] == 1


def test_units_per_parent_scale_pooled_demand():
    graph = _graph(
        {
            "part": {"processing_time": 2, "holding_cost": 1.0},
            "kit": {"processing_time": 1, "holding_cost": 5.0, "demand_mean": 4, "demand_std": 2.0},
        },
        [("part", "kit")],
    )
    graph.edges["part", "kit"]["units"] = 3
    frame = place_safety_stock(graph, 0.95).to_frame()
    assert frame.at["part", "demand_std"] == pytest.approx(6.0)
    assert frame.at["part", "demand_mean"] == pytest.approx(12.0)
    assert frame.at["part", "safety_factor"] == pytest.approx(1.6448536)


def test_service_levels_per_node_and_given_sigma_override():
    graph = _graph(
        {
            "plant": {
                "processing_time": 2,
                "holding_cost": 1.0,
                "service_level": 0.99,
                "demand_std": 7.0,
            },
            "dc": {"processing_time": 1, "holding_cost": 1.0, "demand_mean": 1, "demand_std": 1.0},
        },
        [("plant", "dc")],
    )
    frame = place_safety_stock(graph, 0.9).to_frame()
    assert frame.at["plant", "safety_factor"] == pytest.approx(2.3263479)
    assert frame.at["dc", "safety_factor"] == pytest.approx(1.2815516)
    assert frame.at["plant", "demand_std"] == 7.0


def test_plan_table_is_consistent():
    graph = read_gsm_instance(GSM_DATA / "bulldozer.txt", holding_rate=0.3)
    plan = place_safety_stock(graph)
    frame = plan.to_frame()
    assert list(frame.columns) == [
        "outbound_service_time",
        "inbound_service_time",
        "processing_time",
        "net_replenishment_time",
        "safety_factor",
        "demand_mean",
        "demand_std",
        "safety_stock",
        "base_stock",
        "unit_holding_cost",
        "holding_cost",
    ]
    nrt = frame["inbound_service_time"] + frame["processing_time"] - frame["outbound_service_time"]
    pd.testing.assert_series_equal(frame["net_replenishment_time"], nrt, check_names=False)
    safety = frame["safety_factor"] * frame["demand_std"] * frame["net_replenishment_time"] ** 0.5
    pd.testing.assert_series_equal(frame["safety_stock"], safety, check_names=False)
    base = frame["demand_mean"] * frame["net_replenishment_time"] + frame["safety_stock"]
    pd.testing.assert_series_equal(frame["base_stock"], base, check_names=False)
    assert frame["holding_cost"].sum() == pytest.approx(plan.total_cost)
    assert plan.gap == 0 and plan.best_bound == pytest.approx(plan.total_cost)
    assert plan.scip_version.startswith("10.")
    assert plan.solve_seconds > 0


def test_forest_and_single_node():
    graph = _graph(
        {
            "a": {"processing_time": 2, "holding_cost": 1.0, "demand_mean": 1, "demand_std": 1.0},
            "b": {"processing_time": 3, "holding_cost": 1.0},
            "c": {"processing_time": 1, "holding_cost": 1.0, "demand_mean": 1, "demand_std": 2.0},
        },
        [("b", "c")],
    )
    plan = place_safety_stock(graph, 0.95)
    frame = plan.to_frame()
    assert plan.is_optimal and plan.method == "tree"
    assert frame.at["a", "net_replenishment_time"] == 2


# --- per-node rules -----------------------------------------------------------------------


def _diamond() -> nx.DiGraph:
    return _graph(
        {
            "s": {"processing_time": 2, "holding_cost": 1.0},
            "a": {"processing_time": 3, "holding_cost": 2.0},
            "b": {"processing_time": 1, "holding_cost": 2.0},
            "m": {"processing_time": 1, "holding_cost": 4.0, "demand_mean": 5, "demand_std": 2.0},
        },
        [("s", "a"), ("s", "b"), ("a", "m"), ("b", "m")],
    )


def test_must_hold_serves_from_stock_and_may_not_hold_holds_nothing():
    free = place_safety_stock(_diamond(), 0.95).to_frame()
    assert free.at["a", "outbound_service_time"] > 0  # a would rather pass through
    ruled = place_safety_stock(_diamond(), 0.95, must_hold=["a"], may_not_hold=["b"]).to_frame()
    assert ruled.at["a", "outbound_service_time"] == 0
    assert ruled.at["a", "net_replenishment_time"] == ruled.at["a", "inbound_service_time"] + 3
    assert ruled.at["b", "net_replenishment_time"] == 0
    assert ruled.at["b", "safety_stock"] == 0


def test_infeasible_rules_name_the_sink_and_the_chain():
    graph = _diamond()
    graph.nodes["s"]["external_inbound_cst"] = 2
    with pytest.raises(InfeasibleError, match=r"'m' cannot meet max_outbound_cst = 0") as info:
        place_safety_stock(graph, 0.95, may_not_hold=["s", "a", "m"])
    message = str(info.value)
    assert "'s' -> 'a' -> 'm'" in message
    assert "external inbound time 2" in message and "may_not_hold" in message


# --- validation ---------------------------------------------------------------------------


def test_cycle_is_named():
    graph = _diamond()
    graph.add_edge("m", "s")
    with pytest.raises(NetworkValidationError, match=r"the supply graph has a cycle: ") as info:
        place_safety_stock(graph, 0.95)
    assert "'m' -> 's'" in str(info.value)


@pytest.mark.parametrize(
    ("node", "attribute", "value", "pattern"),
    [
        ("a", "processing_time", None, r"node 'a' has no 'processing_time'"),
        ("b", "holding_cost", -1.0, r"node 'b' has 'holding_cost' = -1.0"),
        ("m", "demand_std", None, r"demand node 'm' .* has no 'demand_std'"),
        ("s", "max_outbound_cst", "soon", r"node 's' has a non-numeric 'max_outbound_cst'"),
        ("s", "service_level", 1.2, r"node 's' has service level 1.2"),
    ],
)
def test_bad_attributes_are_named(node, attribute, value, pattern):
    graph = _diamond()
    if value is None:
        graph.nodes[node].pop(attribute, None)
    else:
        graph.nodes[node][attribute] = value
    with pytest.raises(NetworkValidationError, match=pattern):
        place_safety_stock(graph, 0.95)


def test_missing_service_level_and_contradictory_rules_are_named():
    with pytest.raises(NetworkValidationError, match="node 's' has neither"):
        place_safety_stock(_diamond())
    with pytest.raises(NetworkValidationError, match="both must_hold and may_not_hold"):
        place_safety_stock(_diamond(), 0.95, must_hold=["a"], may_not_hold=["a"])
    with pytest.raises(NetworkValidationError, match="not in the graph"):
        place_safety_stock(_diamond(), 0.95, must_hold=["nowhere"])
    with pytest.raises(NetworkValidationError, match="DiGraph"):
        place_safety_stock(nx.MultiDiGraph(_diamond()), 0.95)


# --- solver reporting ---------------------------------------------------------------------


def test_solver_is_silent_and_writes_its_log_when_asked(tmp_path, capfd):
    log = tmp_path / "scip.log"
    plan = place_safety_stock(_diamond(), 0.95, log_path=log)
    assert plan.method == "milp"
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert "SCIP Status" in log.read_text()


def test_column_generation_path_matches_the_full_model():
    graph = read_gsm_instance(GSM_DATA / "bulldozer.txt", holding_rate=0.3)
    # Two extra edges make the bulldozer tree a network with cycles.
    graph.add_edge("Engine", "Transmission")
    graph.add_edge("Case", "Final_Drive&Brake")
    full = place_safety_stock(graph)
    generated = place_safety_stock(graph, full_model_pairs=1, method="milp")
    eliminated = place_safety_stock(graph, full_model_pairs=1)
    assert full.method == "milp" and generated.method == "column generation"
    assert eliminated.method == "elimination"  # tree-width two: two cycles, no overlap
    assert full.is_optimal and generated.is_optimal and eliminated.is_optimal
    assert generated.total_cost == pytest.approx(full.total_cost, rel=1e-9)
    assert eliminated.total_cost == pytest.approx(full.total_cost, rel=1e-9)
    assert eliminated.best_bound == eliminated.total_cost and eliminated.gap == 0


@pytest.mark.parametrize(
    ("stopped", "status"), [("deadline", "time_limit"), ("stalled", "not_proven")]
)
def test_unproven_plan_reports_its_bound(monkeypatch, stopped, status):
    # Column generation that stops with pairs left unpriced cannot prove optimality.
    original = optimize.generate_columns

    def stopped_early(reduced, **kwargs):
        result = original(reduced, **kwargs)
        return ColumnGenerationResult(
            result.columns,
            False,
            0.9 * result.upper_bound,
            result.upper_bound,
            result.start,
            1,
            stopped,
        )

    monkeypatch.setattr(optimize, "generate_columns", stopped_early)
    graph = _diamond()
    graph.add_edge("s", "m")
    plan = place_safety_stock(graph, 0.95, full_model_pairs=1, method="milp")
    assert not plan.is_optimal
    assert plan.status == status
    assert plan.best_bound == pytest.approx(0.9 * plan.total_cost)
    assert plan.gap == pytest.approx(0.1)
    assert len(plan.to_frame()) == 4


def test_dual_ascent_plan_is_kept_when_column_generation_finds_worse(monkeypatch):
    # The dual ascent stops short of proving its plan; column generation then comes up
    # only with the plan where every stage quotes 0 (feasible, not optimal). The better
    # of the two is reported, without a claim of optimality.
    original = optimize.dual_ascent

    def stopped_dual(reduced, **kwargs):
        result = original(reduced, **kwargs)
        return replace(result, complete=False, lower_bound=0.5 * result.upper_bound)

    def quote_zero_everywhere(reduced, **kwargs):
        columns = {
            key: Columns(
                np.array([0]),
                np.array([0]),
                stage_table(reduced.network, reduced.stages[key])[[0], [0]],
            )
            for key in reduced.graph
        }
        total = sum(float(c.costs[0]) for c in columns.values())
        return ColumnGenerationResult(
            columns, False, 0.0, total, dict.fromkeys(columns, 0), 1, "deadline"
        )

    graph = _diamond()
    graph.add_edge("s", "m")
    best = place_safety_stock(graph, 0.95)
    monkeypatch.setattr(optimize, "dual_ascent", stopped_dual)
    monkeypatch.setattr(optimize, "generate_columns", quote_zero_everywhere)
    plan = place_safety_stock(graph, 0.95, full_model_pairs=1, method="dual ascent")
    quoting_zero = place_safety_stock(graph, 0.95, must_hold=list(graph))
    assert quoting_zero.total_cost > 1.01 * best.total_cost
    assert plan.total_cost == pytest.approx(best.total_cost, rel=1e-9)
    assert plan.status == "time_limit"
    assert plan.method == "dual ascent"
    assert plan.best_bound < plan.total_cost


def test_a_best_plan_that_breaks_a_rule_is_never_reported(monkeypatch):
    # A dual ascent that hands back each stage's cheapest pair, whatever its suppliers
    # quote: cheap in the tables, but it breaks edges. Column generation's plan wins.
    original = optimize.dual_ascent

    def broken_dual(reduced, **kwargs):
        result = original(reduced, **kwargs)
        columns = {}
        for key in reduced.graph:
            table = stage_table(reduced.network, reduced.stages[key])
            row, col = np.unravel_index(int(np.argmin(table)), table.shape)
            columns[key] = Columns(np.array([row]), np.array([col]), table[[row], [col]])
        cheap = sum(float(c.costs[0]) for c in columns.values())
        return replace(
            result,
            complete=False,
            columns=columns,
            start=dict.fromkeys(columns, 0),
            upper_bound=cheap,
            lower_bound=0.0,
        )

    graph = _diamond()
    graph.add_edge("s", "m")
    best = place_safety_stock(graph, 0.95)
    monkeypatch.setattr(optimize, "dual_ascent", broken_dual)
    plan = place_safety_stock(graph, 0.95, full_model_pairs=1, method="dual ascent")
    assert plan.total_cost == pytest.approx(best.total_cost, rel=1e-9)
    assert plan.method == "column generation"
    frame = plan.to_frame()
    for supplier, customer in graph.edges:
        assert (
            frame.at[supplier, "outbound_service_time"]
            <= frame.at[customer, "inbound_service_time"] + 1e-9
        )


def test_minimum_cut_is_skipped_on_cores_with_too_many_times(monkeypatch):
    calls = []
    original = optimize.cut_plan

    def counted(reduced):
        calls.append(reduced)
        return original(reduced)

    monkeypatch.setattr(optimize, "cut_plan", counted)
    graph = _diamond()
    graph.add_edge("s", "m")
    plan = place_safety_stock(graph, 0.95, full_model_pairs=1, method="dual ascent")
    assert plan.is_optimal and len(calls) == 1
    monkeypatch.setattr(optimize, "CUT_TIMES", 0)
    again = place_safety_stock(graph, 0.95, full_model_pairs=1, method="dual ascent")
    assert again.is_optimal and len(calls) == 1
    assert again.total_cost == pytest.approx(plan.total_cost, rel=1e-12)


def test_a_reduction_too_slow_for_the_time_limit_brackets_the_optimum(monkeypatch):
    # Fractional times, so the bracket is not exact by luck: at a hundredth of a
    # candidate pair a second the reductions would take far more than half of 60 s.
    graph = _diamond()
    for node, time in zip(graph.nodes, (1.3, 2.45, 0.7, 1.15), strict=False):
        graph.nodes[node]["processing_time"] = time
    exact = place_safety_stock(graph, 0.95)
    assert exact.is_optimal and not exact.method.startswith("rounded")
    monkeypatch.setattr(optimize, "_REDUCTION_PAIRS_PER_SECOND", 0.01)
    assert place_safety_stock(graph, 0.95).method == exact.method  # no time limit
    bracketed = place_safety_stock(graph, 0.95, time_limit=60, rounding_grids=(0.5,))
    assert bracketed.method == "rounded times (0.5)"
    assert bracketed.best_bound <= exact.total_cost + 1e-9 <= bracketed.total_cost + 2e-9
    with pytest.raises(CandidateLimitError, match="more than half the time left"):
        place_safety_stock(graph, 0.95, time_limit=60, rounding_grids=None)


def test_refinement_stopped_by_the_deadline_reports_its_bound(monkeypatch):
    original = optimize.refine_candidates

    def stopped(reduced, **options):
        result = original(reduced, **options)
        # As if the deadline had come while the bound was still 10% below.
        lower = result.upper_bound - 0.1 * abs(result.upper_bound)
        return replace(result, lower_bound=lower, stopped="deadline")

    monkeypatch.setattr(optimize, "refine_candidates", stopped)
    monkeypatch.setattr(optimize, "REFINE_ABOVE_ENTRIES", 0)
    graph = _diamond()
    graph.add_edge("s", "m")
    exact = place_safety_stock(graph, 0.95)
    plan = place_safety_stock(graph, 0.95, full_model_pairs=1, method="dual ascent")
    assert plan.method == "candidate refinement"
    assert plan.status == "time_limit" and not plan.is_optimal
    assert plan.gap > 0 and plan.best_bound < plan.total_cost
    assert plan.total_cost >= exact.total_cost - 1e-9
    assert plan.best_bound <= exact.total_cost + 1e-9


# --- frontier -----------------------------------------------------------------------------


def test_cost_service_frontier_and_plot():
    levels = (0.9, 0.95, 0.99)
    frame = cost_service_frontier(_diamond(), levels)
    assert list(frame["service_level"]) == list(levels)
    assert frame["total_cost"].is_monotonic_increasing
    assert (frame["status"] == "optimal").all()
    ax = plot_cost_service_frontier(frame)
    assert ax.get_xlabel() == "service level"
    assert len(ax.collections) == 1  # proven points only
    unproven = frame.assign(status=["optimal", "time_limit", "optimal"])
    ax = plot_cost_service_frontier(unproven)
    assert len(ax.collections) == 2
