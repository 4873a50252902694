"""Explaining forecasts: the choice beside the alternatives, drivers with uncertainty, plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from weekly_demand import mixed_history, series_frame, weekly_dates

from toolkit.forecast import run_forecast
from toolkit.forecast_explain import explain_selection, forecast_drivers
from toolkit.forecast_plots import plot_drivers, plot_forecast, plot_method_scores


def test_drivers_recover_level_trend_season_and_event_effects() -> None:
    # demand = 100 + 26 units/week per year (0.5 a week) + 20 sin(2 pi t / 52)
    #          + 60 in tender weeks (regressor = 1) + noise sd 3
    rng = np.random.default_rng(0)
    n = 156
    t = np.arange(n)
    tender_weeks = [10, 40, 75, 100, 130, 150]
    indicator = np.zeros(n)
    indicator[tender_weeks] = 1
    y = 100 + 0.5 * (t - (n - 1)) + 20 * np.sin(2 * np.pi * t / 52) + 60 * indicator
    y = y + rng.normal(0, 3, n)
    history = series_frame("M1|A", y)
    dates = weekly_dates(n)
    events = pd.DataFrame(
        {
            "date": dates[tender_weeks],
            "site_id": "M1",
            "region": None,
            "sku": "A",
            "event_type": "promotion",
            "quantity": 1.0,
        }
    )
    drivers = forecast_drivers(history, events=events).set_index("driver")
    assert drivers.loc["level", "estimate"] == pytest.approx(100, abs=2)
    assert drivers.loc["trend", "estimate"] == pytest.approx(26, abs=2)
    assert drivers.loc["trend", "unit"] == "units/week per year"
    assert drivers.loc["seasonality", "estimate"] == pytest.approx(20, abs=1.5)
    promotion = drivers.loc["event_promotion"]
    assert promotion["estimate"] == pytest.approx(60, abs=4)
    assert promotion["ci_low"] < 60 < promotion["ci_high"]
    assert 0.5 < promotion["std_error"] < 3
    assert promotion["p_value"] < 1e-6
    assert set(drivers["kind"]) == {"level", "trend", "seasonality", "event"}


def test_drivers_of_short_series_and_sarimax_coefficients() -> None:
    short = series_frame("M1|S", [3.0, 5.0, 4.0, 6.0, 5.0], start="2024-01-01")
    drivers = forecast_drivers(short)
    assert drivers["driver"].tolist() == ["level"]  # no trend before 13 weeks
    rng = np.random.default_rng(1)
    n = 104
    y = rng.poisson(40, n).astype(float)
    weeks = [15, 35, 60, 80, 99]
    y[weeks] += 25
    history = series_frame("M1|P", y)
    events = pd.DataFrame(
        {
            "date": weekly_dates(n)[weeks],
            "site_id": "M1",
            "sku": "P",
            "event_type": "promotion",
            "quantity": 1.0,
        }
    )
    run = run_forecast(history, 4, events=events, methods="sarimax", n_jobs=1, progress=False)
    drivers = forecast_drivers(history, events=events, run=run)
    event = drivers[drivers["kind"] == "event"].iloc[0]
    assert event["source"] == "sarimax"
    assert event["model"] == "sarimax"
    assert event["estimate"] == pytest.approx(25, abs=8)


@pytest.fixture(scope="module")
def run_and_history():
    history = mixed_history(seed=4, n_each=1, n_weeks=120)
    return run_forecast(history, 8, n_jobs=1, progress=False), history


def test_explain_selection_lists_the_chosen_method_first(run_and_history) -> None:
    run, _ = run_and_history
    table = explain_selection(run)
    for series_id, rows in table.groupby("series_id", sort=False):
        first = rows.iloc[0]
        assert first["chosen"]
        assert first["method"] == run.selection.set_index("series_id").loc[series_id, "model"]
        eligible = rows[rows["eligible"] & rows["score"].notna()]
        assert first["score"] == pytest.approx(eligible["score"].min())
        assert first["rank"] == 1
        assert "seasonal_naive" in set(rows["method"])
    one = explain_selection(run, series_id="M1|IN0")
    assert set(one["series_id"]) == {"M1|IN0"}


def test_plots_draw_on_axes(run_and_history) -> None:
    run, history = run_and_history
    series_id = "M1|SM0"
    ax = plot_forecast(history, run.forecast, series_id)
    assert len(ax.lines) >= 2 and ax.collections  # history, forecast and the band
    drivers = forecast_drivers(history, series_ids=[series_id])
    ax = plot_drivers(drivers, series_id)
    assert "level" in ax.get_title()
    ax = plot_method_scores(explain_selection(run), series_id)
    assert len(ax.patches) >= 3
    plt.close("all")


def test_event_effects_are_in_units_a_week_for_a_typical_event() -> None:
    # A reimbursement cut of 0.2 (a step) from week 100 lowers demand by 10 units a week;
    # the regressor is the step's size, so the coefficient is per unit of it (-10 / -0.2).
    rng = np.random.default_rng(2)
    n = 156
    y = 50 + rng.normal(0, 2, n)
    y[100:] -= 10
    history = series_frame("M1|R", y)
    events = pd.DataFrame(
        {
            "date": [weekly_dates(n)[100]],
            "site_id": "M1",
            "sku": "R",
            "event_type": "reimbursement",
            "quantity": -0.2,
        }
    )
    drivers = forecast_drivers(history, events=events).set_index("driver")
    step = drivers.loc["event_reimbursement"]
    assert step["estimate"] == pytest.approx(50, rel=0.2)
    assert step["typical"] == pytest.approx(-0.2)
    assert step["effect"] == pytest.approx(-10, abs=2)
    assert step["effect_low"] < step["effect"] < step["effect_high"]
    assert drivers.loc["trend", "typical"] == 1.0
    assert drivers.loc["trend", "effect"] == drivers.loc["trend", "estimate"]
    ax = plot_drivers(drivers.reset_index(), "M1|R")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.startswith("reimbursement, typical event -0.2") for label in labels)
    assert ax.patches[-1].get_width() < 0  # drawn as the (negative) weekly effect
    plt.close("all")
