"""Forecasting methods for intermittent demand, vectorized across series.

statsmodels has no Croston-type methods, so they are written here in numpy: one
loop over time updates every series (and every smoothing constant of a search
grid) at once. The panel convention is that of :mod:`toolkit.smoothing`: a 2-D
array ``(n_series, n_periods)`` aligned on the last period, ``NaN`` before a
series' start, no gaps afterwards; a 1-D array is one series.

Methods
-------
``croston``
    Croston (1972): exponential smoothing of the non-zero demand sizes ``z`` and of
    the intervals ``p`` between demands, both updated only in periods with demand;
    forecast ``z / p``. Initialization as in Croston's paper and statsforecast:
    ``z`` starts at the first demand size, ``p`` at the first interval counted from
    the series' start (a first demand in period 3 gives ``p = 3``).
``sba``
    Syntetos-Boylan approximation (2005): Croston times ``1 - alpha / 2``, which
    removes Croston's positive bias.
``tsb``
    Teunter-Syntetos-Babai (2011): the demand *probability* ``pi`` is smoothed every
    period (``beta``), the size ``z`` only in periods with demand (``alpha``);
    forecast ``pi * z``. It decays towards zero while no demand comes, which suits
    items running out (end of life). ``pi`` starts at the history's share of
    periods with demand and ``z`` at the mean non-zero size.
``adida``
    Nikolopoulos et al. (2011): sum demand into non-overlapping buckets of ``k``
    periods (``k`` = the mean inter-demand interval rounded, buckets aligned on the
    last period so the newest bucket is complete), forecast the bucket series with
    SES and spread the bucket forecast evenly, ``f / k`` per period.
``imapa``
    Petropoulos and Kourentzes (2015): the average of the ADIDA-style forecasts over
    every aggregation level ``1 .. k``.

The mean inter-demand interval follows statsforecast: intervals are counted from
the series' start, so their mean is ``(index of last demand + 1) / n_demands``.

Smoothing constants are chosen per series from a grid by the in-sample one-step
mean squared error of the *per-period* forecast when not given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toolkit.smoothing import MethodForecast, as_panel, first_valid_index, n_observations, ses

__all__ = [
    "CROSTON_ALPHA_GRID",
    "TSB_ALPHA_GRID",
    "TSB_BETA_GRID",
    "croston",
    "sba",
    "tsb",
    "adida",
    "imapa",
    "mean_demand_interval",
    "aggregate_buckets",
]

#: Smoothing constants searched by :func:`croston` and :func:`sba` (the literature
#: recommends 0.05-0.3 for intermittent demand).
CROSTON_ALPHA_GRID: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3)
#: Size smoothing constants searched by :func:`tsb`.
TSB_ALPHA_GRID: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
#: Probability smoothing constants searched by :func:`tsb`.
TSB_BETA_GRID: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3)


def _stationary_variance(sigma2: np.ndarray, alpha: np.ndarray, horizon: int) -> np.ndarray:
    """Demand variance around a smoothed stationary mean, the same for every step.

    Croston-type methods assume a stationary process, so the error does not grow
    with the horizon; the exponentially weighted mean itself has variance
    ``alpha / (2 - alpha) * sigma**2``, which is added.
    """
    total = sigma2 * (1.0 + alpha / (2.0 - alpha))
    return np.repeat(total[:, None], horizon, axis=1)


def _sigma2(sse: np.ndarray, count: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(count > 0, sse / np.maximum(count, 1), np.nan)
    # No one-step error yet (a single demand at the end): a Poisson-like variance.
    return np.where(np.isnan(sigma2) | (sigma2 <= 0), np.abs(fallback), sigma2)


def _croston_pass(
    panel: np.ndarray,
    alphas: np.ndarray,
    bias: np.ndarray,
    start: np.ndarray,
    keep_fitted: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run Croston's recursions for every series and smoothing constant.

    ``alphas`` and ``bias`` have shape ``(n_series, n_alphas)``; the per-period
    forecast is ``bias * size / interval``. Returns size, interval, the sum of
    squared one-step errors (counted from the first demand on), their number and
    optionally the fitted values of the first constant.
    """
    n_series, n_periods = panel.shape
    size = np.full(alphas.shape, np.nan)
    interval = np.full(alphas.shape, np.nan)
    last_demand = start - 1
    sse = np.zeros(alphas.shape)
    count = np.zeros(n_series)
    fitted = np.full((n_series, n_periods), np.nan) if keep_fitted else None
    first_step = int(start.min()) if n_series else n_periods
    for t in range(first_step, n_periods):
        value = panel[:, t]
        active = t >= start
        ready = ~np.isnan(size[:, 0])
        scored = active & ready
        with np.errstate(invalid="ignore"):
            prediction = bias * size / interval
        error = np.where(scored[:, None], value[:, None] - prediction, 0.0)
        sse += error * error
        count += scored
        if keep_fitted:
            fitted[:, t] = np.where(scored, prediction[:, 0], np.nan)
        demand = active & (value > 0)
        gap = (t - last_demand).astype(float)
        new_size = np.where(ready[:, None], size + alphas * (value[:, None] - size), value[:, None])
        new_interval = np.where(
            ready[:, None], interval + alphas * (gap[:, None] - interval), gap[:, None]
        )
        size = np.where(demand[:, None], new_size, size)
        interval = np.where(demand[:, None], new_interval, interval)
        last_demand = np.where(demand, t, last_demand)
    return size, interval, sse, count, fitted


