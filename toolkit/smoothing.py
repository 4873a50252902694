"""Vectorized baseline forecasting methods for many weekly series at once.

Every function here takes a *panel*: a 2-D array of shape ``(n_series, n_periods)``
whose rows are demand series aligned on a common last period. A series that starts
later than the panel has ``NaN`` in the periods before its start (left padding);
after its start a series has no gaps (missing weeks are zero demand, see
:func:`toolkit.demand_panel.to_weekly_panel`). A 1-D array is treated as a panel of
one series and the results keep that shape.

The loops run over *time* (a few hundred weekly steps); each step updates every
series (and every smoothing constant of a search grid) at once with numpy, which is
what makes thousands of series cheap. statsmodels remains the tool for model-based
methods (ETS with trend, SARIMAX) in :mod:`toolkit.forecast_methods`.

All methods return a :class:`MethodForecast`: the point forecast, a forecast
variance per step (the input of :mod:`toolkit.forecast_distribution`), the
one-step-ahead in-sample fitted values and the chosen parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SES_ALPHA_GRID",
    "MethodForecast",
    "as_panel",
    "first_valid_index",
    "n_observations",
    "historical_mean",
    "recent_mean",
    "ses",
    "seasonal_naive",
    "seasonal_ses",
    "seasonal_profile",
]

#: Smoothing constants searched by :func:`ses` when ``alpha`` is not given. A grid
#: (rather than a numerical optimizer) lets one pass over time score every
#: constant for every series at once.
SES_ALPHA_GRID: tuple[float, ...] = (0.03, 0.05, 0.08, 0.12, 0.17, 0.23, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class MethodForecast:
    """The output of one vectorized method on a panel.

    Attributes
    ----------
    forecast : ndarray, shape (n_series, horizon)
        Point forecast (the expected demand per period); ``NaN`` where the method
        could not be applied to a series (too little history).
    variance : ndarray, shape (n_series, horizon)
        Variance of demand around the forecast per step ahead (model-based, later
        calibrated on backtest errors).
    fitted : ndarray, shape (n_series, n_periods)
        One-step-ahead in-sample forecasts (``NaN`` where none exists).
    params : dict of str to ndarray
        Per-series parameters, e.g. the smoothing constant chosen.
    """

    forecast: np.ndarray
    variance: np.ndarray
    fitted: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def squeeze(self) -> MethodForecast:
        """Return the result for a single series as 1-D arrays."""
        return MethodForecast(
            self.forecast[0],
            self.variance[0],
            self.fitted[0],
            {key: value[0] for key, value in self.params.items()},
        )


def as_panel(values: np.ndarray | Sequence[float]) -> tuple[np.ndarray, bool]:
    """Return ``values`` as a float 2-D panel and whether the input was 1-D."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        return array[None, :], True
    if array.ndim != 2:
        raise ValueError(f"expected a 1-D series or a 2-D panel, got {array.ndim} dimensions")
    return array, False


def first_valid_index(panel: np.ndarray) -> np.ndarray:
    """Return, per series, the index of its first non-NaN period (``n_periods`` if none)."""
    valid = ~np.isnan(panel)
    has_any = valid.any(axis=1)
    return np.where(has_any, valid.argmax(axis=1), panel.shape[1])


def n_observations(panel: np.ndarray) -> np.ndarray:
    """Return the number of observed (non-NaN) periods per series."""
    return (~np.isnan(panel)).sum(axis=1)


def _finish(result: MethodForecast, squeeze: bool) -> MethodForecast:
    return result.squeeze() if squeeze else result


def _ses_variance_growth(alpha: np.ndarray, horizon: int) -> np.ndarray:
    """Variance multiplier of SES's h-step error: ``1 + (h - 1) * alpha**2`` (ETS(A,N,N))."""
    steps = np.arange(horizon)[None, :]
    return 1.0 + steps * np.asarray(alpha, dtype=float)[:, None] ** 2


def historical_mean(values: np.ndarray | Sequence[float], horizon: int) -> MethodForecast:
    """Forecast the mean of all observed periods (the fallback for short series).

    The variance is the sample variance of the observations inflated by the
    uncertainty of the mean itself, ``s**2 * (1 + 1/n)``; with a single observation
    it falls back to the Poisson-like ``mean``.

    Examples
    --------
    >>> historical_mean([2.0, 4.0, 0.0], 2).forecast
    array([2., 2.])
    """
    panel, squeeze = as_panel(values)
    n_obs = n_observations(panel)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_obs > 0, np.nansum(panel, axis=1) / np.maximum(n_obs, 1), np.nan)
        deviations = np.where(np.isnan(panel), 0.0, panel - mean[:, None])
        sample_var = (deviations**2).sum(axis=1) / np.maximum(n_obs - 1, 1)
    variance = np.where(n_obs > 1, sample_var * (1 + 1 / np.maximum(n_obs, 1)), mean)
    fitted = np.full_like(panel, np.nan)
    forecast = np.repeat(mean[:, None], horizon, axis=1)
    result = MethodForecast(
        forecast, np.repeat(variance[:, None], horizon, axis=1), fitted, {"n_obs": n_obs}
    )
    return _finish(result, squeeze)


