"""Predictive distributions: quantiles by hand, sampling, coverage and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from toolkit.forecast import PredictiveDistribution
from toolkit.forecast_distribution import (
    band_coverage,
    calibrate_scale,
    distribution_quantiles,
    pit_band_share,
    quantile_columns,
    sample_distribution,
)


def test_quantile_columns() -> None:
    assert quantile_columns([0.05, 0.5, 0.95, 0.025]) == ["q0.05", "q0.5", "q0.95", "q0.025"]


def test_normal_quantiles_are_censored_at_zero() -> None:
    # Mean 1, sd 2: q0.05 = 1 - 1.645 * 2 < 0 -> 0; q0.95 = 1 + 3.29 = 4.29.
    q = distribution_quantiles(np.array([[1.0]]), np.array([[4.0]]), "normal", [0.05, 0.5, 0.95])
    assert q[0, 0] == pytest.approx([0.0, 1.0, 1 + 2 * stats.norm.ppf(0.95)])


def test_count_quantiles_poisson_and_negative_binomial() -> None:
    # Variance equal to the mean: Poisson(2): P(0)=0.135, P(<=1)=0.406, P(<=4)=0.947,
    # P(<=5)=0.983 -> q0.05 = 0, q0.5 = 2, q0.95 = 5.
    q = distribution_quantiles(np.array([[2.0]]), np.array([[2.0]]), "count", [0.05, 0.5, 0.95])
    assert q[0, 0].tolist() == [0.0, 2.0, 5.0]
    # Mean 2, variance 10: negative binomial r = 4 / 8 = 0.5, p = 2 / 10.
    q = distribution_quantiles(np.array([[2.0]]), np.array([[10.0]]), "count", [0.5, 0.95])
    assert q[0, 0].tolist() == list(stats.nbinom.ppf([0.5, 0.95], 0.5, 0.2))
    # Zero mean or the zero family: all zero. A scale widens the spread.
    q = distribution_quantiles(np.zeros((2, 1)), np.ones((2, 1)), ["count", "zero"], [0.95])
    assert q.max() == 0
    wide = distribution_quantiles(np.array([[5.0]]), np.array([[4.0]]), "normal", [0.95], scale=2)
    assert wide[0, 0, 0] == pytest.approx(5 + 4 * stats.norm.ppf(0.95))


def test_samples_match_mean_and_variance() -> None:
    mean = np.array([[2.0, 2.0], [30.0, 30.0]])
    variance = np.array([[10.0, 10.0], [25.0, 25.0]])
    draws = sample_distribution(mean, variance, ["count", "normal"], 40_000, seed=1)
    assert draws.min() >= 0
    assert draws[0].mean() == pytest.approx(2.0, rel=0.03)
    assert draws[0].var() == pytest.approx(10.0, rel=0.06)
    assert (draws[0] == np.round(draws[0])).all()
    assert draws[1].mean() == pytest.approx(30.0, rel=0.01)
    assert draws[1].std() == pytest.approx(5.0, rel=0.03)


def test_band_coverage_for_counts_uses_the_cdf() -> None:
    # Poisson(2) band 0.05-0.95 is [0, 5]: 0 and 5 inside, 6 outside.
    actual = np.array([[0.0, 5.0, 6.0]])
    covered = band_coverage(actual, np.full((1, 3), 2.0), np.full((1, 3), 2.0), "count", 0.05, 0.95)
    assert covered.tolist() == [[1.0, 1.0, 0.0]]


def test_calibration_recovers_a_known_spread() -> None:
    # Actuals really have sd 4 around the mean, the model says sd 2: scale about 2.
    rng = np.random.default_rng(0)
    mean = np.full((400, 10), 50.0)
    actual = mean + rng.normal(0, 4.0, mean.shape)
    scale, coverage, n_points = calibrate_scale(
        actual, mean, np.full(mean.shape, 4.0), "normal", 0.05, 0.95
    )
    assert scale == pytest.approx(2.0, rel=0.1)
    assert coverage == pytest.approx(0.9, abs=0.01)
    assert n_points == 4000
    # Too few points: no calibration.
    assert (
        calibrate_scale(actual[:2, :5], mean[:2, :5], mean[:2, :5], "normal", 0.05, 0.95)[0] == 1.0
    )


def test_pit_share_by_hand() -> None:
    # Poisson(2): F(0) = 0.1353, F(4) = 0.9473, F(5) = 0.9834.
    actual = np.array([[0.0, 2.0, 5.0, np.nan]])
    two = np.full((1, 4), 2.0)
    share = pit_band_share(actual, two, two, "count", 0.05, 0.95)
    assert share[0, 0] == pytest.approx((0.135335 - 0.05) / 0.135335, abs=1e-5)
    assert share[0, 1] == 1.0
    assert share[0, 2] == pytest.approx((0.95 - 0.947347) / (0.983436 - 0.947347), abs=1e-4)
    assert np.isnan(share[0, 3])
    # Normal N(10, 2^2): continuous away from zero (0 or 1); zero is the censored mass.
    normal = pit_band_share(
        np.array([[10.0, 14.0, 0.0]]),
        np.full((1, 3), 10.0),
        np.full((1, 3), 4.0),
        "normal",
        0.05,
        0.95,
    )
    assert normal[0, :2].tolist() == [1.0, 0.0]
    assert normal[0, 2] == 0.0  # F(0) = 3e-7 < 0.05: entirely below the band
    # Below zero (demand under its firm orders) a censored normal has F = 0: outside.
    assert (
        pit_band_share(
            np.array([[-0.5]]), np.ones((1, 1)), np.full((1, 1), 4.0), "normal", 0.05, 0.95
        )[0, 0]
        == 0.0
    )
    # Inactive series: a zero week is the whole [0, 1], 90% inside.
    assert pit_band_share(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), "zero", 0.05, 0.95)[
        0, 0
    ] == pytest.approx(0.9)


@settings(max_examples=40, deadline=None)
@given(
    mean=st.floats(0.05, 20.0),
    overdispersion=st.floats(0.0, 5.0),
    seed=st.integers(0, 2**16),
)
def test_pit_coverage_of_the_true_count_distribution_is_nominal(
    mean: float, overdispersion: float, seed: int
) -> None:
    # Demand drawn from the forecast's own distribution: its PIT is uniform, so the
    # share between 5% and 95% averages 90% however much mass sits on zero.
    variance = mean * (1 + overdispersion)
    m = np.full((1, 4000), mean)
    v = np.full((1, 4000), variance)
    actual = sample_distribution(m, v, "count", 1, seed=seed)[:, 0, :]
    share = pit_band_share(actual, m, v, "count", 0.05, 0.95)
    assert share.mean() == pytest.approx(0.9, abs=0.02)


def test_calibration_keeps_a_true_count_distribution() -> None:
    # Poisson(0.5) demand forecast by its true distribution: the 5%-95% band is
    # [0, 2] and holds 98.6% of weeks, but its PIT coverage is 90%, so calibration
    # leaves it alone (any multiplier up to 1 is the same Poisson; the smallest
    # wins). Calibrating on the plain share instead could never reach 90% honestly:
    # widening the negative binomial piles mass on zero until the upper quantile
    # falls to 1 and every week with 2 units is a miss. It stops at the widest
    # useful multiplier instead.
    rng = np.random.default_rng(3)
    mean = np.full((400, 39), 0.5)
    actual = rng.poisson(0.5, mean.shape).astype(float)
    scale, coverage, _ = calibrate_scale(actual, mean, mean.copy(), "count", 0.05, 0.95)
    assert scale <= 1.0
    assert coverage == pytest.approx(0.9, abs=0.01)
    upper = distribution_quantiles(mean[:1, :1], mean[:1, :1], "count", [0.95], scale=scale)
    assert upper[0, 0, 0] == 2
    scale, coverage, _ = calibrate_scale(
        actual, mean, mean.copy(), "count", 0.05, 0.95, metric="band"
    )
    upper = distribution_quantiles(mean[:1, :1], mean[:1, :1], "count", [0.95], scale=scale)
    assert upper[0, 0, 0] >= 2
    assert coverage >= 0.95
    # Over-dispersed demand given a Poisson forecast: the multiplier widens it.
    lumpy = rng.negative_binomial(0.5, 0.5 / 2.5, mean.shape).astype(float)  # mean 2, var 10
    scale, coverage, _ = calibrate_scale(
        lumpy, np.full(mean.shape, 2.0), np.full(mean.shape, 2.0), "count", 0.05, 0.95
    )
    assert scale == pytest.approx(np.sqrt(5.0), rel=0.15)
    assert coverage == pytest.approx(0.9, abs=0.01)
    # Coverage rises with the width for the normal family: the whole range is searched.
    base = np.full((200, 10), 20.0)
    wide = base + rng.normal(0, 10.0, base.shape)
    scale, coverage, _ = calibrate_scale(wide, base, np.full(base.shape, 4.0), "normal", 0.05, 0.95)
    assert scale == pytest.approx(5.0, rel=0.1)
    with pytest.raises(ValueError, match="metric"):
        calibrate_scale(wide, base, base, "normal", 0.05, 0.95, metric="width")


def test_distribution_coverage_counts_weeks_without_rows_as_zero_demand() -> None:
    dates = pd.date_range("2026-01-05", periods=3, freq="W-MON")
    distribution = PredictiveDistribution(
        series_ids=np.array(["A", "B"]),
        dates=dates,
        mean=np.full((2, 3), 10.0),
        variance=np.full((2, 3), 4.0),
        family=np.array(["normal", "normal"]),
        scale=np.ones(2),
        shift=np.zeros((2, 3)),
    )
    # Band [10 - 1.645 * 2, 10 + 1.645 * 2] = [6.71, 13.29]. Series A: 10 on a Tuesday
    # of week 1 (inside), nothing in week 2 (0: outside), 20 in week 3 (outside).
    # Series B has no rows: not scored.
    actual = pd.DataFrame(
        {
            "series_id": ["A", "A", "A"],
            "date": pd.to_datetime(["2026-01-06", "2026-01-19", "2026-01-21"]),
            "quantity": [10.0, 12.0, 8.0],
        }
    )
    scored = distribution.coverage(actual)
    assert scored["series_id"].tolist() == ["A", "A", "A"]
    assert list(scored["date"]) == list(dates)
    assert scored["in_band"].tolist() == [1.0, 0.0, 0.0]
    # Continuous family: the PIT share is the indicator itself.
    assert scored["pit_share"].tolist() == [1.0, 0.0, 0.0]
