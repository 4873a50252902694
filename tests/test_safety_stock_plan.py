"""Tests of toolkit.safety_stock_plan (and its charts) on the tiny network of test_network.

Region EU has the markets M1 and M2; M3 (region AM) is another region's market. A road
lane D1 -> M3 is added so that M3's S1 also ships through D1 (P1 -> D1 -> M3 lands at
1.4 against 10.6 by air), which makes D1 a site shared by two regions.

Hand arithmetic (carrying rate 0.365 a year: a day costs 0.001 of value; weekly periods):

S1 in EU is sold at M1 only: 14 a week, sigma 10 a week, target 95% (z = 1.644854).
Its tree is P1 -> D1 -> M1 with processing times 5, 2 and 1 days (5/7, 2/7, 1/7 weeks)
and holding costs 0.007 x value per week: P1 0.7 (100), D1 0.7084 (101.2), M1 0.7112
(101.6). Per unit of z sigma the stocking choices cost

=============  ======================================================
M1 only        0.7112 sqrt(8/7)                                = 0.7603
D1 and M1      0.7084 sqrt(7/7) + 0.7112 sqrt(1/7)             = 0.9772
P1 and M1      0.7 sqrt(5/7) + 0.7112 sqrt(3/7)                = 1.0572
all three      0.7 sqrt(5/7) + 0.7084 sqrt(2/7) + 0.7112 sqrt(1/7) = 1.2390
=============  ======================================================

so M1 holds everything: safety stock z sigma sqrt(8/7) = 17.5843 units.

S2 (made at P2 only, 365 each) is sold at M1: 20 a week, sigma 8, target 90%; it is
more valuable than S1 (20 x 52 x 365 against 14 x 52 x 100 a year). S3 is sold at M1
but no plant makes it: its tree cannot be built.
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from test_network import CARRYING, tiny_dataset

import toolkit.safety_stock_plan as ssp
from toolkit.network import build_network
from toolkit.optimize import InfeasibleError
from toolkit.safety_stock_plan import (
    by_product_line,
    frontier_skus,
    market_demand,
    plan_flows,
    plan_safety_stock,
    region_frontier,
    region_networks,
    status_summary,
    summarize_plan,
    top_differences,
    variability_sources,
)
from toolkit.safety_stock_plot import (
    plot_frontier,
    plot_product_lines,
    plot_safety_stock_network,
    plot_stock_by_echelon,
    plot_today_vs_proposed,
)

Z95 = norm.ppf(0.95)
Z90 = norm.ppf(0.90)
SS_S1 = Z95 * 10.0 * math.sqrt(8 / 7)  # 17.5843
WEEKS_PER_YEAR = 365 / 7


@pytest.fixture
def dataset():
    data = tiny_dataset(extra_lanes=[("D1", "M3", "road", 1.0, 0.1, 0.0, 0.0)])
    policies = pd.DataFrame(
        {
            "site_id": ["D1", "M1", "M2", "M3", "M1"],
            "sku": ["S1", "S1", "S1", "S1", "S3"],
            "reorder_point": [50.0, 40.0, 8.0, 12.0, 6.0],
            "order_up_to": [90.0, 80.0, 10.0, 30.0, 9.0],
            "safety_stock": [30.0, 20.0, 5.0, 7.0, 4.0],
        }
    )
    return data.replace(policies=policies)


@pytest.fixture
def demand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series_id": ["M1|S1", "M1|S2", "M1|S3"],
            "site_id": ["M1", "M1", "M1"],
            "sku": ["S1", "S2", "S3"],
            "service_level": [0.95, 0.90, 0.95],
            "annual_value": [14 * 52 * 100.0, 20 * 52 * 365.0, 1000.0],
            "demand_mean": [14.0, 20.0, 1.0],
            "demand_std": [10.0, 8.0, 1.0],
            "std_source": ["backtest", "history_floor", "history"],
        }
    )


@pytest.fixture
def networks(dataset, demand):
    return region_networks(dataset, demand, region="EU", carrying_rate=CARRYING, period_days=7.0)


@pytest.fixture
def plan(networks, dataset):
    return plan_safety_stock(networks, policies=dataset.policies, progress=False)


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


# --- demand per market ---------------------------------------------------------------------


def test_market_demand_sigma_from_backtest_errors() -> None:
    segments = pd.DataFrame(
        {
            "series_id": ["M1|A", "M1|B", "M1|C"],
            "site_id": "M1",
            "sku": ["A", "B", "C"],
            "pattern": ["smooth", "intermittent", "new"],
            "abc": "A",
            "xyz": "X",
            "service_level": [0.99, 0.95, 0.97],
            "target_source": "matrix",
            "annual_value": [3.0, 2.0, 1.0],
            "mean": [10.0, 0.2, 4.0],
            "std": [5.0, 0.5, 2.0],
        }
    )
    scores = pd.DataFrame(
        {
            "series_id": ["M1|A", "M1|A", "M1|A", "M1|B"],
            "method": ["ses", "ses", "mean", "sba"],
            "rmse": [3.0, 4.0, 99.0, 0.1],
            "chosen": [True, True, False, True],
        }
    )
    forecast = pd.DataFrame(
        {"series_id": ["M1|A", "M1|A", "M1|B", "M1|B"], "forecast": [11.0, 13.0, 0.3, 0.1]}
    )
    run = type("Run", (), {"scores": scores, "forecast": forecast})()
    out = market_demand(segments, run=run).set_index("series_id")
    # A: root mean square of its chosen method's errors, sqrt((9 + 16) / 2).
    assert out.at["M1|A", "demand_std"] == pytest.approx(math.sqrt(12.5))
    assert out.at["M1|A", "std_source"] == "backtest"
    # B is intermittent: its backtest error 0.1 is floored at the demand's 0.5.
    assert out.at["M1|B", "demand_std"] == pytest.approx(0.5)
    assert out.at["M1|B", "std_source"] == "history_floor"
    # C has no backtest: the demand history.
    assert (out.at["M1|C", "demand_std"], out.at["M1|C", "std_source"]) == (2.0, "history")
    # Means: the forecast's weekly average where there is one, else the history.
    assert out.at["M1|A", "demand_mean"] == pytest.approx(12.0)
    assert out.at["M1|B", "demand_mean"] == pytest.approx(0.2)
    assert out.at["M1|C", "demand_mean"] == 4.0
    assert list(out["mean_source"]) == ["forecast", "forecast", "history"]
    assert out.at["M1|A", "service_level"] == 0.99


# --- the plan ------------------------------------------------------------------------------


def test_networks_of_the_region(networks) -> None:
    assert networks.markets == ("M1", "M2")
    assert set(networks.graphs) == {"S1", "S2"}
    assert "no plant sources sku 'S3'" in networks.errors["S3"]
    assert networks.requested == ["S2", "S1", "S3"]  # by annual value
    tree = networks.graphs["S1"]
    assert set(tree.edges) == {("P1", "D1"), ("D1", "M1")}  # M3 is another region's
    assert tree.nodes["M1"]["service_level"] == 0.95
    assert tree.nodes["D1"]["service_level"] == pytest.approx(0.95)  # from the market
    assert tree.nodes["M1"]["demand_std"] == pytest.approx(10.0)
    # M3's 7 a week ships through D1 and P1 on its best route.
    other = networks.other_demand.set_index(["site_id", "sku"])["other_demand_mean"]
    assert other[("D1", "S1")] == pytest.approx(7.0)


def test_safety_stock_at_the_optimal_placement(plan) -> None:
    s1 = plan.policies[plan.policies["sku"] == "S1"].set_index("site_id")
    assert s1.at["M1", "safety_stock"] == pytest.approx(SS_S1)
    assert s1.at["D1", "safety_stock"] == 0.0 and s1.at["P1", "safety_stock"] == 0.0
    m1 = s1.loc["M1"]
    assert m1["net_replenishment_time"] == pytest.approx(8 / 7)
    assert m1["net_replenishment_days"] == pytest.approx(8.0)
    assert m1["outbound_service_time"] == 0.0
    # Order-up-to = mean x NRT + safety stock; reorder point one week's demand below.
    assert m1["order_up_to"] == pytest.approx(14 * 8 / 7 + SS_S1)
    assert m1["base_stock"] == m1["order_up_to"]
    assert m1["reorder_point"] == pytest.approx(14 * 8 / 7 + SS_S1 - 14)
    # D1 passes S1 on (NRT 0): not a stocking point, no order-up-to level.
    assert not s1.at["D1", "stocking_point"] and s1.at["D1", "order_up_to"] == 0.0
    assert m1["holding_cost_per_period"] == pytest.approx(0.7112 * SS_S1)
    assert m1["holding_cost_per_year"] == pytest.approx(0.7112 * SS_S1 * WEEKS_PER_YEAR)
    assert m1["value"] == pytest.approx(100 * SS_S1)  # at the item's unit cost
    assert m1["landed_value"] == pytest.approx(101.6)
    # S2: M1 holds z90 x 8 x sqrt(7 days / 7) (P2 2 days, air 3 + 1, road 1).
    s2 = plan.policies[(plan.policies["sku"] == "S2") & (plan.policies["site_id"] == "M1")]
    assert s2["safety_stock"].iloc[0] == pytest.approx(Z90 * 8.0)
    assert plan.total_cost == pytest.approx(plan.policies["holding_cost_per_year"].sum())


def test_every_sku_is_accounted_for(plan, networks) -> None:
    assert plan.requested == len(networks.requested) == 3
    assert plan.solved + plan.failed == plan.requested
    assert (plan.solved, plan.failed, plan.optimal) == (2, 1, 2)
    s3 = _row(plan.solves, sku="S3")
    assert s3["status"] == "no network" and not s3["has_plan"]
    assert "S3" in s3["message"]
    assert set(plan.policies["sku"]) == {"S1", "S2"}
    # Today's safety stock of S3 at M1 is listed, not silently left out.
    left = _row(plan.not_compared, sku="S3")
    assert (left["reason"], left["safety_stock"]) == ("no plan (solve failed)", 4.0)
    counts = status_summary(plan.solves).set_index("status")["skus"]
    assert counts.to_dict() == {"optimal": 2, "no network": 1}


def test_comparison_with_today(plan) -> None:
    s1 = plan.comparison[plan.comparison["sku"] == "S1"].set_index("site_id")
    # M3 belongs to another region; P1 has no policy today.
    assert set(s1.index) == {"P1", "D1", "M1", "M2"}
    # D1 ships 14 a week for EU and 7 for M3: EU's share of its 30 units is 2/3.
    assert s1.at["D1", "region_share"] == pytest.approx(2 / 3)
    assert s1.at["D1", "today_units"] == pytest.approx(20.0)
    assert (s1.at["M1", "today_units"], s1.at["M2", "today_units"]) == (20.0, 5.0)
    assert not s1.at["P1", "in_policies"] and s1.at["P1", "today_units"] == 0.0
    assert s1.at["M1", "difference_units"] == pytest.approx(20.0 - SS_S1)
    assert s1.at["M1", "freed_value"] == pytest.approx(100 * (20.0 - SS_S1))
    # M2 has no demand for S1: nothing proposed, held today at 0.7 a week per unit.
    assert s1.at["M2", "proposed_units"] == 0.0
    assert s1.at["M2", "today_holding_cost_per_year"] == pytest.approx(5 * 0.7 * WEEKS_PER_YEAR)
    assert s1.at["D1", "today_holding_cost_per_year"] == pytest.approx(20 * 0.7084 * WEEKS_PER_YEAR)
    # Totals: S1 today 45 units (4,500), S2 none today.
    summary = summarize_plan(plan)
    s2_value = 365 * Z90 * 8.0
    assert summary.today_value == pytest.approx(4500.0)
    assert summary.proposed_value == pytest.approx(100 * SS_S1 + s2_value)
    assert summary.freed_value == pytest.approx(4500.0 - 100 * SS_S1 - s2_value)
    assert summary.freed_share == pytest.approx(summary.freed_value / 4500.0)
    # Value-weighted target: (0.95 x 72,800 + 0.90 x 379,600) / 452,400.
    assert summary.service_level == pytest.approx((0.95 * 72_800 + 0.90 * 379_600) / 452_400)
    assert (summary.skus_requested, summary.skus_optimal, summary.skus_failed) == (3, 2, 1)
    assert summary.not_compared_value == 0.0  # S3 has no unit cost in the item master


def test_summaries_add_up(plan, dataset) -> None:
    total = plan.by_echelon.set_index("echelon").loc["total"]
    parts = plan.by_echelon[plan.by_echelon["echelon"] != "total"]
    for column in ("today_value", "proposed_value", "freed_value"):
        assert total[column] == pytest.approx(parts[column].sum())
        assert total[column] == pytest.approx(plan.comparison[column].sum())
        assert plan.by_site[column].sum() == pytest.approx(plan.comparison[column].sum())
    market = plan.by_echelon.set_index("echelon").loc["market"]
    assert market["today_value"] == pytest.approx(2500.0)
    m1 = _row(plan.by_site, site_id="M1")
    assert m1["change"] == "more"  # S2 is new stock at M1
    assert _row(plan.by_site, site_id="D1")["change"] == "less"
    lines = by_product_line(plan.comparison, dataset.items).set_index("product_line")
    assert lines.at["trauma", "today_value"] == pytest.approx(4500.0)
    assert lines.at["total", "freed_value"] == pytest.approx(total["freed_value"])
    freed = top_differences(plan.comparison, dataset.items, n=5)
    assert list(freed["sku"]) == ["S1"] and freed["description"].iloc[0] == "Bone screw"
    added = top_differences(plan.comparison, n=5, freed=False)
    assert list(added["sku"]) == ["S2"]
    sources = variability_sources(plan.market_demand).set_index("std_source")
    assert sources["series"].to_dict() == {"history_floor": 1, "backtest": 1}


def test_flows_of_the_plan(networks) -> None:
    flows = plan_flows(networks).set_index(["origin", "destination", "mode"])
    # S1: 14 a week = 2 a day at 100; S2: 20 a week at 365 over P2 -> D1 by air.
    assert flows.loc[("P1", "D1", "road"), "value_per_day"] == pytest.approx(200.0)
    assert flows.loc[("D1", "M1", "road"), "units_per_day"] == pytest.approx(2.0 + 20 / 7)


def test_parallel_run_equals_serial(networks, dataset, plan) -> None:
    parallel = plan_safety_stock(
        networks, policies=dataset.policies, n_jobs=2, chunk_size=1, progress=False
    )
    pd.testing.assert_frame_equal(parallel.policies, plan.policies)
    pd.testing.assert_frame_equal(parallel.comparison, plan.comparison)
    timing = ["solve_seconds"]
    pd.testing.assert_frame_equal(
        parallel.solves.drop(columns=timing), plan.solves.drop(columns=timing)
    )


def test_site_rules(networks, dataset) -> None:
    ruled = plan_safety_stock(
        networks, policies=dataset.policies, must_hold=["D1", "X9"], progress=False
    )
    s1 = ruled.policies[ruled.policies["sku"] == "S1"].set_index("site_id")
    # D1 serves from stock: it covers P1's 5 days and its own 2; M1 its 1 day.
    assert s1.at["D1", "safety_stock"] == pytest.approx(Z95 * 10.0 * 1.0)
    assert s1.at["M1", "safety_stock"] == pytest.approx(Z95 * 10.0 * math.sqrt(1 / 7))
    assert ruled.must_hold == ("D1", "X9")
    with pytest.raises(ValueError, match="both must_hold and may_not_hold"):
        plan_safety_stock(networks, must_hold=["D1"], may_not_hold=["D1"], progress=False)


def test_not_optimal_and_failed_solves_are_reported(networks, dataset, monkeypatch) -> None:
    real = ssp.place_safety_stock

    def stopped(graph, *args, **kwargs):
        result = real(graph, *args, **kwargs)
        if graph.graph["sku"] == "S2":
            return dataclasses.replace(result, status="time_limit", gap=0.1)
        if graph.graph["sku"] == "S1":
            raise InfeasibleError("no service times meet the bounds")
        return result

    monkeypatch.setattr(ssp, "place_safety_stock", stopped)
    plan = plan_safety_stock(networks, policies=dataset.policies, progress=False)
    s2, s1 = _row(plan.solves, sku="S2"), _row(plan.solves, sku="S1")
    # A plan that is not proven optimal is kept, marked.
    assert (s2["status"], s2["has_plan"], s2["is_optimal"]) == ("time_limit", True, False)
    assert set(plan.policies.loc[plan.policies["sku"] == "S2", "status"]) == {"time_limit"}
    assert (s1["status"], s1["has_plan"]) == ("infeasible", False)
    assert "no service times" in s1["message"]
    assert (plan.solved, plan.failed, plan.optimal) == (1, 2, 0)
    assert "S1" not in set(plan.comparison["sku"])
    assert set(plan.not_compared["sku"]) == {"S1", "S3"}


# --- the frontier ---------------------------------------------------------------------------


def test_frontier(networks, plan) -> None:
    assert frontier_skus(networks, 0.5) == ["S2"]  # S2 alone is 84% of the value
    assert frontier_skus(networks, 0.9) == ["S2", "S1"]
    assert frontier_skus(networks, 0.5, min_skus=5) == ["S2", "S1"]  # as many as there are
    frontier = region_frontier(
        networks, [0.90, 0.95], value_share=0.5, min_skus=1, plan=plan, progress=False
    )
    assert frontier.skus == ("S2",)
    assert frontier.value_share == pytest.approx(379_600 / 453_400)  # S3 counts too
    table = frontier.table.set_index("service_level")
    # S2's M1 holds z sigma sqrt(1 week) at a weekly 0.007 x 378.425.
    h_m1 = 0.007 * (365 + 12.76 + 0.665)
    for level in (0.90, 0.95):
        expected = norm.ppf(level) * 8.0
        assert table.at[level, "safety_stock_units"] == pytest.approx(expected)
        assert table.at[level, "holding_cost_per_year"] == pytest.approx(
            h_m1 * expected * WEEKS_PER_YEAR
        )
        assert table.at[level, "safety_stock_value"] == pytest.approx(365 * expected)
    assert (table["optimal"] == 1).all() and (table["failed"] == 0).all()
    # The plan on the same sku: its 90% target, the same cost as the 90% point.
    assert frontier.chosen["service_level"] == pytest.approx(0.90)
    assert frontier.chosen["holding_cost_per_year"] == pytest.approx(
        table.at[0.90, "holding_cost_per_year"]
    )
    whole = region_frontier(networks, [0.95], value_share=1.0, progress=False)
    assert whole.skus == ("S2", "S1") and whole.skus_total == 2
    parallel = region_frontier(
        networks, [0.95], value_share=1.0, n_jobs=2, chunk_size=1, progress=False
    )
    pd.testing.assert_frame_equal(
        parallel.table.drop(columns="solve_seconds"), whole.table.drop(columns="solve_seconds")
    )


# --- charts --------------------------------------------------------------------------------


def test_charts_draw(plan, networks, dataset) -> None:
    graph = build_network(dataset)
    fig = plot_safety_stock_network(graph, plan.by_site, flows=plan_flows(networks), currency="EUR")
    texts = {
        t.get_text() for legend in fig.findobj(matplotlib.legend.Legend) for t in legend.get_texts()
    }
    assert {"holds more than today", "holds less than today"} <= texts
    assert not any(t.startswith("mostly") for t in texts)
    frontier = region_frontier(
        networks, [0.9, 0.95, 0.99], plan=plan, value_share=1.0, progress=False
    )
    figures = [
        fig,
        plot_stock_by_echelon(plan.by_echelon, "EUR"),
        plot_frontier(frontier, "EUR"),
        plot_today_vs_proposed(plan.by_site, "EUR"),
        plot_product_lines(by_product_line(plan.comparison, dataset.items), "EUR"),
    ]
    for figure in figures:
        assert figure.axes
        plt.close(figure)


def test_log_dir(networks, tmp_path) -> None:
    plan = plan_safety_stock(networks, log_dir=tmp_path / "logs", progress=False)
    assert (tmp_path / "logs").is_dir()  # trees need no MILP: no log files
    assert plan.solved == 2
