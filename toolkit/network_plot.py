"""The network picture and report charts (presentation only).

:func:`plot_network` draws a static matplotlib figure for reports, echelons left to
right, grouped by region; node size shows inventory value and colour shortage (red)
or excess (blue), from :func:`toolkit.network_balance.site_balance`.
:func:`plot_landed_cost` and :func:`plot_imbalances` chart the regional tables of
:mod:`toolkit.network_region` and :mod:`toolkit.network_balance`. :func:`network_explorer` wraps it in
ipywidgets for JupyterLab (choose a sku and a region, the picture redraws); it is
never called in batch runs and imports ipywidgets only when called.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.ticker import FuncFormatter

from toolkit.report import note_empty

__all__ = [
    "COMPONENT_COLOURS",
    "MODE_STYLES",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "network_layout",
    "plot_network",
    "plot_landed_cost",
    "plot_imbalances",
    "network_explorer",
]

#: Line style and colour of each transport mode.
MODE_STYLES: dict[str, tuple[str, str]] = {
    "road": ("-", "#5f6b7a"),
    "sea": ("--", "#3f9e8c"),
    "air": (":", "#d08a2e"),
}

#: Node colour of each stock status.
STATUS_COLOURS: dict[str, str] = {
    "shortage": "#d1495b",
    "excess": "#2f6fb0",
    "balanced": "#9aa5b1",
}

#: Legend text of each stock status in the network picture.
STATUS_LABELS: dict[str, str] = {
    "shortage": "mostly shortage",
    "excess": "mostly excess",
    "balanced": "balanced / not assessed",
}

#: Colour of each landed-cost component.
COMPONENT_COLOURS: dict[str, str] = {
    "freight": "#5f6b7a",
    "tariff": "#d08a2e",
    "carrying": "#3f9e8c",
}

#: Background of the band of the region a report is about.
HIGHLIGHT_COLOUR = "#fff1c9"

_MARKERS = {0: "s", 1: "D", 2: "o"}
_ECHELON_TITLES = {0: "Plants", 1: "Distribution centres", 2: "Markets"}


_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥"}


def _short_number(value: float, digits: int = 3) -> str:
    for threshold, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.{digits}g}{letter}"
    return f"{value:,.0f}" if digits == 3 else f"{value:g}"


def _money(value: float, currency: str) -> str:
    """``$1.23M``, ``€456k``, ``12 CHF``: money for labels (as the report cards show it)."""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    sign = "-" if value < 0 else ""
    text = _short_number(abs(value))
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def _money_axis(ax, currency: str, label: str) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _short_number(v, 6)))
    ax.set_xlabel(label)


def network_layout(
    graph: nx.Graph, *, echelon: str = "echelon", region: str = "region"
) -> dict[str, tuple[float, float]]:
    """Positions with echelons as columns (x = echelon) and regions as horizontal bands.

    Each region gets a band as tall as its largest echelon column; within a band a
    column's sites are centred and sorted by id. Regions run top to bottom in
    alphabetical order.
    """
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        groups[(str(data.get(region, "")), int(data.get(echelon) or 0))].append(node)
    regions = sorted({r for r, _e in groups})
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for name in regions:
        height = max(len(nodes) for (r, _e), nodes in groups.items() if r == name)
        for (r, level), nodes in groups.items():
            if r != name:
                continue
            offset = (height - len(nodes)) / 2.0
            for i, node in enumerate(sorted(nodes)):
                positions[node] = (float(level), -(top + offset + i))
        top += height + 1.0  # one empty row between regions
    return positions


def _region_bands(
    ax, graph: nx.Graph, positions: Mapping, region: str, highlight: str | None = None
) -> None:
    spans: dict[str, list[float]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        spans[str(data.get(region, ""))].append(positions[node][1])
    for i, (name, ys) in enumerate(sorted(spans.items(), key=lambda kv: -max(kv[1]))):
        low, high = min(ys) - 0.5, max(ys) + 0.5
        if name == highlight:
            ax.axhspan(low, high, color=HIGHLIGHT_COLOUR, zorder=0)
        elif i % 2 == 0:
            ax.axhspan(low, high, color="#f2f4f7", zorder=0)
        ax.text(
            -0.42,
            (low + high) / 2,
            name,
            ha="right",
            va="center",
            fontsize=12 if name == highlight else 10,
            weight="bold",
            color="#8a5a00" if name == highlight else "#1f2328",
        )


def _sizes(values: np.ndarray, size_range: tuple[float, float]) -> np.ndarray:
    # Area proportional to value (square root), so a site worth 4x looks 4x as big.
    smallest, largest = size_range
    if values.size == 0 or not np.nanmax(values, initial=0.0) > 0:
        return np.full(values.shape, smallest)
    scaled = np.sqrt(np.clip(values, 0.0, None) / np.nanmax(values))
    return smallest + (largest - smallest) * np.nan_to_num(scaled)


def _widths(flows: pd.DataFrame | None, column: str) -> dict[tuple[str, str, str], float]:
    if flows is None or flows.empty:
        return {}
    values = flows[column].to_numpy(dtype=float)
    largest = np.nanmax(values) if values.size else 0.0
    scaled = np.sqrt(np.clip(values, 0, None) / largest) if largest > 0 else values * 0
    keys = zip(flows["origin"], flows["destination"], flows["mode"], strict=True)
    return {key: 0.8 + 4.2 * float(w) for key, w in zip(keys, scaled, strict=True)}


def _size_handles(values: np.ndarray, size_range: tuple[float, float], currency: str) -> list:
    """Legend markers for a large and a small stock value (areas as drawn)."""
    largest = float(np.nanmax(values, initial=0.0)) if values.size else 0.0
    if not largest > 0:
        return []
    handles = []
    for value in (largest, largest / 10):
        size = _sizes(np.array([value, largest]), size_range)[0]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=float(np.sqrt(size)),
                markerfacecolor="white",
                markeredgecolor="#57606a",
                label=f"stock {_money(value, currency)}",
            )
        )
    return handles


def plot_network(
    graph: nx.Graph,
    balance: pd.DataFrame | None = None,
    *,
    flows: pd.DataFrame | None = None,
    flow_column: str = "value_per_day",
    ax=None,
    title: str = "",
    currency: str = "USD",
    labels: bool = True,
    highlight_region: str | None = None,
    figsize: tuple[float, float] | None = None,
    size_range: tuple[float, float] = (60.0, 1100.0),
    echelon: str = "echelon",
    region: str = "region",
    mode: str = "mode",
) -> Figure:
    """Draw the supply network for a reader who does not read code.

    Parameters
    ----------
    graph : networkx.Graph
        From :func:`toolkit.network.build_network` (or a sub-graph of it, e.g.
        :func:`toolkit.network.region_subgraph`).
    balance : pandas.DataFrame, optional
        :func:`toolkit.network_balance.site_balance`, indexed by site: node size by
        ``inventory_value``, colour by ``status``. Without it nodes are grey and
        equal.
    flows : pandas.DataFrame, optional
        :func:`toolkit.network_paths.lane_flows`: lanes in use are drawn with a width
        by ``flow_column`` (area-like, square root), lanes in no flow thin and faint,
        so the routes used stand out from the alternatives.
    flow_column : str
        Column of ``flows`` that sets the width (``"value_per_day"`` or
        ``"units_per_day"``).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; a new figure otherwise.
    title, currency : str
        Figure title and the currency named in the legend.
    labels : bool
        Write site ids next to the nodes (on a white ground, so lanes do not cross
        them).
    highlight_region : str, optional
        Tint this region's band (the region a report is about).
    figsize : (float, float), optional
        Figure size in inches; by default 12 wide and tall enough for the rows.
    size_range : (float, float)
        Smallest and largest marker area (points squared).
    echelon, region, mode : str
        Node and edge attribute names.

    Returns
    -------
    matplotlib.figure.Figure
    """
    positions = network_layout(graph, echelon=echelon, region=region)
    rows = max((-y for _x, y in positions.values()), default=0.0) + 1
    own_figure = ax is None
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (13, max(5.0, 0.5 * rows + 2.0)))
    else:
        fig = ax.figure
    _region_bands(ax, graph, positions, region, highlight_region)

    widths = _widths(flows, flow_column)
    pairs: dict[tuple[str, str], list[tuple[str, dict]]] = defaultdict(list)
    edges = graph.edges(keys=True, data=True) if graph.is_multigraph() else graph.edges(data=True)
    for u, v, *rest in edges:
        data = rest[-1]
        pairs[(u, v)].append((str(data.get(mode, rest[0] if len(rest) > 1 else "")), data))
    for (u, v), lanes in pairs.items():
        lanes.sort(key=lambda item: item[0])
        for i, (lane_mode, data) in enumerate(lanes):
            # Parallel modes bend apart so each stays visible.
            bend = 0.12 * (i - (len(lanes) - 1) / 2.0)
            style, colour = MODE_STYLES.get(lane_mode, ("-.", "#9aa5b1"))
            width = widths.get((u, v, lane_mode), 1.0 if flows is None else 0.5)
            faint = flows is not None and (u, v, lane_mode) not in widths
            if not data.get("active", True):
                colour, faint = "#c9ced6", True
            ax.add_patch(
                FancyArrowPatch(
                    positions[u],
                    positions[v],
                    connectionstyle=f"arc3,rad={bend}",
                    arrowstyle="-|>",
                    mutation_scale=7 if faint else 10,
                    linestyle=style,
                    linewidth=width,
                    color=colour,
                    alpha=0.2 if faint else 0.85,
                    shrinkA=8,
                    shrinkB=8,
                    zorder=1 if faint else 2,
                )
            )

    nodes = list(graph.nodes)
    table = balance.reindex(nodes) if balance is not None else pd.DataFrame(index=nodes)
    values = (
        table["inventory_value"].to_numpy(dtype=float)
        if "inventory_value" in table
        else np.zeros(len(nodes))
    )
    values = np.nan_to_num(values)
    sizes = _sizes(values, size_range)
    statuses = table["status"].fillna("balanced") if "status" in table else None
    for level, marker in _MARKERS.items():
        chosen = [i for i, n in enumerate(nodes) if graph.nodes[n].get(echelon) == level]
        if not chosen:
            continue
        colours = [
            STATUS_COLOURS.get(statuses.iloc[i], STATUS_COLOURS["balanced"])
            if statuses is not None
            else STATUS_COLOURS["balanced"]
            for i in chosen
        ]
        ax.scatter(
            [positions[nodes[i]][0] for i in chosen],
            [positions[nodes[i]][1] for i in chosen],
            s=sizes[chosen],
            c=colours,
            marker=marker,
            edgecolors="white",
            linewidths=1.0,
            zorder=3,
        )
    if labels:
        for node, size in zip(nodes, sizes, strict=True):
            x, y = positions[node]
            ax.annotate(
                str(node),
                (x, y),
                xytext=(0.5 * np.sqrt(size) + 5, 0),  # clear of the marker
                textcoords="offset points",
                va="center",
                fontsize=9,
                zorder=4,
                bbox={
                    "boxstyle": "round,pad=0.15",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.85,
                },
            )

    top = max((y for _x, y in positions.values()), default=0.0)
    for level, text in _ECHELON_TITLES.items():
        ax.text(level, top + 1.0, text, ha="center", va="bottom", fontsize=12, weight="bold")
    ax.set_xlim(-0.9, 2.6)
    ax.set_ylim(-rows, top + 2.0)
    ax.axis("off")
    headings = ["Lanes by mode"]
    handles: list = [Line2D([], [], linestyle="", label=headings[0])]
    handles += [
        Line2D([], [], color=colour, linestyle=style, linewidth=2, label=name)
        for name, (style, colour) in MODE_STYLES.items()
    ]
    if flows is not None:
        handles += [
            Line2D([], [], color="#6b7785", linewidth=4.5, label="wide: carries more value"),
            Line2D([], [], color="#9aa5b1", linewidth=0.6, alpha=0.5, label="faint: not used"),
        ]
    if balance is not None:
        headings.append("Sites by stock status")
        handles.append(Line2D([], [], linestyle="", label=headings[-1]))
        handles += [
            Patch(color=colour, label=STATUS_LABELS.get(name, name))
            for name, colour in STATUS_COLOURS.items()
        ]
    legend = ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=9,
        labelspacing=0.8,
        borderpad=0.2,
    )
    for text in legend.get_texts():
        if text.get_text() in headings:
            text.set_weight("bold")
    sizes_shown = _size_handles(values, size_range, currency) if balance is not None else []
    if sizes_shown:
        ax.add_artist(legend)
        legend.set_clip_on(False)  # add_artist clips to the axes: the legend sits outside
        size_legend = ax.legend(
            handles=sizes_shown,
            title="Sites by stock value",
            loc="lower left",
            bbox_to_anchor=(1.0, 0.0),
            frameon=False,
            fontsize=9,
            title_fontsize=9,
            labelspacing=2.2,
            borderpad=1.0,
            handletextpad=1.5,
        )
        size_legend.get_title().set_weight("bold")
    ax.set_title(title or "Supply network", loc="left")
    if own_figure:
        # Keep room on the right for the legends (tight_layout ignores them).
        fig.subplots_adjust(left=0.01, right=0.80, top=0.92, bottom=0.02)
    return fig


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def plot_landed_cost(
    supply: pd.DataFrame,
    currency: str = "USD",
    *,
    title: str = "",
    label: str = "market",
) -> Figure:
    """Stacked horizontal bars of landed cost per year by component, per market.

    Parameters
    ----------
    supply : pandas.DataFrame
        :func:`toolkit.network_region.market_supply` (``freight``, ``tariff``,
        ``carrying`` per year, ``landed_share``); drawn in its order, first on top.
    currency, title : str
    label : str
        Column naming the bars.

    Returns
    -------
    matplotlib.figure.Figure
        Each bar is annotated with the landed cost's share of the demand value.
    """
    shown = supply.iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(shown) + 1.8))
    if shown.empty:
        note_empty(ax, "no served demand")
        return fig
    left = np.zeros(len(shown))
    names = shown[label].astype(str).to_numpy()
    for component, colour in COMPONENT_COLOURS.items():
        values = shown[component].to_numpy(dtype=float)
        ax.barh(names, values, left=left, color=colour, label=component, height=0.6)
        left += values
    for y, (total, share) in enumerate(zip(left, shown["landed_share"], strict=True)):
        ax.annotate(
            f"{_money(total, currency)} = {100 * share:.1f}% of value",
            (total, y),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, left.max() * 1.35)
    ax.set_title(title or "Landed cost per year by market", loc="left")
    ax.legend(loc="lower right", ncols=3)
    ax.grid(axis="y", visible=False)
    _money_axis(ax, currency, f"landed cost per year ({currency})")
    fig.tight_layout()
    return fig


def plot_imbalances(
    ranked: pd.DataFrame,
    currency: str = "USD",
    *,
    top: int = 15,
    title: str = "",
) -> Figure:
    """Horizontal bars of the largest excess and shortage values, largest on top.

    Parameters
    ----------
    ranked : pandas.DataFrame
        :func:`toolkit.network_balance.imbalances` (with ``description`` when it was
        given the item master).
    currency, title : str
    top : int
        How many rows to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shown = ranked.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(shown) + 1.6))
    if shown.empty:
        note_empty(ax, "no excess or shortage")
        return fig
    names = shown["site_id"].astype(str) + " · " + shown["sku"].astype(str)
    if "description" in shown:
        names += "  " + shown["description"].fillna("").astype(str).map(lambda t: _short(t, 30))
    colours = [STATUS_COLOURS.get(s, STATUS_COLOURS["balanced"]) for s in shown["status"]]
    values = shown["value"].to_numpy(dtype=float)
    ax.barh(np.arange(len(shown)), values, color=colours, height=0.65)
    ax.set_yticks(np.arange(len(shown)), names.to_list(), fontsize=9)
    for y, row in enumerate(shown.itertuples(index=False)):
        units = row.shortage_units if row.status == "shortage" else row.excess_units
        word = "short" if row.status == "shortage" else "excess"
        count = f"{units:,.2f}" if abs(units) < 1 else f"{units:,.1f}"  # 0.03 is not 0.0
        ax.annotate(
            f"{_money(row.value, currency)}  ({count} {word})",
            (row.value, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )
    ax.set_xlim(0, values.max() * 1.3 if values.max() > 0 else 1.0)
    ax.legend(
        handles=[Patch(color=STATUS_COLOURS[s], label=s) for s in ("shortage", "excess")],
        loc="lower right",
    )
    ax.set_title(title or "Largest excess and shortage positions", loc="left")
    ax.grid(axis="y", visible=False)
    _money_axis(ax, currency, f"value at standard cost ({currency})")
    fig.tight_layout()
    return fig


def network_explorer(
    dataset,
    positions: pd.DataFrame | None = None,
    *,
    graph: nx.MultiDiGraph | None = None,
    flows: pd.DataFrame | None = None,
    **plot_options,
):
    """Interactive network picture for JupyterLab: pick a sku and a region, it redraws.

    Parameters
    ----------
    dataset : Dataset
        The extract.
    positions : pandas.DataFrame, optional
        :func:`toolkit.network_balance.stock_positions`; colours follow the chosen
        sku (all skus by default). Without it nodes show stock value only.
    graph : networkx.MultiDiGraph, optional
        ``build_network(dataset)`` when not given.
    flows : pandas.DataFrame, optional
        :func:`toolkit.network_paths.lane_flows`, to draw lane widths by flow.
    **plot_options
        Passed to :func:`plot_network`.

    Returns
    -------
    ipywidgets.VBox
        The controls above the picture. Choosing a region shows its sites and every
        site upstream of them.
    """
    import ipywidgets as widgets  # only for interactive use
    from IPython.display import display

    from toolkit.network import build_network, region_subgraph
    from toolkit.network_balance import site_balance

    graph = build_network(dataset) if graph is None else graph
    skus = sorted(positions["sku"].unique()) if positions is not None else []
    regions = sorted({str(r) for _n, r in graph.nodes(data="region")})
    sku_choice = widgets.Dropdown(options=["(all)", *skus], description="sku")
    region_choice = widgets.Dropdown(options=["(all)", *regions], description="region")
    output = widgets.Output()

    def redraw(*_args) -> None:
        chosen = positions
        if positions is not None and sku_choice.value != "(all)":
            chosen = positions[positions["sku"] == sku_choice.value]
        shown = graph
        if region_choice.value != "(all)":
            shown = region_subgraph(graph, region_choice.value)
        title = f"Supply network: {region_choice.value} region, sku {sku_choice.value}"
        with output:
            output.clear_output(wait=True)
            balance = site_balance(dataset, chosen)
            fig = plot_network(shown, balance, flows=flows, title=title, **plot_options)
            display(fig)
            plt.close(fig)

    sku_choice.observe(redraw, names="value")
    region_choice.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([sku_choice, region_choice]), output])
