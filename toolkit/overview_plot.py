"""Figures of the data overview (presentation only; figures come from toolkit.overview)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from toolkit.report import note_empty

__all__ = ["plot_demand_history", "plot_inventory_value_by_site", "money_axis"]


def money_axis(ax, currency: str = "USD", axis: str = "y") -> None:
    """Label an axis in thousands/millions of ``currency``."""

    def label(value: float, _pos: int) -> str:
        for threshold, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= threshold:
                return f"{value / threshold:g}{letter}"
        return f"{value:g}"

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(label))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"value ({currency})")


def plot_demand_history(history: pd.DataFrame, currency: str = "USD", title: str = "") -> Figure:
    """Stacked area of weekly demand value by group (columns of ``history``)."""
    fig, ax = plt.subplots(figsize=(11, 4.2))
    smoothed = history.rolling(4, min_periods=1).mean()
    ax.stackplot(smoothed.index, smoothed.T.to_numpy(), labels=list(smoothed.columns), alpha=0.85)
    ax.set_title(title or "Weekly demand value (4-week average)")
    ax.legend(loc="upper left", ncols=min(4, len(smoothed.columns)))
    if len(smoothed.index) > 1:
        ax.set_xlim(smoothed.index.min(), smoothed.index.max())
    money_axis(ax, currency)
    fig.tight_layout()
    return fig


def plot_inventory_value_by_site(
    table: pd.DataFrame, currency: str = "USD", top: int = 20, title: str = ""
) -> Figure:
    """Horizontal bars of stock value per site, split by status, largest on top."""
    shown = table.head(top).iloc[::-1]
    statuses = [s for s in ("released", "quarantine", "in_transit") if s in shown.columns]
    colours = {"released": "#2f6fb0", "quarantine": "#d1495b", "in_transit": "#edae49"}
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(shown) + 1.5))
    if shown.empty:
        note_empty(ax, "no stock in the extract")
        return fig
    left = pd.Series(0.0, index=shown.index)
    labels = shown["site_id"] + "  (" + shown["site_type"] + ")"
    for status in statuses:
        ax.barh(labels, shown[status], left=left, color=colours[status], label=status)
        left += shown[status]
    ax.set_title(title or "Stock value by site")
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    money_axis(ax, currency, axis="x")
    fig.tight_layout()
    return fig
