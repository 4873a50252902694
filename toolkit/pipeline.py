"""Run the parameterized notebooks per region with papermill and publish HTML reports.

Layout of one run::

    reports/<run_id>/index.html            every region with its summary row
    reports/<run_id>/<region>/<nb>.ipynb   the executed notebook (an immutable record)
    reports/<run_id>/<region>/<nb>.html    rendered without code cells, fully offline
    reports/<run_id>/<region>/summary.json the headline figures of that region
    reports/latest -> <run_id>

A region whose notebook fails keeps the executed notebook up to the failure and its
error; the other regions still run, and the command exits non-zero at the end.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from toolkit import __version__
from toolkit.config import load_params, params_fingerprint, region_params_paths
from toolkit.paths import NOTEBOOKS_DIR, PROJECT_ROOT, REPORTS_DIR, resolve_path
from toolkit.report import REPORT_CSS, format_value, read_headlines, software_versions

__all__ = [
    "NotebookResult",
    "RegionResult",
    "RunResult",
    "KERNEL_NAME",
    "list_notebooks",
    "render_html",
    "run_region",
    "run_regions",
    "write_index",
]

KERNEL_NAME = "python3"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class NotebookResult:
    """Outcome of one executed notebook."""

    notebook: str
    status: str
    seconds: float
    ipynb: str
    html: str = ""
    error: str = ""


@dataclass(frozen=True)
class RegionResult:
    """Outcome of one region: its notebooks and its summary."""

    region: str
    params_path: str
    status: str
    report_dir: str
    notebooks: tuple[NotebookResult, ...] = ()
    summary: dict = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class RunResult:
    """Outcome of a whole run."""

    run_id: str
    run_dir: Path
    regions: tuple[RegionResult, ...]

    @property
    def failed(self) -> list[RegionResult]:
        return [r for r in self.regions if r.status != "ok"]


def list_notebooks(names: Sequence[str] = ()) -> list[Path]:
    """Return the notebooks to run: the named ones in that order, else all, sorted."""
    if names:
        paths = [NOTEBOOKS_DIR / f"{name.removesuffix('.ipynb')}.ipynb" for name in names]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"notebooks not found: {', '.join(missing)}")
        return paths
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def render_html(ipynb_path: Path, html_path: Path, title: str = "") -> Path:
    """Render an executed notebook to HTML without code cells, readable offline.

    The ``report`` template (``toolkit/templates/report``) drops every script that
    would come from a CDN (require.js, MathJax, mermaid, the widget manager); report
    figures are static images embedded in the page.
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(ipynb_path, as_version=4)
    notebook.metadata.pop("widgets", None)
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        template_name="report",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    if title:
        notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _short_error(exc: BaseException) -> str:
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    return f"{name}: {value}".strip()[:2000]


