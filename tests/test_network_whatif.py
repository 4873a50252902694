"""Tests of toolkit.network_whatif on the tiny network of ``test_network``.

Best sources at cost per day 0 and carrying rate 0.365 (a day = 0.001 of value):
S1 to M1/M2 via P1 > D1 by road, to M3 direct by air from P1 (landed 10.6, 11 days);
S2 from P2 via D1 by air to M1/M2 and via D2 by road to M3.
"""

from __future__ import annotations

import pytest
from test_network import CARRYING, tiny_dataset

from toolkit.network_whatif import (
    Disruption,
    apply_disruption,
    compare_supply,
    disruption_impact,
    impact_by_market,
)


@pytest.fixture
def dataset():
    return tiny_dataset()


def _row(table, **where):
    mask = True
    for column, value in where.items():
        mask = mask & (table[column] == value)
    assert mask.sum() == 1
    return table[mask].iloc[0]


def test_disruption_is_frozen_and_composable() -> None:
    outage = Disruption.site_outage("D1")
    with pytest.raises(AttributeError):
        outage.removed_sites = ("D2",)  # type: ignore[misc]
    both = outage | Disruption.lane_closure("P1", "M3", "air")
    assert both.removed_sites == ("D1",)
    assert both.removed_lanes == (("P1", "M3", "air"),)
    assert both.name == "D1 out + P1 -> M3 (air) closed"
    assert Disruption(removed_lanes=[["P1", "D1"]]).removed_lanes == (("P1", "D1", None),)
    assert hash(Disruption.customs_delay("CA", 10))


def test_apply_never_mutates_the_dataset(dataset) -> None:
    before = dataset.lanes.copy()
    changed = apply_disruption(
        dataset, Disruption.site_outage("P2") | Disruption.customs_delay("CA", 10)
    )
    assert dataset.lanes.equals(before) and len(dataset.sites) == 7
    assert "P2" not in set(changed.sites["site_id"])
    assert not changed.lanes["origin"].eq("P2").any()
    assert set(changed.sourcing["site_id"]) == {"P1"}
    # Lanes into Canada from abroad get 10 more customs days: P1 -> M3 2 -> 12,
    # D2 -> M3 2 -> 12 (P2's lanes are gone with P2).
    into_ca = changed.lanes[changed.lanes["destination"] == "M3"]
    assert sorted(into_ca["customs_days"]) == [12.0, 12.0]


def test_customs_delay_leaves_domestic_lanes_alone(dataset) -> None:
    changed = apply_disruption(dataset, Disruption.customs_delay("US", 5))
    lanes = changed.lanes.set_index(["origin", "destination", "mode"])["customs_days"]
    assert lanes[("P2", "D2", "road")] == 0.0  # US -> US
    assert lanes[("P1", "D2", "sea")] == 10.0  # DE -> US: 5 + 5


def test_unknown_names_raise(dataset) -> None:
    with pytest.raises(ValueError, match="unknown site"):
        apply_disruption(dataset, Disruption.site_outage("D9"))
    with pytest.raises(ValueError, match="no lane P1 -> M1"):
        apply_disruption(dataset, Disruption.lane_closure("P1", "M1"))
    with pytest.raises(ValueError, match="no site in country 'BR'"):
        apply_disruption(dataset, Disruption.customs_delay("BR", 3))


def test_dc_outage_cuts_off_markets(dataset) -> None:
    impact = disruption_impact(dataset, Disruption.site_outage("D1"), carrying_rate=CARRYING)
    lost = impact[impact["status"] == "lost"]
    # M1 and M2 are only reached through D1: both skus lost at both.
    assert sorted(zip(lost["market"], lost["sku"], strict=True)) == [
        ("M1", "S1"),
        ("M1", "S2"),
        ("M2", "S1"),
        ("M2", "S2"),
    ]
    assert set(impact.loc[impact["market"] == "M3", "status"]) == {"unchanged"}
    summary = impact_by_market(impact)
    assert summary[["market", "skus_lost"]].values.tolist() == [["M1", 2], ["M2", 2]]


