"""Presentation helpers shared by the notebooks: headline cards, tables, provenance.

Everything here presents; nothing computes business figures. Headline figures a
notebook shows are also recorded (:func:`record_headlines`) so the pipeline can
assemble each region's ``summary.json`` and the run's index page.
"""

from __future__ import annotations

import html
import json
import math
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = [
    "Headline",
    "HEADLINES_DIRNAME",
    "format_value",
    "headline_html",
    "record_headlines",
    "read_headlines",
    "table_html",
    "banner_html",
    "provenance",
    "software_versions",
    "note_empty",
    "use_report_style",
    "REPORT_CSS",
]

HEADLINES_DIRNAME = "headlines"

Tone = Literal["good", "bad", "warn", "neutral"]
Unit = Literal["money", "count", "percent", "days", "weeks", "ratio", "text"]


@dataclass(frozen=True)
class Headline:
    """One headline figure of a report.

    Parameters
    ----------
    key : str
        Stable machine name (``inventory_value``).
    label : str
        What a reader sees (``Inventory value``).
    value : float or str
        The figure itself (a number, or text for verdicts).
    unit : str
        ``money``, ``count``, ``percent`` (value is a fraction), ``days``, ``weeks``,
        ``ratio`` or ``text``.
    note : str
        One short line of context under the figure.
    tone : str
        ``good``, ``bad``, ``warn`` or ``neutral``: colours the card.
    primary : bool
        Shown as a column of the run's index page.
    """

    key: str
    label: str
    value: float | int | str
    unit: Unit = "count"
    note: str = ""
    tone: Tone = "neutral"
    primary: bool = False


