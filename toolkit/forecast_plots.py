"""Figures for forecasts: a series with its band, its drivers, its method scores.

Each function draws on a matplotlib ``Axes`` (a new figure when none is given) and
returns the ``Axes``; none computes anything the tables of
:mod:`toolkit.forecast` and :mod:`toolkit.forecast_explain` do not already hold.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["plot_forecast", "plot_drivers", "plot_method_scores"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    series_id: str,
    *,
    band: tuple[str, str] = ("q0.05", "q0.95"),
    weeks: int | None = 104,
    actual: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot a series' recent history, its forecast and the forecast band.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity``.
    forecast : DataFrame
        The forecast table (``series_id, date, forecast, model`` and the band's
        quantile columns), possibly with a ``scenario`` column (one line each).
    series_id : str
        The series to draw.
    band : (str, str)
        Quantile columns bounding the shaded band.
    weeks : int, optional
        History weeks shown (all when None).
    actual : DataFrame, optional
        Held-out actuals (``series_id, date, quantity``) drawn over the forecast.
    ax : Axes, optional
        Where to draw.
    """
    ax = _axes(ax, (10, 3.5))
    past = history[history["series_id"] == series_id].sort_values("date")
    if weeks is not None:
        past = past.tail(weeks)
    ax.plot(past["date"], past["quantity"], color="0.35", lw=1, label="demand")
    ahead = forecast[forecast["series_id"] == series_id].sort_values("date")
    groups = ahead.groupby("scenario", sort=False) if "scenario" in ahead else [(None, ahead)]
    for k, (scenario, rows) in enumerate(groups):
        color = f"C{k}"
        model = rows["model"].iloc[0] if "model" in rows and len(rows) else ""
        label = f"forecast ({model})" if scenario is None else f"{scenario}"
        ax.plot(rows["date"], rows["forecast"], color=color, lw=1.8, label=label)
        if band[0] in rows and band[1] in rows:
            ax.fill_between(
                rows["date"],
                rows[band[0]],
                rows[band[1]],
                color=color,
                alpha=0.2,
                lw=0,
                label=f"{band[0]}-{band[1]}" if k == 0 else None,
            )
    if actual is not None:
        held = actual[actual["series_id"] == series_id].sort_values("date")
        ax.plot(held["date"], held["quantity"], "o", ms=3, color="black", label="actual")
    ax.set_title(series_id)
    ax.set_ylabel("units / week")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax


def plot_drivers(drivers: pd.DataFrame, series_id: str, *, ax: Axes | None = None) -> Axes:
    """Plot a series' drivers as bars with their confidence intervals.

    Level is written in the title (it is on another scale); trend, seasonality and
    event effects are bars with error bars from ``ci_low`` to ``ci_high``
    (:func:`toolkit.forecast_explain.forecast_drivers`).
    """
    ax = _axes(ax, (7, 3))
    rows = drivers[drivers["series_id"] == series_id]
    level = rows[rows["kind"] == "level"]
    bars = rows[rows["kind"] != "level"]
    y = np.arange(len(bars))
    estimate = bars["estimate"].to_numpy(float)
    errors = np.vstack(
        [estimate - bars["ci_low"].to_numpy(float), bars["ci_high"].to_numpy(float) - estimate]
    )
    colors = ["C2" if e >= 0 else "C3" for e in estimate]
    ax.barh(y, estimate, color=colors, alpha=0.8)
    ax.errorbar(estimate, y, xerr=np.abs(errors), fmt="none", ecolor="black", capsize=3, lw=1)
    labels = [
        f"{d} [{u}]" + (" (sarimax)" if s == "sarimax" else "")
        for d, u, s in zip(bars["driver"], bars["unit"], bars["source"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="0.5", lw=0.8)
    title = series_id
    if len(level):
        row = level.iloc[0]
        title += f": level {row['estimate']:.1f} ± {row['std_error']:.1f} units/week"
    ax.set_title(title, fontsize=10)
    ax.invert_yaxis()
    return ax


def plot_method_scores(
    explanation: pd.DataFrame, series_id: str, *, ax: Axes | None = None
) -> Axes:
    """Plot the backtest scores of a series' candidate methods, the chosen one highlighted.

    ``explanation`` is :func:`toolkit.forecast_explain.explain_selection`'s table.
    """
    ax = _axes(ax, (6, 3))
    rows = explanation[
        (explanation["series_id"] == series_id) & explanation["score"].notna()
    ].sort_values("score")
    y = np.arange(len(rows))
    colors = [
        "C0" if chosen else ("0.6" if eligible else "0.85")
        for chosen, eligible in zip(rows["chosen"], rows["eligible"], strict=True)
    ]
    ax.barh(y, rows["score"], color=colors)
    ax.set_yticks(y, rows["method"], fontsize=8)
    ax.set_xlabel("backtest score: mean of MASE and RMSSE (lower is better)")
    ax.set_title(series_id, fontsize=10)
    ax.invert_yaxis()
    return ax
