"""Figures for forecasts: a series with its band, its drivers, its method scores.

:func:`plot_forecast`, :func:`plot_drivers` and :func:`plot_method_scores` draw on
a matplotlib ``Axes`` (a new figure when none is given) and return the ``Axes``;
:func:`plot_series_panel`, :func:`plot_accuracy` and :func:`plot_scenarios` return
whole report figures; :func:`forecast_browser` is the JupyterLab series browser.
None computes anything the tables of :mod:`toolkit.forecast`,
:mod:`toolkit.forecast_explain` and :mod:`toolkit.scenarios` do not already hold.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from toolkit.report import note_empty

__all__ = [
    "plot_forecast",
    "plot_drivers",
    "plot_method_scores",
    "plot_series_panel",
    "plot_accuracy",
    "plot_scenarios",
    "plot_demand_outlook",
    "forecast_browser",
]


def _band_label(band: tuple[str, str]) -> str:
    """``("q0.05", "q0.95")`` -> ``"90% band (5%-95%)"``."""
    try:
        low, high = (float(c.lstrip("q")) for c in band)
    except ValueError:
        return f"{band[0]}-{band[1]}"
    return f"{100 * (high - low):g}% band ({100 * low:g}%-{100 * high:g}%)"


def _money_tick(value: float, _pos: int) -> str:
    """Axis tick in thousands/millions: ``250k``, ``1.5M``."""
    for threshold, letter in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:g}{letter}"
    return f"{value:g}"


def _driver_label(driver: str, unit: str, typical: float = float("nan")) -> str:
    """A reader's label for a driver row of :func:`toolkit.forecast_explain.forecast_drivers`."""
    if driver == "trend":
        return "trend (units/week per year)"
    if driver == "seasonality":
        return "seasonal swing (± units/week)"
    name = driver.removeprefix("event_").replace("_", " ")
    if np.isfinite(typical):
        return f"{name}, typical event {typical:,.3g} (units/week)"
    if unit == "units per regressor unit":
        return f"{name} (units per event unit)"
    return f"{name} ({unit})"


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
    firm: pd.DataFrame | None = None,
    title: str | None = None,
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
    firm : DataFrame, optional
        Firm orders inside the forecast (:meth:`toolkit.forecast.ForecastRun.firm_orders`),
        marked and labelled. A firm order far above the usual demand would flatten
        everything else, so the vertical axis then stops above the usual demand
        and the order is written at the top edge.
    title : str, optional
        Title (default: the series id).
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
                label=_band_label(band) if k == 0 else None,
            )
    if actual is not None:
        held = actual[actual["series_id"] == series_id].sort_values("date")
        ax.plot(held["date"], held["quantity"], "o", ms=3, color="black", label="actual")
    ax.set_title(title or series_id)
    ax.set_ylabel("units / week")
    ax.set_ylim(bottom=0)
    orders = (
        firm[(firm["series_id"] == series_id) & (firm["quantity"] > 0)]
        if firm is not None
        else pd.DataFrame()
    )
    if len(orders):
        _mark_firm_orders(ax, past, ahead, orders, band)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.85, edgecolor="none")
    return ax


def _mark_firm_orders(
    ax: Axes, past: pd.DataFrame, ahead: pd.DataFrame, orders: pd.DataFrame, band: tuple[str, str]
) -> None:
    """Mark firm orders; clip the axis above the usual demand when they tower over it."""
    firm_dates = set(pd.to_datetime(orders["date"]))
    usual = ahead[~pd.to_datetime(ahead["date"]).isin(firm_dates)]
    columns = [c for c in ("forecast", band[1]) if c in usual]
    ceiling = max(
        float(past["quantity"].max()) if len(past) else 0.0,
        float(usual[columns].to_numpy(dtype=float).max()) if len(usual) and columns else 0.0,
        1.0,
    )
    top = ceiling * 1.25
    peak = float(ahead["forecast"].max()) if len(ahead) else 0.0
    clipped = peak > top * 1.2
    if clipped:
        ax.set_ylim(0, top)
    for row in orders.itertuples(index=False):
        date = pd.Timestamp(row.date)
        level = ahead.loc[pd.to_datetime(ahead["date"]) == date, "forecast"]
        y = float(level.iloc[0]) if len(level) else float(row.quantity)
        shown = min(y, top * 0.97) if clipped else y
        ax.plot([date], [shown], marker="^" if clipped else "o", ms=8, color="C3", zorder=5)
        text = f"firm order +{row.quantity:,.0f}" + (
            f" (total {y:,.0f}, off scale)" if clipped else ""
        )
        ax.annotate(
            text,
            (date, shown),
            xytext=(6, -4),
            textcoords="offset points",
            fontsize=8,
            color="C3",
            va="top",
        )