def _croston_family(
    values: np.ndarray | Sequence[float],
    horizon: int,
    alpha: float | np.ndarray | None,
    alpha_grid: Sequence[float],
    debiased: bool,
) -> MethodForecast:
    panel, squeeze = as_panel(values)
    n_series = panel.shape[0]
    start = first_valid_index(panel)
    if alpha is None:
        grid = np.broadcast_to(np.asarray(alpha_grid, dtype=float), (n_series, len(alpha_grid)))
        bias = 1.0 - grid / 2.0 if debiased else np.ones_like(grid)
        _, _, sse, count, _ = _croston_pass(panel, grid, bias, start, keep_fitted=False)
        chosen = grid[np.arange(n_series), np.argmin(sse, axis=1)]
    else:
        chosen = np.broadcast_to(np.asarray(alpha, dtype=float), (n_series,)).copy()
    bias = (1.0 - chosen / 2.0) if debiased else np.ones(n_series)
    size, interval, sse, count, fitted = _croston_pass(
        panel, chosen[:, None], bias[:, None], start, keep_fitted=True
    )
    level = bias * size[:, 0] / interval[:, 0]
    has_history = n_observations(panel) > 0
    # No demand yet: Croston never starts, the forecast is zero.
    level = np.where(has_history & np.isnan(level), 0.0, level)
    sigma2 = _sigma2(sse[:, 0], count, level)
    forecast = np.repeat(level[:, None], horizon, axis=1)
    variance = _stationary_variance(sigma2, chosen, horizon)
    variance = np.where(np.isnan(forecast), np.nan, variance)
    params = {"alpha": chosen, "size": size[:, 0], "interval": interval[:, 0]}
    result = MethodForecast(forecast, variance, fitted, params)
    return result.squeeze() if squeeze else result


def croston(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    alpha: float | np.ndarray | None = None,
    alpha_grid: Sequence[float] = CROSTON_ALPHA_GRID,
) -> MethodForecast:
    """Croston's method, vectorized across series.

    Parameters
    ----------
    values : array_like, shape (n_series, n_periods) or (n_periods,)
        The panel (``NaN`` before each series' start).
    horizon : int
        Number of periods to forecast.
    alpha : float or array, optional
        Smoothing constant for sizes and intervals; chosen per series from
        ``alpha_grid`` by in-sample one-step MSE when omitted.
    alpha_grid : sequence of float
        Constants searched when ``alpha`` is None.

    Returns
    -------
    MethodForecast
        Flat forecast ``size / interval``; ``params`` holds ``alpha``, ``size`` and
        ``interval``. A series with no demand yet forecasts zero.

    Examples
    --------
    Demands of 4 in period 2 (interval 2) and 6 in period 3 (interval 1), alpha 0.5:
    size ``4 + 0.5 * (6 - 4) = 5``, interval ``2 + 0.5 * (1 - 2) = 1.5``:

    >>> float(croston([0.0, 4.0, 6.0], 1, alpha=0.5).forecast[0])
    3.3333333333333335
    """
    return _croston_family(values, horizon, alpha, alpha_grid, debiased=False)


