"""Report figures of forecasts: the series panel, firm orders, accuracy and scenarios."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from weekly_demand import mixed_history, series_frame, smooth, weekly_dates

from toolkit.forecast import run_forecast
from toolkit.forecast_explain import explain_selection, forecast_drivers
from toolkit.forecast_plots import (
    forecast_browser,
    plot_accuracy,
    plot_forecast,
    plot_scenarios,
    plot_series_panel,
)
from toolkit.scenarios import apply_scenarios, scenario_weekly


@pytest.fixture(scope="module")
def tender_run():
    rng = np.random.default_rng(5)
    history = pd.concat(
        [series_frame("M1|CAT", smooth(rng, 110, level=40.0)), mixed_history(seed=2, n_weeks=110)],
        ignore_index=True,
    )
    events = pd.DataFrame(
        {
            "date": [weekly_dates(113)[-1]],
            "site_id": ["M1"],
            "region": [None],
            "sku": ["CAT"],
            "event_type": ["tender"],
            "quantity": [2000.0],
        }
    )
    run = run_forecast(history, 8, events=events, n_jobs=1, progress=False)
    return history, run


def test_a_towering_firm_order_is_marked_and_the_axis_clipped(tender_run) -> None:
    history, run = tender_run
    firm = run.firm_orders()
    ax = plot_forecast(history, run.forecast, "M1|CAT", firm=firm, title="Catheter")
    assert ax.get_title() == "Catheter"
    assert ax.get_ylim()[1] < 2000  # the usual demand stays readable
    notes = [t.get_text() for t in ax.texts]
    assert any("firm order +2,000" in n and "off scale" in n for n in notes)
    assert any("90% band" in t.get_text() for t in ax.get_legend().get_texts())
    # Without firm orders nothing is clipped.
    plain = plot_forecast(history, run.forecast, "M1|CAT")
    assert plain.get_ylim()[1] > 2000
    plt.close("all")


def test_series_panel_and_accuracy_figures(tender_run) -> None:
    history, run = tender_run
    drivers = forecast_drivers(history, run=run, series_ids=["M1|CAT"])
    fig = plot_series_panel(
        history, run.forecast, drivers, explain_selection(run), "M1|CAT", firm=run.firm_orders()
    )
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.texts and fig.texts[0].get_text() == "M1|CAT"  # the default title
    untitled = plot_series_panel(
        history, run.forecast, drivers, explain_selection(run), "M1|CAT", title=""
    )
    assert not untitled.texts
    fig = plot_accuracy(run.selection)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("beat naive" in label for label in labels)
    empty = plot_accuracy(run.selection.iloc[:0])
    assert not empty.axes[0].axison
    plt.close("all")


def test_scenario_figure_has_levels_and_differences(tender_run) -> None:
    _, run = tender_run
    stacked = apply_scenarios(run.forecast, [{"name": "up", "multiplier": 1.5}])
    fig = plot_scenarios(scenario_weekly(stacked, measure="forecast"), "EUR")
    top, bottom = fig.axes
    assert [line.get_label() for line in top.get_lines()] == ["up", "baseline"]
    assert "EUR" in top.get_ylabel() and "vs baseline" in bottom.get_ylabel()
    difference = bottom.get_lines()[0].get_ydata()
    assert (np.asarray(difference) > 0).all()
    plt.close("all")


def test_browser_offers_the_forecast_series(tender_run) -> None:
    history, run = tender_run
    drivers = forecast_drivers(history, run=run, series_ids=["M1|CAT", "M1|SM0"])
    labels = {"M1|CAT": "Catheter", "M9|GONE": "not forecast", "M1|SM0": "Smooth 0"}
    widget = forecast_browser(history, run.forecast, drivers, explain_selection(run), labels=labels)
    dropdown = widget.children[0]
    assert list(dropdown.options) == [("Catheter", "M1|CAT"), ("Smooth 0", "M1|SM0")]
    plt.close("all")


def test_demand_outlook_figure(tender_run) -> None:
    from toolkit.forecast_plots import plot_demand_outlook
    from toolkit.forecast_summary import demand_outlook

    history, run = tender_run
    items = pd.DataFrame(
        {"sku": ["CAT", "SM0", "SM1", "IN0", "IN1", "LU0", "LU1"], "unit_cost": 2.0}
    )
    outlook = demand_outlook(history, run.forecast, items, run=run, weeks=20, n_paths=100)
    fig = plot_demand_outlook(outlook, "EUR")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["actual demand", "forecast"]
    assert ax.collections  # the band
    assert "EUR" in ax.get_ylabel()
    plt.close("all")
