"""Tests of toolkit.network_plot (figures are checked by their parts, not by pixels)."""

from __future__ import annotations

import doctest

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from test_network import CARRYING, tiny_dataset

import toolkit.network
import toolkit.network_balance
import toolkit.network_paths
import toolkit.network_region
import toolkit.network_whatif
from toolkit.network import build_network
from toolkit.network_balance import site_balance, stock_positions
from toolkit.network_plot import MODE_STYLES, STATUS_COLOURS, network_layout, plot_network

matplotlib.use("Agg")


@pytest.fixture
def dataset():
    stock = pd.DataFrame(
        {
            "snapshot_date": pd.Timestamp("2026-02-02"),
            "site_id": ["M1", "D2"],
            "sku": ["S1", "S2"],
            "lot": ["L1", "L2"],
            "serial": None,
            "expiry_date": pd.NaT,
            "quantity": [120.0, 50.0],
            "status": "released",
        }
    ).astype({"site_id": "str", "sku": "str", "lot": "str", "status": "str"})
    return tiny_dataset().replace(inventory=stock)


def test_layout_echelons_left_to_right_regions_in_bands(dataset) -> None:
    positions = network_layout(build_network(dataset))
    assert {n: x for n, (x, _y) in positions.items()} == {
        "P1": 0.0,
        "P2": 0.0,
        "D1": 1.0,
        "D2": 1.0,
        "M1": 2.0,
        "M2": 2.0,
        "M3": 2.0,
    }
    # Region AM (alphabetically first) sits above EU.
    assert min(positions[n][1] for n in ("P2", "D2", "M3")) > max(
        positions[n][1] for n in ("P1", "D1", "M1", "M2")
    )


def test_plot_network_styles(dataset) -> None:
    graph = build_network(dataset)
    balance = site_balance(dataset, stock_positions(dataset, carrying_rate=CARRYING))
    fig = plot_network(graph, balance, title="Tiny")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == graph.number_of_edges()
    # Sea dashed, air dotted, road solid: one arrow per lane in its mode's style.
    styles = sorted(a.get_linestyle() for a in arrows)
    expected = sorted(MODE_STYLES[d["mode"]][0] for _u, _v, d in graph.edges(data=True))
    assert MODE_STYLES["sea"][0] == "--" and MODE_STYLES["air"][0] == ":"
    assert styles == expected
    # Node colours: D2 (excess) blue, M1 (short of S2 more than long of S1) red.
    colours = {
        tuple(round(c, 3) for c in colour[:3])
        for collection in ax.collections
        for colour in collection.get_facecolors()
    }
    rgb = {
        k: tuple(round(c, 3) for c in matplotlib.colors.to_rgb(v))
        for k, v in STATUS_COLOURS.items()
    }
    assert rgb["excess"] in colours and rgb["shortage"] in colours
    # The biggest stock (D2: 50 x 365 = 18,250 against M1's 120 x 100) gets the
    # biggest marker; areas go with value: M1's is 60 + 1040 x sqrt(12,000 / 18,250).
    sizes = {
        tuple(offset): size
        for collection in ax.collections
        for offset, size in zip(collection.get_offsets(), collection.get_sizes(), strict=True)
    }
    positions = network_layout(graph)
    assert sizes[positions["D2"]] == max(sizes.values()) == 1100.0
    assert sizes[positions["M1"]] == pytest.approx(60 + 1040 * (12000 / 18250) ** 0.5)
    plt.close(fig)


def test_plot_with_flows(dataset) -> None:
    from toolkit.network_balance import demand_rates
    from toolkit.network_paths import best_sources, lane_flows

    graph = build_network(dataset)
    flows = lane_flows(best_sources(graph, dataset.sourcing), demand_rates(dataset.demand))
    fig = plot_network(graph, flows=flows)
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    widths = sorted(a.get_linewidth() for a in arrows)
    # Unused lanes thin (0.5), the busiest lane the widest (0.8 + 4.2 = 5).
    assert widths[0] == 0.5 and widths[-1] == pytest.approx(5.0)
    plt.close(fig)


def test_plot_without_balance_and_into_axes(dataset) -> None:
    fig, ax = plt.subplots()
    assert plot_network(build_network(dataset), ax=ax) is fig
    plt.close(fig)