def recent_mean(
    values: np.ndarray | Sequence[float], horizon: int, *, share: float = 0.5
) -> MethodForecast:
    """Forecast the mean of the most recent weeks since the first demand (new series).

    A series with only a few weeks of demand is a launch or a new listing: its
    demand is still ramping up, so its most recent weeks speak for the coming ones
    better than all of them, and the weeks before its first demand (zero-filled
    from the extract's start) say nothing. The forecast is the mean of the last
    ``share`` of the weeks since the first demand (at least one week); the
    variance the sample variance of those weeks times ``1 + 1/n``, or the mean
    itself (Poisson-like) for a single week.

    Examples
    --------
    Weeks since the first demand: 3, 0, 5, 2; the last half is 5, 2:

    >>> recent_mean([0.0, 0.0, 3.0, 0.0, 5.0, 2.0], 1).forecast
    array([3.5])
    """
    panel, squeeze = as_panel(values)
    n_periods = panel.shape[1]
    demand = np.nan_to_num(panel) > 0
    first = np.where(demand.any(axis=1), demand.argmax(axis=1), n_periods)
    weeks = n_periods - first
    used = np.where(weeks > 0, np.maximum(np.ceil(share * weeks), 1), 0).astype(int)
    inside = np.arange(n_periods)[None, :] >= (n_periods - used)[:, None]
    observed = n_observations(panel) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(inside, np.nan_to_num(panel), 0.0).sum(axis=1)
        mean = np.where(used > 0, total / np.maximum(used, 1), np.where(observed, 0.0, np.nan))
        deviation = np.where(inside, np.nan_to_num(panel) - mean[:, None], 0.0)
        sample_var = (deviation**2).sum(axis=1) / np.maximum(used - 1, 1)
    variance = np.where(used > 1, sample_var * (1 + 1 / np.maximum(used, 1)), mean)
    forecast = np.repeat(mean[:, None], horizon, axis=1)
    result = MethodForecast(
        forecast,
        np.repeat(variance[:, None], horizon, axis=1),
        np.full_like(panel, np.nan),
        {"n_weeks_used": used},
    )
    return _finish(result, squeeze)


