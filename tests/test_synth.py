"""Tests of the seeded synthetic ERP extract generator (:mod:`toolkit.synth`).

Small sizes keep these fast; one group of tests checks the committed sample in
``data_samples/medtech_demo``. The chain-of-custody checks here are a reference
implementation of what the traceability checker must find: nothing on clean data,
exactly the manifest on data with defects.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stdnum import ean

from toolkit.paths import SAMPLE_DATA_DIR
from toolkit.schema import TABLES
from toolkit.synth import (
    DEFECT_KINDS,
    MANIFEST_FILE,
    SECOND_ERP_SYSTEM,
    SNAPSHOT_DATE,
    DefectCounts,
    choose_formats,
    generate,
    write_extract,
)
from toolkit.synth.__main__ import main
from toolkit.synth.geography import lane_times
from toolkit.synth.gs1 import GS, gtin14, udi_strings, wrong_check_digit
from toolkit.udi import parse_udi_series

SMALL = {"seed": 11, "n_skus": 40, "n_markets": 8, "n_weeks": 104}
SAMPLE_BUDGET_BYTES = 5_000_000
UNIT = ["site_id", "sku", "lot", "serial"]


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    tables, manifest = generate(**SMALL)
    assert manifest.defects == ()
    return tables


@pytest.fixture(scope="module")
def dirty():
    return generate(**SMALL, defects=True)


# --------------------------------------------------------------------------- helpers


def _blank(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str)


def _global_demand(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Demand with the second ERP's local codes mapped to global skus (unmapped dropped)."""
    demand, aliases = tables["demand"], tables["aliases"]
    local = demand["source_system"].eq(SECOND_ERP_SYSTEM)
    mapping = aliases.drop_duplicates(["system", "local_code"], keep=False)
    mapping = mapping.set_index("local_code")["sku"]
    sku = demand["sku"].where(~local, demand["sku"].map(mapping))
    return demand.assign(sku=sku).dropna(subset=["sku"])


def _demand_classes(demand: pd.DataFrame) -> pd.Series:
    """Syntetos-Boylan class of every (site, sku) series (ADI 1.32, CV^2 0.49)."""
    series = demand.groupby(["site_id", "sku"])["quantity"]
    nonzero = demand[demand["quantity"] > 0].groupby(["site_id", "sku"])["quantity"]
    stats = pd.DataFrame(
        {
            "adi": series.size() / nonzero.size(),
            "cv2": (nonzero.std(ddof=0) / nonzero.mean()) ** 2,
        }
    ).dropna()
    smooth_interval = stats["adi"] < 1.32
    steady_size = stats["cv2"] < 0.49
    return pd.Series(
        np.select(
            [smooth_interval & steady_size, smooth_interval, steady_size],
            ["smooth", "erratic", "intermittent"],
            "lumpy",
        ),
        index=stats.index,
    )


def _flows(movements: pd.DataFrame) -> pd.DataFrame:
    """Every movement as an inflow at ``to_site`` and an outflow at ``from_site``."""
    base = {
        "sku": movements["sku"],
        "lot": _blank(movements["lot"]),
        "serial": _blank(movements["serial"]),
        "timestamp": movements["timestamp"],
        "movement_id": movements["movement_id"],
    }
    inflow = pd.DataFrame(
        {**base, "site_id": movements["to_site"], "change": movements["quantity"]}
    )
    outflow = pd.DataFrame(
        {**base, "site_id": movements["from_site"], "change": -movements["quantity"]}
    )
    return pd.concat([inflow, outflow], ignore_index=True).dropna(subset=["site_id"])


