"""The forecast contract, automatic choice, fallbacks, events, paths and non-negativity."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weekly_demand import intermittent, mixed_history, series_frame, smooth, weekly_dates

from toolkit.forecast import forecast, run_forecast, sample_paths

QUANTILES = ["q0.05", "q0.5", "q0.95"]


@pytest.fixture(scope="module")
def mixed_run():
    return run_forecast(mixed_history(seed=1), 13, n_jobs=1, progress=False)


def test_contract_columns_dates_and_rows(mixed_run) -> None:
    table = mixed_run.forecast
    assert list(table.columns) == ["series_id", "date", "forecast", "model", *QUANTILES]
    assert table.groupby("series_id").size().eq(13).all()
    dates = pd.DatetimeIndex(table["date"].unique())
    assert (dates.weekday == 0).all()
    assert pd.infer_freq(dates.sort_values()) == "W-MON"
    assert dates.min() == weekly_dates(131)[-1]
    assert (table[["forecast", *QUANTILES]] >= 0).all().all()
    q = table[QUANTILES].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()


def test_methods_are_chosen_among_the_pattern_candidates(mixed_run) -> None:
    selection = mixed_run.selection.set_index("series_id")
    intermittent_methods = {"croston", "sba", "tsb", "adida", "imapa", "mean"}
    smooth_methods = {
        "ses",
        "seasonal_ses",
        "ets_damped",
        "combination",
        "sarimax",
        "seasonal_naive",
    }
    for series_id, row in selection.iterrows():
        if row["pattern"] in ("intermittent", "lumpy"):
            assert row["model"] in intermittent_methods, series_id
        elif row["pattern"] == "smooth":
            assert row["model"] in smooth_methods, series_id
        assert row["n_origins"] == 3
        assert "lowest mean of MASE and RMSSE" in row["reason"]
    # The chosen method has the lowest score of the eligible ones scored at every
    # origin (seasonal SES needs two seasons, so it misses the first origin here).
    scores = mixed_run.scores
    eligible = scores[scores["eligible"]].groupby(["series_id", "method"])[["mase", "rmsse"]]
    complete = eligible.count()["mase"] == 3
    mean_score = eligible.mean()[complete].mean(axis=1).unstack()
    for series_id, row in selection.iterrows():
        assert mean_score.loc[series_id].idxmin() == row["model"]


def test_fallbacks_for_zero_short_and_new_series() -> None:
    history = pd.concat(
        [
            series_frame("M1|ZERO", np.zeros(60)),
            series_frame("M1|NEW", [3.0, 0.0, 5.0, 2.0], start="2024-01-29"),
            series_frame("M1|ONE", [4.0], start="2024-02-19"),
            series_frame("M1|SHORT", np.tile([3.0, 5.0, 4.0, 6.0], 5), start="2023-10-09"),
        ],
        ignore_index=True,
    )
    run = run_forecast(history, 8, n_jobs=1, progress=False)
    selection = run.selection.set_index("series_id")
    table = run.forecast.set_index("series_id")
    assert selection.loc["M1|ZERO", "model"] == "zero"
    assert (table.loc["M1|ZERO", ["forecast", *QUANTILES]] == 0).all().all()
    assert selection.loc["M1|NEW", "pattern"] == "new"
    # New: the mean of the latest half of its weeks (5 and 2), not of all four.
    assert selection.loc["M1|NEW", "model"] == "recent_mean"
    assert table.loc["M1|NEW", "forecast"].to_numpy() == pytest.approx([3.5] * 8)
    # A count distribution: whole units, zero at the bottom, nothing negative.
    new_q = table.loc["M1|NEW", QUANTILES].to_numpy()
    assert (new_q == np.round(new_q)).all() and new_q[:, 0].min() == 0
    assert table.loc["M1|ONE", "forecast"].to_numpy() == pytest.approx([4.0] * 8)
    # 20 weeks: smooth, but too short for a 3-origin backtest of 8 weeks -> default.
    assert selection.loc["M1|SHORT", "pattern"] == "smooth"
    assert selection.loc["M1|SHORT", "model"] == "ses"
    assert "too short for a backtest" in selection.loc["M1|SHORT", "reason"]


def test_an_empty_history_gives_empty_tables() -> None:
    empty = pd.DataFrame({"series_id": [], "date": [], "quantity": []})
    run = run_forecast(empty, 4, progress=False)
    assert list(run.forecast.columns) == ["series_id", "date", "forecast", "model", *QUANTILES]
    assert run.forecast.empty and run.selection.empty
    assert run.firm_orders().empty
    assert run.sample_paths(10, seed=0).values.shape == (0, 10, 0)


def test_an_empty_first_part_and_missing_weeks_are_zero_demand() -> None:
    rows = series_frame("M1|GAPS", [5.0, 0.0, 0.0, 7.0, 0.0, 4.0] * 6)
    gaps = rows[rows["quantity"] > 0]  # an ERP extract without zero rows
    full = forecast(rows, 4, progress=False, n_jobs=1)
    sparse = forecast(gaps, 4, progress=False, n_jobs=1)
    pd.testing.assert_frame_equal(full, sparse)


def test_known_tender_is_added_on_top_and_regressors_reach_sarimax() -> None:
    rng = np.random.default_rng(7)
    n = 130
    base = smooth(rng, n, level=50.0)
    promotion_weeks = [20, 45, 70, 95, 115, 128]
    base[promotion_weeks] += 30  # a promotion lifts demand by about 30 units
    history = series_frame("M1|CAT", base)
    dates = weekly_dates(n + 4)
    events = pd.DataFrame(
        {
            "date": [dates[w] for w in promotion_weeks] + [dates[n + 1], dates[n + 2]],
            "site_id": "M1",
            "region": None,
            "sku": "CAT",
            "event_type": ["promotion"] * 6 + ["tender", "promotion"],
            "quantity": [1.0] * 6 + [400.0, 1.0],
        }
    )
    run = run_forecast(history, 4, events=events, n_jobs=1, progress=False)
    assert "sarimax" in set(run.scores["method"])
    table = run.forecast.set_index("date")
    tender_week = dates[n + 1]
    others = table.drop(index=tender_week)
    # The firm tender of 400 units lands on its week, quantiles included.
    assert table.loc[tender_week, "forecast"] == pytest.approx(
        others["forecast"].iloc[0] + 400, rel=0.15
    )
    assert table.loc[tender_week, "q0.05"] > 400
    # The run lists it among its firm orders; the promotions are regressors, not orders.
    firm = run.firm_orders()
    assert firm.to_dict("records") == [
        {"series_id": "M1|CAT", "date": tender_week, "quantity": 400.0}
    ]
    # SARIMAX estimates the promotions' lift and applies it to the planned one.
    run = run_forecast(history, 4, events=events, methods="sarimax", n_jobs=1, progress=False)
    assert set(run.selection["model"]) == {"sarimax"}
    coefficient = run.coefficients.set_index("term").loc["event_promotion"]
    assert coefficient["estimate"] == pytest.approx(30, abs=10)
    assert 0 < coefficient["std_error"] < 10
    table = run.forecast.set_index("date")
    assert table["forecast"].iloc[2] > table["forecast"].iloc[0] + 15


def test_statsmodels_warnings_are_recorded_not_emitted() -> None:
    # A constant series makes the ETS and SARIMAX likelihoods flat: they warn.
    values = np.full(80, 10.0)
    history = series_frame("M1|FLAT", values)
    events = pd.DataFrame(
        {
            "date": [weekly_dates(80)[w] for w in (10, 30, 50)],
            "site_id": "M1",
            "sku": "FLAT",
            "event_type": "promotion",
            "quantity": 1.0,
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = run_forecast(history, 4, events=events, n_jobs=1, progress=False)
    assert not [w for w in caught if "statsmodels" in (w.filename or "")]
    diagnostics = run.diagnostics
    assert list(diagnostics.columns) == [
        "series_id",
        "method",
        "stage",
        "origin",
        "category",
        "message",
        "count",
    ]
    assert len(diagnostics) > 0
    assert set(diagnostics["method"]) <= {"ets_damped", "sarimax"}
    assert (run.forecast["forecast"] >= 0).all()


def test_requested_methods_and_single_method() -> None:
    history = mixed_history(seed=2, n_each=1)
    run = run_forecast(history, 6, methods="tsb", n_jobs=1, progress=False)
    assert set(run.selection["model"]) == {"tsb"}
    run = run_forecast(
        history, 6, methods={"smooth": ["ses"], "lumpy": ["sba"]}, n_jobs=1, progress=False
    )
    models = run.selection.set_index("pattern")["model"]
    assert models["smooth"] == "ses"
    assert models["lumpy"] == "sba"
    with pytest.raises(KeyError, match="unknown methods"):
        run_forecast(history, 6, methods=["prophet"], progress=False)


def test_more_quantiles_on_request(mixed_run) -> None:
    table = forecast(mixed_history(seed=1, n_each=1), 4, quantiles=(0.1, 0.9, 0.5, 0.025))
    assert [c for c in table.columns if c.startswith("q")] == ["q0.025", "q0.1", "q0.5", "q0.9"]


def test_sample_paths_are_consistent_with_the_quantiles(mixed_run) -> None:
    paths = mixed_run.sample_paths(4000, seed=11)
    again = mixed_run.sample_paths(4000, seed=11)
    assert np.array_equal(paths.values, again.values)
    assert paths.values.shape == (6, 4000, 13)
    assert paths.values.min() >= 0
    table = mixed_run.forecast
    for i, series_id in enumerate(paths.series_ids):
        rows = table[table["series_id"] == series_id]
        drawn = paths.values[i]
        # Mean matches the forecast, and each forecast quantile q of level p is a
        # p-quantile of the draws: P(draw <= q) >= p and P(draw < q) <= p, up to
        # sampling noise (0.03, about four standard errors with 4000 draws).
        assert drawn.mean() == pytest.approx(rows["forecast"].mean(), rel=0.08, abs=0.05)
        for column, level in (("q0.05", 0.05), ("q0.5", 0.5), ("q0.95", 0.95)):
            q = rows[column].to_numpy()
            assert ((drawn <= q + 1e-9).mean(axis=0) >= level - 0.03).all(), (series_id, column)
            assert ((drawn < q - 1e-9).mean(axis=0) <= level + 0.03).all(), (series_id, column)
    long = paths.to_frame()
    assert list(long.columns) == ["series_id", "path", "date", "quantity"]
    assert len(long) == 6 * 4000 * 13


def test_sample_paths_function_and_step_correlation() -> None:
    history = mixed_history(seed=3, n_each=1)
    paths = sample_paths(history, 5, 300, seed=1, step_correlation=0.8, n_jobs=1)
    assert paths.values.shape == (3, 300, 5)
    assert paths.values.min() >= 0
    smooth_paths = paths.series("M1|SM0")
    correlation = np.corrcoef(smooth_paths[:, 0], smooth_paths[:, 1])[0, 1]
    assert correlation > 0.5


def test_parallel_chunks_give_the_same_forecast() -> None:
    rng = np.random.default_rng(4)
    history = pd.concat(
        [series_frame(f"M{i % 3}|I{i:03d}", intermittent(rng, 60)) for i in range(210)],
        ignore_index=True,
    )
    one = run_forecast(history, 4, methods=["sba", "tsb"], n_jobs=1, progress=False)
    two = run_forecast(history, 4, methods=["sba", "tsb"], n_jobs=2, chunk_size=60, progress=False)
    pd.testing.assert_frame_equal(one.forecast, two.forecast)
    pd.testing.assert_frame_equal(one.selection, two.selection)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    series=st.lists(
        st.lists(
            st.one_of(
                st.just(0.0),
                st.floats(min_value=0, max_value=5),
                st.floats(min_value=0, max_value=1e4),
            ),
            min_size=1,
            max_size=70,
        ),
        min_size=1,
        max_size=3,
    ),
    horizon=st.integers(min_value=1, max_value=8),
)
def test_forecasts_and_quantiles_are_never_negative(series, horizon) -> None:
    history = pd.concat(
        [series_frame(f"M1|H{k}", values) for k, values in enumerate(series)], ignore_index=True
    )
    run = run_forecast(
        history, horizon, quantiles=(0.05, 0.25, 0.5, 0.95), n_jobs=1, progress=False
    )
    table = run.forecast
    values = table[["forecast", "q0.05", "q0.25", "q0.5", "q0.95"]].to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    assert (np.diff(values[:, 1:], axis=1) >= -1e-9).all()
    assert len(table) == len(series) * horizon
    assert run.sample_paths(20, seed=0).values.min() >= 0
