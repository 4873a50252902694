"""Figures and views of the data-quality gate (presentation only).

The figures come from :mod:`toolkit.quality`'s tables: the per-rule summary and the
findings counted by site. :func:`trace_html` and :func:`trace_widget` show a chain
of custody (:func:`toolkit.quality.trace`) as a table, statically or interactively.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from toolkit.dataset import Dataset
from toolkit.quality import RULES, QualityReport, TraceNotFound, format_share, holdings, trace
from toolkit.report import banner_html, note_empty, table_html

__all__ = [
    "checks_table",
    "gate_banner_html",
    "plot_findings_by_rule",
    "plot_findings_by_site",
    "trace_html",
    "trace_widget",
]

# Red: fails the gate; amber: an error within its threshold; grey: a warning.
_FAILS_GATE = "#cf222e"
_ERROR_WITHIN = "#d4a72c"
_WARNING = "#8c959f"
_RULE_COLOURS = plt.get_cmap("tab20").colors


def gate_banner_html(report: QualityReport) -> str:
    """Return the gate's verdict as a banner: green when it passed, red with the reasons when not."""
    if report.passed:
        return banner_html("Data-quality gate passed", report.verdict, tone="good")
    return banner_html("Data-quality gate failed", "; ".join(report.reasons) + ".", tone="bad")


def plot_findings_by_rule(summary: pd.DataFrame, title: str = "") -> Figure:
    """Horizontal bars of failing rows per check, coloured by what they mean for the gate.

    Parameters
    ----------
    summary : DataFrame
        ``QualityReport.summary``; lines without failures are left out.
    title : str

    Returns
    -------
    Figure
        Each bar is labelled with the rows failed, checked, the share and the share allowed.
    """
    failing = summary[summary["rows_failed"] > 0].copy()
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(failing) + 1.6))
    if failing.empty:
        note_empty(ax, "no findings: every check passed")
        return fig
    failing["colour"] = [
        _FAILS_GATE if not passed else _ERROR_WITHIN if severity == "error" else _WARNING
        for passed, severity in zip(failing["passed"], failing["severity"], strict=True)
    ]
    # Bottom to top: warnings, errors within their threshold, then what fails the gate.
    failing["rank"] = failing["colour"].map({_WARNING: 0, _ERROR_WITHIN: 1, _FAILS_GATE: 2})
    failing = failing.sort_values(["rank", "rows_failed"], kind="stable")
    labels = failing["label"] + "  (" + failing["table"] + ")"
    ax.barh(labels, failing["rows_failed"], color=failing["colour"])
    for y, line in enumerate(failing.itertuples()):
        ax.text(
            line.rows_failed,
            y,
            f"  {line.rows_failed:,} of {line.rows_checked:,} · {format_share(line.share)} "
            f"(max {format_share(line.threshold)})",
            va="center",
            fontsize=10,
        )
    ax.set_xlim(0, failing["rows_failed"].max() * 1.6)
    ax.set_xlabel("rows failing the check")
    ax.grid(axis="y", visible=False)
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=colour)
        for colour in (_FAILS_GATE, _ERROR_WITHIN, _WARNING)
    ]
    ax.legend(
        handles,
        ["fails the gate", "error within its threshold", "warning"],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=3,
    )
    ax.set_title(title or "Findings by check", pad=28)
    fig.tight_layout()
    return fig


def plot_findings_by_site(by_site: pd.DataFrame, top: int = 15, title: str = "") -> Figure:
    """Stacked horizontal bars of findings per site, split by check, most findings on top.

    Parameters
    ----------
    by_site : DataFrame
        :func:`toolkit.quality.findings_by_site` (a ``site_id`` column, one column
        per rule and ``total``).
    top : int
        Sites shown.
    title : str
    """
    shown = by_site.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.4 * len(shown) + 1.8))
    if shown.empty:
        note_empty(ax, "no findings at these sites")
        return fig
    rules = [c for c in shown.columns if c not in ("site_id", "total")]
    left = pd.Series(0.0, index=shown.index)
    for k, rule in enumerate(rules):
        ax.barh(
            shown["site_id"],
            shown[rule],
            left=left,
            label=RULES[rule].label if rule in RULES else rule,
            color=_RULE_COLOURS[k % len(_RULE_COLOURS)],
        )
        left += shown[rule]
    ax.set_xlabel("findings")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", fontsize=9)
    ax.set_title(title or "Findings by site")
    fig.tight_layout()
    return fig


def trace_html(dataset: Dataset, query: str, max_rows: int = 60) -> str:
    """Return the chain of custody of ``query`` and where it is in stock, as HTML tables.

    A note replaces the tables when the query is empty or matches nothing.
    """
    if not query:
        return "<p><i>No UDI, serial or lot to trace.</i></p>"
    try:
        steps = trace(dataset, query)
        stock = holdings(dataset, query)
    except (TraceNotFound, ValueError) as exc:
        return f"<p><b>Nothing to trace for {html.escape(query)}:</b> {html.escape(str(exc))}</p>"
    shown = steps.assign(timestamp=steps["timestamp"].dt.strftime("%Y-%m-%d %H:%M"))
    shown = shown.fillna({"from_site": "", "to_site": "", "lot": "", "serial": ""})
    caption = (
        f"Chain of custody of {query} (matched as {steps.attrs['matched_by']}): "
        f"{len(steps)} movements in time order"
    )
    page = table_html(shown, caption=caption, max_rows=max_rows)
    if stock.empty:
        return page + "<p>Nothing of it is in stock at the snapshot.</p>"
    stock = stock.assign(
        expiry_date=stock["expiry_date"].dt.strftime("%Y-%m-%d"),
        snapshot_date=stock["snapshot_date"].dt.strftime("%Y-%m-%d"),
    ).fillna({"expiry_date": "", "lot": "", "serial": ""})
    return page + table_html(stock, caption="Where it is in stock at the snapshot")


def checks_table(summary: pd.DataFrame, only_findings: bool = True) -> pd.DataFrame:
    """The gate's per-check lines for a report: failing the gate first, shares as text.

    Parameters
    ----------
    summary : DataFrame
        ``QualityReport.summary``.
    only_findings : bool
        Keep only the lines with failing rows.
    """
    lines = summary[summary["rows_failed"] > 0] if only_findings else summary
    lines = lines.sort_values(["passed", "rows_failed"], ascending=[True, False], kind="stable")
    return pd.DataFrame(
        {
            "check": lines["label"],
            "rule": lines["rule"],
            "severity": lines["severity"],
            "table": lines["table"],
            "rows checked": lines["rows_checked"],
            "rows failing": lines["rows_failed"],
            "share failing": lines["share"].map(format_share),
            "share allowed": lines["threshold"].map(format_share),
            "gate": lines["passed"].map({True: "within threshold", False: "FAILS the gate"}),
        }
    )


def trace_widget(dataset: Dataset, initial: str = ""):
    """Return an ipywidgets box: type a UDI, serial or lot and see its chain of custody.

    For interactive use only (widget output does not render in static HTML reports).
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    box = widgets.Text(
        value=initial,
        description="UDI / serial / lot",
        placeholder="(01)...(21)... or a serial or a lot",
        continuous_update=False,
        layout=widgets.Layout(width="640px"),
        style={"description_width": "initial"},
    )
    output = widgets.Output()

    def show(_change=None) -> None:
        output.clear_output()
        with output:
            display(HTML(trace_html(dataset, box.value.strip())))

    box.observe(show, names="value")
    show()
    return widgets.VBox([box, output])