def test_explorer_redraws(dataset) -> None:
    pytest.importorskip("ipywidgets")
    from toolkit.network_plot import network_explorer

    positions = stock_positions(dataset, carrying_rate=CARRYING)
    explorer = network_explorer(dataset, positions)
    sku_choice, region_choice = explorer.children[0].children
    assert list(sku_choice.options) == ["(all)", "S1", "S2"]
    region_choice.value = "EU"
    sku_choice.value = "S1"
    plt.close("all")


@pytest.mark.parametrize(
    "module",
    [
        toolkit.network,
        toolkit.network_paths,
        toolkit.network_balance,
        toolkit.network_whatif,
        toolkit.network_region,
    ],
)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_plot_network_legends_and_highlight(dataset) -> None:
    from matplotlib.legend import Legend

    from toolkit.network_plot import HIGHLIGHT_COLOUR, STATUS_LABELS

    graph = build_network(dataset)
    balance = site_balance(dataset, stock_positions(dataset, carrying_rate=CARRYING))
    fig = plot_network(graph, balance, highlight_region="EU", currency="EUR")
    ax = fig.axes[0]
    legends = [a for a in ax.get_children() if isinstance(a, Legend)]
    assert len(legends) == 2  # modes and statuses; stock value sizes
    texts = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert {"road", "sea", "air", *STATUS_LABELS.values()} <= set(texts)
    assert any(t.startswith("stock €") for t in texts)
    # Legends sit outside the axes: they must not be clipped to it (they were once).
    assert not any(
        legend.get_clip_on() and (legend.get_clip_path() or legend.get_clip_box())
        for legend in legends
    )
    # The report's region gets the highlight band, its name in bold and larger.
    bands = [p for p in ax.patches if not isinstance(p, FancyArrowPatch)]
    tinted = [b for b in bands if matplotlib.colors.same_color(b.get_facecolor(), HIGHLIGHT_COLOUR)]
    assert len(tinted) == 1
    eu_label = next(t for t in ax.texts if t.get_text() == "EU")
    assert (
        eu_label.get_fontsize() > next(t for t in ax.texts if t.get_text() == "AM").get_fontsize()
    )
    # Labels sit on a white box so lanes do not run through them.
    label = next(a for a in ax.texts if a.get_text() == "M1")
    assert label.get_bbox_patch() is not None
    plt.close(fig)


def test_plot_landed_cost() -> None:
    from toolkit.network_plot import COMPONENT_COLOURS, plot_landed_cost

    supply = pd.DataFrame(
        {
            "market": ["M1", "M3"],
            "freight": [100.0, 40.0],
            "tariff": [50.0, 0.0],
            "carrying": [10.0, 5.0],
            "landed_share": [0.04, 0.1],
        }
    )
    fig = plot_landed_cost(supply, "USD", title="Landed")
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(COMPONENT_COLOURS)  # one bar per market and component
    # Bars stack: the carrying bar of M1 (top row) starts where freight + tariff end.
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [0.0, 5.0, 10.0, 40.0, 50.0, 100.0]
    labels = [t.get_text() for t in ax.texts]
    assert "$160 = 4.0% of value" in labels and "$45 = 10.0% of value" in labels
    assert [t.get_text() for t in ax.get_yticklabels()] == ["M3", "M1"]  # first on top
    plt.close(fig)
    empty = plot_landed_cost(supply.iloc[:0])
    assert not empty.axes[0].axison
    plt.close(empty)


def test_plot_imbalances(dataset) -> None:
    from toolkit.network_balance import imbalances
    from toolkit.network_plot import plot_imbalances

    ranked = imbalances(stock_positions(dataset, carrying_rate=CARRYING), items=dataset.items)
    fig = plot_imbalances(ranked, "USD", top=2)
    ax = fig.axes[0]
    assert len(ax.patches) == 2
    top_bar = max(ax.patches, key=lambda p: p.get_y())  # the first row is drawn on top
    assert top_bar.get_width() == pytest.approx(ranked["value"].iloc[0])
    colour = STATUS_COLOURS[ranked["status"].iloc[0]]
    assert matplotlib.colors.same_color(top_bar.get_facecolor(), colour)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    first = ranked.iloc[0]
    assert ticks[-1].startswith(f"{first['site_id']} · {first['sku']}")
    assert first["description"] in ticks[-1]
    word = "short" if first["status"] == "shortage" else "excess"
    assert any(t.get_text().endswith(f"{word})") for t in ax.texts)
    plt.close(fig)
    empty = plot_imbalances(ranked.iloc[:0])
    assert not empty.axes[0].axison
    plt.close(empty)
