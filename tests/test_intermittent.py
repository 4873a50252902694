"""Croston, SBA, TSB, ADIDA, IMAPA and SES against hand-computed values.

Every expected number below is worked out in the comments from the recursions in
the module docstrings of toolkit.intermittent and toolkit.smoothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.intermittent import (
    adida,
    aggregate_buckets,
    croston,
    imapa,
    mean_demand_interval,
    sba,
    tsb,
)
from toolkit.smoothing import historical_mean, seasonal_naive, seasonal_profile, seasonal_ses, ses

# Demand in periods 0..8: sizes 3, 5, 4 in periods 2, 4 and 8.
SERIES = [0.0, 0.0, 3.0, 0.0, 5.0, 0.0, 0.0, 0.0, 4.0]


def test_croston_hand_computed() -> None:
    # alpha = 0.2. First demand in period 2, counted from the start: interval 3.
    #   period 2: size z = 3,                       interval p = 3
    #   period 4: z = 3 + 0.2 (5 - 3) = 3.4,        p = 3 + 0.2 (2 - 3) = 2.8   (gap 4-2 = 2)
    #   period 8: z = 3.4 + 0.2 (4 - 3.4) = 3.52,   p = 2.8 + 0.2 (4 - 2.8) = 3.04 (gap 8-4)
    # forecast z / p = 3.52 / 3.04
    result = croston(SERIES, 3, alpha=0.2)
    assert result.forecast == pytest.approx([3.52 / 3.04] * 3)
    assert result.params["size"] == pytest.approx(3.52)
    assert result.params["interval"] == pytest.approx(3.04)
    # One-step fitted values: none before the first demand, then z / p of the moment:
    # periods 3-4: 3 / 3 = 1, periods 5-8: 3.4 / 2.8.
    fitted = result.fitted
    assert np.isnan(fitted[:3]).all()
    assert fitted[3:5] == pytest.approx([1.0, 1.0])
    assert fitted[5:9] == pytest.approx([3.4 / 2.8] * 4)


def test_sba_is_croston_times_one_minus_half_alpha() -> None:
    # SBA = (1 - 0.2 / 2) * 3.52 / 3.04 = 0.9 * 1.157894... = 1.042105...
    result = sba(SERIES, 2, alpha=0.2)
    assert result.forecast == pytest.approx([0.9 * 3.52 / 3.04] * 2)
    assert result.forecast[0] == pytest.approx(1.0421052631578946)


def test_tsb_hand_computed() -> None:
    # y = 0, 3, 0, 0, 5, 0; size alpha = 0.5, probability beta = 0.2.
    # Start: size = mean non-zero size = (3 + 5) / 2 = 4, probability = 2 demands / 6 = 1/3.
    #   p0 (0): pi = 1/3 + 0.2 (0 - 1/3)        = 0.266667
    #   p1 (3): pi = 0.266667 + 0.2 (1 - 0.266667) = 0.413333, z = 4 + 0.5 (3 - 4) = 3.5
    #   p2 (0): pi = 0.8 * 0.413333               = 0.330667
    #   p3 (0): pi = 0.8 * 0.330667               = 0.264533
    #   p4 (5): pi = 0.264533 + 0.2 (1 - 0.264533) = 0.411627, z = 3.5 + 0.5 (5 - 3.5) = 4.25
    #   p5 (0): pi = 0.8 * 0.411627               = 0.329301
    # forecast pi * z = 0.329301 * 4.25 = 1.399531
    pi = 1 / 3
    for occurred in (0, 1, 0, 0, 1, 0):
        pi += 0.2 * (occurred - pi)
    result = tsb([0, 3, 0, 0, 5, 0], 1, alpha=0.5, beta=0.2)
    assert result.params["probability"] == pytest.approx(pi)
    assert pi == pytest.approx(0.3293013333)
    assert result.params["size"] == pytest.approx(4.25)
    assert result.forecast[0] == pytest.approx(pi * 4.25)


def test_tsb_decays_while_no_demand_comes() -> None:
    active = tsb([2, 0, 3, 0, 2, 1, 0, 2], 1, alpha=0.2, beta=0.2).forecast[0]
    stopped = tsb([2, 0, 3, 0, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0], 1, alpha=0.2, beta=0.2).forecast[0]
    # Croston keeps its last estimate; TSB lowers the probability every empty week.
    assert stopped < 0.5 * active
    frozen = croston([2, 0, 3, 0, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0], 1, alpha=0.2).forecast[0]
    assert frozen == pytest.approx(croston([2, 0, 3, 0, 2, 1, 0, 2], 1, alpha=0.2).forecast[0])


def test_ses_hand_computed() -> None:
    # Level starts at 10; 10 + 0.5 (20 - 10) = 15; 15 + 0.5 (0 - 15) = 7.5.
    result = ses([10.0, 20.0, 0.0], 2, alpha=0.5)
    assert result.forecast == pytest.approx([7.5, 7.5])
    # One-step errors 10 and -15: sigma^2 = (100 + 225) / 2; h = 2 adds alpha^2.
    assert result.variance == pytest.approx([162.5, 162.5 * 1.25])


def test_mean_interval_and_buckets() -> None:
    # Demands in periods 2, 4, 8: (8 + 1) / 3 = 3 (statsforecast's intervals 3, 2, 4).
    assert mean_demand_interval(SERIES)[0] == pytest.approx(3.0)
    # 9 periods in buckets of 2 aligned on the end: drop period 0, sum pairs.
    assert aggregate_buckets(np.array([SERIES]), 2).tolist() == [[3.0, 5.0, 0.0, 4.0]]


def test_adida_hand_computed() -> None:
    # Buckets of 2: [0+2, 0+2, 0+2, 0+2] = 2 each; SES of a constant is 2; per week 2 / 2.
    result = adida([0, 2, 0, 2, 0, 2, 0, 2], 4, aggregation=2)
    assert result.forecast == pytest.approx([1.0] * 4)


def test_imapa_hand_computed() -> None:
    # Level 1, SES alpha 0.5 on 0,2,0,2,0,2,0,2 from 0:
    #   1, 0.5, 1.25, 0.625, 1.3125, 0.65625, 1.328125
    # Level 2: buckets all 2 -> 2 / 2 = 1. IMAPA = (1.328125 + 1) / 2.
    result = imapa([0, 2, 0, 2, 0, 2, 0, 2], 1, max_aggregation=2, alpha=0.5)
    assert result.forecast[0] == pytest.approx((1.328125 + 1.0) / 2)


def test_panel_rows_equal_single_series_and_padding_is_ignored() -> None:
    rng = np.random.default_rng(3)
    a = (rng.random(60) < 0.3) * rng.integers(1, 6, 60)
    b = (rng.random(60) < 0.5) * rng.integers(1, 4, 60)
    panel = np.full((2, 60), np.nan)
    panel[0] = a
    panel[1, 25:] = b[25:]  # series 1 starts in period 25
    for method in (croston, sba, tsb, adida, imapa):
        together = method(panel, 4).forecast
        assert together[0] == pytest.approx(method(a, 4).forecast)
        assert together[1] == pytest.approx(method(b[25:], 4).forecast)


def test_no_demand_gives_zero_and_no_history_gives_nan() -> None:
    panel = np.array([[0.0, 0.0, 0.0, 0.0], [np.nan] * 4])
    for method in (croston, sba, tsb, adida, imapa):
        result = method(panel, 2)
        assert result.forecast[0] == pytest.approx([0.0, 0.0])
        assert np.isnan(result.forecast[1]).all()


def test_grid_search_picks_the_constant_with_least_in_sample_error() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(80) < 0.4) * rng.integers(1, 5, 80).astype(float)
    chosen = croston(y, 1)
    errors = {}
    for alpha in (0.05, 0.1, 0.15, 0.2, 0.3):
        fitted = croston(y, 1, alpha=alpha).fitted
        errors[alpha] = np.nansum((y - fitted) ** 2)
    assert chosen.params["alpha"] == min(errors, key=errors.get)


def test_seasonal_naive_and_mean() -> None:
    assert seasonal_naive([1.0, 2.0, 3.0, 4.0], 3, season_length=2).forecast == pytest.approx(
        [3, 4, 3]
    )
    # Fewer observations than a season: not applicable.
    assert np.isnan(seasonal_naive([1.0, 2.0], 1, season_length=3).forecast).all()
    result = historical_mean([2.0, 4.0, 0.0], 1)
    assert result.forecast == pytest.approx([2.0])
    # Sample variance 4, times (1 + 1/3) for the uncertainty of the mean.
    assert result.variance == pytest.approx([4.0 * 4 / 3])


def test_seasonal_ses_recovers_a_seasonal_shape() -> None:
    t = np.arange(156)
    y = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 52))
    profile = seasonal_profile(y, season_length=52)[0]
    assert profile.max() == pytest.approx(1.3, abs=0.03)
    assert profile.min() == pytest.approx(0.7, abs=0.03)
    result = seasonal_ses(y, 52, season_length=52)
    future = 100 * (1 + 0.3 * np.sin(2 * np.pi * (156 + np.arange(52)) / 52))
    assert result.forecast == pytest.approx(future, rel=0.05)
