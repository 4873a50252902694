"""Every data-quality rule on a tiny hand-made extract with known answers.

The base extract (a plant, a DC, two markets; an implant with lots and serials, a
consumable with lots, serialized equipment, an end-of-life item and its successor)
passes every rule. Each test breaks one thing and checks exactly what is found:
which rule, which row, which message, and what is quarantined.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit.quality as quality_module
from toolkit.config import QualityParams
from toolkit.data import validate_tables
from toolkit.dataset import Dataset
from toolkit.quality import RULES, check, quarantine_summary
from toolkit.quality_items import phase_out_dates
from toolkit.synth.gs1 import gtin14
from toolkit.udi import Udi, format_udi

GTIN = {
    "IMP": gtin14(0, "0884521", 1001),
    "CON": gtin14(1, "0884521", 1002),
    "CAP": gtin14(0, "0884521", 1003),
    "OLD": gtin14(1, "0884521", 1004),
    "NEW": gtin14(1, "0884521", 1005),
}
SHELF = {"IMP": 1000, "CON": 500, "CAP": None, "OLD": 400, "NEW": 400}
EXPIRY = {"L1": "2028-09-27", "C1": "2027-05-17"}
SNAPSHOT = "2026-03-01"

SITES = [
    ("PL", "Plant", "plant", "EMEA", "IE"),
    ("DC", "Distribution centre", "dc", "EMEA", "NL"),
    ("MK-A", "Market A", "market", "EMEA", "DE"),
    ("MK-B", "Market B", "market", "EMEA", "FR"),
]
ITEMS = [
    ("IMP", "Knee implant", "implants", 1200.0, "mature", True, True, None),
    ("CON", "Catheter", "consumables", 12.5, "mature", True, False, None),
    ("CAP", "Infusion pump", "capital_equipment", 9000.0, "mature", False, True, None),
    ("OLD", "Suture gen 1", "consumables", 3.0, "end_of_life", True, False, "NEW"),
    ("NEW", "Suture gen 2", "consumables", 3.2, "launch", True, False, None),
]
LANES = [
    ("PL", "DC", "road", 2, 0),
    ("DC", "MK-A", "road", 1, 0),
    ("DC", "MK-B", "air", 3, 1),
]
# movement_id, timestamp, sku, lot, serial, from_site, to_site, quantity
MOVES = [
    ("M01", "2026-01-01T08:00", "IMP", "L1", "S1", None, "PL", 1),
    ("M02", "2026-01-01T08:05", "IMP", "L1", "S2", None, "PL", 1),
    ("M03", "2026-01-02T09:00", "CON", "C1", None, None, "PL", 100),
    ("M04", "2026-01-03T10:00", "CAP", None, "E1", None, "PL", 1),
    ("M05", "2026-01-04T10:00", "CAP", None, "E2", None, "PL", 1),
    ("M06", "2026-01-05T07:00", "IMP", "L1", "S1", "PL", "DC", 1),
    ("M07", "2026-01-05T07:00", "IMP", "L1", "S2", "PL", "DC", 1),
    ("M08", "2026-01-06T12:00", "CON", "C1", None, "PL", "DC", 60),
    ("M09", "2026-01-08T12:00", "CAP", None, "E1", "PL", "DC", 1),
    ("M10", "2026-01-10T12:00", "IMP", "L1", "S1", "DC", "MK-A", 1),
    ("M11", "2026-01-12T12:00", "CON", "C1", None, "DC", "MK-A", 20),
    ("M12", "2026-01-15T12:00", "CON", "C1", None, "MK-A", None, 5),
    ("M13", "2026-01-20T12:00", "IMP", "L1", "S1", "MK-A", None, 1),
    ("M14", "2026-02-27T12:00", "CON", "C1", None, "DC", "MK-B", 10),
]
# site_id, sku, lot, serial, quantity, status
STOCK = [
    ("DC", "IMP", "L1", "S2", 1, "released"),
    ("PL", "CON", "C1", None, 40, "released"),
    ("DC", "CON", "C1", None, 30, "released"),
    ("MK-A", "CON", "C1", None, 15, "released"),
    ("MK-B", "CON", "C1", None, 10, "in_transit"),
    ("DC", "CAP", None, "E1", 1, "released"),
    ("PL", "CAP", None, "E2", 1, "quarantine"),
]


def udi(sku: str, lot: str | None, serial: str | None, expiry: str | None = None) -> str:
    """The HRI UDI of a movement of the tiny extract."""
    if expiry is None and SHELF[sku] and lot:
        expiry = EXPIRY.get(lot)
    date = dt.date.fromisoformat(expiry) if expiry else None
    return format_udi(Udi(GTIN[sku], lot=lot, serial=serial, expiry=date), reference_year=2026)


def _weeks(start: str, count: int) -> list[pd.Timestamp]:
    return list(pd.date_range(start, periods=count, freq="7D"))


def tiny_tables() -> dict[str, pd.DataFrame]:
    """The base extract as typed DataFrames (every rule passes)."""
    items = pd.DataFrame(
        [
            {"sku": s, "description": d, "gtin": GTIN[s], "product_line": line,
             "unit_cost": cost, "lifecycle": life, "shelf_life_days": SHELF[s],
             "lot_controlled": lot, "serial_controlled": ser, "successor_sku": succ}
            for s, d, line, cost, life, lot, ser, succ in ITEMS
        ]
    )  # fmt: skip
    moves = pd.DataFrame(
        MOVES,
        columns=["movement_id", "timestamp", "sku", "lot", "serial", "from_site", "to_site",
                 "quantity"],
    )  # fmt: skip
    moves["udi"] = [udi(s, lot, ser) for s, lot, ser in zip(moves["sku"], moves["lot"], moves["serial"], strict=True)]  # fmt: skip
    moves["document_id"] = "D" + moves["movement_id"]
    stock = pd.DataFrame(STOCK, columns=["site_id", "sku", "lot", "serial", "quantity", "status"])
    stock["snapshot_date"] = SNAPSHOT
    stock["expiry_date"] = [
        EXPIRY.get(lot) if SHELF[s] else None for s, lot in zip(stock["sku"], stock["lot"], strict=True)
    ]  # fmt: skip
    demand = pd.DataFrame(
        [("MK-A", "CON", d, 5) for d in _weeks("2026-01-05", 6)]
        + [("MK-A", "OLD", d, 4) for d in _weeks("2025-03-03", 30)]
        + [("MK-A", "NEW", d, 3) for d in _weeks("2025-06-02", 30)],
        columns=["site_id", "sku", "date", "quantity"],
    )
    demand["source_system"] = None
    local = pd.DataFrame(
        {"site_id": "MK-B", "sku": "0001", "date": _weeks("2026-01-05", 3), "quantity": 2,
         "source_system": "SAP-X"}
    )  # fmt: skip
    return {
        "sites": pd.DataFrame(SITES, columns=["site_id", "name", "site_type", "region", "country"]),
        "items": items,
        "sourcing": pd.DataFrame(
            {
                "site_id": "PL",
                "sku": [s for s, *_ in ITEMS],
                "processing_days": 2.0,
                "capacity_per_week": 100.0,
                "unit_cost": 1.0,
            }
        ),
        "lanes": pd.DataFrame(
            LANES, columns=["origin", "destination", "mode", "transit_days", "customs_days"]
        ).assign(cost_per_unit=1.0, tariff_rate=0.0, active=True),
        "demand": pd.concat([demand, local], ignore_index=True),
        "inventory": stock,
        "movements": moves,
        "policies": pd.DataFrame(
            [("MK-A", "CON", 10, 30, 5), ("DC", "CON", 20, 60, 10)],
            columns=["site_id", "sku", "reorder_point", "order_up_to", "safety_stock"],
        ),
        "aliases": pd.DataFrame({"system": ["SAP-X"], "local_code": ["0001"], "sku": ["CON"]}),
    }


def load(tables: dict[str, pd.DataFrame], check_references: bool = True) -> Dataset:
    return validate_tables(tables, "tiny", check_references=check_references)


def found(report) -> set[tuple[str, str, str]]:
    """(rule, table, key) of every finding."""
    return set(
        zip(report.findings["rule"], report.findings["table"], report.findings["key"], strict=True)
    )


def message(report, rule: str) -> str:
    return report.findings.loc[report.findings["rule"].eq(rule), "message"].iloc[0]


def set_cell(frame: pd.DataFrame, where: pd.Series, column: str, value) -> None:
    assert where.sum() == 1, "a test edits exactly one row"
    frame.loc[where, column] = value


def move(tables, movement_id: str) -> pd.Series:
    return tables["movements"]["movement_id"].eq(movement_id)


def stock_row(tables, site: str, sku: str) -> pd.Series:
    stock = tables["inventory"]
    return stock["site_id"].eq(site) & stock["sku"].eq(sku)


def add_movement(tables, row: tuple, udi_text: str | None = None) -> None:
    moves = tables["movements"]
    frame = pd.DataFrame([row], columns=list(moves.columns[:8]))
    frame["udi"] = udi_text or udi(row[2], row[3], row[4])
    frame["document_id"] = "D" + frame["movement_id"]
    tables["movements"] = pd.concat([moves, frame], ignore_index=True)


def add_stock(tables, row: tuple, expiry: str | None = None) -> None:
    stock = tables["inventory"]
    frame = pd.DataFrame([row], columns=["site_id", "sku", "lot", "serial", "quantity", "status"])
    frame["snapshot_date"] = SNAPSHOT
    frame["expiry_date"] = expiry
    tables["inventory"] = pd.concat([stock, frame], ignore_index=True)


# --------------------------------------------------------------------------- the base


def test_the_base_extract_passes_every_rule():
    report = check(load(tiny_tables()))
    assert report.findings.empty
    assert report.passed
    assert report.verdict.startswith("Data-quality gate passed: no findings in ")
    assert report.rows_quarantined() == 0
    assert set(report.summary["rule"]) == set(RULES)


def test_every_rule_is_documented_with_severity_and_quarantine():
    for rule in RULES.values():
        assert rule.description and rule.summary.endswith("."), rule.name
        assert rule.severity in ("error", "warning")
        assert bool(rule.quarantines) == (rule.severity == "error"), rule.name


# --------------------------------------------------------------------------- items


def test_gtin_invalid_names_the_check_digit_and_quarantines_the_item_with_its_rows():
    tables = tiny_tables()
    items = tables["items"]
    wrong = GTIN["OLD"][:-1] + str((int(GTIN["OLD"][-1]) + 3) % 10)
    set_cell(items, items["sku"].eq("OLD"), "gtin", wrong)
    report = check(load(tables))
    assert found(report) == {("gtin_invalid", "items", "sku=OLD")}
    assert "check digit" in message(report, "gtin_invalid")
    assert list(report.quarantine["items"]["sku"]) == ["OLD"]
    # The item's demand, sourcing and every other row naming it go with it.
    held = report.quarantine["demand"]
    assert (held["sku"] == "OLD").all() and len(held) == 30
    assert held["quarantine_reasons"].str.startswith("item OLD is quarantined").all()
    assert len(report.quarantine["sourcing"]) == 1
    assert not report.clean.demand["sku"].eq("OLD").any()
    assert not report.passed and "invalid GTIN: 1 of 5 items" in report.verdict


def test_gtin_of_the_wrong_length_or_with_letters_is_invalid():
    tables = tiny_tables()
    items = tables["items"]
    set_cell(items, items["sku"].eq("OLD"), "gtin", GTIN["OLD"][1:])
    set_cell(items, items["sku"].eq("NEW"), "gtin", GTIN["NEW"][:-1] + "A")
    report = check(load(tables), rules=["gtin_invalid"])
    messages = dict(zip(report.findings["key"], report.findings["message"], strict=True))
    assert "expected 14" in messages["sku=OLD"]
    assert "is not a digit" in messages["sku=NEW"]


def test_gtin_duplicate_reports_every_item_sharing_it():
    tables = tiny_tables()
    items = tables["items"]
    set_cell(items, items["sku"].eq("NEW"), "gtin", GTIN["OLD"])
    report = check(load(tables))
    assert found(report) == {
        ("gtin_duplicate", "items", "sku=OLD"),
        ("gtin_duplicate", "items", "sku=NEW"),
    }
    assert "also the GTIN of NEW" in report.findings.set_index("key").at["sku=OLD", "message"]


def test_codes_the_item_master_does_not_ask_for_contradict_its_flag():
    tables = tiny_tables()
    items = tables["items"]
    set_cell(items, items["sku"].eq("CON"), "lot_controlled", False)  # CON rows all carry lots
    set_cell(items, items["sku"].eq("IMP"), "serial_controlled", False)
    report = check(load(tables))
    assert found(report) == {
        ("item_controls_contradicted", "items", "sku=CON"),
        ("item_controls_contradicted", "items", "sku=IMP"),
    }
    messages = report.findings.set_index("key")["message"]
    assert (
        messages["sku=CON"]
        == "not lot-controlled, but 9 of its 9 stock and movement rows carry a lot"
    )
    assert messages["sku=IMP"].startswith("not serial-controlled, but 7 of its 7 stock")
    # The item goes to quarantine with all its rows.
    assert len(report.quarantine["movements"]) == 5 + 6


def test_a_controlled_item_whose_rows_all_lack_the_code_has_row_findings():
    tables = tiny_tables()
    items = tables["items"]
    set_cell(items, items["sku"].eq("CAP"), "lot_controlled", True)  # CAP rows carry no lot
    report = check(load(tables))
    # The flag is the requirement: every CAP row lacks its lot.
    assert set(report.findings["rule"]) == {"lot_missing"}
    assert len(report.findings) == 5 and set(report.findings["sku"]) == {"CAP"}


# --------------------------------------------------------------------------- serials and lots


def test_serial_missing_on_stock_and_movements_of_one_unit():
    tables = tiny_tables()
    for movement_id in ("M02", "M07"):
        set_cell(tables["movements"], move(tables, movement_id), "serial", None)
        set_cell(tables["movements"], move(tables, movement_id), "udi", udi("IMP", "L1", None))
    set_cell(tables["inventory"], stock_row(tables, "DC", "IMP"), "serial", None)
    report = check(load(tables))
    assert found(report) == {
        ("serial_missing", "movements", "movement_id=M02"),
        ("serial_missing", "movements", "movement_id=M07"),
        ("serial_missing", "inventory", "site_id=DC, sku=IMP, lot=L1, serial=, status=released"),
    }
    assert (
        message(report, "serial_missing") == "IMP is serial-controlled but this row has no serial"
    )


def test_lot_missing_on_a_stock_row():
    tables = tiny_tables()
    set_cell(tables["inventory"], stock_row(tables, "MK-A", "CON"), "lot", None)
    report = check(load(tables))
    assert found(report) == {
        ("lot_missing", "inventory", "site_id=MK-A, sku=CON, lot=, serial=, status=released")
    }


def test_serial_quantity_other_than_one():
    tables = tiny_tables()
    set_cell(tables["movements"], move(tables, "M05"), "quantity", 2)
    set_cell(tables["inventory"], stock_row(tables, "PL", "CAP"), "quantity", 2)
    report = check(load(tables))
    assert found(report) == {
        ("serial_quantity_not_one", "movements", "movement_id=M05"),
        (
            "serial_quantity_not_one",
            "inventory",
            "site_id=PL, sku=CAP, lot=, serial=E2, status=quarantine",
        ),
    }
    assert message(report, "serial_quantity_not_one") == "serial E2 of CAP has quantity 2, not 1"


def test_serial_at_two_sites_reports_the_row_its_movements_do_not_explain():
    tables = tiny_tables()
    add_stock(tables, ("MK-B", "CAP", None, "E1", 1, "released"))
    report = check(load(tables))
    assert found(report) == {
        (
            "serial_at_two_sites",
            "inventory",
            "site_id=MK-B, sku=CAP, lot=, serial=E1, status=released",
        )
    }
    assert message(report, "serial_at_two_sites") == (
        "serial E1 of CAP is also in stock at DC; its movements put it at DC"
    )


def test_a_delivered_serial_in_stock_at_two_sites_is_reported_on_both_rows():
    tables = tiny_tables()
    add_stock(tables, ("MK-A", "IMP", "L1", "S1", 1, "released"), EXPIRY["L1"])
    add_stock(tables, ("MK-B", "IMP", "L1", "S1", 1, "released"), EXPIRY["L1"])
    report = check(load(tables), rules=["serial_at_two_sites"])
    assert len(report.findings) == 2
    assert report.findings["message"].str.endswith("delivered it to a customer").all()


# --------------------------------------------------------------------------- UDIs


def test_udi_unparseable_carries_the_parsers_message():
    tables = tiny_tables()
    set_cell(tables["movements"], move(tables, "M03"), "udi", f"(01){GTIN['CON']}(17)271317(10)C1")
    report = check(load(tables))
    assert found(report) == {("udi_unparseable", "movements", "movement_id=M03")}
    assert message(report, "udi_unparseable") == (
        "UDI cannot be read: AI (17) at position 24: month 13 is not a month"
    )


@pytest.mark.parametrize(
    ("rule", "movement_id", "text", "expected"),
    [
        ("udi_gtin_mismatch", "M08", udi("NEW", "C1", None, EXPIRY["C1"]),
         f"UDI carries GTIN {GTIN['NEW']} but the GTIN of CON is {GTIN['CON']}"),
        ("udi_lot_mismatch", "M11", udi("CON", "C2", None, EXPIRY["C1"]),
         "UDI carries lot C2 but the lot column says C1"),
        ("udi_serial_mismatch", "M10", udi("IMP", "L1", "S9"),
         "UDI carries serial S9 but the serial column says S1"),
        ("udi_serial_mismatch", "M09", udi("CAP", None, None),
         "UDI carries no serial but the serial column says E1"),
        ("udi_expiry_mismatch", "M12", udi("CON", "C1", None, "2027-05-18"),
         "UDI carries expiry 2027-05-18 but the stock of this lot expires on 2027-05-17"),
    ],
)  # fmt: skip
def test_udi_disagreeing_with_the_record(rule, movement_id, text, expected):
    tables = tiny_tables()
    set_cell(tables["movements"], move(tables, movement_id), "udi", text)
    report = check(load(tables))
    assert found(report) == {(rule, "movements", f"movement_id={movement_id}")}
    assert message(report, rule) == expected
    assert list(report.quarantine["movements"]["movement_id"]) == [movement_id]


def test_udi_missing_is_a_warning_that_quarantines_nothing():
    tables = tiny_tables()
    set_cell(tables["movements"], move(tables, "M14"), "udi", None)
    report = check(load(tables))
    assert found(report) == {("udi_missing", "movements", "movement_id=M14")}
    assert report.rows_quarantined() == 0
    # 1 of 14 movements (7%) is over the 5% allowed for warnings.
    assert not report.passed
    looser = QualityParams(max_defect_share_by_severity={"error": 0.005, "warning": 0.1})
    assert check(load(tables), thresholds=looser).passed


# --------------------------------------------------------------------------- chain of custody


def test_a_delivery_of_more_than_a_site_holds_is_one_finding():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-25T12:00", "CON", "C1", None, "MK-A", None, 50))
    report = check(load(tables))
    assert found(report) == {("custody_not_held", "movements", "movement_id=M15")}
    assert message(report, "custody_not_held") == (
        "MK-A delivers 50 of lot C1 of CON to a customer but holds only 15"
    )


def test_a_shipment_from_a_site_that_never_had_the_unit():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-25T12:00", "CAP", None, "E2", "DC", "MK-A", 1))
    report = check(load(tables))
    # Not also a chain break: the shortfall says it.
    assert found(report) == {("custody_not_held", "movements", "movement_id=M15")}
    assert message(report, "custody_not_held") == (
        "DC ships 1 of unit E2 of CAP to MK-A but never received it"
    )


def test_only_the_outflow_that_takes_the_balance_below_zero_is_reported():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-16T12:00", "CON", "C1", None, "MK-A", None, 20))
    add_movement(tables, ("M16", "2026-01-17T12:00", "CON", "C1", None, "MK-A", None, 3))
    report = check(load(tables), rules=["custody_not_held"])
    assert found(report) == {("custody_not_held", "movements", "movement_id=M15")}


def test_inflows_come_first_at_equal_timestamps():
    tables = tiny_tables()
    # Received at MK-A and delivered on at the very same minute: not a shortfall.
    set_cell(tables["movements"], move(tables, "M12"), "timestamp", "2026-01-12T12:00")
    assert check(load(tables), rules=["custody_not_held"]).findings.empty


def test_a_second_production_receipt_of_a_serial_breaks_its_chain():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-25T12:00", "IMP", "L1", "S2", None, "PL", 1))
    report = check(load(tables))
    assert found(report) == {("custody_chain_break", "movements", "movement_id=M15")}
    assert message(report, "custody_chain_break") == (
        "unit S2 of IMP ended its previous movement M07 at DC, but this one starts as a new "
        "production receipt"
    )


def test_a_serial_moving_on_from_where_it_was_received_twice():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-02T08:00", "CAP", None, "E1", None, "PL", 1))
    add_movement(tables, ("M16", "2026-01-30T12:00", "CAP", None, "E1", "PL", "MK-A", 1))
    report = check(load(tables), rules=["custody_not_held", "custody_chain_break"])
    # The second receipt breaks the chain; moving on from PL, which still holds one
    # (received twice), breaks it again without a shortfall.
    assert found(report) == {
        ("custody_chain_break", "movements", "movement_id=M04"),
        ("custody_chain_break", "movements", "movement_id=M16"),
    }


def test_in_transit_stock_needs_an_open_shipment():
    tables = tiny_tables()
    set_cell(tables["inventory"], stock_row(tables, "MK-A", "CON"), "status", "in_transit")
    set_cell(tables["inventory"], stock_row(tables, "PL", "CAP"), "status", "in_transit")
    report = check(load(tables))
    assert found(report) == {
        ("in_transit_without_shipment", "inventory", "site_id=MK-A, sku=CON, lot=C1, serial=, status=in_transit"),
        ("in_transit_without_shipment", "inventory", "site_id=PL, sku=CAP, lot=, serial=E2, status=in_transit"),
    }  # fmt: skip
    messages = set(report.findings["message"])
    assert (
        "lot C1 of CON is in transit to MK-A but its last movement there (M12) takes it out"
        in messages
    )
    assert (
        "unit E2 of CAP is in transit to PL but its last movement there (M05) is a production "
        "receipt, not a shipment"
    ) in messages


def test_in_transit_stock_with_no_movement_at_all():
    tables = tiny_tables()
    add_stock(tables, ("MK-B", "CAP", None, "E9", 1, "in_transit"))
    report = check(load(tables), rules=["in_transit_without_shipment"])
    assert message(report, "in_transit_without_shipment") == (
        "unit E9 of CAP is in transit to MK-B but no movement takes it there"
    )


def test_in_transit_longer_than_the_slowest_lane_is_a_warning():
    tables = tiny_tables()
    set_cell(tables["movements"], move(tables, "M14"), "timestamp", "2026-02-20T12:00")
    report = check(load(tables))
    assert found(report) == {
        (
            "in_transit_overdue",
            "inventory",
            "site_id=MK-B, sku=CON, lot=C1, serial=, status=in_transit",
        )
    }
    assert message(report, "in_transit_overdue") == (
        "shipped from DC on 2026-02-20, 8 days before the snapshot; the slowest active lane "
        "takes 4 days"
    )
    assert report.rows_quarantined() == 0


# --------------------------------------------------------------------------- expiry


def _old_lot(tables, status: str, expiry: str) -> None:
    """A lot C9 of CON received a year ago, expiring on ``expiry``, held by DC."""
    add_movement(tables, ("M20", "2025-02-01T08:00", "CON", "C9", None, None, "PL", 5),
                 udi("CON", "C9", None, expiry))  # fmt: skip
    add_movement(tables, ("M21", "2026-02-28T08:00", "CON", "C9", None, "PL", "DC", 5),
                 udi("CON", "C9", None, expiry))  # fmt: skip
    add_stock(tables, ("DC", "CON", "C9", None, 5, status), expiry)


def test_expired_stock_still_released():
    tables = tiny_tables()
    _old_lot(tables, "released", "2026-02-15")
    report = check(load(tables))
    assert found(report) == {
        ("expired_released", "inventory", "site_id=DC, sku=CON, lot=C9, serial=, status=released")
    }
    assert message(report, "expired_released") == (
        "released stock of lot C9 of CON expired on 2026-02-15, before the snapshot of 2026-03-01"
    )


def test_expired_stock_in_transit():
    tables = tiny_tables()
    _old_lot(tables, "in_transit", "2026-02-15")
    report = check(load(tables))
    assert found(report) == {
        (
            "expired_in_transit",
            "inventory",
            "site_id=DC, sku=CON, lot=C9, serial=, status=in_transit",
        )
    }


def test_stock_expiring_on_the_snapshot_day_is_still_good():
    tables = tiny_tables()
    _old_lot(tables, "released", SNAPSHOT)
    assert check(load(tables)).findings.empty


# --------------------------------------------------------------------------- other ERP systems


def test_unmapped_and_ambiguous_local_codes():
    tables = tiny_tables()
    demand = tables["demand"]
    local = demand[demand["source_system"].eq("SAP-X")].iloc[:2].copy()
    local["sku"] = ["0009", "0002"]
    tables["demand"] = pd.concat([demand, local], ignore_index=True)
    tables["aliases"] = pd.DataFrame(
        {"system": "SAP-X", "local_code": ["0001", "0002", "0002"], "sku": ["CON", "CON", "IMP"]}
    )
    report = check(load(tables))
    assert found(report) == {
        ("alias_unmapped", "demand", "date=2026-01-05, site_id=MK-B, sku=0009"),
        ("alias_unmapped", "demand", "date=2026-01-12, site_id=MK-B, sku=0002"),
        ("alias_conflict", "aliases", "system=SAP-X, local_code=0002, sku=CON"),
        ("alias_conflict", "aliases", "system=SAP-X, local_code=0002, sku=IMP"),
    }
    messages = set(report.findings["message"])
    assert "SAP-X local code 0009 has no row in aliases" in messages
    assert "SAP-X local code 0002 is mapped to 2 skus (CON, IMP): ambiguous" in messages
    assert "SAP-X local code 0002 is mapped to 2 skus: CON, IMP" in messages
    assert len(report.quarantine["aliases"]) == 2 and len(report.quarantine["demand"]) == 2


def test_mapped_local_codes_are_fine_and_keep_their_code():
    dataset = load(tiny_tables())
    local = dataset.demand[dataset.demand["source_system"].eq("SAP-X")]
    assert set(local["sku"]) == {"CON"} and set(local["local_code"]) == {"0001"}


def test_unknown_items_when_references_are_not_checked():
    tables = tiny_tables()
    tables["policies"] = pd.concat(
        [tables["policies"], pd.DataFrame([("MK-B", "ZZZ", 1, 2, 1)], columns=tables["policies"].columns)],
        ignore_index=True,
    )  # fmt: skip
    report = check(load(tables, check_references=False))
    assert found(report) == {("unknown_item", "policies", "site_id=MK-B, sku=ZZZ")}
    assert message(report, "unknown_item") == "sku ZZZ is not in items"


# --------------------------------------------------------------------------- end of life


def test_phase_out_is_the_successors_first_sale_plus_the_changeover():
    dataset = load(tiny_tables())
    assert phase_out_dates(dataset).to_dict() == {"OLD": pd.Timestamp("2025-12-01")}
    assert phase_out_dates(dataset, changeover_weeks=0)["OLD"] == pd.Timestamp("2025-06-02")


def test_an_explicit_phase_out_date_wins():
    tables = tiny_tables()
    tables["items"]["phase_out_date"] = [None, None, None, "2025-08-31", None]
    dataset = load(tables)
    assert phase_out_dates(dataset).to_dict() == {"OLD": pd.Timestamp("2025-08-31")}
    report = check(dataset)
    # OLD sells every week until 2025-09-22: the four weeks after 31 August are warned about.
    weeks = report.findings.loc[report.findings["rule"].eq("end_of_life_after_phase_out"), "key"]
    assert len(weeks) == 4


def test_end_of_life_demand_and_policies_after_phase_out_are_warnings():
    tables = tiny_tables()
    late = pd.DataFrame(
        {"site_id": "MK-A", "sku": "OLD", "date": _weeks("2025-12-08", 2), "quantity": [2, 0],
         "source_system": None}
    )  # fmt: skip
    tables["demand"] = pd.concat([tables["demand"], late], ignore_index=True)
    tables["policies"] = pd.concat(
        [tables["policies"], pd.DataFrame([("MK-A", "OLD", 1, 2, 1)], columns=tables["policies"].columns)],
        ignore_index=True,
    )  # fmt: skip
    report = check(load(tables))
    # The zero week is not demand; the policy is still in force after the phase-out.
    assert found(report) == {
        ("end_of_life_after_phase_out", "demand", "date=2025-12-08, site_id=MK-A, sku=OLD"),
        ("end_of_life_after_phase_out", "policies", "site_id=MK-A, sku=OLD"),
    }
    assert (report.findings["severity"] == "warning").all()
    assert report.rows_quarantined() == 0
    assert set(report.findings["message"]) == {
        "OLD was phased out on 2025-12-01 but sells 2 in the week of 2025-12-08",
        "OLD was phased out on 2025-12-01 but still has a replenishment policy at MK-A",
    }


# --------------------------------------------------------------------------- selection and gate


def test_rules_selects_a_subset_and_unknown_names_are_refused():
    report = check(load(tiny_tables()), rules=["gtin_invalid", "udi_missing"])
    assert list(report.summary["rule"]) == ["gtin_invalid", "udi_missing"]
    with pytest.raises(KeyError, match="unknown quality rule"):
        check(load(tiny_tables()), rules=["gtin_invalidd"])
    with pytest.raises(KeyError, match="max_defect_share names unknown rule"):
        check(load(tiny_tables()), thresholds={"no_such_rule": 0.1})


def test_a_share_equal_to_its_threshold_passes_and_one_above_fails():
    tables = tiny_tables()
    add_movement(tables, ("M15", "2026-01-25T12:00", "CON", "C1", None, "MK-A", None, 50))
    dataset = load(tables)
    report = check(dataset)
    line = report.summary.set_index("rule").loc["custody_not_held"]
    assert (line["rows_failed"], line["rows_checked"]) == (1, 10)
    assert not report.passed
    assert check(dataset, thresholds={"custody_not_held": 0.1}).passed
    assert not check(dataset, thresholds={"custody_not_held": 0.0999}).passed
    assert report.reasons == (
        "shipped by a non-holder: 1 of 10 movements (10%; at most 0.5% allowed)",
    )


# --------------------------------------------------------------------------- quarantine, never drop


def _assert_partition(dataset: Dataset, report) -> None:
    for name, frame in dataset.tables().items():
        kept, held = report.clean.table(name), report.quarantine[name]
        assert len(kept) + len(held) == len(frame), name
        # Labels may repeat (rows were duplicated): compare them as multisets.
        assert sorted([*kept.index, *held.index]) == sorted(frame.index), name
    summary = quarantine_summary(report)
    assert (summary["rows_in"] == summary["rows_kept"] + summary["rows_quarantined"]).all()
    errors = report.findings[report.findings["severity"].eq("error")]
    for table, rows in errors.groupby("table")["row"]:
        held = dataset.table(table).index[rows.to_numpy()]
        assert set(held) <= set(report.quarantine[table].index), table


_BASE: list[Dataset] = []


def _base() -> Dataset:
    if not _BASE:
        _BASE.append(load(tiny_tables()))
    return _BASE[0]


@st.composite
def damaged_extracts(draw) -> Dataset:
    """The tiny extract with random rows dropped, duplicated and codes blanked."""
    base = _base()
    tables = {}
    for name, frame in base.tables().items():
        if frame.empty:
            tables[name] = frame
            continue
        keep = draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
        twice = draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
        kept = frame[np.array(keep)]
        tables[name] = pd.concat([kept, frame[np.array(twice)]])  # index labels repeat
    for name in ("inventory", "movements"):
        frame = tables[name].copy()
        for column in ("lot", "serial", "from_site" if name == "movements" else "site_id"):
            if column == "site_id" or frame.empty:
                continue
            blank = draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
            frame.loc[np.array(blank), column] = None
        tables[name] = frame
    return base.replace(**tables)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dataset=damaged_extracts(),
    rules=st.none() | st.lists(st.sampled_from(list(RULES)), min_size=1, unique=True),
)
def test_rows_in_equal_rows_kept_plus_rows_quarantined(dataset, rules):
    report = check(dataset, rules=rules)
    _assert_partition(dataset, report)
    assert report.passed == report.summary["passed"].all()


def test_the_quality_module_documents_every_rule():
    for name in RULES:
        assert f"``{name}``" in quality_module.__doc__, name