def plot_drivers(
    drivers: pd.DataFrame, series_id: str, *, title: str | None = None, ax: Axes | None = None
) -> Axes:
    """Plot a series' drivers as bars with their confidence intervals.

    Level is written in the title (it is on another scale); trend, seasonality and
    event effects are bars with error bars over their confidence interval
    (:func:`toolkit.forecast_explain.forecast_drivers`). An event is drawn as the
    effect of a typical event in units a week (``effect``) where the table has it,
    else per unit of its regressor.
    """
    ax = _axes(ax, (7, 3))
    rows = drivers[drivers["series_id"] == series_id]
    level = rows[rows["kind"] == "level"]
    bars = rows[rows["kind"] != "level"]
    y = np.arange(len(bars))
    typical = bars["typical"].to_numpy(float) if "typical" in bars else np.full(len(bars), np.nan)
    scaled = np.isfinite(typical)
    estimate = np.where(scaled, bars.get("effect", bars["estimate"]), bars["estimate"])
    low = np.where(scaled, bars.get("effect_low", bars["ci_low"]), bars["ci_low"])
    high = np.where(scaled, bars.get("effect_high", bars["ci_high"]), bars["ci_high"])
    estimate, low, high = (np.asarray(a, dtype=float) for a in (estimate, low, high))
    errors = np.vstack([estimate - low, high - estimate])
    colors = ["C2" if e >= 0 else "C3" for e in estimate]
    ax.barh(y, estimate, color=colors, alpha=0.8)
    ax.errorbar(estimate, y, xerr=np.abs(errors), fmt="none", ecolor="black", capsize=3, lw=1)
    labels = [
        _driver_label(d, u, t if kind == "event" else np.nan)
        + (", SARIMAX" if s == "sarimax" else "")
        for d, u, s, t, kind in zip(
            bars["driver"], bars["unit"], bars["source"], typical, bars["kind"], strict=True
        )
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="0.5", lw=0.8)
    title = title or series_id
    if len(level):
        row = level.iloc[0]
        title += f": level {row['estimate']:.1f} ± {row['std_error']:.1f} units/week"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("effect on weekly demand, with its 95% confidence interval")
    if bars.empty:
        note_empty(ax, "too little history for trend or seasonality", hide_axes=False)
    ax.invert_yaxis()
    return ax


