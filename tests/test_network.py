"""Tests of toolkit.network and toolkit.network_paths on a tiny hand-computed network.

The network (2 plants, 2 DCs, 3 markets)::

    P1 (DE) --road 2d--------------> D1 (NL) --road 1d--> M1 (FR)
       |  \\                          ^   \\---road 2d--> M2 (IT)
       |   \\--sea 25d+5c--> D2 (US)  |
       |                      |       P2 (US) --sea 20d+3c, air 3d+1c--> D1
       |                      \\--road 3d+2c--> M3 (CA)
       \\--air 4d+2c------------------------> M3
    P2 --road 1d--> D2

With ``carrying_rate = 0.365`` a day in transit costs 0.001 x unit cost, which keeps
the hand arithmetic short. Sku S1 is made at P1 (unit cost 100, 5 days) and P2
(120, 3 days); S2 only at P2 (365, 2 days).
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from toolkit.dataset import Dataset
from toolkit.network import NetworkError, active_lanes, build_network, validate_network
from toolkit.network_paths import (
    PATH_COLUMNS,
    best_sources,
    cheapest_paths,
    fastest_paths,
    landed_cost,
    lane_costs,
    supply_paths,
)

CARRYING = 0.365  # per year: 0.001 of unit cost per day


def _frame(columns: dict[str, list], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(columns).astype(dtypes)


def tiny_dataset(extra_lanes: list[tuple] = (), extra_sites: list[tuple] = ()) -> Dataset:
    """The network of the module docstring (optionally with more lanes or sites)."""
    site_rows = [
        ("P1", "Plant Tuttlingen", "plant", "EU", "DE"),
        ("P2", "Plant Memphis", "plant", "AM", "US"),
        ("D1", "DC Venlo", "dc", "EU", "NL"),
        ("D2", "DC Memphis", "dc", "AM", "US"),
        ("M1", "France", "market", "EU", "FR"),
        ("M2", "Italy", "market", "EU", "IT"),
        ("M3", "Canada", "market", "AM", "CA"),
        *extra_sites,
    ]
    sites = _frame(
        dict(
            zip(
                ["site_id", "name", "site_type", "region", "country"],
                zip(*site_rows, strict=True),
                strict=True,
            )
        ),
        {c: "str" for c in ["site_id", "name", "site_type", "region", "country"]},
    )
    # origin, destination, mode, transit_days, cost_per_unit, tariff_rate, customs_days
    lane_rows = [
        ("P1", "D1", "road", 2.0, 1.0, 0.00, 0.0),
        ("P1", "D2", "sea", 25.0, 0.8, 0.03, 5.0),
        ("P1", "M3", "air", 4.0, 5.0, 0.05, 2.0),
        ("P2", "D1", "sea", 20.0, 0.5, 0.02, 3.0),
        ("P2", "D1", "air", 3.0, 4.0, 0.02, 1.0),
        ("P2", "D2", "road", 1.0, 0.5, 0.00, 0.0),
        ("D1", "M1", "road", 1.0, 0.3, 0.00, 0.0),
        ("D1", "M2", "road", 2.0, 0.4, 0.00, 0.0),
        ("D2", "M3", "road", 3.0, 0.6, 0.05, 2.0),
        *extra_lanes,
    ]
    lane_columns = [
        "origin",
        "destination",
        "mode",
        "transit_days",
        "cost_per_unit",
        "tariff_rate",
        "customs_days",
    ]
    lanes = _frame(
        dict(zip(lane_columns, zip(*lane_rows, strict=True), strict=True)),
        {"origin": "str", "destination": "str", "mode": "str"}
        | {c: "float64" for c in lane_columns[3:]},
    )
    lanes["active"] = True
    sourcing = _frame(
        {
            "site_id": ["P1", "P2", "P2"],
            "sku": ["S1", "S1", "S2"],
            "processing_days": [5.0, 3.0, 2.0],
            "capacity_per_week": [1000.0, 1000.0, 500.0],
            "unit_cost": [100.0, 120.0, 365.0],
        },
        {"site_id": "str", "sku": "str"},
    )
    items = _frame(
        {
            "sku": ["S1", "S2"],
            "description": ["Bone screw", "Stent"],
            "gtin": ["00884521123451", "00884521000011"],
            "product_line": ["trauma", "vascular"],
            "unit_cost": [100.0, 365.0],
            "lifecycle": ["mature", "growth"],
            "shelf_life_days": [None, 730],
            "lot_controlled": [True, True],
            "serial_controlled": [False, True],
        },
        {"sku": "str", "shelf_life_days": "Int64"},
    )
    weeks = pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"])
    demand = pd.DataFrame(
        {
            "date": list(weeks) * 2 + list(weeks),
            "site_id": ["M1"] * 8 + ["M3"] * 4,
            "sku": ["S1"] * 4 + ["S2"] * 4 + ["S1"] * 4,
            # M1/S1: 14 a week = 2 a day; M1/S2: 10, 20, 30, 20; M3/S1: 7 a week.
            "quantity": [14.0] * 4 + [10.0, 20.0, 30.0, 20.0] + [7.0] * 4,
        }
    ).astype({"site_id": "str", "sku": "str"})
    return Dataset.from_tables(
        {"sites": sites, "lanes": lanes, "sourcing": sourcing, "items": items, "demand": demand}
    )


@pytest.fixture
def dataset() -> Dataset:
    return tiny_dataset()


@pytest.fixture
def graph(dataset: Dataset) -> nx.MultiDiGraph:
    return build_network(dataset, validate=True)


def _row(table: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    assert mask.sum() == 1, f"expected one row for {where}, got {mask.sum()}"
    return table[mask].iloc[0]


# --- the graph -----------------------------------------------------------------------


def test_build_network_nodes_edges_and_attributes(graph: nx.MultiDiGraph) -> None:
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == 7
    assert graph.number_of_edges() == 9
    assert graph.nodes["P1"] | {} == {
        "name": "Plant Tuttlingen",
        "site_type": "plant",
        "region": "EU",
        "country": "DE",
        "echelon": 0,
        "sku_count": 1,
    }
    assert graph.nodes["P2"]["sku_count"] == 2
    assert [graph.nodes[n]["echelon"] for n in ("D1", "M3")] == [1, 2]
    # Parallel modes stay separate edges, keyed by mode.
    assert set(graph["P2"]["D1"]) == {"sea", "air"}
    air = graph.edges["P2", "D1", "air"]
    assert (air["transit_days"], air["customs_days"], air["cost_per_unit"]) == (3.0, 1.0, 4.0)
    assert (air["tariff_rate"], air["mode"], air["active"]) == (0.02, "air", True)


def test_inactive_lanes_are_left_out_unless_asked(dataset: Dataset) -> None:
    lanes = dataset.lanes.copy()
    lanes.loc[(lanes["origin"] == "P1") & (lanes["destination"] == "M3"), "active"] = False
    closed = dataset.replace(lanes=lanes)
    assert not build_network(closed).has_edge("P1", "M3")
    with_inactive = build_network(closed, include_inactive=True)
    assert with_inactive.edges["P1", "M3", "air"]["active"] is False
    assert len(active_lanes(lanes)) == 8
    # The tables are the truth: building never changes them.
    assert len(closed.lanes) == 9


def test_lanes_without_active_column_count_as_active(dataset: Dataset) -> None:
    graph = build_network(dataset.replace(lanes=dataset.lanes.drop(columns="active")))
    assert graph.number_of_edges() == 9


# --- landed cost ---------------------------------------------------------------------


def test_landed_cost_formula() -> None:
    # P2 -> D1 by sea for S1: 0.5 freight + 0.02 x 120 tariff + 0.365 x 120 x 23 / 365
    # carrying = 0.5 + 2.4 + 2.76 = 5.66
    assert landed_cost(0.5, 0.02, 120.0, 23.0, carrying_rate=CARRYING) == pytest.approx(5.66)


def test_lane_costs_per_lane_and_sku(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = lane_costs(graph, dataset.sourcing, dataset.items, carrying_rate=CARRYING)
    # Plant lanes carry only the plant's skus: P1 makes S1, P2 makes S1 and S2.
    assert set(table.loc[table["origin"] == "P1", "sku"]) == {"S1"}
    sea = _row(table, origin="P2", destination="D1", mode="sea", sku="S2")
    # 0.5 + 0.02 x 365 + 0.001 x 365 x (20 + 3) = 0.5 + 7.3 + 8.395 = 16.195
    assert sea["landed_cost"] == pytest.approx(16.195)
    # lead time = 2 processing + 20 transit + 3 customs
    assert sea["lead_time_days"] == pytest.approx(25.0)
    # DC lanes use the item master's cost and have no processing time:
    # D2 -> M3 for S1: 0.6 + 0.05 x 100 + 0.001 x 100 x 5 = 6.1, 5 days.
    d2 = _row(table, origin="D2", destination="M3", sku="S1")
    assert (d2["landed_cost"], d2["lead_time_days"]) == (pytest.approx(6.1), 5.0)


# --- paths ---------------------------------------------------------------------------


def test_cheapest_paths_by_plant(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = cheapest_paths(graph, dataset.sourcing, carrying_rate=CARRYING)
    assert list(table.columns) == list(PATH_COLUMNS)
    # S1 from P1 (unit cost 100, carrying 0.1 a day) to M1:
    #   P1 -> D1 road: 1.0 + 0 + 0.1 x 2 = 1.2;  D1 -> M1 road: 0.3 + 0.1 x 1 = 0.4
    #   landed 1.6, lead time 5 + 2 + 1 = 8
    p1_m1 = _row(table, sku="S1", market="M1", plant="P1")
    assert p1_m1["path"] == "P1 > D1 > M1"
    assert p1_m1["modes"] == "road > road"
    assert p1_m1["landed_cost"] == pytest.approx(1.6)
    assert p1_m1["delivered_cost"] == pytest.approx(101.6)
    assert p1_m1["lead_time_days"] == pytest.approx(8.0)
    assert (p1_m1["freight"], p1_m1["tariff"]) == (pytest.approx(1.3), 0.0)
    assert p1_m1["carrying"] == pytest.approx(0.3)
    # S1 from P2 (120, carrying 0.12 a day) to M1: sea to D1 5.66 (23 days), air to D1
    # 4.0 + 2.4 + 0.12 x 4 = 6.88 (4 days); then D1 -> M1 0.3 + 0.12 = 0.42.
    #   sea 6.08 (lead 3 + 24 = 27) beats air 7.30: cheapest goes by sea.
    p2_m1 = _row(table, sku="S1", market="M1", plant="P2")
    assert (p2_m1["modes"], p2_m1["lead_time_days"]) == ("sea > road", 27.0)
    assert p2_m1["landed_cost"] == pytest.approx(6.08)
    # S1 from P1 to M3: direct air 5 + 5 + 0.1 x 6 = 10.6 beats via D2
    # (0.8 + 3 + 3 = 6.8, then 0.6 + 5 + 0.5 = 6.1: 12.9).
    p1_m3 = _row(table, sku="S1", market="M3", plant="P1")
    assert (p1_m3["path"], p1_m3["landed_cost"]) == ("P1 > M3", pytest.approx(10.6))
    # Every (sku, market, plant) a sourcing plant reaches: S1 x 3 markets x 2 plants
    # + S2 x 3 markets from P2.
    assert len(table) == 9


def test_cheapest_mode_depends_on_unit_cost(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = cheapest_paths(graph, dataset.sourcing, carrying_rate=CARRYING)
    # S2 (365, carrying 0.365 a day) from P2 to D1: sea 0.5 + 7.3 + 0.365 x 23 = 16.195,
    # air 4.0 + 7.3 + 0.365 x 4 = 12.76: for the dear sku air is cheaper.
    # M1: 12.76 + 0.3 + 0.365 = 13.425, lead time 2 + 4 + 1 = 7.
    s2 = _row(table, sku="S2", market="M1")
    assert (s2["modes"], s2["lead_time_days"]) == ("air > road", 7.0)
    assert s2["landed_cost"] == pytest.approx(13.425)
    s1 = _row(table, sku="S1", market="M1", plant="P2")
    assert s1["modes"] == "sea > road"


def test_cheapest_source_across_plants(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = cheapest_paths(graph, dataset.sourcing, carrying_rate=CARRYING, by_plant=False)
    # S1 at M3: P1 delivers at 100 + 10.6 = 110.6, P2 at 120 + 7.82 = 127.82
    # (P2 -> D2 road 0.5 + 0.12 = 0.62; D2 -> M3 0.6 + 6.0 + 0.6 = 7.2).
    m3 = _row(table, sku="S1", market="M3")
    assert (m3["plant"], m3["n_sources"]) == ("P1", 2)
    assert m3["delivered_cost"] == pytest.approx(110.6)
    assert len(table) == 6  # 2 skus x 3 markets


def test_fastest_paths(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = fastest_paths(graph, dataset.sourcing, carrying_rate=CARRYING)
    # S1 from P2 to M1: air 3 + 4 + 1 = 8 days beats sea 3 + 23 + 1 = 27.
    p2_m1 = _row(table, sku="S1", market="M1", plant="P2")
    assert (p2_m1["modes"], p2_m1["lead_time_days"]) == ("air > road", 8.0)
    assert p2_m1["landed_cost"] == pytest.approx(7.30)
    fastest = fastest_paths(graph, dataset.sourcing, carrying_rate=CARRYING, by_plant=False)
    # Across plants at M3: P2 via D2 is 3 + 1 + 5 = 9 days, P1 direct 5 + 6 = 11.
    m3 = _row(fastest, sku="S1", market="M3")
    assert (m3["plant"], m3["path"], m3["lead_time_days"]) == ("P2", "P2 > D2 > M3", 9.0)


def test_fastest_breaks_ties_by_cost(dataset: Dataset) -> None:
    # A second road lane P1 -> D1 as fast as the first (2 days) but dearer: not taken.
    lanes = tiny_dataset(extra_lanes=[("P1", "D1", "air", 2.0, 9.0, 0.0, 0.0)])
    table = fastest_paths(build_network(lanes), dataset.sourcing, carrying_rate=CARRYING)
    assert _row(table, sku="S1", market="M1", plant="P1")["modes"] == "road > road"


def test_best_source_trade_off(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    cheap = best_sources(graph, dataset.sourcing, carrying_rate=CARRYING, cost_per_day=0.0)
    assert _row(cheap, sku="S1", market="M3")["plant"] == "P1"
    # At 10 per unit per day: P1 direct 110.6 + 10 x 11 = 220.6 against P2 via D2
    # 127.82 + 10 x 9 = 217.82 (break-even at (127.82 - 110.6) / 2 = 8.61 a day).
    fast = best_sources(graph, dataset.sourcing, carrying_rate=CARRYING, cost_per_day=10.0)
    m3 = _row(fast, sku="S1", market="M3")
    assert (m3["plant"], m3["trade_off_cost"]) == ("P2", pytest.approx(217.82))
    # The trade-off picks modes too: S1 from P2 to M1 by air, 7.30 + 10 x 8 = 87.3 + 120
    # beats sea 6.08 + 10 x 27; P1 still wins M1 (101.6 + 80 = 181.6 < 207.3).
    by_plant = best_sources(
        graph, dataset.sourcing, carrying_rate=CARRYING, cost_per_day=10.0, by_plant=True
    )
    assert _row(by_plant, sku="S1", market="M1", plant="P2")["modes"] == "air > road"
    assert _row(fast, sku="S1", market="M1")["plant"] == "P1"


def test_cost_per_day_per_sku(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    values = pd.Series({"S1": 10.0, "S2": 0.0})
    table = best_sources(graph, dataset.sourcing, carrying_rate=CARRYING, cost_per_day=values)
    assert _row(table, sku="S1", market="M3")["plant"] == "P2"
    with pytest.raises(ValueError, match="S2"):
        best_sources(graph, dataset.sourcing, cost_per_day=pd.Series({"S1": 1.0}))


def test_supply_paths_to_dcs(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = supply_paths(graph, dataset.sourcing, sites="dc", carrying_rate=CARRYING)
    assert set(table["site_id"]) == {"D1", "D2"}
    # S1 from P1 to D2: sea 0.8 + 3 + 0.1 x 30 = 6.8.
    assert _row(table, sku="S1", site_id="D2", plant="P1")["landed_cost"] == pytest.approx(6.8)


def test_paths_agree_with_networkx_dijkstra(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = cheapest_paths(graph, dataset.sourcing, carrying_rate=CARRYING)
    for row in table.itertuples():
        c = row.unit_cost

        def weight(u, v, lanes, c=c):
            return min(
                landed_cost(
                    d["cost_per_unit"],
                    d["tariff_rate"],
                    c,
                    d["transit_days"] + d["customs_days"],
                    CARRYING,
                )
                for d in lanes.values()
            )

        expected = nx.dijkstra_path_length(graph, row.plant, row.market, weight=weight)
        assert row.landed_cost == pytest.approx(expected)


def test_unreached_markets_are_absent(dataset: Dataset) -> None:
    lanes = dataset.lanes[dataset.lanes["destination"] != "M2"]
    table = cheapest_paths(build_network(dataset.replace(lanes=lanes)), dataset.sourcing)
    assert "M2" not in set(table["market"])


def test_empty_sourcing_gives_empty_table(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    table = best_sources(graph, dataset.sourcing.iloc[0:0])
    assert table.empty and "landed_cost" in table.columns


# --- validation ----------------------------------------------------------------------


def test_valid_network_has_no_errors(dataset: Dataset) -> None:
    findings = validate_network(dataset)
    assert (findings["severity"] == "error").sum() == 0


def test_supply_cycle_is_named(dataset: Dataset) -> None:
    # A lane from market M1 back up to D1 closes the loop D1 -> M1 -> D1.
    cyclic = tiny_dataset(extra_lanes=[("M1", "D1", "road", 1.0, 0.1, 0.0, 0.0)])
    findings = validate_network(cyclic)
    cycle = _row(findings, check="supply_cycle")
    assert cycle["severity"] == "error"
    assert cycle["site_id"] == "D1, M1"
    assert cycle["message"] == "supply cycle M1 -> D1 -> M1"
    with pytest.raises(NetworkError, match=r"supply_cycle: supply cycle M1 -> D1 -> M1"):
        build_network(cyclic, validate=True)
    # Without validation the graph still builds and paths still solve.
    table = cheapest_paths(build_network(cyclic), cyclic.sourcing, carrying_rate=CARRYING)
    assert _row(table, sku="S1", market="M1", plant="P1")["landed_cost"] == pytest.approx(1.6)


def test_long_supply_cycle_goes_through_the_upstream_lane(dataset: Dataset) -> None:
    # D2 -> M3 -> P2 -> D2: named from the lane that runs upstream (M3 -> P2).
    cyclic = tiny_dataset(extra_lanes=[("M3", "P2", "road", 1.0, 0.1, 0.0, 0.0)])
    cycle = _row(validate_network(cyclic), check="supply_cycle")
    assert cycle["message"] == "supply cycle M3 -> P2 -> D2 -> M3"
    assert cycle["site_id"] == "D2, M3, P2"


def test_lateral_dc_loop_is_a_warning(dataset: Dataset) -> None:
    # DC <-> DC transshipment lanes both ways are allowed: paths never go round them.
    lateral = tiny_dataset(
        extra_lanes=[
            ("D1", "D2", "sea", 10.0, 1.0, 0.0, 0.0),
            ("D2", "D1", "sea", 10.0, 1.0, 0.0, 0.0),
        ]
    )
    loop = _row(validate_network(lateral), check="lateral_loop")
    assert (loop["severity"], loop["site_id"]) == ("warning", "D1, D2")
    assert "D1 -> D2 -> D1" in loop["message"]
    graph = build_network(lateral, validate=True)
    table = cheapest_paths(graph, lateral.sourcing, carrying_rate=CARRYING)
    assert _row(table, sku="S1", market="M1", plant="P1")["landed_cost"] == pytest.approx(1.6)


def test_unreachable_market(dataset: Dataset) -> None:
    # M4 has a lane out (to M3) but none in: no plant reaches it.
    extra = tiny_dataset(
        extra_sites=[("M4", "Mexico", "market", "AM", "MX")],
        extra_lanes=[("M4", "M3", "road", 2.0, 1.0, 0.0, 0.0)],
    )
    findings = validate_network(extra)
    row = _row(findings, check="unreachable_market")
    assert (row["site_id"], row["severity"]) == ("M4", "error")
    with pytest.raises(NetworkError, match="market M4 cannot be reached from any plant"):
        build_network(extra, validate=True)


def test_non_positive_transit(dataset: Dataset) -> None:
    lanes = dataset.lanes.copy()
    lanes.loc[lanes["destination"] == "M2", "transit_days"] = 0.0
    findings = validate_network(dataset.replace(lanes=lanes))
    row = _row(findings, check="non_positive_transit")
    assert (row["origin"], row["destination"], row["mode"]) == ("D1", "M2", "road")
    assert "D1 -> M2 (road)" in row["message"]


def test_site_without_lanes(dataset: Dataset) -> None:
    isolated = tiny_dataset(extra_sites=[("D3", "DC Singapore", "dc", "AP", "SG")])
    row = _row(validate_network(isolated), check="site_without_lanes")
    assert (row["site_id"], row["severity"]) == ("D3", "error")


def test_error_lists_every_problem(dataset: Dataset) -> None:
    broken = tiny_dataset(
        extra_sites=[("D3", "DC Singapore", "dc", "AP", "SG")],
        extra_lanes=[("M1", "D1", "road", -1.0, 0.1, 0.0, 0.0)],
    )
    with pytest.raises(NetworkError) as caught:
        build_network(broken, validate=True)
    checks = set(caught.value.findings["check"])
    assert checks == {"supply_cycle", "non_positive_transit", "site_without_lanes"}
    assert "M1 -> D1 (road)" in str(caught.value) and "D3" in str(caught.value)
    # The upstream lane (market -> DC) is also a warning, which never raises.
    assert "upstream_lane" in set(validate_network(broken)["check"])


def test_unknown_site_in_lane_always_raises(dataset: Dataset) -> None:
    broken = tiny_dataset(extra_lanes=[("D1", "M9", "road", 1.0, 0.1, 0.0, 0.0)])
    with pytest.raises(NetworkError, match="'M9'"):
        build_network(broken)


def test_warnings(dataset: Dataset) -> None:
    # P1 no longer sources anything, and P2's lanes to D1 are gone: P2 reaches D2 and
    # M3 but not M1, where S1 and S2 have demand.
    sourcing = dataset.sourcing[dataset.sourcing["site_id"] != "P1"]
    lanes = dataset.lanes[
        ~((dataset.lanes["origin"] == "P2") & (dataset.lanes["destination"] == "D1"))
    ]
    findings = validate_network(dataset.replace(sourcing=sourcing, lanes=lanes))
    assert _row(findings, check="plant_without_sourcing")["site_id"] == "P1"
    unreachable = _row(findings, check="unreachable_demand")
    assert unreachable["site_id"] == "M1"
    assert "2 sku(s)" in unreachable["message"] and "S1, S2" in unreachable["message"]
    assert set(findings["severity"]) == {"warning"}


def test_lane_flows(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    from toolkit.network_balance import demand_rates
    from toolkit.network_paths import lane_flows

    best = best_sources(graph, dataset.sourcing, carrying_rate=CARRYING)
    flows = lane_flows(best, demand_rates(dataset.demand)).set_index(
        ["origin", "destination", "mode"]
    )
    # D1 -> M1 carries S1 (2 a day at 100) and S2 (20/7 a day at 365, in by air from P2).
    d1_m1 = flows.loc[("D1", "M1", "road")]
    assert d1_m1["units_per_day"] == pytest.approx(2 + 20 / 7)
    assert d1_m1["value_per_day"] == pytest.approx(200 + 365 * 20 / 7)
    assert d1_m1["skus"] == 2
    assert flows.loc[("P2", "D1", "air"), "units_per_day"] == pytest.approx(20 / 7)
    assert flows.loc[("P1", "M3", "air"), "value_per_day"] == pytest.approx(100.0)
    # Lanes no market's path uses carry nothing and are left out.
    assert ("P2", "D1", "sea") not in flows.index and ("D1", "M2", "road") not in flows.index


def test_lane_flows_for_some_markets(graph: nx.MultiDiGraph, dataset: Dataset) -> None:
    from toolkit.network_balance import demand_rates
    from toolkit.network_paths import lane_flows

    best = best_sources(graph, dataset.sourcing, carrying_rate=CARRYING)
    rates = demand_rates(dataset.demand)
    # M3 sells S1 only (1 a day), flown direct from P1; M1's lanes carry nothing of it.
    flows = lane_flows(best, rates, markets=["M3"])
    assert flows[["origin", "destination", "mode", "units_per_day"]].values.tolist() == [
        ["P1", "M3", "air", 1.0]
    ]
    assert len(lane_flows(best, rates, markets=["M1", "M3"])) == len(lane_flows(best, rates))
    assert lane_flows(best, rates, markets=[]).empty


def test_region_subgraph(graph: nx.MultiDiGraph) -> None:
    from toolkit.network import region_subgraph

    eu = region_subgraph(graph, "EU")
    # EU's sites plus everything upstream of them (P2 ships to D1), not AM's market.
    assert set(eu.nodes) == {"P1", "P2", "D1", "M1", "M2"}
    assert not eu.has_edge("P1", "M3")
    assert set(region_subgraph(graph, "EU", upstream=False).nodes) == {"P1", "D1", "M1", "M2"}
    with pytest.raises(ValueError, match="no site in region 'XX'"):
        region_subgraph(graph, "XX")


def test_explain_findings_in_plain_words() -> None:
    from toolkit.network import FINDING_WORDS, explain_findings

    dataset = tiny_dataset(
        extra_lanes=[
            ("D2", "D1", "sea", 20.0, 1.0, 0.0, 1.0),
            ("D1", "D2", "sea", 20.0, 1.0, 0.0, 1.0),
        ]
    )
    found = validate_network(dataset)
    table = explain_findings(found)
    assert list(table.columns) == ["severity", "finding", "count", "sites", "meaning", "example"]
    row = table[table["finding"] == FINDING_WORDS["lateral_loop"][0]].iloc[0]
    assert (row["severity"], row["count"], row["sites"]) == ("note", 1, "D1, D2")
    assert "transshipment" in row["example"]
    errors = explain_findings(
        validate_network(tiny_dataset(extra_sites=[("M9", "Nowhere", "market", "EU", "ES")]))
    )
    # Errors come first and are called "must fix"; sites are listed once each.
    assert errors["severity"].iloc[0] == "must fix"
    assert "M9" in errors["sites"].iloc[0]
    assert explain_findings(validate_network(tiny_dataset())).empty
    many = explain_findings(
        found.iloc[[0] * 3].assign(site_id=["A, B", "C, D", "E, F"]), max_sites=4
    )
    assert many["sites"].iloc[0] == "A, B, C, D and 2 more"