def sba(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    alpha: float | np.ndarray | None = None,
    alpha_grid: Sequence[float] = CROSTON_ALPHA_GRID,
) -> MethodForecast:
    """Syntetos-Boylan approximation: Croston times ``1 - alpha / 2``.

    Parameters and result as :func:`croston`.

    Examples
    --------
    The Croston example above times ``1 - 0.5 / 2 = 0.75``:

    >>> float(sba([0.0, 4.0, 6.0], 1, alpha=0.5).forecast[0])
    2.5
    """
    return _croston_family(values, horizon, alpha, alpha_grid, debiased=True)


def _tsb_pass(
    panel: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    start: np.ndarray,
    keep_fitted: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    n_series, n_periods = panel.shape
    observed = ~np.isnan(panel)
    demand = observed & (np.nan_to_num(panel) > 0)
    n_obs = observed.sum(axis=1)
    n_demands = demand.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_size = np.where(
            n_demands > 0, np.where(demand, panel, 0.0).sum(axis=1) / n_demands, np.nan
        )
        occurrence = np.where(n_obs > 0, n_demands / np.maximum(n_obs, 1), np.nan)
    size = np.repeat(mean_size[:, None], alphas.shape[1], axis=1)
    probability = np.repeat(occurrence[:, None], alphas.shape[1], axis=1)
    sse = np.zeros(alphas.shape)
    count = np.zeros(n_series)
    fitted = np.full((n_series, n_periods), np.nan) if keep_fitted else None
    first_step = int(start.min()) if n_series else n_periods
    for t in range(first_step, n_periods):
        value = panel[:, t]
        active = t >= start
        prediction = np.where(np.isnan(size), 0.0, probability * size)
        error = np.where(active[:, None], value[:, None] - prediction, 0.0)
        sse += error * error
        count += active
        if keep_fitted:
            fitted[:, t] = np.where(active, prediction[:, 0], np.nan)
        occurred = (active & (value > 0))[:, None]
        probability = np.where(
            active[:, None], probability + betas * (occurred - probability), probability
        )
        size = np.where(occurred, size + alphas * (value[:, None] - size), size)
    return size, probability, sse, count, fitted


def tsb(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    alpha: float | np.ndarray | None = None,
    beta: float | np.ndarray | None = None,
    alpha_grid: Sequence[float] = TSB_ALPHA_GRID,
    beta_grid: Sequence[float] = TSB_BETA_GRID,
) -> MethodForecast:
    """Teunter-Syntetos-Babai method, vectorized across series.

    Parameters
    ----------
    values : array_like, shape (n_series, n_periods) or (n_periods,)
        The panel (``NaN`` before each series' start).
    horizon : int
        Number of periods to forecast.
    alpha, beta : float or array, optional
        Smoothing constants of the demand size and of the demand probability. When
        either is omitted both are chosen jointly per series from ``alpha_grid`` x
        ``beta_grid`` by in-sample one-step MSE.
    alpha_grid, beta_grid : sequence of float
        Constants searched.

    Returns
    -------
    MethodForecast
        Flat forecast ``probability * size``; ``params`` holds ``alpha``, ``beta``,
        ``size`` and ``probability``.

    Examples
    --------
    Initial size 4 (the mean non-zero size), probability 1/2 (one demand in two
    periods); with alpha = beta = 0.5 period 1 (no demand) gives probability
    ``0.5 + 0.5 * (0 - 0.5) = 0.25`` and period 2 (demand 4) gives
    ``0.25 + 0.5 * (1 - 0.25) = 0.625``; the forecast is ``0.625 * 4``:

    >>> float(tsb([0.0, 4.0], 1, alpha=0.5, beta=0.5).forecast[0])
    2.5
    """
    panel, squeeze = as_panel(values)
    n_series = panel.shape[0]
    start = first_valid_index(panel)
    if alpha is None or beta is None:
        pairs = np.array([(a, b) for a in alpha_grid for b in beta_grid], dtype=float)
        alphas = np.broadcast_to(pairs[:, 0], (n_series, len(pairs)))
        betas = np.broadcast_to(pairs[:, 1], (n_series, len(pairs)))
        _, _, sse, _, _ = _tsb_pass(panel, alphas, betas, start, keep_fitted=False)
        best = np.argmin(sse, axis=1)
        chosen_alpha, chosen_beta = pairs[best, 0], pairs[best, 1]
    else:
        chosen_alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (n_series,)).copy()
        chosen_beta = np.broadcast_to(np.asarray(beta, dtype=float), (n_series,)).copy()
    size, probability, sse, count, fitted = _tsb_pass(
        panel, chosen_alpha[:, None], chosen_beta[:, None], start, keep_fitted=True
    )
    level = np.where(np.isnan(size[:, 0]), 0.0, probability[:, 0] * size[:, 0])
    level = np.where(n_observations(panel) > 0, level, np.nan)
    sigma2 = _sigma2(sse[:, 0], count, level)
    forecast = np.repeat(level[:, None], horizon, axis=1)
    variance = _stationary_variance(sigma2, chosen_beta, horizon)
    variance = np.where(np.isnan(forecast), np.nan, variance)
    params = {
        "alpha": chosen_alpha,
        "beta": chosen_beta,
        "size": size[:, 0],
        "probability": probability[:, 0],
    }
    result = MethodForecast(forecast, variance, fitted, params)
    return result.squeeze() if squeeze else result