def plot_method_scores(
    explanation: pd.DataFrame, series_id: str, *, title: str | None = None, ax: Axes | None = None
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
    names = [m + " (benchmark)" if m == "seasonal_naive" else m for m in rows["method"]]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("backtest score: mean of MASE and RMSSE (lower is better)")
    ax.set_title(title or series_id, fontsize=10)
    if rows.empty:
        note_empty(ax, "no backtest: fallback method", hide_axes=False)
    ax.invert_yaxis()
    return ax


def plot_series_panel(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    drivers: pd.DataFrame,
    explanation: pd.DataFrame,
    series_id: str,
    *,
    firm: pd.DataFrame | None = None,
    title: str | None = None,
    band: tuple[str, str] = ("q0.05", "q0.95"),
    weeks: int | None = 104,
) -> Figure:
    """One series on one figure: history and forecast with its band, drivers, method scores.

    Parameters
    ----------
    history, forecast : DataFrame
        As for :func:`plot_forecast`.
    drivers : DataFrame
        :func:`toolkit.forecast_explain.forecast_drivers`.
    explanation : DataFrame
        :func:`toolkit.forecast_explain.explain_selection`.
    series_id : str
    firm : DataFrame, optional
        :meth:`toolkit.forecast.ForecastRun.firm_orders`.
    title : str, optional
        Figure title (default: the series id; ``""``: none, when the report
        already names the series above the figure).
    band : (str, str)
        Quantile columns of the band.
    weeks : int, optional
        History weeks shown.

    Returns
    -------
    matplotlib.figure.Figure
        The forecast across the top; drivers bottom left, the backtest of the
        candidate methods bottom right.
    """
    fig = plt.figure(figsize=(12, 6.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.15, 1], width_ratios=[1.1, 1], hspace=0.55)
    top = fig.add_subplot(grid[0, :])
    plot_forecast(
        history,
        forecast,
        series_id,
        band=band,
        weeks=weeks,
        firm=firm,
        title="Weekly demand and forecast",
        ax=top,
    )
    top.title.set_fontsize(11)
    plot_drivers(drivers, series_id, title="Demand drivers", ax=fig.add_subplot(grid[1, 0]))
    plot_method_scores(
        explanation,
        series_id,
        title="Methods compared on the backtest",
        ax=fig.add_subplot(grid[1, 1]),
    )
    top_margin = 0.93
    if title != "":
        fig.suptitle(title or series_id, fontsize=13, fontweight="bold", x=0.01, ha="left")
        top_margin = 0.89
    fig.subplots_adjust(left=0.19, right=0.98, top=top_margin, bottom=0.09, wspace=0.55)
    return fig


def plot_accuracy(selection: pd.DataFrame, *, title: str = "") -> Figure:
    """Each series' backtest MASE against seasonal naive's: below the diagonal is value added.

    Parameters
    ----------
    selection : DataFrame
        :attr:`toolkit.forecast.ForecastRun.selection` (``pattern, mase,
        mase_seasonal_naive``); series without both are left out.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        A log-log scatter coloured by demand pattern, with the diagonal (as good as
        seasonal naive) and the share of series below it in the legend.
    """
    rows = selection.dropna(subset=["mase", "mase_seasonal_naive"])
    rows = rows[(rows["mase"] > 0) & (rows["mase_seasonal_naive"] > 0)]
    fig, ax = plt.subplots(figsize=(10, 5.4))
    if rows.empty:
        note_empty(ax, "no backtested series")
        return fig
    for k, (pattern, group) in enumerate(rows.groupby("pattern", sort=True)):
        better = (group["mase"] < group["mase_seasonal_naive"]).mean()
        ax.scatter(
            group["mase_seasonal_naive"],
            group["mase"],
            s=22,
            alpha=0.75,
            color=f"C{k}",
            label=f"{pattern}: {len(group)} series, {100 * better:.0f}% beat naive",
        )
    low = float(min(rows["mase"].min(), rows["mase_seasonal_naive"].min())) * 0.8
    high = float(max(rows["mase"].max(), rows["mase_seasonal_naive"].max())) * 1.25
    ax.plot([low, high], [low, high], color="0.4", lw=1, ls="--")
    ax.fill_between([low, high], [low, low], [low, high], color="C2", alpha=0.06, lw=0)
    boxed = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 2}
    ax.text(
        0.98,
        0.03,
        "better than seasonal naive",
        transform=ax.transAxes,
        ha="right",
        fontsize=9,
        color="C2",
        bbox=boxed,
    )
    ax.text(
        0.02,
        0.97,
        "worse than seasonal naive",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=9,
        color="C3",
        bbox=boxed,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("MASE of seasonal naive (same week last year)")
    ax.set_ylabel("MASE of the chosen method")
    ax.set_title(title or "Backtest error per series: chosen method against seasonal naive")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.03, 1.0),
        fontsize=9,
        title="demand pattern",
        title_fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_scenarios(
    weekly: pd.DataFrame,
    currency: str = "USD",
    *,
    baseline: str = "baseline",
    title: str = "",
) -> Figure:
    """Weekly forecast value of each scenario, and its difference from the baseline.

    Parameters
    ----------
    weekly : DataFrame
        :func:`toolkit.scenarios.scenario_weekly` (weeks x scenarios).
    currency : str
        Label of the value axes.
    baseline : str
        The baseline column (grey in the top panel, the zero line below).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Top: the weekly value per scenario. Bottom: each scenario minus the
        baseline, so that small scenarios are visible too.
    """
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6.2), sharex=True, gridspec_kw={"height_ratios": [1.3, 1]}
    )
    if weekly.empty:
        top.text(0.5, 0.5, "no forecast", ha="center", va="center", transform=top.transAxes)
        for ax in (top, bottom):
            ax.set_axis_off()
        return fig

    others = [c for c in weekly.columns if c != baseline]
    for k, name in enumerate(others):
        top.plot(weekly.index, weekly[name], color=f"C{k}", lw=1.8, label=name, zorder=3)
        if baseline in weekly.columns:
            bottom.plot(weekly.index, weekly[name] - weekly[baseline], color=f"C{k}", lw=1.8)
    if baseline in weekly.columns:  # on top, dashed: scenarios that barely differ stay visible
        top.plot(
            weekly.index, weekly[baseline], color="0.15", lw=1.4, ls="--", label=baseline, zorder=4
        )
    bottom.axhline(0, color="0.3", lw=1.2)
    top.set_ylim(bottom=0)
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(FuncFormatter(_money_tick))
    top.set_ylabel(f"value per week ({currency})")
    bottom.set_ylabel(f"vs baseline ({currency})")
    top.set_title(title or "Weekly forecast value by scenario")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    fig.tight_layout()
    return fig


