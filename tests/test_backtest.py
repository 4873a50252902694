"""Rolling-origin backtests: no look-ahead, error measures by hand, FVA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weekly_demand import mixed_history, series_frame, weekly_dates

from toolkit.backtest import (
    accuracy_by_segment,
    backtest,
    error_metrics,
    evaluate_panel,
    forecast_value_added,
    naive_scales,
    rank_series,
    rolling_origins,
)
from toolkit.demand_panel import to_weekly_panel
from toolkit.forecast import run_forecast
from toolkit.forecast_methods import METHODS


def test_rolling_origins() -> None:
    assert rolling_origins(156, 13, 3).tolist() == [117, 130, 143]
    assert rolling_origins(156, 13, 3, step=4).tolist() == [135, 139, 143]
    # Origins that would leave no history are dropped.
    assert rolling_origins(20, 13, 3).tolist() == [7]


def test_error_measures_by_hand() -> None:
    # History 2, 4, 1, 3: one-week changes 2, -3, 2 -> MASE scale 7/3, RMSSE scale 17/3.
    scale_abs, scale_sq = naive_scales(np.array([[2.0, 4.0, 1.0, 3.0]]))
    assert scale_abs[0] == pytest.approx(7 / 3)
    assert scale_sq[0] == pytest.approx(17 / 3)
    # Actual 3, 0; forecast 2, 1 -> errors -1, +1: MAE 1, MSE 1, bias 0, relative bias 0.
    m = error_metrics(np.array([3.0, 0.0]), np.array([2.0, 1.0]), scale_abs[0], scale_sq[0])
    assert m["mase"] == pytest.approx(1 / (7 / 3))
    assert m["rmsse"] == pytest.approx(np.sqrt(1 / (17 / 3)))
    assert m["bias"] == pytest.approx(0.0)
    # A negative forecast is clipped to zero before scoring.
    m = error_metrics(np.array([1.0]), np.array([-5.0]), 1.0, 1.0)
    assert m["mae"] == pytest.approx(1.0)
    assert m["relative_bias"] == pytest.approx(-1.0)
    # Constant history: the scale is its level; all-zero history: undefined.
    scale_abs, _ = naive_scales(np.array([[4.0, 4.0, 4.0], [0.0, 0.0, 0.0]]))
    assert scale_abs[0] == pytest.approx(4.0)
    assert np.isnan(scale_abs[1])


def _panel_and_exog(values: np.ndarray, seed: int = 0):
    rng = np.random.default_rng(seed)
    exog = np.zeros((values.shape[0], values.shape[1], 1))
    exog[:, rng.choice(values.shape[1], 8, replace=False), 0] = 1.0
    return exog


def test_no_leakage_perturbing_data_after_an_origin_changes_nothing_before_it() -> None:
    history = mixed_history(seed=5, n_each=1, n_weeks=120)
    panel = to_weekly_panel(history)
    exog = _panel_and_exog(panel.values)
    origins = [81, 94, 107]
    methods = sorted(METHODS)
    kwargs = dict(
        series_ids=panel.series_ids,
        dates=panel.dates,
        exog=exog,
        exog_names=["event_promotion"],
        season_length=52,
    )
    base = evaluate_panel(panel.values, methods, origins, 13, **kwargs)
    perturbed = panel.values.copy()
    rng = np.random.default_rng(9)
    # Everything after the second origin becomes something else entirely.
    perturbed[:, 94:] = rng.poisson(500, perturbed[:, 94:].shape)
    changed = evaluate_panel(perturbed, methods, origins, 13, **kwargs)
    for k in (0, 1):
        np.testing.assert_array_equal(base.forecast[:, :, k], changed.forecast[:, :, k])
        np.testing.assert_array_equal(base.variance[:, :, k], changed.variance[:, :, k])
    assert not np.allclose(
        np.nan_to_num(base.forecast[:, :, 2]), np.nan_to_num(changed.forecast[:, :, 2])
    )
    ran = ~np.isnan(base.forecast[:, :, 1, 0])
    assert ran.sum() > 10  # many methods really ran, statsmodels ones included
    assert ran[:, methods.index("ets_damped")].any()
    assert ran[:, methods.index("sarimax")].any()


def test_no_leakage_in_the_whole_automatic_forecast() -> None:
    history = mixed_history(seed=6, n_each=1, n_weeks=110)
    cut = weekly_dates(110)[89]
    perturbed = history.copy()
    later = perturbed["date"] > cut
    perturbed.loc[later, "quantity"] = perturbed.loc[later, "quantity"] * 7 + 3
    a = run_forecast(history, 8, end=cut, n_jobs=1, progress=False)
    b = run_forecast(perturbed, 8, end=cut, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    pd.testing.assert_frame_equal(a.selection, b.selection)


def test_backtest_table_fva_and_segments() -> None:
    history = mixed_history(seed=8, n_each=1, n_weeks=120)
    table = backtest(history, 8, origins=2, methods=["ses", "sba", "seasonal_naive"])
    assert set(table["method"]) == {"ses", "sba", "seasonal_naive"}
    assert table.groupby(["series_id", "method"]).size().eq(2).all()
    for column in ("mase", "rmsse", "bias", "relative_bias", "coverage", "mae", "rmse"):
        assert column in table.columns
    assert table["coverage"].between(0, 1).all()
    fva = forecast_value_added(table)
    baseline = fva[fva["method"] == "seasonal_naive"]
    assert (baseline["fva_mase"] == 0).all()
    row = fva.iloc[0]
    assert row["fva_mase"] == pytest.approx(row["mase_baseline"] - row["mase"])
    segments = pd.DataFrame({"series_id": history["series_id"].unique(), "abc": ["A", "B", "B"]})
    by_abc = accuracy_by_segment(table, segments, by="abc", method="ses")
    assert by_abc.set_index("abc")["n_series"].to_dict() == {"A": 1, "B": 2}


def test_backtest_origins_as_dates_and_auto() -> None:
    history = pd.concat(
        [series_frame("M1|A", np.tile([3.0, 0.0, 2.0, 5.0], 25))], ignore_index=True
    )
    dates = weekly_dates(100)
    table = backtest(history, 6, origins=[dates[79], dates[89]], methods=["tsb", "auto"])
    assert sorted(table["origin"].unique()) == [dates[79], dates[89]]
    auto = table[table["method"] == "auto"]
    assert len(auto) == 2
    assert auto["chosen_method"].notna().all()
    with pytest.raises(ValueError, match="horizon"):
        backtest(history, 6, origins=[dates[97]], methods=["tsb"])


def test_rank_series() -> None:
    selection = pd.DataFrame({"series_id": list("abc"), "score": [0.5, np.nan, 0.2]})
    assert rank_series(selection, n=1)["series_id"].tolist() == ["c"]
    assert rank_series(selection, n=1, best=False)["series_id"].tolist() == ["a"]


def test_accuracy_by_segment_median_and_baseline() -> None:
    # Chosen method and seasonal naive per series, two origins each.
    rows = []
    for series_id, ours, naive in (("a", 0.5, 1.0), ("b", 0.7, 0.6), ("c", 3.0, 5.0), ("z", 0, 0)):
        for origin in ("2026-01-05", "2026-04-06"):
            rows.append((series_id, "sba", origin, ours, ours, True))
            rows.append((series_id, "seasonal_naive", origin, naive, naive, False))
    errors = pd.DataFrame(
        rows, columns=["series_id", "method", "origin", "mase", "rmsse", "chosen"]
    )
    segments = pd.DataFrame(
        {
            "series_id": list("abcz"),
            "abc": ["A", "A", "A", "C"],
            "pattern": ["smooth"] * 3 + ["inactive"],
        }
    )
    table = accuracy_by_segment(
        errors,
        segments,
        by=["abc"],
        metrics=("mase", "rmsse"),
        statistic="median",
        baseline="seasonal_naive",
    ).set_index("abc")
    assert table.loc["A", "n_series"] == 3
    assert table.loc["A", "mase"] == pytest.approx(0.7)  # median of 0.5, 0.7, 3.0
    assert table.loc["A", "mase_baseline"] == pytest.approx(1.0)  # median of 1.0, 0.6, 5.0
    assert table.loc["A", "better_share"] == pytest.approx(2 / 3)  # a and c beat naive
    # Ties (inactive series at zero) are not counted either way.
    assert np.isnan(table.loc["C", "better_share"])
    mean = accuracy_by_segment(errors, segments, by="abc", metrics=("mase",))
    assert mean.set_index("abc").loc["A", "mase"] == pytest.approx(4.2 / 3)
    with pytest.raises(ValueError, match="statistic"):
        accuracy_by_segment(errors, segments, statistic="mode")


def test_rank_series_within_value_classes() -> None:
    selection = pd.DataFrame(
        {"series_id": list("abcd"), "score": [0.1, 0.5, 0.3, 0.9], "pattern": "smooth"}
    )
    segments = pd.DataFrame({"series_id": list("abcd"), "abc": ["C", "A", "B", "A"]})
    best = rank_series(selection, n=2, segments=segments, classes=("A", "B"))
    assert best["series_id"].tolist() == ["c", "b"]
    worst = rank_series(selection, n=1, best=False, segments=segments, classes=["C"])
    assert worst["series_id"].tolist() == ["a"]
    with pytest.raises(ValueError, match="segments"):
        rank_series(selection, classes=("A",))
