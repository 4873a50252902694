"""Charts of a region's safety-stock plan (presentation only).

Each function takes a table of :mod:`toolkit.safety_stock_plan` and returns a
matplotlib Figure: where the stock sits on the network picture
(:func:`plot_safety_stock_network`, drawn by :func:`toolkit.network_plot.plot_network`),
value and holding cost by echelon (:func:`plot_stock_by_echelon`), the cost-service
frontier with the plan marked (:func:`plot_frontier`) and today against the proposal
per site (:func:`plot_today_vs_proposed`) and per product line
(:func:`plot_product_lines`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from toolkit.network_plot import plot_network
from toolkit.report import format_value, note_empty

__all__ = [
    "TODAY_COLOUR",
    "PROPOSED_COLOUR",
    "CHANGE_STATUS",
    "plot_safety_stock_network",
    "plot_stock_by_echelon",
    "plot_frontier",
    "plot_today_vs_proposed",
    "plot_product_lines",
]

TODAY_COLOUR = "#9aa5b1"
PROPOSED_COLOUR = "#2f6fb0"
_MORE_COLOUR = "#d1495b"
_LESS_COLOUR = "#1a7f37"

#: A site's change against today -> the stock status colour of the network picture.
CHANGE_STATUS = {"less": "excess", "more": "shortage", "same": "balanced"}

# The network picture's legend, reworded for safety stock against today.
_LEGEND_TEXT = {
    "Sites by stock status": "Safety stock against today",
    "mostly shortage": "holds more than today",
    "mostly excess": "holds less than today",
    "balanced / not assessed": "about the same, or none",
    "Sites by stock value": "Proposed safety stock",
}

_ECHELON_LABELS = {
    "plant": "Plants",
    "dc": "Distribution centres",
    "market": "Markets",
    "total": "Total",
}


def _money(value: float, currency: str) -> str:
    # A bare "$" starts maths in matplotlib text: two of them in a label garble it.
    return format_value(float(value), "money", currency).replace("$", r"\$")


def _money_axis(axis, currency: str) -> None:
    axis.set_major_formatter(
        FuncFormatter(lambda v, _pos: format_value(v, "money", currency) if v else "0")
    )


def plot_safety_stock_network(
    graph: nx.Graph,
    by_site: pd.DataFrame,
    *,
    flows: pd.DataFrame | None = None,
    highlight_region: str | None = None,
    currency: str = "USD",
    title: str = "",
) -> Figure:
    """The network picture with sites sized by proposed safety stock, coloured against today.

    Parameters
    ----------
    graph : networkx.Graph
        The region's network (e.g. :func:`toolkit.network.region_subgraph`).
    by_site : DataFrame
        ``plan.by_site``: ``site_id, proposed_value, change`` (``less``, ``more``,
        ``same``).
    flows : DataFrame, optional
        :func:`toolkit.safety_stock_plan.plan_flows`: the lanes of the plan, wider
        where they carry more demand value.
    highlight_region, currency, title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    balance = pd.DataFrame(
        {
            "inventory_value": by_site["proposed_value"].to_numpy(dtype=float),
            "status": by_site["change"].map(CHANGE_STATUS).fillna("balanced").to_numpy(),
        },
        index=by_site["site_id"].astype(str),
    )
    fig = plot_network(
        graph,
        balance,
        flows=flows,
        highlight_region=highlight_region,
        currency=currency,
        title=title or "Where the safety stock sits",
    )
    for legend in fig.findobj(Legend):
        title_text = legend.get_title()
        title_text.set_text(_LEGEND_TEXT.get(title_text.get_text(), title_text.get_text()))
        for text in legend.get_texts():
            words = text.get_text()
            if words.startswith("stock "):
                text.set_text("safety stock " + words[len("stock ") :])
            else:
                text.set_text(_LEGEND_TEXT.get(words, words))
    return fig