def format_value(
    value: float | int | str | None, unit: str = "count", currency: str = "USD"
) -> str:
    """Format a figure for a reader: ``$1.2M``, ``12,345``, ``97.5%``, ``14.0 days``.

    Examples
    --------
    >>> format_value(1234567, "money", "USD")
    '$1.23M'
    >>> format_value(0.975, "percent")
    '97.5%'
    >>> format_value(12345, "count")
    '12,345'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "text" or isinstance(value, str):
        return str(value)
    if unit == "money":
        symbol = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥"}.get(currency, "")
        prefix = symbol or ""
        suffix = "" if symbol else f" {currency}"
        magnitude = abs(value)
        sign = "-" if value < 0 else ""
        for threshold, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if magnitude >= threshold:
                return f"{sign}{prefix}{magnitude / threshold:.3g}{letter}{suffix}"
        return f"{sign}{prefix}{magnitude:,.0f}{suffix}"
    if unit == "percent":
        return f"{100 * value:.1f}%"
    if unit in ("days", "weeks"):
        return f"{value:,.1f} {unit}"
    if unit == "ratio":
        return f"{value:,.2f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


REPORT_CSS = """
<style>
.tk-cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 18px 0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}
.tk-card{flex:1 1 200px;max-width:280px;border-radius:10px;padding:12px 16px;background:#f6f8fa;border-left:6px solid #8c959f}
.tk-card.good{border-color:#1a7f37;background:#eef8f0}.tk-card.bad{border-color:#cf222e;background:#fdf0f0}
.tk-card.warn{border-color:#bf8700;background:#fff8e5}
.tk-card .tk-label{font-size:13px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
.tk-card .tk-value{font-size:28px;font-weight:650;color:#1f2328;margin:2px 0}
.tk-card .tk-note{font-size:12.5px;color:#57606a}
.tk-banner{font-family:system-ui,sans-serif;border-radius:10px;padding:14px 18px;margin:6px 0 14px 0;font-size:16px}
.tk-banner.good{background:#eef8f0;border:1px solid #1a7f37}.tk-banner.bad{background:#fdf0f0;border:1px solid #cf222e}
.tk-banner.warn{background:#fff8e5;border:1px solid #bf8700}.tk-banner.neutral{background:#f6f8fa;border:1px solid #8c959f}
.tk-banner h2{margin:0 0 4px 0;font-size:20px}
table.tk-table{border-collapse:collapse;font-family:system-ui,sans-serif;font-size:13px;margin:6px 0 16px 0}
table.tk-table th{background:#f0f3f6;text-align:left;padding:5px 10px;border-bottom:2px solid #d0d7de}
table.tk-table td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}
table.tk-table td.wrap{white-space:normal;min-width:220px}
.jp-RenderedHTMLCommon table.tk-table td,.jp-RenderedHTMLCommon table.tk-table th{text-align:left}
table.tk-table td.num,.jp-RenderedHTMLCommon table.tk-table td.num{text-align:right;font-variant-numeric:tabular-nums}
table.tk-table caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0;color:#1f2328}
</style>
"""


def headline_html(headlines: Sequence[Headline], currency: str = "USD") -> str:
    """Return headline cards as HTML (display with ``IPython.display.HTML``)."""
    cards = []
    for item in headlines:
        cards.append(
            f'<div class="tk-card {item.tone}"><div class="tk-label">{html.escape(item.label)}</div>'
            f'<div class="tk-value">{html.escape(format_value(item.value, item.unit, currency))}</div>'
            f'<div class="tk-note">{html.escape(item.note)}</div></div>'
        )
    return REPORT_CSS + '<div class="tk-cards">' + "".join(cards) + "</div>"


def banner_html(title: str, message: str, tone: Tone = "neutral") -> str:
    """Return a one-line verdict banner (e.g. the data-quality gate) as HTML."""
    return (
        REPORT_CSS
        + f'<div class="tk-banner {tone}"><h2>{html.escape(title)}</h2>{html.escape(message)}</div>'
    )


def table_html(
    frame: pd.DataFrame,
    caption: str = "",
    formats: Mapping[str, str] | None = None,
    currency: str = "USD",
    max_rows: int = 30,
) -> str:
    """Return a compact, readable HTML table (no index, numbers right-aligned).

    Parameters
    ----------
    frame : DataFrame
        The table to show; only the first ``max_rows`` rows are shown.
    caption : str
        Title above the table.
    formats : mapping of column to unit, optional
        Units understood by :func:`format_value` per column (``money``, ``percent``...).
    currency : str
        Currency code for ``money`` columns.
    max_rows : int
        Row limit; a note says how many were left out.
    """
    formats = dict(formats or {})
    shown = frame.head(max_rows)
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for column, value in zip(shown.columns, record, strict=True):
            unit = formats.get(column)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if unit:
                text = format_value(value, unit, currency)
            elif numeric:
                text = format_value(value, "count")
            else:
                text = "" if value is None or value is pd.NA else str(value)
            # Codes and figures stay on one line; only long prose may wrap.
            css = ' class="num"' if numeric else (' class="wrap"' if len(text) > 40 else "")
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if len(frame) > max_rows:
        note = f"<tr><td colspan={len(shown.columns)}><i>… {len(frame) - max_rows:,} more rows</i></td></tr>"
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        REPORT_CSS
        + f'<table class="tk-table">{cap}<thead><tr>{header}</tr></thead><tbody>{"".join(rows)}{note}</tbody></table>'
    )


def record_headlines(
    report_dir: str | Path, notebook: str, headlines: Iterable[Headline]
) -> Path | None:
    """Write a notebook's headline figures for the pipeline's summary.

    Does nothing (returns None) when ``report_dir`` is empty: an interactive session.
    """
    if not report_dir:
        return None
    folder = Path(report_dir) / HEADLINES_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    path.write_text(json.dumps([asdict(h) for h in headlines], indent=2, default=float))
    return path


def read_headlines(report_dir: str | Path) -> dict[str, list[Headline]]:
    """Read back every notebook's headline figures recorded in ``report_dir``."""
    folder = Path(report_dir) / HEADLINES_DIRNAME
    result: dict[str, list[Headline]] = {}
    for path in sorted(folder.glob("*.json")):
        result[path.stem] = [Headline(**item) for item in json.loads(path.read_text())]
    return result


def software_versions() -> dict[str, str]:
    """Return the versions of the toolkit, Python, the key libraries and SCIP."""
    versions = {"python": platform.python_version()}
    for package in (
        "medtech-inventory-toolkit",
        "pandas",
        "numpy",
        "statsmodels",
        "networkx",
        "pyscipopt",
        "papermill",
    ):
        try:
            versions[package.replace("medtech-inventory-toolkit", "toolkit")] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    try:
        from toolkit.gsm_milp import scip_version

        versions["scip"] = scip_version()
    except Exception:  # the solver is optional for data-only notebooks
        versions["scip"] = "unavailable"
    return versions


def provenance(
    *,
    region: str,
    params_fingerprint: str,
    data_fingerprint: str,
    data_source: str,
    seed: int,
) -> pd.DataFrame:
    """Return the run's provenance as a two-column table for the report footer."""
    rows = {
        "region": region,
        "parameters fingerprint": params_fingerprint,
        "data fingerprint": data_fingerprint,
        "data source": data_source,
        "random seed": str(seed),
    }
    rows.update({f"version: {k}": v for k, v in software_versions().items()})
    return pd.DataFrame({"item": list(rows), "value": list(rows.values())})


def use_report_style() -> None:
    """Set a clean matplotlib style for report figures (readable at a glance)."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (10, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "legend.frameon": False,
            "font.size": 11,
        }
    )


def note_empty(ax, text: str, *, hide_axes: bool = True) -> None:
    """Say in the middle of an empty chart why it is empty.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    text : str
        E.g. ``"no findings: every check passed"``.
    hide_axes : bool
        Hide the frame and ticks (keep them where the labels still explain the chart).
    """
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35")
    if hide_axes:
        ax.set_axis_off()
