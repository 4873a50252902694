"""Tests of toolkit.network_region on the tiny network of ``test_network``.

Best sources at cost per day 0 and carrying rate 0.365 (a day = 0.001 of value):

- M1/S1 (2 a day): P1 > D1 > M1 by road, road; 5 + 3 days = 8; freight 1.3, no
  tariff, carrying 100 x 0.001 x 3 = 0.3: landed 1.6 at unit cost 100.
- M1/S2 (20/7 a day): P2 > D1 > M1 by air, road; 2 + (3 + 1) + 1 = 7 days; freight
  4.3, tariff 0.02 x 365 = 7.3, carrying 365 x 0.001 x 5 = 1.825: landed 13.425 at 365.
- M3/S1 (1 a day): P1 > M3 by air; 5 + 4 + 2 = 11 days; landed 10.6 at 100.
- M2 has no demand.
"""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from test_network import CARRYING, tiny_dataset

import toolkit.network_region
from toolkit.network import build_network
from toolkit.network_balance import demand_rates, stock_positions
from toolkit.network_paths import best_sources, cheapest_paths, fastest_paths
from toolkit.network_region import (
    largest_market,
    main_supplier_dc,
    market_supply,
    product_line_supply,
    region_markets,
    region_network_summary,
    served_demand,
    speed_premium,
    supplier_shares,
    top_supply_paths,
)

S1_M1 = 2 * 365 * 100.0  # value per year
S2_M1 = 20 / 7 * 365 * 365.0
S1_M3 = 365 * 100.0


@pytest.fixture
def dataset():
    return tiny_dataset()


@pytest.fixture
def best(dataset):
    return best_sources(build_network(dataset), dataset.sourcing, carrying_rate=CARRYING)


@pytest.fixture
def rates(dataset):
    return demand_rates(dataset.demand)


def test_region_markets(dataset) -> None:
    assert region_markets(dataset.sites, "EU") == ["M1", "M2"]
    assert region_markets(dataset.sites, "AM") == ["M3"]
    with pytest.raises(ValueError, match="known: AM, EU"):
        region_markets(dataset.sites, "APAC")


def test_served_demand(best, rates) -> None:
    served = served_demand(best, rates, ["M1", "M2"])
    assert served[["market", "sku"]].values.tolist() == [["M1", "S1"], ["M1", "S2"]]
    assert served["served"].all()
    assert served["supplier"].tolist() == ["D1", "D1"]
    assert served["air"].tolist() == [False, True]
    assert served["value_per_year"].tolist() == pytest.approx([S1_M1, S2_M1])
    assert served["landed_cost"].tolist() == pytest.approx([730 * 1.6, 20 / 7 * 365 * 13.425])
    # A pair no plant reaches is kept, unserved and worth nothing.
    partial = served_demand(best[best["sku"] != "S2"], rates, ["M1"])
    unserved = partial[partial["sku"] == "S2"].iloc[0]
    assert not unserved["served"] and unserved["value_per_year"] == 0.0
    with pytest.raises(ValueError, match="one path per"):
        served_demand(pd.concat([best, best]), rates)


def test_market_supply(best, rates) -> None:
    table = market_supply(best, rates).set_index("market")
    assert list(table.index) == ["M1", "M3"]  # largest demand value first; M2 sells nothing
    m1 = table.loc["M1"]
    assert (m1["skus"], m1["skus_unserved"]) == (2, 0)
    assert m1["demand_value_per_year"] == pytest.approx(S1_M1 + S2_M1)
    assert m1["lead_time_days"] == pytest.approx((8 * S1_M1 + 7 * S2_M1) / (S1_M1 + S2_M1))
    assert m1["air_share"] == pytest.approx(S2_M1 / (S1_M1 + S2_M1))
    assert m1["tariff"] == pytest.approx(20 / 7 * 365 * 7.3)
    assert m1["freight"] + m1["tariff"] + m1["carrying"] == pytest.approx(m1["landed_cost"])
    assert m1["landed_share"] == pytest.approx(m1["landed_cost"] / m1["demand_value_per_year"])
    assert (m1["main_supplier"], m1["main_supplier_share"]) == ("D1", 1.0)
    m3 = table.loc["M3"]
    assert m3["lead_time_days"] == pytest.approx(11.0)
    assert m3["landed_cost"] == pytest.approx(365 * 10.6)
    assert m3["main_supplier"] == "P1"  # a direct lane from the plant
    assert market_supply(best, rates, ["M2"]).empty