def plot_stock_by_echelon(
    by_echelon: pd.DataFrame, currency: str = "USD", *, title: str = ""
) -> Figure:
    """Safety-stock value and its annual holding cost per echelon, today against proposed.

    Parameters
    ----------
    by_echelon : DataFrame
        ``plan.by_echelon`` (``echelon, today_value, proposed_value,
        today_holding_cost_per_year, proposed_holding_cost_per_year``); the
        ``total`` row is left out.
    currency, title : str

    Returns
    -------
    matplotlib.figure.Figure
        Two panels of paired horizontal bars, plants on top.
    """
    shown = by_echelon[by_echelon["echelon"] != "total"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), sharey=True)
    if shown.empty:
        note_empty(axes[0], "no safety stock")
        axes[1].set_axis_off()
        return fig
    names = [_ECHELON_LABELS.get(e, e) for e in shown["echelon"]]
    y = np.arange(len(shown))[::-1]
    panels = (
        ("today_value", "proposed_value", "Safety-stock value"),
        ("today_holding_cost_per_year", "proposed_holding_cost_per_year", "Holding cost per year"),
    )
    for ax, (today, proposed, heading) in zip(axes, panels, strict=True):
        before = shown[today].to_numpy(dtype=float)
        after = shown[proposed].to_numpy(dtype=float)
        ax.barh(y + 0.2, before, height=0.38, color=TODAY_COLOUR, label="today")
        ax.barh(y - 0.2, after, height=0.38, color=PROPOSED_COLOUR, label="proposed")
        for k in range(len(shown)):
            for value, offset in ((before[k], 0.2), (after[k], -0.2)):
                ax.annotate(
                    _money(value, currency),
                    (value, y[k] + offset),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=9,
                )
        largest = max(before.max(initial=0.0), after.max(initial=0.0))
        ax.set_xlim(0, largest * 1.3 if largest > 0 else 1.0)
        _money_axis(ax.xaxis, currency)
        ax.set_title(heading, loc="left", fontsize=12)
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(y, names)
    # Above the panels, clear of the bars and their labels.
    fig.legend(
        handles=[
            Patch(color=TODAY_COLOUR, label="today"),
            Patch(color=PROPOSED_COLOUR, label="proposed"),
        ],
        loc="upper right",
        ncols=2,
        bbox_to_anchor=(0.99, 1.0),
    )
    fig.suptitle(title or "Safety stock by echelon", x=0.01, ha="left", fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_frontier(frontier, currency: str = "USD", *, title: str = "") -> Figure:
    """The cost of service: optimal annual holding cost against a uniform service level.

    Parameters
    ----------
    frontier : toolkit.safety_stock_plan.RegionFrontier
        Its ``table`` (``service_level, holding_cost_per_year, safety_stock_value,
        skus, optimal``) and ``chosen`` (the plan on the same skus), drawn as a star.
    currency, title : str

    Returns
    -------
    matplotlib.figure.Figure
        Points where every sku was proven optimal are filled, the others hollow; each
        point is labelled with the safety-stock value it needs.
    """
    table = frontier.table.sort_values("service_level")
    fig, ax = plt.subplots(figsize=(10, 4.6))
    if table.empty:
        note_empty(ax, "no sku on the frontier")
        return fig
    x = table["service_level"].to_numpy(dtype=float)
    cost = table["holding_cost_per_year"].to_numpy(dtype=float)
    proven = (table["optimal"] == table["skus"]).to_numpy()
    ax.plot(x, cost, color=PROPOSED_COLOUR, zorder=1)
    ax.scatter(x[proven], cost[proven], color=PROPOSED_COLOUR, zorder=2, s=36)
    if (~proven).any():
        ax.scatter(
            x[~proven], cost[~proven], facecolors="white", edgecolors=_MORE_COLOUR, zorder=2, s=36
        )
    for level, value, stock in zip(x, cost, table["safety_stock_value"], strict=True):
        ax.annotate(
            f"{_money(stock, currency)}\nstock",
            (level, value),
            xytext=(-5, 6),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8.5,
            color="#57606a",
            linespacing=1.0,
        )
    handles = [
        Line2D([], [], color=PROPOSED_COLOUR, marker="o", label="every node at one service level")
    ]
    if (~proven).any():
        handles.append(
            Line2D(
                [],
                [],
                color="white",
                marker="o",
                markeredgecolor=_MORE_COLOUR,
                label="not every sku proven optimal",
            )
        )
    chosen = frontier.chosen
    if chosen and np.isfinite(chosen.get("service_level", np.nan)):
        ax.scatter(
            [chosen["service_level"]],
            [chosen["holding_cost_per_year"]],
            marker="*",
            s=260,
            color="#bf8700",
            edgecolors="white",
            zorder=3,
        )
        handles.append(
            Line2D(
                [],
                [],
                color="#bf8700",
                marker="*",
                linestyle="",
                markersize=13,
                label=f"this plan: segment targets, {100 * chosen['service_level']:.1f}% on average;\n"
                f"{_money(chosen['holding_cost_per_year'], currency)} a year for "
                f"{_money(chosen['safety_stock_value'], currency)} of stock",
            )
        )
    ax.set_xticks(x)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.3g}"))
    ax.set_xlim(x.min() - 0.1 * np.ptp(x), x.max() + 0.04 * np.ptp(x))
    _money_axis(ax.yaxis, currency)
    ax.set_ylim(0, cost.max() * 1.15)
    ax.set_xlabel("cycle service level, % (chance a replenishment cycle ends without a stockout)")
    ax.set_ylabel(f"holding cost per year ({currency})")
    ax.legend(handles=handles, loc="upper left")
    ax.set_title(title or "Cost of service", loc="left")
    fig.tight_layout()
    return fig


