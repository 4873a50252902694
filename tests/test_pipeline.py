"""The papermill pipeline: per-region reports, offline HTML, summaries, failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import write_extract

from toolkit.__main__ import main
from toolkit.paths import PARAMS_DIR


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """One run over three regions: two good ones and one with broken data."""
    root = tmp_path_factory.mktemp("pipeline")
    extract = write_extract(root / "extract")
    params = root / "params"
    (params / "regions").mkdir(parents=True)
    (params / "defaults.yaml").write_text((PARAMS_DIR / "defaults.yaml").read_text())
    (params / "regions" / "emea.yaml").write_text(f"region: EMEA\ndata:\n  source: {extract}\n")
    (params / "regions" / "nam.yaml").write_text(f"region: NAM\ndata:\n  source: {extract}\n")
    (params / "regions" / "broken.yaml").write_text(
        f"region: LATAM\ndata:\n  source: {root / 'missing'}\n"
    )
    code = main(
        [
            "run",
            *("--params", str(params / "regions" / "emea.yaml")),
            *("--params", str(params / "regions" / "broken.yaml")),
            *("--params", str(params / "regions" / "nam.yaml")),
            *("--out", str(root / "reports")),
            *("--run-id", "test-run"),
            *("--notebooks", "00_data_overview"),
            "--no-progress",
        ]
    )
    return code, root / "reports"


def test_a_failed_region_fails_the_command_but_not_the_others(finished_run) -> None:
    code, reports = finished_run
    assert code == 1
    summary = json.loads((reports / "test-run" / "NAM" / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["notebooks"][0]["status"] == "ok"


def test_reports_are_written_per_region_and_latest_points_at_the_run(finished_run) -> None:
    _, reports = finished_run
    region = reports / "test-run" / "NAM"
    assert (region / "00_data_overview.ipynb").is_file()
    assert (region / "00_data_overview.html").is_file()
    assert (reports / "latest").resolve() == (reports / "test-run").resolve()


def test_summary_holds_the_notebooks_headline_figures(finished_run) -> None:
    _, reports = finished_run
    summary = json.loads((reports / "test-run" / "NAM" / "summary.json").read_text())
    headlines = {h["key"]: h for h in summary["headlines"]["00_data_overview"]}
    # NAM's only market buys 100 catheters at 12.5 in the tiny extract.
    assert headlines["demand_value_52w"]["value"] == pytest.approx(1250.0)
    assert headlines["markets"]["value"] == 1
    assert len(summary["params_fingerprint"]) == 16
    assert summary["software"]["scip"]


def test_html_has_no_code_and_no_remote_resources(finished_run) -> None:
    _, reports = finished_run
    page = (reports / "test-run" / "EMEA" / "00_data_overview.html").read_text()
    assert "open_region(" not in page  # code cells are left out
    assert "data overview" in page
    remote = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert remote == []
    assert "<script src=" not in page


def test_broken_region_keeps_its_notebook_and_error_and_shows_in_the_index(finished_run) -> None:
    _, reports = finished_run
    run = reports / "test-run"
    executed = run / "LATAM" / "00_data_overview.ipynb"
    assert executed.is_file() and "DataError" in executed.read_text()
    summary = json.loads((run / "LATAM" / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert "no folder at" in summary["notebooks"][0]["error"]
    index = (run / "index.html").read_text()
    assert "<b>LATAM</b>" in index and "failed" in index and "no folder at" in index
    assert "$1.25k" in index  # NAM's demand value in its summary row