def test_customs_delay_raises_lead_time_and_cost(dataset) -> None:
    impact = disruption_impact(dataset, Disruption.customs_delay("CA", 10), carrying_rate=CARRYING)
    s1 = _row(impact, sku="S1", market="M3")
    # Same route (P1 direct by air); 10 more days: lead time 11 -> 21, carrying
    # 0.1 a day x 10 = 1.0 more: landed 10.6 -> 11.6. (P2 via D2 would now land at
    # 127.82 + 1.2 = 129.02 delivered, still dearer than 111.6.)
    assert s1["status"] == "changed"
    assert (s1["lead_time_days_before"], s1["lead_time_days_after"]) == (11.0, 21.0)
    assert s1["lead_time_change_days"] == pytest.approx(10.0)
    assert s1["landed_cost_change"] == pytest.approx(1.0)
    # S2 (365) via D2 -> M3: 0.365 a day x 10 = 3.65 more.
    assert _row(impact, sku="S2", market="M3")["landed_cost_change"] == pytest.approx(3.65)
    assert set(impact.loc[impact["market"] != "M3", "status"]) == {"unchanged"}
    assert impact["disruption"].iloc[0] == "customs into CA +10 days"
    assert impact["region"].notna().all()


def test_lane_closure_reroutes(dataset) -> None:
    impact = disruption_impact(
        dataset, Disruption.lane_closure("P1", "M3", "air"), carrying_rate=CARRYING
    )
    s1 = _row(impact, sku="S1", market="M3")
    # Next best from P1: sea to D2 (6.8) then road (6.1) = 12.9 landed, 5 + 35 = 40 days;
    # still cheaper delivered (112.9) than P2 (127.82).
    assert (s1["status"], s1["path_after"], s1["plant_after"]) == ("rerouted", "P1 > D2 > M3", "P1")
    assert s1["lead_time_change_days"] == pytest.approx(29.0)
    assert s1["landed_cost_change"] == pytest.approx(2.3)
    assert impact.iloc[0]["status"] == "rerouted"  # the worst comes first


def test_compare_supply_gained(dataset) -> None:
    impact = disruption_impact(dataset, Disruption.site_outage("D1"), carrying_rate=CARRYING)
    before = impact[impact["status"] != "lost"]
    # Comparing in the other direction turns lost into gained.
    table = compare_supply(
        before.rename(columns=lambda c: c.removesuffix("_after")),
        impact.rename(columns=lambda c: c.removesuffix("_before")),
    )
    assert set(table["status"]) >= {"gained"}


def test_impact_by_market_with_demand_and_markets(dataset) -> None:
    from toolkit.network_balance import demand_rates
    from toolkit.network_whatif import impact_totals

    rates = demand_rates(dataset.demand)
    impact = disruption_impact(dataset, Disruption.site_outage("D1"), carrying_rate=CARRYING)
    # Only pairs with demand count: M1 sells S1 (2 a day) and S2 (20/7 a day); M2
    # sells nothing, so it drops out.
    table = impact_by_market(impact, rates=rates)
    assert table[["market", "skus_lost"]].values.tolist() == [["M1", 2]]
    lost = (2 * 100.0 + 20 / 7 * 365.0) * 365
    assert table["value_lost_per_year"].iloc[0] == pytest.approx(lost)
    assert impact_by_market(impact, markets=["M3"]).empty
    assert impact_by_market(impact, rates=rates, markets=["M3"]).empty

    totals = impact_totals(impact, rates, ["M1", "M2", "M3"])
    assert totals["markets_affected"] == 1 and totals["skus_lost"] == 2
    assert totals["value_lost_per_year"] == pytest.approx(lost)
    # M3 (S1, 1 a day at 100) keeps its route: the lead time does not move.
    assert totals["value_lost_share"] == pytest.approx(lost / (lost + 36500.0))
    assert totals["lead_time_change_days"] == pytest.approx(0.0)
    assert totals["extra_landed_cost_per_year"] == pytest.approx(0.0)


def test_impact_weighted_lead_time_and_extra_cost(dataset) -> None:
    from toolkit.network_balance import demand_rates
    from toolkit.network_whatif import impact_totals

    rates = demand_rates(dataset.demand)
    impact = disruption_impact(dataset, Disruption.customs_delay("CA", 10), carrying_rate=CARRYING)
    # M3 sells S1 only (1 a day at 100): +10 days, +1.0 landed per unit.
    table = impact_by_market(impact, rates=rates)
    row = _row(table, market="M3")
    assert (row["skus_changed"], row["skus_lost"]) == (1, 0)
    assert row["lead_time_change_days"] == pytest.approx(10.0)
    assert row["extra_landed_cost_per_year"] == pytest.approx(365.0)
    # Over every market with demand: M1 unchanged (value 453,642.86), M3 36,500.
    totals = impact_totals(impact, rates)
    m1_value = (2 * 100.0 + 20 / 7 * 365.0) * 365
    assert totals["lead_time_change_days"] == pytest.approx(10 * 36500 / (36500 + m1_value))
    assert totals["extra_landed_share"] == pytest.approx(365 / (36500 + m1_value))
    assert totals["markets_affected"] == 1