def _freed_label(value: float, currency: str) -> str:
    if value >= 0:
        return f"frees {_money(value, currency)}"
    return f"needs {_money(-value, currency)} more"


def _paired_bars(
    ax, names: list[str], before: np.ndarray, after: np.ndarray, freed: np.ndarray, currency: str
) -> None:
    y = np.arange(len(names))[::-1]
    ax.barh(y + 0.2, before, height=0.38, color=TODAY_COLOUR, label="today")
    ax.barh(y - 0.2, after, height=0.38, color=PROPOSED_COLOUR, label="proposed")
    largest = max(before.max(initial=0.0), after.max(initial=0.0))
    for k in range(len(names)):
        ax.annotate(
            _freed_label(freed[k], currency),
            (max(before[k], after[k]), y[k]),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=_LESS_COLOUR if freed[k] >= 0 else _MORE_COLOUR,
            fontweight="bold",
        )
    ax.set_yticks(y, names, fontsize=9.5)
    ax.set_xlim(0, largest * 1.35 if largest > 0 else 1.0)
    _money_axis(ax.xaxis, currency)
    ax.set_xlabel(f"safety-stock value at unit cost ({currency})")
    ax.grid(axis="y", visible=False)
    ax.legend(
        handles=[
            Patch(color=TODAY_COLOUR, label="today"),
            Patch(color=PROPOSED_COLOUR, label="proposed"),
        ],
        loc="lower right",
    )


def plot_today_vs_proposed(
    by_site: pd.DataFrame, currency: str = "USD", *, title: str = ""
) -> Figure:
    """Safety-stock value per site, today against proposed, with the difference.

    Parameters
    ----------
    by_site : DataFrame
        ``plan.by_site`` (``site_id, name, site_type, today_value, proposed_value,
        freed_value``); sites without stock today or proposed are left out.
    currency, title : str

    Returns
    -------
    matplotlib.figure.Figure
        Sites in network order (plants, DCs, markets), each labelled with the
        working capital it frees (green) or needs (red).
    """
    shown = by_site[(by_site["today_value"] > 0) | (by_site["proposed_value"] > 0)]
    fig, ax = plt.subplots(figsize=(10, 0.62 * len(shown) + 1.6))
    if shown.empty:
        note_empty(ax, "no safety stock today or proposed")
        return fig
    kinds = {"plant": "plant", "dc": "DC", "market": "market"}
    names = [
        f"{site}  ({kinds.get(kind, kind)})"
        for site, kind in zip(shown["site_id"], shown["site_type"], strict=True)
    ]
    _paired_bars(
        ax,
        names,
        shown["today_value"].to_numpy(dtype=float),
        shown["proposed_value"].to_numpy(dtype=float),
        shown["freed_value"].to_numpy(dtype=float),
        currency,
    )
    ax.set_title(title or "Safety stock per site: today and proposed", loc="left")
    fig.tight_layout()
    return fig


def plot_product_lines(lines: pd.DataFrame, currency: str = "USD", *, title: str = "") -> Figure:
    """Safety-stock value per product line, today against proposed, with the difference.

    Parameters
    ----------
    lines : DataFrame
        :func:`toolkit.safety_stock_plan.by_product_line` (``product_line,
        today_value, proposed_value, freed_value``).
    currency, title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    shown = lines[lines["product_line"] != "total"]
    fig, ax = plt.subplots(figsize=(10, 0.62 * len(shown) + 1.6))
    if shown.empty:
        note_empty(ax, "no safety stock today or proposed")
        return fig
    _paired_bars(
        ax,
        [str(p).replace("_", " ") for p in shown["product_line"]],
        shown["today_value"].to_numpy(dtype=float),
        shown["proposed_value"].to_numpy(dtype=float),
        shown["freed_value"].to_numpy(dtype=float),
        currency,
    )
    ax.set_title(title or "Safety stock per product line: today and proposed", loc="left")
    fig.tight_layout()
    return fig