def custody_findings(tables: dict[str, pd.DataFrame]) -> dict[str, set]:
    """Check the chain of custody; return the offending keys per rule (empty = clean).

    Keys: ``(site, sku, lot, serial)`` for balances, ``movement_id`` for movements,
    inventory row keys ``(site, sku, lot, serial, status)`` for stock.
    """
    moves, stock, items = tables["movements"], tables["inventory"], tables["items"]
    profile = items.set_index("sku")
    findings: dict[str, set] = {}

    flows = _flows(moves)
    net = flows.groupby(UNIT)["change"].sum()
    held = stock.assign(lot=_blank(stock["lot"]), serial=_blank(stock["serial"]))
    on_hand = held.groupby(UNIT)["quantity"].sum()
    both = pd.concat([net.rename("net"), on_hand.rename("stock")], axis=1).fillna(0)
    findings["balance"] = set(both.index[both["net"] != both["stock"]])

    # Inflows first at equal timestamps: a balance only has to hold between instants.
    flows = flows.sort_values(["timestamp", "change"], ascending=[True, False], kind="stable")
    running = flows.groupby(UNIT)["change"].cumsum()
    findings["negative_balance"] = set(flows.loc[running < 0, "movement_id"])

    ordered = moves.assign(lot=_blank(moves["lot"]), serial=_blank(moves["serial"]))
    ordered = ordered.sort_values(["timestamp", "movement_id"], kind="stable")
    first = ordered.groupby(["sku", "lot", "serial"]).head(1)
    not_receipt = first["from_site"].notna() | ~first["to_site"].str.startswith("PL-")
    findings["first_not_receipt"] = set(first.loc[not_receipt, "movement_id"])

    units = ordered[ordered["serial"] != ""]
    previous_end = units.groupby(["sku", "serial"])["to_site"].shift()
    broken = previous_end.notna() & units["from_site"].ne(previous_end)
    findings["serial_chain"] = set(units.loc[broken, "movement_id"])

    serialized = moves["sku"].map(profile["serial_controlled"]).astype(bool)
    findings["serial_missing"] = set(
        moves.loc[serialized & moves["serial"].isna(), "movement_id"]
    ) | {
        tuple(r)
        for r in held.loc[
            stock["sku"].map(profile["serial_controlled"]).astype(bool) & stock["serial"].isna(),
            [*UNIT, "status"],
        ].itertuples(index=False)
    }
    findings["serial_quantity"] = set(
        moves.loc[serialized & moves["quantity"].ne(1), "movement_id"]
    ) | {
        tuple(r)
        for r in held.loc[
            stock["serial"].notna() & stock["quantity"].ne(1), [*UNIT, "status"]
        ].itertuples(index=False)
    }

    # Stock status against the last shipment into the site.
    times = lane_times(tables["lanes"])
    last_in = (
        ordered.dropna(subset=["to_site"]).groupby(["to_site", "sku", "lot", "serial"]).tail(1)
    )
    last_in = last_in.set_index(["to_site", "sku", "lot", "serial"])
    last = last_in.reindex(pd.MultiIndex.from_frame(held[UNIT]))
    age_days = (
        (SNAPSHOT_DATE - pd.DatetimeIndex(last["timestamp"])) / pd.Timedelta(days=1)
    ).to_numpy()
    lane = times.reindex(pd.MultiIndex.from_arrays([last["from_site"], held["site_id"]]))
    in_transit = held["status"].eq("in_transit").to_numpy()
    shipped = last["from_site"].notna().to_numpy()
    early = in_transit & ~(age_days < lane["fastest"].to_numpy())
    late = ~in_transit & shipped & (age_days < lane["slowest"].to_numpy())
    row_keys = list(held[[*UNIT, "status"]].itertuples(index=False, name=None))
    findings["in_transit_status"] = {row_keys[i] for i in np.flatnonzero(early | late)}
    expired = held["status"].eq("released") & (held["expiry_date"] <= SNAPSHOT_DATE)
    findings["expired_released"] = {row_keys[i] for i in np.flatnonzero(expired.to_numpy())}

    # UDIs agree with the item master and the lot / serial columns.
    parsed = parse_udi_series(moves["udi"], reference_year=SNAPSHOT_DATE.year)
    agree = (
        parsed["error"].isna()
        & parsed["gtin"].eq(moves["sku"].map(profile["gtin"]))
        & _blank(parsed["lot"]).eq(_blank(moves["lot"]))
        & _blank(parsed["serial"]).eq(_blank(moves["serial"]))
    )
    findings["udi"] = set(moves.loc[~agree, "movement_id"])
    expiry = held.drop_duplicates(["sku", "lot"]).set_index(["sku", "lot"])["expiry_date"]
    expected = expiry.reindex(pd.MultiIndex.from_arrays([moves["sku"], _blank(moves["lot"])]))
    known = expected.notna().to_numpy()
    differs = known & (parsed["expiry"].to_numpy() != expected.to_numpy())
    findings["udi_expiry"] = set(moves.loc[differs, "movement_id"])

    between = moves.dropna(subset=["from_site", "to_site"])
    active = tables["lanes"][tables["lanes"]["active"]]
    has_lane = pd.MultiIndex.from_frame(between[["from_site", "to_site"]]).isin(
        pd.MultiIndex.from_frame(active[["origin", "destination"]])
    )
    findings["no_lane"] = set(between.loc[~has_lane, "movement_id"])
    findings["after_snapshot"] = set(moves.loc[moves["timestamp"] >= SNAPSHOT_DATE, "movement_id"])
    return findings