def run_region(
    params_path: str | Path,
    run_dir: Path,
    *,
    data_source: str = "",
    notebooks: Sequence[str] = (),
    progress: tqdm | None = None,
) -> RegionResult:
    """Execute every notebook for one region and render them.

    Parameters
    ----------
    params_path : str or Path
        The region's parameters file.
    run_dir : Path
        The run's folder; this region writes into ``run_dir / <region>``.
    data_source : str
        Folder or database URL overriding the parameters' data source.
    notebooks : sequence of str
        Notebook names to run (overrides ``run.notebooks`` of the parameters).
    progress : tqdm, optional
        A progress bar advanced once per notebook.

    Returns
    -------
    RegionResult
    """
    import papermill

    params_path = resolve_path(params_path)
    try:
        params = load_params(params_path)
    except Exception as exc:  # a broken params file fails this region only
        return RegionResult(
            region=params_path.stem,
            params_path=str(params_path),
            status="failed",
            report_dir="",
            error=_short_error(exc),
        )
    region_dir = run_dir / params.region
    region_dir.mkdir(parents=True, exist_ok=True)
    results: list[NotebookResult] = []
    for notebook in list_notebooks(notebooks or params.run.notebooks):
        output = region_dir / notebook.name
        started = time.perf_counter()
        if progress is not None:
            progress.set_postfix_str(f"{params.region}: {notebook.stem}")
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters={
                    "params_path": str(params_path),
                    "data_source": data_source,
                    "report_dir": str(region_dir),
                },
                kernel_name=KERNEL_NAME,
                cwd=str(PROJECT_ROOT),
                progress_bar=False,
                # ipykernel warns at every start that local TCP is unencrypted (it only
                # listens on loopback) and logs "KeyboardInterrupt caught in kernel" at
                # ERROR when it is shut down after the last cell. Cell errors reach the
                # executed notebook, not this log, so the batch log keeps only CRITICAL.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
            status, error = "ok", ""
        except Exception as exc:
            status, error = "failed", _short_error(exc)
        html_path = output.with_suffix(".html")
        try:
            if output.exists():
                render_html(output, html_path, title=f"{params.region} · {notebook.stem}")
        except Exception as exc:
            status, error = "failed", error or f"rendering failed: {_short_error(exc)}"
        results.append(
            NotebookResult(
                notebook=notebook.stem,
                status=status,
                seconds=round(time.perf_counter() - started, 2),
                ipynb=str(output.relative_to(run_dir)),
                html=str(html_path.relative_to(run_dir)) if html_path.exists() else "",
                error=error,
            )
        )
        if progress is not None:
            progress.update(1)
    status = "ok" if all(r.status == "ok" for r in results) else "failed"
    headlines = read_headlines(region_dir)
    summary = {
        "region": params.region,
        "status": status,
        "run_dir": str(run_dir),
        "params_path": str(params_path),
        "params_fingerprint": params_fingerprint(params),
        "toolkit_version": __version__,
        "software": software_versions(),
        "currency": params.report.currency,
        "notebooks": [asdict(r) for r in results],
        "headlines": {nb: [asdict(h) for h in items] for nb, items in headlines.items()},
    }
    (region_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return RegionResult(
        region=params.region,
        params_path=str(params_path),
        status=status,
        report_dir=str(region_dir),
        notebooks=tuple(results),
        summary=summary,
        error="; ".join(f"{r.notebook}: {r.error}" for r in results if r.error),
    )


_TONE_COLOURS = {"good": "#1a7f37", "bad": "#cf222e", "warn": "#9a6700"}


def _notebook_label(name: str) -> str:
    """``03_forecast`` -> ``Forecast``: what a reader clicks on."""
    words = name.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


def _index_rows(results: Sequence[RegionResult]) -> tuple[list[str], list[list[str]]]:
    """Column labels (the primary headlines) and each region's cells as HTML."""
    columns: dict[str, str] = {}
    for result in results:
        for items in result.summary.get("headlines", {}).values():
            for item in items:
                if item.get("primary"):
                    columns.setdefault(item["key"], item["label"])
    rows = []
    for result in results:
        values = {}
        currency = result.summary.get("currency", "USD")
        for items in result.summary.get("headlines", {}).values():
            for item in items:
                if item["key"] in columns:
                    text = html.escape(format_value(item["value"], item["unit"], currency))
                    colour = _TONE_COLOURS.get(item.get("tone", ""))
                    numeric = item["unit"] != "text"
                    style = f' style="color:{colour}"' if colour else ""
                    css = "num" if numeric else "wrap"
                    values[item["key"]] = f'<td class="{css}"{style}>{text}</td>'
        rows.append([values.get(key, '<td class="num">–</td>') for key in columns])
    return list(columns.values()), rows


def write_index(run_dir: Path, results: Sequence[RegionResult], run_id: str) -> Path:
    """Write ``index.html`` linking every region's reports with its summary row."""
    labels, rows = _index_rows(results)
    body_rows = []
    for result, values in zip(results, rows, strict=True):
        links = "<br>".join(
            f'<a href="{html.escape(nb.html)}">{html.escape(_notebook_label(nb.notebook))}</a>'
            + ("" if nb.status == "ok" else ' <b style="color:#cf222e">(failed)</b>')
            for nb in result.notebooks
            if nb.html
        )
        status = (
            '<span style="color:#1a7f37;font-weight:600">complete</span>'
            if result.status == "ok"
            else '<span style="color:#cf222e;font-weight:600">failed</span>'
        )
        reason = (
            f'<div style="color:#cf222e;font-size:12px;white-space:normal;max-width:360px">'
            f"{html.escape(result.error[:400])}</div>"
            if result.error
            else ""
        )
        body_rows.append(
            f"<tr><td><b>{html.escape(result.region)}</b></td><td>{status}{reason}</td>"
            f'{"".join(values)}<td style="font-size:12.5px">{links}</td></tr>'
        )
    header = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    versions = software_versions()
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Inventory network reports · {html.escape(run_id)}</title>
{REPORT_CSS}
<style>body{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:28px;color:#1f2328}}
h1{{font-size:24px;margin-bottom:2px}} .meta{{color:#57606a;font-size:13px}}
table.tk-table th{{white-space:normal;max-width:120px;vertical-align:bottom}} table.tk-table td{{vertical-align:top}}</style></head>
<body><h1>Inventory network reports</h1>
<div class="meta">Run {html.escape(run_id)} · toolkit {html.escape(__version__)} ·
SCIP {html.escape(versions.get("scip", "?"))} · generated {dt.datetime.now().isoformat(timespec="seconds")}</div>
<table class="tk-table"><thead><tr><th>Region</th><th>Run</th>{header}<th>Reports</th></tr></thead>
<tbody>{"".join(body_rows)}</tbody></table>
</body></html>"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _point_latest(out_dir: Path, run_dir: Path) -> None:
    latest = out_dir / "latest"
    if latest.is_symlink() or latest.is_file():
        latest.unlink()
    elif latest.is_dir():
        import shutil

        shutil.rmtree(latest)
    latest.symlink_to(run_dir.name, target_is_directory=True)


def run_regions(
    params_paths: Sequence[str | Path] | None = None,
    *,
    data_source: str = "",
    out_dir: str | Path = REPORTS_DIR,
    run_id: str | None = None,
    notebooks: Sequence[str] = (),
    show_progress: bool = True,
    jobs: int = 2,
) -> RunResult:
    """Run every notebook for each region and write the run's index page.

    Parameters
    ----------
    params_paths : sequence of path, optional
        Region parameter files; all of ``params/regions/`` when None.
    data_source : str
        Folder or database URL overriding the parameters' data source.
    out_dir : path
        Folder holding the runs (``reports/`` by default).
    run_id : str, optional
        Name of the run folder; a timestamp by default.
    notebooks : sequence of str
        Restrict the run to these notebooks.
    show_progress : bool
        Show a progress bar over regions and notebooks.
    jobs : int
        How many regions run at once (each notebook runs in its own kernel).

    Returns
    -------
    RunResult
    """
    # The venv's kernel spec must win over any user-global "python3" kernel.
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    paths = [resolve_path(p) for p in (params_paths or region_params_paths())]
    if not paths:
        raise FileNotFoundError("no region parameter files found in params/regions/")
    out = resolve_path(out_dir)
    run_id = run_id or dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    run_dir = out / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    per_region = len(list_notebooks(notebooks))

    def run_one(path: Path, bar: tqdm) -> RegionResult:
        try:
            result = run_region(
                path, run_dir, data_source=data_source, notebooks=notebooks, progress=bar
            )
        except Exception as exc:  # one region's crash must not stop the others
            result = RegionResult(
                region=Path(path).stem,
                params_path=str(path),
                status="failed",
                report_dir="",
                error=_short_error(exc) + "\n" + traceback.format_exc(limit=3),
            )
        # A region that failed early still counts its notebooks as handled.
        bar.update(max(0, per_region - len(result.notebooks)))
        return result

    with (
        tqdm(
            total=per_region * len(paths),
            desc="reports",
            unit="notebook",
            disable=not show_progress,
            file=sys.stderr,
        ) as bar,
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        # Each notebook runs in its own kernel process, so threads are enough to keep
        # two regions executing at once; results keep the order of the params files.
        results = list(pool.map(lambda path: run_one(path, bar), paths))
    write_index(run_dir, results, run_id)
    _point_latest(out, run_dir)
    return RunResult(run_id=run_id, run_dir=run_dir, regions=tuple(results))