def mean_demand_interval(values: np.ndarray | Sequence[float]) -> np.ndarray:
    """Return the mean inter-demand interval per series (``NaN`` without demand).

    Intervals are counted from the series' start, as in statsforecast, so the mean
    is ``(position of the last demand + 1) / number of demands``.

    Examples
    --------
    >>> mean_demand_interval([0.0, 3.0, 0.0, 0.0, 2.0, 0.0])
    array([2.5])
    """
    panel, _ = as_panel(values)
    start = first_valid_index(panel)
    demand = np.nan_to_num(panel) > 0
    n_demands = demand.sum(axis=1)
    n_periods = panel.shape[1]
    last = n_periods - 1 - np.argmax(demand[:, ::-1], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_demands > 0, (last - start + 1) / np.maximum(n_demands, 1), np.nan)


def aggregate_buckets(panel: np.ndarray, size: int) -> np.ndarray:
    """Sum a panel into non-overlapping buckets of ``size`` periods, aligned on the end.

    The oldest periods that do not fill a bucket are dropped; a bucket that
    reaches before a series' start is ``NaN``.

    Examples
    --------
    >>> aggregate_buckets(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2)
    array([[5., 9.]])
    """
    n_series, n_periods = panel.shape
    n_buckets = n_periods // size
    cut = n_periods - n_buckets * size
    return panel[:, cut:].reshape(n_series, n_buckets, size).sum(axis=2)