def _entries(manifest, kind: str, table: str | None = None) -> list[dict]:
    return [
        d.to_dict()
        for d in manifest.defects
        if d.kind == kind and (table is None or d.table == table)
    ]


def _row_key(entry: dict) -> tuple:
    key = entry["key"]
    return tuple(key[c] for c in (*UNIT, "status"))


# --------------------------------------------------------------------------- determinism


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path):
    sizes = {"n_skus": 24, "n_markets": 6, "n_weeks": 52, "defects": True}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_extract(*generate(seed=seed, **sizes), tmp_path / name)
    first, second, other = (_files(tmp_path / n) for n in "abc")
    assert first == second
    assert set(first) == set(other)
    assert first["demand.csv"] != other["demand.csv"]
    assert first["movements.csv"] != other["movements.csv"]


def test_calendar_is_fixed_at_the_snapshot(clean):
    assert SNAPSHOT_DATE == pd.Timestamp("2026-11-02") and SNAPSHOT_DATE.dayofweek == 0
    dates = clean["demand"]["date"]
    assert (dates.dt.dayofweek == 0).all()
    assert dates.max() == SNAPSHOT_DATE - pd.Timedelta(days=7)
    assert dates.min() == SNAPSHOT_DATE - pd.Timedelta(weeks=SMALL["n_weeks"])
    assert (clean["inventory"]["snapshot_date"] == SNAPSHOT_DATE).all()
    assert (clean["movements"]["timestamp"] < SNAPSHOT_DATE).all()


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize("name", list(TABLES))
def test_tables_have_the_schema_columns_and_unique_keys(clean, dirty, name):
    spec = TABLES[name]
    for tables in (clean, dirty[0]):
        frame = tables[name]
        required = {c.name for c in spec.columns if c.required}
        assert required <= set(frame.columns) <= set(spec.column_names)
        assert len(frame) > 0
        for column in spec.columns:
            if column.name in frame and not column.nullable:
                assert frame[column.name].notna().all(), (name, column.name)
            if column.choices and column.name in frame:
                assert frame[column.name].dropna().isin(column.choices).all()
        if spec.unique_key:
            assert not frame.duplicated(list(spec.key)).any(), name


def test_references_resolve_except_the_unmapped_alias_rows(clean, dirty):
    for tables, manifest in ((clean, None), dirty):
        sites = tables["sites"].set_index("site_id")
        skus = set(tables["items"]["sku"])
        for name, spec in TABLES.items():
            frame = tables[name]
            for ref in spec.references:
                if ref.column not in frame:
                    continue
                values = frame[ref.column]
                if name == "demand":
                    values = _global_demand(tables)[ref.column]
                known = skus if ref.table == "items" else set(sites.index)
                assert values.dropna().isin(known).all(), (name, ref.column)
                for attribute, required in ref.where:
                    assert (values.map(sites[attribute]) == required).all(), (name, ref.column)
        demand = tables["demand"]
        mapped = set(tables["aliases"]["local_code"])
        local = demand[demand["source_system"].eq(SECOND_ERP_SYSTEM)]
        unmapped = set(local.loc[~local["sku"].isin(mapped), "sku"])
        expected = (
            {e["key"]["sku"] for e in _entries(manifest, "unmapped_alias")} if manifest else set()
        )
        assert unmapped == expected