def test_product_line_supply_and_top_paths(dataset, best, rates) -> None:
    lines = product_line_supply(best, rates, dataset.items, ["M1", "M3"])
    # M1 first (largest), its vascular line (S2, worth more) before trauma.
    assert lines[["market", "product_line"]].values.tolist() == [
        ["M1", "vascular"],
        ["M1", "trauma"],
        ["M3", "trauma"],
    ]
    first = lines.iloc[0]
    assert (first["plant"], first["path"], first["via"], first["modes"]) == (
        "P2",
        "P2 > D1 > M1",
        "D1",
        "air > road",
    )
    assert first["route_share"] == 1.0 and first["lead_time_days"] == pytest.approx(7.0)
    assert lines.iloc[2]["via"] == "direct"

    top = top_supply_paths(best, rates, dataset.items, n=2)
    assert top[["market", "sku", "description"]].values.tolist() == [
        ["M1", "S2", "Stent"],
        ["M1", "S1", "Bone screw"],
    ]
    assert top["landed_cost"].tolist() == pytest.approx([13.425, 1.6])
    assert top["landed_share"].tolist() == pytest.approx([13.425 / 365, 0.016])


def test_suppliers_and_main_dc(dataset, best, rates) -> None:
    shares = supplier_shares(best, rates, dataset.sites)
    assert shares[["supplier", "site_type", "markets", "skus"]].values.tolist() == [
        ["D1", "dc", 1, 2],
        ["P1", "plant", 1, 1],
    ]
    assert shares["share"].sum() == pytest.approx(1.0)
    assert main_supplier_dc(best, rates, dataset.sites) == "D1"
    # M3 is served straight from the plant: no DC ships to it.
    assert main_supplier_dc(best, rates, dataset.sites, ["M3"]) is None
    assert largest_market(best, rates) == "M1"
    assert largest_market(best, rates, ["M2"]) is None


def test_speed_premium(dataset, rates) -> None:
    graph = build_network(dataset)
    cheap = cheapest_paths(graph, dataset.sourcing, carrying_rate=CARRYING, by_plant=False)
    fast = fastest_paths(graph, dataset.sourcing, carrying_rate=CARRYING, by_plant=False)
    table = speed_premium(cheap, fast, rates, ["M1", "M3"], chosen=cheap, total_label="all")
    assert table["market"].tolist() == ["M1", "M3", "all"]
    for which, paths in (("cheapest", cheap), ("fastest", fast)):
        supply = market_supply(paths, rates, ["M1", "M3"]).set_index("market")
        for market in ("M1", "M3"):
            row = table.set_index("market").loc[market]
            assert row[f"lead_time_{which}"] == pytest.approx(supply.loc[market, "lead_time_days"])
            assert row[f"landed_{which}"] == pytest.approx(supply.loc[market, "landed_cost"])
    total = table.iloc[-1]
    assert total["landed_fastest"] == pytest.approx(table["landed_fastest"].iloc[:2].sum())
    assert total["days_saved"] == pytest.approx(
        total["lead_time_cheapest"] - total["lead_time_fastest"]
    )
    assert (table["days_saved"] >= -1e-9).all()  # the fastest is never slower
    assert (table["extra_cost_per_year"] >= -1e-9).all()  # nor cheaper
    assert table["lead_time_chosen"].tolist() == pytest.approx(table["lead_time_cheapest"].tolist())
    assert total["extra_cost_share"] == pytest.approx(
        total["extra_cost_per_year"] / total["demand_value_per_year"]
    )


def test_region_network_summary(dataset, best, rates) -> None:
    positions = stock_positions(dataset, demand=rates, carrying_rate=CARRYING)
    summary = region_network_summary(best, rates, positions, dataset.sites, "EU")
    assert (summary.markets, summary.markets_served) == (2, 1)
    assert (summary.demand_pairs, summary.unserved_pairs) == (2, 0)
    assert summary.demand_value_per_year == pytest.approx(S1_M1 + S2_M1)
    assert summary.lead_time_days == pytest.approx((8 * S1_M1 + 7 * S2_M1) / (S1_M1 + S2_M1))
    assert (summary.main_dc, summary.main_dc_share) == ("D1", 1.0)
    assert (summary.largest_market, summary.largest_market_country) == ("M1", "FR")
    assert summary.largest_market_share == 1.0
    inside = positions[positions["region"] == "EU"]
    assert summary.shortage_value == pytest.approx(inside["shortage_value"].sum())
    assert summary.excess_rows == int((inside["status"] == "excess").sum())
    am = region_network_summary(best, rates, positions, dataset.sites, "AM")
    assert am.main_dc is None and am.largest_market == "M3"
    assert am.lead_time_days == pytest.approx(11.0)


def test_docstring_examples() -> None:
    result = doctest.testmod(
        toolkit.network_region, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0 and result.attempted > 0
