"""The network picture (presentation only): echelons left to right, grouped by region.

:func:`plot_network` draws a static matplotlib figure for reports; node size shows
inventory value and colour shortage (red) or excess (blue), from
:func:`toolkit.network_balance.site_balance`. :func:`network_explorer` wraps it in
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

__all__ = [
    "MODE_STYLES",
    "STATUS_COLOURS",
    "network_layout",
    "plot_network",
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

_MARKERS = {0: "s", 1: "D", 2: "o"}
_ECHELON_TITLES = {0: "Plants", 1: "Distribution centres", 2: "Markets"}


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


def _region_bands(ax, graph: nx.Graph, positions: Mapping, region: str) -> None:
    spans: dict[str, list[float]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        spans[str(data.get(region, ""))].append(positions[node][1])
    for i, (name, ys) in enumerate(sorted(spans.items(), key=lambda kv: -max(kv[1]))):
        low, high = min(ys) - 0.5, max(ys) + 0.5
        if i % 2 == 0:
            ax.axhspan(low, high, color="#f2f4f7", zorder=0)
        ax.text(-0.42, (low + high) / 2, name, ha="right", va="center", fontsize=10, weight="bold")


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
    size_range: tuple[float, float] = (40.0, 900.0),
    echelon: str = "echelon",
    region: str = "region",
    mode: str = "mode",
) -> Figure:
    """Draw the supply network for a reader who does not read code.

    Parameters
    ----------
    graph : networkx.Graph
        From :func:`toolkit.network.build_network` (or a sub-graph of it).
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
        Write site ids next to the nodes.
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
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, max(4.0, 0.32 * rows + 1.5)))
    else:
        fig = ax.figure
    _region_bands(ax, graph, positions, region)

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
                    mutation_scale=7,
                    linestyle=style,
                    linewidth=width,
                    color=colour,
                    alpha=0.25 if faint else 0.8,
                    shrinkA=6,
                    shrinkB=6,
                    zorder=1,
                )
            )

    nodes = list(graph.nodes)
    table = balance.reindex(nodes) if balance is not None else pd.DataFrame(index=nodes)
    values = (
        table["inventory_value"].to_numpy(dtype=float)
        if "inventory_value" in table
        else np.zeros(len(nodes))
    )
    sizes = _sizes(np.nan_to_num(values), size_range)
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
            linewidths=0.8,
            zorder=3,
        )
    if labels:
        for node, size in zip(nodes, sizes, strict=True):
            x, y = positions[node]
            ax.annotate(
                str(node),
                (x, y),
                xytext=(0.6 * np.sqrt(size) + 3, 0),  # clear of the marker
                textcoords="offset points",
                va="center",
                fontsize=7,
                zorder=4,
            )

    top = max((y for _x, y in positions.values()), default=0.0)
    for level, text in _ECHELON_TITLES.items():
        ax.text(level, top + 1.0, text, ha="center", va="bottom", fontsize=11, weight="bold")
    ax.set_xlim(-0.9, 2.6)
    ax.set_ylim(-rows, top + 2.0)
    ax.axis("off")
    handles = [
        Line2D([], [], color=colour, linestyle=style, label=name)
        for name, (style, colour) in MODE_STYLES.items()
    ]
    if flows is not None:
        handles.append(Line2D([], [], color="#6b7785", linewidth=4, label="width: flow"))
    if balance is not None:
        handles += [Patch(color=colour, label=name) for name, colour in STATUS_COLOURS.items()]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        title=f"size: stock value ({currency})" if balance is not None else None,
        fontsize=8,
        title_fontsize=8,
    )
    ax.set_title(title or "Supply network", loc="left")
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

    from toolkit.network import build_network
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
            inside = {n for n, r in graph.nodes(data="region") if str(r) == region_choice.value}
            upstream = set().union(*(nx.ancestors(graph, n) for n in inside)) if inside else set()
            shown = graph.subgraph(inside | upstream)
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