def _aggregated_ses(
    panel: np.ndarray, level: int, horizon: int, alpha: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-period forecast and variance from SES on buckets of ``level`` periods."""
    buckets = aggregate_buckets(panel, level)
    n_ahead = -(-horizon // level)
    result = ses(buckets, n_ahead, alpha=alpha)
    bucket_of_step = np.arange(horizon) // level
    forecast = result.forecast[:, bucket_of_step] / level
    # A bucket's variance spread over its periods (periods taken as independent).
    variance = result.variance[:, bucket_of_step] / level
    return forecast, variance


def _aggregation_levels(panel: np.ndarray) -> np.ndarray:
    interval = mean_demand_interval(panel)
    level = np.round(np.nan_to_num(interval, nan=1.0)).astype(int)
    # A bucket needs at least two full buckets of history to smooth.
    longest = np.maximum(n_observations(panel) // 2, 1)
    return np.clip(level, 1, longest)


def _settle_without_demand(panel: np.ndarray, forecast: np.ndarray, variance: np.ndarray) -> None:
    """In place: series that never sold forecast exactly 0; series without history, NaN."""
    has_history = n_observations(panel) > 0
    no_demand = has_history & (np.nan_to_num(panel).sum(axis=1) == 0)
    forecast[no_demand], variance[no_demand] = 0.0, 0.0
    forecast[~has_history], variance[~has_history] = np.nan, np.nan


def adida(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    aggregation: int | np.ndarray | None = None,
    alpha: float | None = None,
) -> MethodForecast:
    """ADIDA: SES on temporally aggregated demand, disaggregated evenly.

    Parameters
    ----------
    values : array_like, shape (n_series, n_periods) or (n_periods,)
        The panel (``NaN`` before each series' start).
    horizon : int
        Number of periods to forecast.
    aggregation : int or array, optional
        Bucket size per series; by default the mean inter-demand interval rounded
        (at least 1, at most half the history).
    alpha : float, optional
        SES constant on the buckets (chosen per series from the SES grid if None).

    Returns
    -------
    MethodForecast
        ``params`` holds ``aggregation``. Series are grouped by bucket size and each
        group is smoothed in one vectorized pass.

    Examples
    --------
    Buckets of 2: ``[0+4, 0+6] = [4, 6]``; SES with the best grid constant ends
    between 4 and 6, and each period gets half of it:

    >>> f = adida([0.0, 4.0, 0.0, 6.0], 1, aggregation=2).forecast[0]
    >>> bool(2.0 < f < 3.0)
    True
    """
    panel, squeeze = as_panel(values)
    n_series, _ = panel.shape
    if aggregation is None:
        levels = _aggregation_levels(panel)
    else:
        levels = np.broadcast_to(np.asarray(aggregation, dtype=int), (n_series,)).copy()
    forecast = np.full((n_series, horizon), np.nan)
    variance = np.full((n_series, horizon), np.nan)
    for level in np.unique(levels):
        rows = np.flatnonzero(levels == level)
        forecast[rows], variance[rows] = _aggregated_ses(panel[rows], int(level), horizon, alpha)
    _settle_without_demand(panel, forecast, variance)
    result = MethodForecast(
        forecast, variance, np.full_like(panel, np.nan), {"aggregation": levels}
    )
    return result.squeeze() if squeeze else result


def imapa(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    max_aggregation: int | np.ndarray | None = None,
    alpha: float | None = None,
) -> MethodForecast:
    """IMAPA: the mean of SES forecasts over aggregation levels ``1 .. k``.

    Parameters
    ----------
    values : array_like, shape (n_series, n_periods) or (n_periods,)
        The panel (``NaN`` before each series' start).
    horizon : int
        Number of periods to forecast.
    max_aggregation : int or array, optional
        Highest bucket size per series; by default the mean inter-demand interval
        rounded (at least 1, at most half the history).
    alpha : float, optional
        SES constant at every level (chosen per series and level if None).

    Returns
    -------
    MethodForecast
        ``params`` holds ``max_aggregation``; the variance is the mean of the
        levels' per-period variances.
    """
    panel, squeeze = as_panel(values)
    n_series, _ = panel.shape
    if max_aggregation is None:
        top = _aggregation_levels(panel)
    else:
        top = np.broadcast_to(np.asarray(max_aggregation, dtype=int), (n_series,)).copy()
    total = np.zeros((n_series, horizon))
    total_variance = np.zeros((n_series, horizon))
    for level in range(1, int(top.max(initial=1)) + 1):
        rows = np.flatnonzero(top >= level)
        forecast, variance = _aggregated_ses(panel[rows], level, horizon, alpha)
        total[rows] += forecast
        total_variance[rows] += variance
    forecast = total / top[:, None]
    variance = total_variance / top[:, None]
    _settle_without_demand(panel, forecast, variance)
    result = MethodForecast(
        forecast, variance, np.full_like(panel, np.nan), {"max_aggregation": top}
    )
    return result.squeeze() if squeeze else result