def _ses_pass(
    panel: np.ndarray, alphas: np.ndarray, start: np.ndarray, keep_fitted: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run simple exponential smoothing for every series and smoothing constant.

    ``alphas`` has shape ``(n_series, n_alphas)``. The level starts at each series'
    first observation (the classic initialization, as in statsforecast) and is then
    updated ``level += alpha * (y - level)``. Returns the final level, the sum of
    squared one-step errors, the number of errors and optionally the fitted values
    (only for a single constant per series).
    """
    n_series, n_periods = panel.shape
    rows = np.arange(n_series)
    first = np.where(start < n_periods, panel[rows, np.minimum(start, n_periods - 1)], np.nan)
    level = np.repeat(first[:, None], alphas.shape[1], axis=1)
    sse = np.zeros_like(level)
    count = np.zeros(n_series)
    fitted = np.full((n_series, n_periods), np.nan) if keep_fitted else None
    first_step = int(start.min()) + 1 if n_series else n_periods
    for t in range(first_step, n_periods):
        active = t > start
        if keep_fitted:
            fitted[:, t] = np.where(active, level[:, 0], np.nan)
        error = np.where(active[:, None], panel[:, t, None] - level, 0.0)
        sse += error * error
        count += active
        level = level + alphas * error
    return level, sse, count, fitted


def ses(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    alpha: float | np.ndarray | None = None,
    alpha_grid: Sequence[float] = SES_ALPHA_GRID,
) -> MethodForecast:
    """Simple exponential smoothing, vectorized across series.

    Parameters
    ----------
    values : array_like, shape (n_series, n_periods) or (n_periods,)
        The panel (``NaN`` before each series' start).
    horizon : int
        Number of periods to forecast.
    alpha : float or array, optional
        Smoothing constant (one for all, or one per series). When omitted, each
        series gets the constant of ``alpha_grid`` with the smallest in-sample
        one-step mean squared error.
    alpha_grid : sequence of float
        Constants searched when ``alpha`` is None.

    Returns
    -------
    MethodForecast
        Flat forecast at the last level; variance ``sigma**2 * (1 + (h-1) alpha**2)``
        with ``sigma**2`` the in-sample one-step mean squared error. ``params``
        holds ``alpha``.

    Examples
    --------
    Level starts at 10, then ``10 + 0.5 * (20 - 10) = 15``:

    >>> ses([10.0, 20.0], 1, alpha=0.5).forecast
    array([15.])
    """
    panel, squeeze = as_panel(values)
    n_series = panel.shape[0]
    start = first_valid_index(panel)
    if alpha is None:
        grid = np.broadcast_to(np.asarray(alpha_grid, dtype=float), (n_series, len(alpha_grid)))
        _, sse, count, _ = _ses_pass(panel, grid, start, keep_fitted=False)
        best = np.argmin(sse, axis=1)
        chosen = grid[np.arange(n_series), best]
    else:
        chosen = np.broadcast_to(np.asarray(alpha, dtype=float), (n_series,)).copy()
    level, sse, count, fitted = _ses_pass(panel, chosen[:, None], start, keep_fitted=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(count > 0, sse[:, 0] / np.maximum(count, 1), np.nan)
    # A single observation gives no one-step error; use a Poisson-like variance.
    sigma2 = np.where(np.isnan(sigma2), np.abs(level[:, 0]), sigma2)
    forecast = np.repeat(level[:, :1], horizon, axis=1)
    variance = sigma2[:, None] * _ses_variance_growth(chosen, horizon)
    return _finish(MethodForecast(forecast, variance, fitted, {"alpha": chosen}), squeeze)


def seasonal_naive(
    values: np.ndarray | Sequence[float], horizon: int, *, season_length: int = 52
) -> MethodForecast:
    """Seasonal naive: each future week repeats the same week one season earlier.

    Series with fewer than ``season_length`` observations get ``NaN`` (the method
    does not apply). The variance is the mean squared seasonal difference, growing
    by one such term per full season ahead.

    Examples
    --------
    >>> seasonal_naive([1.0, 2.0, 3.0, 4.0], 3, season_length=2).forecast
    array([3., 4., 3.])
    """
    panel, squeeze = as_panel(values)
    n_series, n_periods = panel.shape
    n_obs = n_observations(panel)
    steps = np.arange(horizon)
    if n_periods >= season_length:
        source = n_periods - season_length + (steps % season_length)
        forecast = panel[:, source]
        diffs = panel[:, season_length:] - panel[:, :-season_length]
        with np.errstate(invalid="ignore"):
            count = (~np.isnan(diffs)).sum(axis=1)
            sigma2 = np.where(count > 0, np.nansum(diffs**2, axis=1) / np.maximum(count, 1), np.nan)
    else:
        forecast = np.full((n_series, horizon), np.nan)
        sigma2 = np.full(n_series, np.nan)
    # Without a seasonal difference to learn from, use the forecast itself (Poisson-like).
    with np.errstate(invalid="ignore"):
        counted = (~np.isnan(forecast)).sum(axis=1)
        level = np.where(
            counted > 0, np.nansum(np.abs(forecast), axis=1) / np.maximum(counted, 1), np.nan
        )
    sigma2 = np.where(np.isnan(sigma2), level, sigma2)
    applicable = n_obs >= season_length
    forecast = np.where(applicable[:, None], forecast, np.nan)
    variance = sigma2[:, None] * (1.0 + steps // season_length)[None, :]
    variance = np.where(applicable[:, None], variance, np.nan)
    fitted = np.full_like(panel, np.nan)
    if n_periods > season_length:
        fitted[:, season_length:] = panel[:, :-season_length]
    return _finish(MethodForecast(forecast, variance, fitted, {}), squeeze)


def _fourier_terms(positions: np.ndarray, season_length: int, harmonics: int) -> np.ndarray:
    """Sine/cosine columns of the first ``harmonics`` harmonics at ``positions``."""
    angle = 2 * np.pi * positions[:, None] * np.arange(1, harmonics + 1)[None, :] / season_length
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


def seasonal_profile(
    values: np.ndarray | Sequence[float],
    *,
    season_length: int = 52,
    harmonics: int = 2,
) -> np.ndarray:
    """Estimate a smooth multiplicative seasonal index per series and period.

    The ratio of demand to its trailing one-season moving average (shifted half a
    season to centre it) is regressed on the first ``harmonics`` Fourier terms of
    the week-in-season, series by series but in one batched solve. Weekly data are
    too noisy for 52 free indices per season; a few harmonics keep the broad
    shape (summer slowdown, year-end dip) and drop the noise. The coefficients are
    then shrunk by ``max(0, 1 - 1/F)``, ``F`` the regression's F statistic, so a
    season the data barely show is mostly flattened. Series with fewer than two
    seasons of data, or no demand, get a flat index of 1.

    Returns
    -------
    ndarray, shape (n_series, season_length)
        Index per position ``t mod season_length`` of the panel's columns.
    """
    panel, _ = as_panel(values)
    n_series, n_periods = panel.shape
    n_obs = n_observations(panel)
    flat = np.ones((n_series, season_length))
    if n_periods < 2 * season_length:
        return flat
    filled = np.nan_to_num(panel)
    cumulative = np.concatenate([np.zeros((n_series, 1)), np.cumsum(filled, axis=1)], axis=1)
    trailing = (cumulative[:, season_length:] - cumulative[:, :-season_length]) / season_length
    # trailing[:, j] averages periods j .. j+m-1; centre it on period j + m//2.
    centred = np.full_like(panel, np.nan)
    half = season_length // 2
    centred[:, half : half + trailing.shape[1]] = trailing
    start = first_valid_index(panel)
    window_ok = (np.arange(n_periods)[None, :] - half) >= start[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(window_ok & (centred > 0), panel / centred, np.nan)
    weights = (~np.isnan(ratio)).astype(float)
    target = np.nan_to_num(ratio - 1.0)
    design = _fourier_terms(np.arange(n_periods) % season_length, season_length, harmonics)
    gram = np.einsum("nt,ti,tj->nij", weights, design, design)
    rhs = np.einsum("nt,ti,nt->ni", weights, design, target)
    gram += 1e-6 * np.eye(design.shape[1])[None]
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    # Shrink towards no seasonality by how clearly the data show it (positive-part
    # James-Stein on the F statistic): pure noise gets a flat profile instead of a
    # random wiggle, a strong season is kept almost whole.
    fitted = coef @ design.T
    n_terms = design.shape[1]
    explained = (weights * fitted**2).sum(axis=1) / n_terms
    residual = (weights * (target - fitted) ** 2).sum(axis=1) / np.maximum(
        weights.sum(axis=1) - n_terms, 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        f_statistic = explained / residual
        shrink = np.clip(np.nan_to_num(1.0 - 1.0 / f_statistic), 0.0, 1.0)
    coef = coef * shrink[:, None]
    profile = 1.0 + coef @ _fourier_terms(np.arange(season_length), season_length, harmonics).T
    # A seasonal index must stay positive; keep it within a plausible band.
    profile = np.clip(profile, 0.2, 3.0)
    enough = (n_obs >= 2 * season_length) & (weights.sum(axis=1) >= season_length)
    return np.where(enough[:, None], profile, flat)


def seasonal_ses(
    values: np.ndarray | Sequence[float],
    horizon: int,
    *,
    season_length: int = 52,
    harmonics: int = 2,
    alpha: float | np.ndarray | None = None,
) -> MethodForecast:
    """SES on seasonally adjusted demand, re-seasonalized with a smooth profile.

    Demand is divided by :func:`seasonal_profile`, smoothed with :func:`ses`, and
    the flat level is multiplied back by the profile of each future week. It
    costs the same as SES and captures weekly seasonality without fitting a
    52-state Holt-Winters model (about 84 ms a series in statsmodels). Series
    with fewer than two seasons of history get ``NaN`` (not applicable).
    """
    panel, squeeze = as_panel(values)
    n_periods = panel.shape[1]
    profile = seasonal_profile(panel, season_length=season_length, harmonics=harmonics)
    position = np.arange(n_periods) % season_length
    adjusted = panel / profile[:, position]
    base = ses(adjusted, horizon, alpha=alpha)
    future = (n_periods + np.arange(horizon)) % season_length
    future_index = profile[:, future]
    forecast = base.forecast * future_index
    variance = base.variance * future_index**2
    fitted = base.fitted * profile[:, position]
    applicable = n_observations(panel) >= 2 * season_length
    forecast = np.where(applicable[:, None], forecast, np.nan)
    variance = np.where(applicable[:, None], variance, np.nan)
    params = {"alpha": base.params["alpha"], "seasonal_amplitude": np.ptp(profile, axis=1) / 2}
    return _finish(MethodForecast(forecast, variance, fitted, params), squeeze)