def test_sites_form_a_multinational_network():
    tables, _ = generate(seed=3, n_skus=20, n_markets=20, n_weeks=26)
    sites = tables["sites"]
    kinds = sites["site_type"].value_counts()
    assert kinds["plant"] >= 3 and kinds["dc"] == 4 and kinds["market"] == 20
    assert sites.loc[sites["site_type"].eq("plant"), "country"].nunique() >= 3
    assert set(sites["region"]) == {"EMEA", "NAM", "LATAM", "APAC", "CHINA"}
    assert "NA" not in set(sites["region"])
    assert sites["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert sites["site_id"].str.fullmatch(r"(PL|DC)-[A-Z]{2}-[A-Z]{3}|MK-[A-Z]{2}").all()


def test_lanes_have_modes_tariffs_and_customs(clean):
    lanes = clean["lanes"]
    sites = clean["sites"].set_index("site_id")
    kind = (
        lanes["origin"].map(sites["site_type"]) + ">" + lanes["destination"].map(sites["site_type"])
    )
    assert {"plant>dc", "dc>market", "dc>dc", "plant>market"} <= set(kind)
    assert (lanes["transit_days"] > 0).all()
    overseas = lanes[lanes["mode"].ne("road")].groupby(["origin", "destination"])["mode"]
    assert overseas.apply(set).eq({"sea", "air"}).all()
    assert lanes["tariff_rate"].max() == 0.25
    assert lanes["tariff_rate"].between(0.05, 0.14).any()
    intra_eu = lanes[
        lanes["origin"].eq("DC-NL-VEN") & lanes["destination"].isin(["MK-DE", "MK-FR"])
    ]
    assert (intra_eu["tariff_rate"] == 0).all() and (intra_eu["customs_days"] <= 1).all()
    into_brazil = lanes[lanes["destination"].eq("MK-BR")]
    assert into_brazil["customs_days"].between(5, 12).all()
    assert not lanes["active"].all()


# --------------------------------------------------------------------------- items


def test_items_have_valid_gtins_lines_lifecycles_and_supersession(clean):
    items = clean["items"]
    assert items["gtin"].str.fullmatch(r"\d{14}").all()
    assert items["gtin"].map(ean.is_valid).all()
    assert items["gtin"].str.startswith("0").any()  # leading zeros are kept
    assert set(items["product_line"]) == {
        "implants",
        "consumables",
        "capital_equipment",
        "spare_parts",
    }
    assert set(items["lifecycle"]) == {"launch", "growth", "mature", "end_of_life"}
    assert items["criticality"].eq("critical").any()
    line = items.groupby("product_line")
    assert (
        line["unit_cost"].min()["consumables"] >= 2 and line["unit_cost"].max()["consumables"] <= 80
    )
    assert line["unit_cost"].min()["capital_equipment"] >= 8000
    assert items.loc[items["product_line"].eq("capital_equipment"), "shelf_life_days"].isna().all()
    implants = items[items["product_line"].eq("implants")]
    assert implants["lot_controlled"].all() and implants["serial_controlled"].all()
    assert implants["shelf_life_days"].between(1095, 1825).all()
    successor = items.set_index("sku")["successor_sku"].dropna()
    lifecycle = items.set_index("sku")["lifecycle"]
    assert (lifecycle[successor.index] == "end_of_life").all()
    # The chain's last generation is new; one chain runs over three generations.
    chain_ends = set(successor) - set(successor.index)
    assert lifecycle[list(chain_ends)].isin(["launch", "growth"]).all()
    assert any(successor.get(successor[sku]) is not None for sku in successor.index)


def test_sourcing_puts_each_sku_at_one_or_two_plants(clean):
    per_sku = clean["sourcing"].groupby("sku").size()
    assert set(per_sku.index) == set(clean["items"]["sku"])
    assert per_sku.between(1, 2).all()
    assert (clean["sourcing"]["capacity_per_week"] >= 1).all()


# --------------------------------------------------------------------------- demand


def test_demand_shows_every_class_of_series(clean):
    classes = _demand_classes(_global_demand(clean)).value_counts()
    for name in ("smooth", "erratic", "intermittent", "lumpy"):
        assert classes.get(name, 0) >= 5, classes.to_dict()


def test_a_selling_pair_has_every_week_from_its_first_to_its_last(clean):
    demand = clean["demand"]
    span = demand.groupby(["site_id", "sku"])["date"].agg(["min", "max", "size"])
    weeks = (span["max"] - span["min"]).dt.days // 7 + 1
    assert (weeks == span["size"]).all()
    # Not every sku is sold everywhere.
    assert len(span) < clean["items"].shape[0] * clean["sites"]["site_type"].eq("market").sum()
    assert (demand["quantity"] == 0).any()


def test_launches_start_mid_history_and_phase_outs_end_early(clean):
    demand = _global_demand(clean)
    first = demand.groupby("sku")["date"].min()
    last = demand.groupby("sku")["date"].max()
    lifecycle = clean["items"].set_index("sku")["lifecycle"]
    launches = lifecycle.index[lifecycle.eq("launch")].intersection(first.index)
    assert (first[launches] > demand["date"].min()).all()
    successor = clean["items"].set_index("sku")["successor_sku"].dropna()
    assert (last[successor.index] <= demand["date"].max()).all()
    assert (last[successor.index] < demand["date"].max()).any()
    # Predecessors sell far less in their last weeks than before their successor came.
    weekly = demand.groupby(["sku", "date"])["quantity"].sum()
    before = end = 0.0
    for old, new in successor.items():
        series = weekly[old]
        before += series[series.index < first[new]].iloc[-13:].mean()
        end += series.iloc[-8:].mean()
    assert end < 0.6 * before


def test_tender_and_maintenance_events_line_up_with_demand_spikes(clean):
    events = clean["events"]
    demand = _global_demand(clean).set_index(["date", "site_id", "sku"])["quantity"]
    spikes = events[events["event_type"].isin(["tender", "maintenance"])]
    past = spikes[spikes["date"] < SNAPSHOT_DATE]
    assert past["event_type"].value_counts().get("tender", 0) >= 3
    assert past["event_type"].value_counts().get("maintenance", 0) >= 3
    assert (spikes.loc[spikes["event_type"].eq("maintenance"), "sku"].str.startswith("SPR")).all()
    series = _global_demand(clean).groupby(["site_id", "sku"])["quantity"]
    typical = series.mean()
    for event in past.itertuples():
        week = demand[(event.date, event.site_id, event.sku)]
        assert week >= event.quantity
        assert week >= 3 * typical[(event.site_id, event.sku)]
    # Some are known ahead: awarded but not yet delivered.
    assert (spikes["date"] >= SNAPSHOT_DATE).any()


def test_events_cover_promotions_and_region_wide_reimbursement(clean):
    events = clean["events"]
    assert set(events["event_type"]) == {"tender", "maintenance", "promotion", "reimbursement"}
    assert events["site_id"].notna().ne(events["region"].notna()).all()  # one scope each
    region_wide = events[events["region"].notna()]
    assert (region_wide["event_type"] == "reimbursement").all()
    assert region_wide["sku"].isna().any()  # all skus of the region
    assert region_wide["sku"].notna().any()  # a product line's skus
    promotions = events[events["event_type"].eq("promotion")]
    assert promotions["quantity"].between(0.2, 0.5).all()
    assert (promotions["sku"].str.startswith("CON")).all()


def test_second_erp_rows_use_mapped_local_codes(clean):
    demand, aliases = clean["demand"], clean["aliases"]
    local = demand[demand["source_system"].eq(SECOND_ERP_SYSTEM)]
    assert len(local) > 0 and demand["source_system"].dropna().eq(SECOND_ERP_SYSTEM).all()
    assert local["site_id"].str.startswith("MK-").all()
    assert set(local["sku"]) <= set(aliases["local_code"])
    assert aliases["local_code"].str.fullmatch(r"\d{10}").all()
    assert not aliases.duplicated(["system", "local_code"]).any()
    assert not demand.loc[demand["source_system"].isna(), "sku"].isin(aliases["local_code"]).any()


def test_policies_are_the_local_rules_of_thumb(clean):
    policies = clean["policies"]
    sites = clean["sites"].set_index("site_id")
    assert set(policies["site_id"].map(sites["site_type"])) == {"dc", "market"}
    assert (policies["reorder_point"] >= policies["safety_stock"]).all()
    assert (policies["order_up_to"] > policies["reorder_point"]).all()
    assert (policies[["reorder_point", "order_up_to", "safety_stock"]] % 1 == 0).all().all()


# --------------------------------------------------------------------------- custody


def test_chain_of_custody_is_consistent_on_clean_data(clean):
    findings = custody_findings(clean)
    assert {rule: keys for rule, keys in findings.items() if keys} == {}


def test_stock_has_every_status_and_serialized_units_one_row_each(clean):
    stock, moves = clean["inventory"], clean["movements"]
    assert set(stock["status"]) == {"released", "quarantine", "in_transit"}
    units = stock[stock["serial"].notna()]
    assert (units["quantity"] == 1).all()
    assert not units.duplicated(["sku", "serial"]).any()
    assert moves["from_site"].isna().any() and moves["to_site"].isna().any()
    assert 1000 <= len(moves)


def test_udis_come_in_both_forms_and_drop_absent_fields(clean):
    udi = clean["movements"]["udi"]
    raw = ~udi.str.startswith("(")
    assert 0.05 < raw.mean() < 0.3
    assert udi[raw].str.contains(GS).any()
    items = clean["items"].set_index("sku")
    moves = clean["movements"]
    equipment = moves["sku"].map(items["product_line"]).eq("capital_equipment")
    human = udi.str.startswith("(")
    assert not udi[equipment & human].str.contains(r"\(17\)|\(10\)").any()
    assert udi[equipment & human].str.contains(r"\(21\)").all()
    lot_only = moves["serial"].isna() & human
    assert not udi[lot_only].str.contains(r"\(21\)").any()
    assert (moves["lot"].dropna().str.len() <= 20).all()
    assert moves["lot"].dropna().str.fullmatch(r"[A-Z0-9]+").all()
    assert moves["serial"].dropna().str.fullmatch(r"[A-Z0-9]{1,20}").all()


def test_gs1_helpers_known_answers():
    assert gtin14(0, "0884521", 12345) == "00884521123451"
    assert not ean.is_valid(wrong_check_digit("00884521123451", 3))
    one = pd.Series(["L1"])
    text = udi_strings(
        pd.Series(["00884521123451"]), pd.Series(pd.to_datetime(["2028-02-29"])), one,
        pd.Series(["S9"]), np.array([False]),
    )  # fmt: skip
    assert text.iloc[0] == "(01)00884521123451(17)280229(10)L1(21)S9"
    raw = udi_strings(
        pd.Series(["00884521123451"]), pd.Series([pd.NaT]), one, pd.Series([None]), np.array([True])
    )
    assert raw.iloc[0] == "0100884521123451" + "10L1"


# --------------------------------------------------------------------------- defects


def test_manifest_lists_exactly_what_the_checks_find(dirty):
    tables, manifest = dirty
    assert manifest.injections() == DefectCounts().as_dict()
    findings = custody_findings(tables)

    from_non_holder = _entries(manifest, "movement_from_non_holder")
    ids = {e["key"]["movement_id"] for e in from_non_holder}
    moves = tables["movements"].set_index("movement_id")
    emptied = {(moves.at[i, "from_site"], moves.at[i, "sku"], moves.at[i, "lot"], "") for i in ids}
    second_site = {_row_key(e)[:4] for e in _entries(manifest, "serial_at_two_sites")}
    assert findings.pop("balance") == emptied | second_site
    assert findings.pop("negative_balance") == ids
    quantity = _entries(manifest, "serial_quantity_not_one")
    assert findings.pop("serial_quantity") == {
        e["key"]["movement_id"] if e["table"] == "movements" else _row_key(e) for e in quantity
    }
    missing = _entries(manifest, "missing_serial")
    assert findings.pop("serial_missing") == {
        e["key"]["movement_id"] if e["table"] == "movements" else _row_key(e) for e in missing
    }
    assert findings.pop("expired_released") == {
        _row_key(e) for e in _entries(manifest, "expired_released")
    }
    assert findings.pop("udi") == {
        e["key"]["movement_id"] for e in _entries(manifest, "udi_lot_mismatch")
    }
    assert {rule: keys for rule, keys in findings.items() if keys} == {}

    items = tables["items"].set_index("sku")
    bad = set(items.index[~items["gtin"].map(ean.is_valid)])
    assert bad == {e["key"]["sku"] for e in _entries(manifest, "bad_gtin_check_digit")}
    aliases = tables["aliases"]
    conflicts = aliases[aliases.duplicated(["system", "local_code"], keep=False)]
    listed = _entries(manifest, "conflicting_alias")
    assert set(conflicts["local_code"]) == {e["key"]["local_code"] for e in listed}


def test_each_manifest_entry_points_at_a_row_that_is_really_wrong(dirty):
    tables, manifest = dirty
    for entry in (d.to_dict() for d in manifest.defects):
        frame = tables[entry["table"]]
        match = pd.Series(True, index=frame.index)
        for column, value in entry["key"].items():
            if TABLES[entry["table"]].column(column).kind == "date":
                written = frame[column].dt.strftime("%Y-%m-%d")
            else:
                written = _blank(frame[column])
            match &= written.eq(value)
        assert match.sum() == 1, entry
        row = frame[match].iloc[0]
        kind, cell = entry["kind"], row[entry["column"]]
        if kind == "bad_gtin_check_digit":
            assert not ean.is_valid(cell)
        elif kind == "udi_lot_mismatch":
            assert parse_udi_series(pd.Series([cell]), 2026)["lot"].iloc[0] != row["lot"]
        elif kind == "missing_serial":
            assert pd.isna(cell)
        elif kind == "serial_quantity_not_one":
            assert cell == 2
        elif kind == "expired_released":
            assert cell <= SNAPSHOT_DATE and row["status"] == "released"
        elif kind == "serial_at_two_sites":
            others = tables["inventory"][tables["inventory"]["serial"].eq(cell)]
            assert others["site_id"].nunique() == 2
        elif kind == "movement_from_non_holder":
            moves = tables["movements"]
            same_lot = moves[moves["sku"].eq(row["sku"]) & moves["lot"].eq(row["lot"])]
            assert not same_lot["to_site"].eq(cell).any()
        elif kind == "unmapped_alias":
            assert cell not in set(tables["aliases"]["local_code"])
        elif kind == "conflicting_alias":
            aliases = tables["aliases"]
            assert aliases.loc[aliases["local_code"].eq(row["local_code"]), "sku"].nunique() == 2
        else:  # pragma: no cover - a new kind needs a check here
            raise AssertionError(kind)


def test_defect_counts_can_be_chosen_per_kind():
    assert sum(DefectCounts.none().as_dict().values()) == 0
    counts = dataclasses.replace(DefectCounts.none(), udi_lot_mismatch=4)
    tables, manifest = generate(seed=2, n_skus=24, n_markets=6, n_weeks=52, defects=counts)
    assert manifest.injections() == counts.as_dict()
    assert set(manifest.to_dict()["counts"]) == set(DEFECT_KINDS)
    assert len(custody_findings(tables)["udi"]) == 4


# --------------------------------------------------------------------------- writing


def test_big_tables_switch_to_parquet_past_the_budget(clean, tmp_path: Path):
    assert set(choose_formats(clean).values()) == {"csv"}
    formats = choose_formats(clean, budget=100_000)
    assert formats["movements"] == "parquet"
    assert formats["sites"] == "csv"
    _, manifest = generate(**SMALL)
    (tmp_path / "movements.csv").write_text("stale")
    written = write_extract(clean, manifest, tmp_path, formats=formats)
    assert written["movements"].suffix == ".parquet"
    assert not (tmp_path / "movements.csv").exists()
    back = pd.read_parquet(written["movements"])
    pd.testing.assert_frame_equal(back, clean["movements"], check_dtype=False)


def test_csv_keeps_codes_as_text_and_dates_iso(clean, tmp_path: Path):
    _, manifest = generate(**SMALL)
    write_extract(clean, manifest, tmp_path)
    items = (tmp_path / "items.csv").read_text().split("\n")
    assert items[0].startswith("sku,description,gtin")
    assert any(",0" in line and ",true," in line for line in items[1:])
    demand_line = (tmp_path / "demand.csv").read_text().split("\n")[1]
    assert demand_line.split(",")[0] == clean["demand"]["date"].iloc[0].strftime("%Y-%m-%d")
    assert ".0," not in (tmp_path / "demand.csv").read_text()
    stamp = (tmp_path / "movements.csv").read_text().split("\n")[1].split(",")[1]
    assert pd.Timestamp(stamp).isoformat() == stamp


def test_command_line_writes_an_extract(tmp_path: Path, capsys):
    out = tmp_path / "cli"
    assert (
        main(["--seed", "4", "--out", str(out), "--skus", "20", "--markets", "5", "--weeks", "30"])
        == 0
    )
    assert {f"{name}.csv" for name in TABLES} | {MANIFEST_FILE} == {p.name for p in out.iterdir()}
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["seed"] == 4 and manifest["defects"] == []
    assert "total" in capsys.readouterr().out


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_markets"):
        generate(n_markets=4)
    with pytest.raises(ValueError, match="n_skus"):
        generate(n_skus=10)


# --------------------------------------------------------------------------- committed sample


@pytest.fixture(scope="module")
def committed() -> Path:
    if not (SAMPLE_DATA_DIR / MANIFEST_FILE).exists():
        pytest.skip("the committed sample has not been generated")
    return SAMPLE_DATA_DIR


def test_committed_sample_is_small(committed: Path):
    data = [p for p in committed.iterdir() if p.suffix in (".csv", ".parquet", ".json")]
    assert sum(p.stat().st_size for p in data) < SAMPLE_BUDGET_BYTES


def test_committed_sample_is_what_seed_7_generates(committed: Path, tmp_path: Path):
    tables, manifest = generate(seed=7, defects=True)
    assert manifest.injections() == DefectCounts().as_dict()
    write_extract(tables, manifest, tmp_path)
    committed_files = {
        name: data for name, data in _files(committed).items() if not name.endswith(".md")
    }
    assert committed_files == _files(tmp_path)


def test_committed_sample_loads_through_the_loader(committed: Path):
    if importlib.util.find_spec("toolkit.data") is None:
        pytest.skip("toolkit.data is not written yet")
    from toolkit.data import load_dataset

    dataset = load_dataset(committed)
    assert dataset.items["gtin"].str.len().eq(14).all()
    manifest = json.loads((committed / MANIFEST_FILE).read_text())
    assert manifest["counts"]["unmapped_alias"] == 3
    # Mapped local codes are translated; unmapped ones stay for the quality gate.
    local = dataset.demand[dataset.demand["source_system"].eq(SECOND_ERP_SYSTEM)]
    unmapped = {e["key"]["sku"] for e in manifest["defects"] if e["kind"] == "unmapped_alias"}
    assert set(local.loc[~local["sku"].isin(dataset.items["sku"]), "sku"]) == unmapped


def test_committed_readme_states_the_row_counts(committed: Path):
    readme = (committed / "README.md").read_text()
    stated = dict(re.findall(r"^\| `(\w+)` \| ([\d,]+) \| [a-z]", readme, flags=re.MULTILINE))
    assert set(stated) == set(TABLES)
    for name, count in stated.items():
        # Not splitlines(): it also splits at the GS (0x1D) inside raw UDIs.
        rows = (committed / f"{name}.csv").read_text().count("\n") - 1
        assert int(count.replace(",", "")) == rows, name
    manifest = json.loads((committed / MANIFEST_FILE).read_text())
    assert f"{len(manifest['defects'])} entries" in readme
