"""Tests of toolkit.network_balance: demand rates, stock positions, hot and cold spots.

Tiny network of ``test_network``; carrying rate 0.365, cost per day 0 (cheapest
paths): S1 reaches M1 via P1 > D1 and M3 direct from P1. Replenishment lead times come
from each site's supplier on that path: M1 waits 1 day for the D1 -> M1 road lane, D1
5 (P1's processing) + 2 days, M3 5 + 4 + 2 (air plus customs) = 11 days.
Demand: M1/S1 2 a day, M3/S1 1 a day, M1/S2 20/7 a day.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_network import CARRYING, tiny_dataset

from toolkit.network_balance import (
    demand_calendar,
    demand_rates,
    forecast_rates,
    imbalances,
    site_balance,
    stock_positions,
)


def _inventory(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_date": pd.Timestamp("2026-02-02"),
            "site_id": [r[0] for r in rows],
            "sku": [r[1] for r in rows],
            "lot": [f"L{i}" for i in range(len(rows))],
            "serial": None,
            "expiry_date": pd.NaT,
            "quantity": [r[2] for r in rows],
            "status": [r[3] for r in rows],
        }
    ).astype({"site_id": "str", "sku": "str", "lot": "str", "status": "str"})


@pytest.fixture
def dataset():
    stock = _inventory(
        [
            ("M1", "S1", 100.0, "released"),
            ("M1", "S1", 20.0, "in_transit"),
            ("M1", "S1", 5.0, "quarantine"),
            ("D2", "S2", 50.0, "released"),
            ("M3", "S1", 11.0, "released"),
        ]
    )
    return tiny_dataset().replace(inventory=stock)


def test_demand_rates_weekly_history(dataset) -> None:
    rates = demand_rates(dataset.demand).set_index(["site_id", "sku"])
    assert demand_calendar(dataset.demand)[0] == 7.0
    assert rates.loc[("M1", "S1"), "demand_per_day"] == pytest.approx(2.0)
    # S2 at M1: weeks 10, 20, 30, 20 -> mean 20, sample variance 200 / 3 per week;
    # per day: mean 20 / 7, variance (200 / 3) / 7.
    assert rates.loc[("M1", "S2"), "demand_per_day"] == pytest.approx(20 / 7)
    assert rates.loc[("M1", "S2"), "demand_std_per_day"] ** 2 == pytest.approx(200 / 3 / 7)


def test_demand_rates_count_missing_periods_as_zero(dataset) -> None:
    # Drop M3's last two weeks: 7 + 7 + 0 + 0 over 4 weeks = 3.5 a week = 0.5 a day.
    demand = dataset.demand
    keep = ~((demand["site_id"] == "M3") & (demand["date"] >= "2026-01-19"))
    rates = demand_rates(demand[keep]).set_index(["site_id", "sku"])
    assert rates.loc[("M3", "S1"), "demand_per_day"] == pytest.approx(0.5)
    # A two-week window sees only weeks 3 and 4, where M3 sold nothing: no row.
    recent = demand_rates(demand[keep], window_days=14).set_index(["site_id", "sku"])
    assert ("M3", "S1") not in recent.index
    assert recent.loc[("M1", "S1"), "periods"] == 2


def test_stock_positions(dataset) -> None:
    positions = stock_positions(dataset, carrying_rate=CARRYING).set_index(["site_id", "sku"])
    m1 = positions.loc[("M1", "S1")]
    # M1/S1: on hand 100 + in transit 20 - 2 a day x 1 day = 118 (quarantine 5 left out).
    # Target 2 weeks x 14 = 28; excess beyond 28 + 4 weeks x 14 = 84: 34 units x 100.
    assert (m1["on_hand"], m1["in_transit"], m1["quarantine"]) == (100.0, 20.0, 5.0)
    assert (m1["supplier"], m1["lead_time_days"]) == ("D1", 1.0)
    assert m1["projected_units"] == pytest.approx(118.0)
    assert (m1["target_units"], m1["target_source"]) == (pytest.approx(28.0), "coverage")
    assert (m1["excess_units"], m1["shortage_units"]) == (pytest.approx(34.0), 0.0)
    assert (m1["excess_value"], m1["status"]) == (pytest.approx(3400.0), "excess")
    # D1/S1 carries M1's 2 a day (M2 has no S1 demand); 7 days lead time, no stock:
    # projected -14, target 28, shortage 42 = 4,200.
    d1 = positions.loc[("D1", "S1")]
    assert (d1["demand_per_day"], d1["supplier"], d1["lead_time_days"]) == (2.0, "P1", 7.0)
    assert d1["shortage_units"] == pytest.approx(42.0)
    assert d1["value"] == pytest.approx(4200.0)
    # M3/S1: 11 on hand - 1 a day x 11 days = 0; target 14: shortage 14 units.
    assert positions.loc[("M3", "S1"), "shortage_units"] == pytest.approx(14.0)
    # D2/S2: 50 units and no demand flows through D2 for S2: all excess (50 x 365).
    d2 = positions.loc[("D2", "S2")]
    assert (d2["excess_units"], d2["excess_value"]) == (50.0, pytest.approx(18250.0))
    # Plants are not assessed by default.
    assert not positions.reset_index()["site_id"].isin(["P1", "P2"]).any()


def test_policy_safety_stock_is_the_target(dataset) -> None:
    policies = pd.DataFrame(
        {
            "site_id": ["D1"],
            "sku": ["S1"],
            "reorder_point": [20.0],
            "order_up_to": [60.0],
            "safety_stock": [10.0],
        }
    ).astype({"site_id": "str", "sku": "str"})
    positions = stock_positions(dataset.replace(policies=policies), carrying_rate=CARRYING)
    d1 = positions.set_index(["site_id", "sku"]).loc[("D1", "S1")]
    # 10 - (-14) = 24 units short.
    assert (d1["target_source"], d1["shortage_units"]) == ("policy", pytest.approx(24.0))


def test_forecast_rates_replace_history(dataset) -> None:
    forecast = pd.DataFrame({"site_id": ["M1"], "sku": ["S1"], "demand_per_day": [10.0]})
    positions = stock_positions(dataset, demand=forecast, carrying_rate=CARRYING)
    m1 = positions.set_index(["site_id", "sku"]).loc[("M1", "S1")]
    # 120 - 10 x 1 = 110 against a target of 2 weeks x 70 = 140: 30 short.
    assert m1["shortage_units"] == pytest.approx(30.0)


def test_forecast_rates_by_hand(dataset) -> None:
    weeks = pd.date_range("2026-02-02", periods=3, freq="W-MON")
    forecast = pd.DataFrame(
        {
            "series_id": ["M1|S1"] * 3 + ["M1|S2"] * 3,
            "date": list(weeks) * 2,
            "forecast": [7.0, 21.0, 70.0, 0.0, 0.0, 0.0],  # S2 phased out: stays at zero
            "q0.05": [0.0, 7.0, 0.0, 0.0, 0.0, 0.0],
            "q0.95": [2 * 1.6448536269514722 * 7**0.5 * 2] * 2 + [99.0] + [0.0] * 3,
        }
    )
    history = demand_rates(dataset.demand)  # M1/S1, M1/S2, M3/S1
    rates = forecast_rates(forecast, weeks=2, fallback=history).set_index(["site_id", "sku"])
    # The first two weeks: (7 + 21) / 2 = 14 a week = 2 a day.
    assert rates.loc[("M1", "S1"), "demand_per_day"] == pytest.approx(2.0)
    # Band widths 2 z sqrt(7) 2 and that minus 7: mean width / (2 z) / sqrt(7).
    width = 2 * 1.6448536269514722 * 7**0.5 * 2 - 3.5
    expected_std = width / (2 * 1.6448536269514722) / 7**0.5
    assert rates.loc[("M1", "S1"), "demand_std_per_day"] == pytest.approx(expected_std)
    assert rates.loc[("M1", "S2"), "demand_per_day"] == 0.0
    assert rates.loc[("M1", "S2"), "rate_source"] == "forecast"
    # M3/S1 was not forecast: its history rate (1 a day) is kept.
    assert rates.loc[("M3", "S1"), "demand_per_day"] == pytest.approx(1.0)
    assert rates.loc[("M3", "S1"), "rate_source"] == "history"
    assert len(rates) == 3


def test_imbalances_ranked_by_region(dataset) -> None:
    ranked = imbalances(stock_positions(dataset, carrying_rate=CARRYING))
    assert list(ranked["region"].unique()) == ["AM", "EU"]
    assert {"site_id", "region", "sku", "excess_units", "shortage_units", "value"} <= set(
        ranked.columns
    )
    am = ranked[ranked["region"] == "AM"]
    # D2/S2 excess 18,250 before M3/S1 shortage 14 x 100 = 1,400.
    assert am[["site_id", "sku", "rank"]].values.tolist() == [["D2", "S2", 1], ["M3", "S1", 2]]
    assert (ranked["value"] > 0).all()
    eu = ranked[ranked["region"] == "EU"]
    assert eu["value"].is_monotonic_decreasing
    assert len(imbalances(stock_positions(dataset, carrying_rate=CARRYING), min_value=5000)) < len(
        ranked
    )


def test_site_balance(dataset) -> None:
    positions = stock_positions(dataset, carrying_rate=CARRYING)
    balance = site_balance(dataset, positions)
    assert list(balance.index) == list(dataset.sites["site_id"])
    # M1 holds (100 + 20) x 100 of S1 (quarantine not counted); short of S2 by 2 weeks
    # of 20 a week + 20/7 over the 1-day lead time, worth 42.86 x 365 = 15,643, more
    # than its S1 excess of 3,400.
    assert balance.loc["M1", "inventory_value"] == pytest.approx(12000.0)
    assert balance.loc["M1", "shortage_value"] == pytest.approx((40 + 20 / 7) * 365)
    assert balance.loc["M1", "status"] == "shortage"
    assert balance.loc["D2", "status"] == "excess"
    assert balance.loc["P1", "status"] == "balanced"
    assert (site_balance(dataset)["status"] == "balanced").all()


def test_imbalances_for_one_region_with_descriptions(dataset) -> None:
    positions = stock_positions(dataset, carrying_rate=CARRYING)
    ranked = imbalances(positions, region="AM", items=dataset.items)
    assert set(ranked["region"]) == {"AM"}
    assert ranked[["site_id", "sku", "rank"]].values.tolist() == [["D2", "S2", 1], ["M3", "S1", 2]]
    columns = list(ranked.columns)
    assert columns[columns.index("sku") + 1 : columns.index("sku") + 3] == [
        "description",
        "product_line",
    ]
    assert ranked["description"].tolist() == ["Stent", "Bone screw"]
    # ``units`` is the side the status names: D2 excess, M3 shortage.
    d2, m3 = ranked.iloc[0], ranked.iloc[1]
    assert d2["units"] == d2["excess_units"] > 0 and d2["shortage_units"] == 0
    assert m3["units"] == m3["shortage_units"] > 0
    assert imbalances(positions, region="nowhere").empty
