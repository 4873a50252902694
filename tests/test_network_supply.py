"""Tests of toolkit.network_supply: one sku's network exported for safety-stock placement.

Uses the tiny network of ``test_network`` (carrying rate 0.365 a year, so a day costs
0.001 of value; weekly periods). Hand arithmetic in the comments.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from test_network import CARRYING, tiny_dataset

from toolkit.network import build_network
from toolkit.network_supply import supply_network


@pytest.fixture
def dataset():
    return tiny_dataset()


def test_cheapest_tree_for_s1(dataset) -> None:
    tree = supply_network(dataset, "S1", carrying_rate=CARRYING)
    assert isinstance(tree, nx.DiGraph) and not tree.is_multigraph()
    # S1 has demand at M1 and M3. Cheapest: M1 <- D1 <- P1 by road, M3 <- P1 by air.
    assert set(tree.edges) == {("P1", "D1"), ("D1", "M1"), ("P1", "M3")}
    assert tree.graph["sku"] == "S1" and tree.graph["period_days"] == 7.0
    p1, d1, m1, m3 = (tree.nodes[n] for n in ("P1", "D1", "M1", "M3"))
    # processing_time in weeks: P1 makes S1 in 5 days; D1's inbound road lane takes 2;
    # M1's 1; M3's air lane 4 transit + 2 customs = 6.
    assert p1["processing_time"] == pytest.approx(5 / 7)
    assert d1["processing_time"] == pytest.approx(2 / 7)
    assert m1["processing_time"] == pytest.approx(1 / 7)
    assert m3["processing_time"] == pytest.approx(6 / 7)
    # holding_cost per week = 0.365 x value x 7 / 365 = 0.007 x value, with value
    # P1 100, D1 100 + 1.2 = 101.2, M1 101.2 + 0.4 = 101.6, M3 100 + 10.6 = 110.6.
    assert p1["holding_cost"] == pytest.approx(0.7)
    assert d1["holding_cost"] == pytest.approx(0.7084)
    assert m1["holding_cost"] == pytest.approx(0.7112)
    assert m3["holding_cost"] == pytest.approx(0.7742)
    # Demand per week: M1 14 every week (std 0), M3 7.
    assert (m1["demand_mean"], m1["demand_std"]) == (pytest.approx(14.0), 0.0)
    assert m3["demand_mean"] == pytest.approx(7.0)
    assert m1["max_outbound_cst"] == 0.0 and "max_outbound_cst" not in d1
    assert "demand_std" not in d1  # internal nodes are pooled by the optimizer
    # Site attributes and lane data travel along.
    assert (m3["site_type"], m3["region"], m3["echelon"], m3["inbound_mode"]) == (
        "market",
        "AM",
        2,
        "air",
    )
    assert tree.edges["P1", "M3"]["landed_cost"] == pytest.approx(10.6)
    assert m3["lead_time_days"] == pytest.approx(11.0)


def test_demand_std_from_history(dataset) -> None:
    # S2 at M1: 10, 20, 30, 20 a week: mean 20, sample variance (100 + 0 + 100 + 0) / 3.
    tree = supply_network(dataset, "S2", carrying_rate=CARRYING)
    m1 = tree.nodes["M1"]
    assert m1["demand_mean"] == pytest.approx(20.0)
    assert m1["demand_std"] == pytest.approx((200 / 3) ** 0.5)
    # S2 is dear (365): P2 -> D1 by air (12.76) beats sea (16.195), one mode per lane.
    assert tree.edges["P2", "D1"]["mode"] == "air"


def test_trade_off_gives_a_forest(dataset) -> None:
    # At 10 per unit per day M3 switches to P2 via D2 (127.82 + 90 < 110.6 + 110), while
    # M1 stays with P1: two plants, two trees.
    tree = supply_network(dataset, "S1", carrying_rate=CARRYING, cost_per_day=10.0)
    assert set(tree.edges) == {("P1", "D1"), ("D1", "M1"), ("P2", "D2"), ("D2", "M3")}
    # M3's value: 120 + 0.62 (P2 -> D2) + 7.2 (D2 -> M3) = 127.82.
    assert tree.nodes["M3"]["delivered_cost"] == pytest.approx(127.82)
    assert tree.nodes["M3"]["processing_time"] == pytest.approx(5 / 7)


def test_daily_periods_whole_periods_and_bounds(dataset) -> None:
    tree = supply_network(
        dataset,
        "S1",
        carrying_rate=CARRYING,
        period_days=1.0,
        max_outbound_cst=2,
        whole_periods=True,
    )
    m1 = tree.nodes["M1"]
    assert tree.nodes["P1"]["processing_time"] == 5.0
    assert (m1["demand_mean"], m1["max_outbound_cst"]) == (pytest.approx(2.0), 2)
    # holding per day = 0.365 x 101.6 / 365
    assert m1["holding_cost"] == pytest.approx(0.1016)
    weekly = supply_network(dataset, "S1", carrying_rate=CARRYING, whole_periods=True)
    assert weekly.nodes["P1"]["processing_time"] == 1.0  # 5 days -> 1 week, rounded up


def test_forecast_frame_and_chosen_markets(dataset) -> None:
    forecast = pd.DataFrame(
        {"site_id": ["M2"], "sku": ["S1"], "demand_per_day": [3.0], "demand_std_per_day": [1.0]}
    )
    tree = supply_network(dataset, "S1", demand=forecast, carrying_rate=CARRYING)
    assert set(tree.nodes) == {"P1", "D1", "M2"}
    assert tree.nodes["M2"]["demand_mean"] == pytest.approx(21.0)
    assert tree.nodes["M2"]["demand_std"] == pytest.approx(7**0.5)
    chosen = supply_network(dataset, "S1", markets=["M3"], graph=build_network(dataset))
    assert set(chosen.nodes) == {"P1", "M3"}


def test_unserved_markets_are_listed(dataset) -> None:
    lanes = dataset.lanes[dataset.lanes["destination"] != "M3"]
    with pytest.warns(UserWarning, match="M3"):
        tree = supply_network(dataset.replace(lanes=lanes), "S1")
    assert tree.graph["unserved_markets"] == ["M3"]
    assert "M3" not in tree


def test_unknown_sku(dataset) -> None:
    with pytest.raises(ValueError, match="no plant sources sku 'S9'"):
        supply_network(dataset, "S9")