def plot_demand_outlook(
    outlook: pd.DataFrame, currency: str = "USD", *, title: str = "", band_label: str = ""
) -> Figure:
    """Weekly demand value: recent history, then the forecast with the band of the total.

    Parameters
    ----------
    outlook : DataFrame
        :func:`toolkit.forecast_summary.demand_outlook`.
    currency : str
        Label of the value axis.
    title : str
        Figure title.
    band_label : str
        Legend text of the band (default ``"90% band of the total"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(11, 4.2))
    if outlook.empty:
        note_empty(ax, "no demand")
        return fig
    past = outlook.dropna(subset=["actual_value"])
    ahead = outlook.dropna(subset=["forecast_value"])
    ax.plot(past["date"], past["actual_value"], color="0.35", lw=1.3, label="actual demand")
    ax.plot(ahead["date"], ahead["forecast_value"], color="C0", lw=2, label="forecast")
    banded = ahead.dropna(subset=["low", "high"])
    if len(banded):
        ax.fill_between(
            banded["date"],
            banded["low"],
            banded["high"],
            color="C0",
            alpha=0.18,
            lw=0,
            label=band_label or "90% band of the total",
        )
    if len(past) and len(ahead):
        ax.axvline(ahead["date"].min() - pd.Timedelta(days=3.5), color="0.6", lw=1, ls=":")
    ax.set_ylim(bottom=0)

    ax.yaxis.set_major_formatter(FuncFormatter(_money_tick))
    ax.set_ylabel(f"demand value per week ({currency})")
    ax.set_title(title or "Weekly demand value: recent weeks and forecast")
    ax.legend(loc="upper left", fontsize=9, frameon=True, framealpha=0.85, edgecolor="none")
    fig.tight_layout()
    return fig


def forecast_browser(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    drivers: pd.DataFrame,
    explanation: pd.DataFrame,
    *,
    firm: pd.DataFrame | None = None,
    labels: dict[str, str] | None = None,
):
    """Interactive series browser for JupyterLab: pick a series, its panel redraws.

    Parameters
    ----------
    history, forecast, drivers, explanation, firm
        As for :func:`plot_series_panel` (``drivers`` for every series offered).
    labels : dict, optional
        Series id -> dropdown label (e.g. :func:`toolkit.forecast_summary.series_labels`);
        the dropdown lists those of them that are in ``forecast``, in this order
        (every forecast series, sorted, otherwise).

    Returns
    -------
    ipywidgets.VBox
        The dropdown above the figure.
    """
    import ipywidgets as widgets  # only for interactive use
    from IPython.display import display

    forecast_ids = set(forecast["series_id"].astype(str))
    series = [s for s in labels if s in forecast_ids] if labels else sorted(forecast_ids)
    options = [((labels or {}).get(s, s), s) for s in series]
    choice = widgets.Dropdown(options=options, description="series", layout={"width": "640px"})
    output = widgets.Output()

    def redraw(*_args) -> None:
        with output:
            output.clear_output(wait=True)
            fig = plot_series_panel(
                history,
                forecast,
                drivers,
                explanation,
                choice.value,
                firm=firm,
                title=(labels or {}).get(choice.value, choice.value),
            )
            display(fig)
            plt.close(fig)

    choice.observe(redraw, names="value")
    if options:
        redraw()
    return widgets.VBox([choice, output])
