"""The gate in a regional run: clean data, the banner, GateFailed, the index page."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import TINY_EXTRACT, write_extract

from toolkit.__main__ import main
from toolkit.context import GateFailed, RegionContext, open_region
from toolkit.quality import QualityReport
from toolkit.udi import gtin_is_valid


def _with_quality(ctx: RegionContext, **changes) -> RegionContext:
    quality = ctx.params.quality.model_copy(update=changes)
    return dataclasses.replace(ctx, params=ctx.params.model_copy(update={"quality": quality}))


def _region_file(folder: Path, extract: Path, proceed: bool = True) -> Path:
    path = folder / "params" / "regions" / "emea.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"region: EMEA\ndata:\n  source: {extract}\n"
        f"quality:\n  proceed_with_warnings: {str(proceed).lower()}\n"
    )
    return path


def _broken_gtin_extract(folder: Path) -> Path:
    """The tiny extract with the catheter's GTIN check digit wrong."""
    items = TINY_EXTRACT["items"].replace("00884521000011", "00884521000012")
    assert not gtin_is_valid("00884521000012")
    return write_extract(folder, {**TINY_EXTRACT, "items": items})


@pytest.fixture(scope="module")
def sample_ctx() -> RegionContext:
    return open_region("params/regions/emea.yaml")


def test_open_region_runs_the_gate_once_and_offers_clean_data(sample_ctx):
    ctx = sample_ctx
    assert isinstance(ctx.quality, QualityReport)
    assert ctx.clean is ctx.quality.clean
    held = set(ctx.quality.quarantine["items"]["sku"])
    assert held and not held & set(ctx.regional_clean.items["sku"])
    markets = set(
        ctx.regional_clean.sites.loc[ctx.regional_clean.sites["site_type"].eq("market"), "site_id"]
    )
    assert markets == {"MK-DE", "MK-FR", "MK-GB", "MK-IT"}
    assert len(ctx.regional_clean.demand) < len(ctx.regional.demand)


def test_a_failed_gate_puts_a_banner_with_the_reasons_on_every_report(sample_ctx):
    banner = sample_ctx.gate_banner_html()
    assert 'class="tk-banner bad"' in banner
    assert "Data-quality gate failed" in banner
    assert "invalid GTIN: 2 of 90 items (2.2%; at most 0% allowed)" in banner
    assert f"{sample_ctx.quality.rows_quarantined():,} rows are quarantined" in banner


def test_downstream_steps_proceed_with_warnings_by_default(sample_ctx):
    assert sample_ctx.params.quality.proceed_with_warnings
    assert sample_ctx.proceeds
    sample_ctx.require_gate()  # does not raise


def test_gate_failed_stops_downstream_steps_when_params_say_so(sample_ctx):
    strict = _with_quality(sample_ctx, proceed_with_warnings=False)
    assert not strict.proceeds
    with pytest.raises(GateFailed, match="invalid GTIN: 2 of 90 items") as caught:
        strict.require_gate()
    assert "quality.proceed_with_warnings is false" in str(caught.value)
    assert "Downstream steps are stopped" in strict.gate_banner_html()


def test_a_passed_gate_shows_no_banner_and_never_stops(tiny_extract: Path, tmp_path: Path):
    ctx = open_region(str(_region_file(tmp_path, tiny_extract, proceed=False)))
    assert ctx.quality.passed, ctx.quality.verdict
    assert ctx.gate_banner_html() == ""
    ctx.require_gate()


def test_the_index_page_shows_the_gate_verdict_and_reason(tmp_path: Path):
    extract = _broken_gtin_extract(tmp_path / "extract")
    params = _region_file(tmp_path, extract)
    code = main(
        [
            "run",
            *("--params", str(params)),
            *("--out", str(tmp_path / "reports")),
            *("--run-id", "gate"),
            *("--notebooks", "01_data_quality"),
            "--no-progress",
        ]
    )
    assert code == 0
    run = tmp_path / "reports" / "gate"
    summary = json.loads((run / "EMEA" / "summary.json").read_text())
    gate = summary["headlines"]["01_data_quality"][0]
    assert gate["key"] == "quality_gate" and gate["primary"] and gate["tone"] == "bad"
    assert gate["value"] == "Failed: invalid GTIN"
    index = (run / "index.html").read_text()
    assert "<th>Data-quality gate</th>" in index and "Failed: invalid GTIN" in index
    page = (run / "EMEA" / "01_data_quality.html").read_text()
    assert "Data-quality gate failed" in page
    # The catheter is held back with its demand and stock, written for the data stewards.
    assert (run / "EMEA" / "quarantine_items.csv").read_text().count("C1,") == 1
    assert (run / "EMEA" / "quarantine_demand.csv").is_file()
    assert (run / "EMEA" / "quality_findings.csv").is_file()
