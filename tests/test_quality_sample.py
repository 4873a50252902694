"""The quality gate on generated extracts: the defect manifest is found exactly.

On the committed sample every manifest entry is a finding of the matching rule at
the matching row and column, and nothing else is found; a clean extract from the
generator has no finding at all; random subsets of defects are found exactly too.
Also: quarantine on the sample, the files for data stewards, and the trace.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.data import load_dataset, validate_tables
from toolkit.paths import SAMPLE_DATA_DIR
from toolkit.quality import (
    TraceNotFound,
    check,
    example_trace_query,
    findings_by_site,
    holdings,
    quarantine_summary,
    scope_findings,
    trace,
    worst_offenders,
    write_quarantine,
)
from toolkit.synth import DEFECT_KINDS, MANIFEST_FILE, DefectCounts, generate
from toolkit.udi import GS, Udi, format_udi

#: The rule that must find each kind of injected defect.
RULE_OF_KIND = {
    "bad_gtin_check_digit": "gtin_invalid",
    "unmapped_alias": "alias_unmapped",
    "conflicting_alias": "alias_conflict",
    "movement_from_non_holder": "custody_not_held",
    "missing_serial": "serial_missing",
    "serial_quantity_not_one": "serial_quantity_not_one",
    "serial_at_two_sites": "serial_at_two_sites",
    "udi_lot_mismatch": "udi_lot_mismatch",
    "expired_released": "expired_released",
}


def expected_findings(defects: list[dict], aliases: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    """(rule, table, key, column) that the manifest's defects must produce.

    A conflicting alias has two sides: every aliases row of that local code is a
    finding (the extract cannot say which mapping is right); the manifest names the
    row it added.
    """
    expected = set()
    for entry in defects:
        key = ", ".join(f"{column}={value}" for column, value in entry["key"].items())
        expected.add((RULE_OF_KIND[entry["kind"]], entry["table"], key, entry["column"]))
        if entry["kind"] == "conflicting_alias":
            same = aliases[
                aliases["system"].eq(entry["key"]["system"])
                & aliases["local_code"].eq(entry["key"]["local_code"])
            ]
            for row in same.itertuples():
                other = f"system={row.system}, local_code={row.local_code}, sku={row.sku}"
                expected.add(("alias_conflict", "aliases", other, "sku"))
    return expected


def findings_set(report) -> set[tuple[str, str, str, str]]:
    columns = ["rule", "table", "key", "column"]
    return set(report.findings[columns].itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def sample():
    if not (SAMPLE_DATA_DIR / MANIFEST_FILE).exists():
        pytest.skip("the committed sample has not been generated")
    dataset = load_dataset(SAMPLE_DATA_DIR)
    manifest = json.loads((SAMPLE_DATA_DIR / MANIFEST_FILE).read_text())
    return dataset, manifest, check(dataset)


def test_every_generator_defect_kind_has_a_rule():
    assert set(RULE_OF_KIND) == set(DEFECT_KINDS)


def test_the_committed_samples_manifest_is_found_exactly(sample):
    dataset, manifest, report = sample
    assert findings_set(report) == expected_findings(manifest["defects"], dataset.aliases)
    # 24 manifest entries, plus the other side of the one conflicting alias.
    assert len(report.findings) == len(manifest["defects"]) + 1


def test_each_sample_finding_says_what_the_manifest_says(sample):
    report = sample[2]
    messages = report.findings.set_index("key")["message"]
    assert messages["movement_id=MV00002010"] == (
        "MK-AU delivers 5 of lot S26000044 of CON-10024 to a customer but never received it"
    )
    assert messages["movement_id=MV00004386"] == (
        "UDI carries lot S26000330 but the lot column says S26000030"
    )
    assert messages["site_id=DC-NL-VEN, sku=SPR-10010, lot=, serial=PM00001031, status=released"] == (
        "serial PM00001031 of SPR-10010 is also in stock at DC-PA-PTY; its movements put it at "
        "DC-PA-PTY"
    )  # fmt: skip
    assert messages["sku=IMP-10007"] == "GTIN 05391520100060: GTIN check digit is 0, expected 2"


def test_a_clean_extract_of_sample_size_has_no_finding():
    tables, manifest = generate(seed=7)
    assert manifest.defects == ()
    report = check(validate_tables(tables, "clean"))
    assert report.findings.empty, report.findings.head(10).to_string()
    assert report.passed and report.rows_quarantined() == 0


_COUNTS = st.builds(DefectCounts, **{kind: st.integers(0, 2) for kind in DEFECT_KINDS})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), counts=_COUNTS)
def test_random_subsets_of_defects_are_found_exactly(seed, counts):
    tables, manifest = generate(seed=seed, n_skus=24, n_markets=6, n_weeks=52, defects=counts)
    dataset = validate_tables(tables, "generated")
    report = check(dataset)
    defects = [d.to_dict() for d in manifest.defects]
    assert findings_set(report) == expected_findings(defects, dataset.aliases)
    for name, frame in dataset.tables().items():
        assert len(report.clean.table(name)) + len(report.quarantine[name]) == len(frame)


# --------------------------------------------------------------------------- gate and quarantine


def test_the_sample_fails_the_default_gate_on_master_data_only(sample):
    _, _, report = sample
    assert not report.passed
    assert set(report.failures["rule"]) == {"gtin_invalid", "alias_conflict"}
    assert report.verdict == (
        "Data-quality gate failed: invalid GTIN: 2 of 90 items (2.2%; at most 0% allowed); "
        "conflicting alias: 2 of 53 alias rows (3.8%; at most 0% allowed)."
    )
    assert report.short_verdict == "Failed: invalid GTIN, conflicting alias"


def test_the_sample_passes_when_master_data_defects_are_tolerated(sample):
    dataset, _, _ = sample
    report = check(dataset, thresholds={"gtin_invalid": 0.05, "alias_conflict": 0.05})
    assert report.passed
    assert (
        report.verdict == "Data-quality gate passed: 25 findings, every check within its threshold."
    )


def test_quarantine_on_the_sample_keeps_every_row_and_the_clean_data_whole(sample):
    dataset, _, report = sample
    summary = quarantine_summary(report).set_index("table")
    assert (summary["rows_in"] == summary["rows_kept"] + summary["rows_quarantined"]).all()
    for name, frame in dataset.tables().items():
        assert len(report.clean.table(name)) + len(report.quarantine[name]) == len(frame)
    # The two items with a bad GTIN are held back with everything that names them.
    held_items = set(report.quarantine["items"]["sku"])
    assert held_items == {"IMP-10007", "CAP-10002"}
    clean_skus = set(report.clean.items["sku"])
    for name in ("sourcing", "inventory", "movements", "policies", "aliases"):
        assert set(report.clean.table(name)["sku"].dropna()) <= clean_skus, name
    demand = report.clean.demand
    global_rows = demand["source_system"].isna()
    assert set(demand.loc[global_rows, "sku"]) <= clean_skus
    assert summary.at["movements", "rows_quarantined"] == 10
    assert summary.at["inventory", "rows_quarantined"] == 8
    assert report.clean.fingerprint and report.clean.fingerprint != dataset.fingerprint


def test_write_quarantine_writes_one_file_per_table_for_data_stewards(sample, tmp_path):
    _, _, report = sample
    written = write_quarantine(report, tmp_path / "region")
    tables = {name for name, frame in report.quarantine.items() if len(frame)}
    assert set(written) == {"findings", "gate"} | tables
    findings = pd.read_csv(written["findings"], dtype=str)
    assert len(findings) == len(report.findings)
    movements = pd.read_csv(written["movements"], dtype=str, keep_default_na=False)
    assert len(movements) == len(report.quarantine["movements"])
    assert {"quarantine_rules", "quarantine_reasons"} <= set(movements.columns)
    assert movements["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    inventory = pd.read_csv(written["inventory"], dtype=str, keep_default_na=False)
    assert inventory["snapshot_date"].eq("2026-11-02").all()


def test_findings_by_site_and_worst_offenders(sample):
    dataset, _, report = sample
    emea = dataset.sites.loc[
        ~(dataset.sites["site_type"].eq("market") & dataset.sites["region"].ne("EMEA")), "site_id"
    ]
    scoped = scope_findings(report.findings, emea)
    assert "MK-AU" not in set(scoped["site_id"].dropna())
    by_site = findings_by_site(scoped)
    assert by_site["total"].sum() == len(scoped)
    assert by_site.iloc[0]["site_id"] == "PL-US-MSP"  # 7 findings on fresh serialized units
    assert list(by_site.columns[-1:]) == ["total"]
    sites = worst_offenders(report.findings, "site_id", top=3)
    assert list(sites.columns) == ["site_id", "findings", "errors", "warnings", "rules"]
    assert sites.iloc[0]["findings"] == 7
    skus = worst_offenders(report.findings, "sku")
    assert (skus["findings"].diff().dropna() <= 0).all()
    with pytest.raises(ValueError, match="by must be"):
        worst_offenders(report.findings, "region")


# --------------------------------------------------------------------------- trace


def test_trace_of_a_serial_lists_its_movements_in_order(sample):
    dataset, _, _ = sample
    steps = trace(dataset, "IG00002299")
    assert steps.attrs["matched_by"] == "serial"
    assert list(steps["event"]) == ["production receipt", "shipment"]
    assert list(steps["to_site"]) == ["PL-IE-GAL", "DC-US-MEM"]
    assert list(steps["document_id"]) == ["PR0000072", "DN0000087"]
    assert list(steps["step"]) == [1, 2]
    assert steps["timestamp"].is_monotonic_increasing
    # In stock twice: where its movements put it, and the row the gate flags.
    assert sorted(holdings(dataset, "IG00002299")["site_id"]) == ["DC-US-MEM", "MK-US"]


def test_trace_of_a_lot_shows_the_delivery_from_a_site_that_never_had_it(sample):
    dataset, _, _ = sample
    steps = trace(dataset, "S26000044")
    assert steps.attrs["matched_by"] == "lot"
    assert list(zip(steps["from_site"].fillna(""), steps["to_site"].fillna(""), strict=True)) == [
        ("", "PL-CN-SUZ"),
        ("PL-CN-SUZ", "DC-NL-VEN"),
        ("MK-AU", ""),
        ("DC-NL-VEN", "MK-IT"),
        ("MK-IT", ""),
    ]
    assert list(steps["quantity"]) == [91, 91, 5, 81, 60]


def test_trace_accepts_a_udi_in_any_form(sample):
    dataset, _, _ = sample
    by_serial = trace(dataset, "IM00001290")
    gtin = "05391520100079"
    raw = "]d201" + gtin + "1729092710M26000310" + GS + "21IM00001290"
    hri = format_udi(Udi(gtin, lot="M26000310", serial="IM00001290"))
    for text in (raw, hri, f"  {hri}\n"):
        steps = trace(dataset, text)
        assert steps.attrs["matched_by"] == "UDI serial"
        pd.testing.assert_frame_equal(steps, by_serial, check_like=False)
    lot_only = trace(dataset, f"(01){gtin}(10)M26000310")
    assert lot_only.attrs["matched_by"] == "UDI lot"
    assert set(lot_only["lot"]) == {"M26000310"} and len(lot_only) > len(by_serial)
    assert list(by_serial["to_site"].fillna("")) == ["PL-US-MSP", "DC-NL-VEN", "DC-SG-SIN", "MK-AU"]


def test_trace_says_clearly_when_nothing_matches(sample):
    dataset, _, _ = sample
    with pytest.raises(TraceNotFound, match="not a serial or a lot of any movement, nor a UDI"):
        trace(dataset, "NO-SUCH-LOT")
    with pytest.raises(TraceNotFound, match="not the GTIN of any item"):
        trace(dataset, "(01)00884521123451(21)X1")
    with pytest.raises(TraceNotFound, match="no movement of serial X1 of IMP-10008"):
        trace(dataset, "(01)05391520100079(21)X1")
    with pytest.raises(TraceNotFound, match="neither a lot nor a serial"):
        trace(dataset, "(01)05391520100079")
    with pytest.raises(ValueError, match="empty"):
        trace(dataset, "  ")


def test_the_report_demonstrates_a_trace_with_a_serial_from_a_finding(sample):
    dataset, _, report = sample
    query = example_trace_query(report, dataset)
    assert query == "PM00001031"  # the serial in stock at two sites
    assert len(trace(dataset, query)) >= 1
