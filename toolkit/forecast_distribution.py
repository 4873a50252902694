"""Predictive distributions of weekly demand: quantiles, sample paths and calibration.

Every method gives, per series and step ahead, a mean (the point forecast) and a
variance. This module turns the pair into a distribution of one of three
families, chosen by demand pattern, and derives from that *one* distribution both
the quantiles and the Monte-Carlo sample paths, so they always agree:

``normal``
    Smooth and erratic demand: a normal distribution censored at zero (demand
    cannot be negative, so the mass below zero sits at zero). Quantile ``q`` is
    ``max(0, mean + z_q * sd)``; samples are clipped normals.
``count``
    Intermittent, lumpy and new series: a negative binomial with the given mean and
    variance (a Poisson-gamma mixture: the weekly demand rate varies, orders arrive
    as counts); a Poisson when the variance does not exceed the mean. It puts a
    real probability on zero and never goes below it.
``zero``
    Inactive series: all mass at zero.

Method variances are model-based and often too narrow or too wide for real demand,
so each family's standard deviation is multiplied by a *scale* fitted on backtest
errors: :func:`calibrate_scale` finds the scale at which the central band between
the outermost requested quantiles covers its nominal share of the backtest's
actual demand (a split-conformal style correction, computed only from data before
each backtest origin). Coverage is counted on the randomized probability integral
transform (:func:`pit_band_share`): weeks without demand always fall inside a count
band, so for intermittent demand the plain share of weeks inside the band cannot
come down to the nominal share, while the PIT share of a calibrated forecast does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special, stats

__all__ = [
    "FAMILY_BY_PATTERN",
    "quantile_column",
    "quantile_columns",
    "distribution_quantiles",
    "sample_distribution",
    "interval_coverage",
    "band_coverage",
    "pit_band_share",
    "calibrate_scale",
]

#: Distribution family per demand pattern.
FAMILY_BY_PATTERN: dict[str, str] = {
    "smooth": "normal",
    "erratic": "normal",
    "intermittent": "count",
    "lumpy": "count",
    "new": "count",
    "inactive": "zero",
}

# Below this variance-to-mean excess the negative binomial is numerically a Poisson.
_POISSON_TOLERANCE = 1e-3


def quantile_column(level: float) -> str:
    """Return the column name of a quantile level, e.g. ``0.05 -> "q0.05"``.

    Examples
    --------
    >>> [quantile_column(q) for q in (0.05, 0.5, 0.95)]
    ['q0.05', 'q0.5', 'q0.95']
    """
    return f"q{float(level):g}"


def quantile_columns(levels: Sequence[float]) -> list[str]:
    """Return the column names of several quantile levels."""
    return [quantile_column(q) for q in levels]


def _count_parameters(mean: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Negative binomial ``(r, p)`` with the given mean and variance (where variance > mean)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = variance - mean
        r = mean * mean / excess
        p = mean / variance
    return r, p


def _prepare(
    mean: np.ndarray, variance: np.ndarray, family: np.ndarray, scale: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = np.clip(np.nan_to_num(np.asarray(mean, dtype=float)), 0.0, None)
    variance = np.clip(np.nan_to_num(np.asarray(variance, dtype=float)), 0.0, None)
    family = np.broadcast_to(np.asarray(family, dtype=object), mean.shape[:1])
    scale = np.broadcast_to(np.asarray(scale, dtype=float), mean.shape[:1])
    variance = variance * (scale**2)[:, None]
    return mean, variance, family


def distribution_quantiles(
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    levels: Sequence[float],
    *,
    scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Return quantiles of each series' predictive distribution.

    Parameters
    ----------
    mean, variance : ndarray, shape (n_series, horizon)
        Mean and (uncalibrated) variance per step; negative or ``NaN`` means are
        taken as zero.
    family : str or array of str, shape (n_series,)
        ``normal``, ``count`` or ``zero`` per series.
    levels : sequence of float
        Quantile levels in (0, 1).
    scale : float or array, shape (n_series,)
        Multiplier of the standard deviation (from :func:`calibrate_scale`).

    Returns
    -------
    ndarray, shape (n_series, horizon, n_levels)
        Non-negative, non-decreasing in the level.

    Examples
    --------
    >>> q = distribution_quantiles(np.array([[1.0]]), np.array([[4.0]]), "normal", [0.05, 0.95])
    >>> q.round(3).tolist()
    [[[0.0, 4.29]]]
    """
    mean, variance, family = _prepare(mean, variance, family, scale)
    levels = np.asarray(levels, dtype=float)
    out = np.zeros((*mean.shape, len(levels)))
    normal = family == "normal"
    if normal.any():
        sd = np.sqrt(variance[normal])
        z = stats.norm.ppf(levels)
        out[normal] = mean[normal][..., None] + sd[..., None] * z
    count = family == "count"
    if count.any():
        m, v = mean[count], variance[count]
        q = np.zeros((*m.shape, len(levels)))
        positive = m > 0
        poisson = positive & (v <= m * (1 + _POISSON_TOLERANCE))
        negbin = positive & ~poisson
        for k, level in enumerate(levels):
            if poisson.any():
                q[..., k][poisson] = stats.poisson.ppf(level, m[poisson])
            if negbin.any():
                r, p = _count_parameters(m[negbin], v[negbin])
                q[..., k][negbin] = stats.nbinom.ppf(level, r, p)
        out[count] = q
    out = np.clip(np.nan_to_num(out), 0.0, None)
    # Rounding inside ppf can break monotonicity by an ulp; quantiles must not cross.
    return np.maximum.accumulate(out, axis=-1)


def _count_cdf(x: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """CDF at ``x`` of the count family (Poisson or negative binomial), elementwise."""
    out = np.where(x >= 0, 1.0, 0.0)
    positive = mean > 0
    poisson = positive & (variance <= mean * (1 + _POISSON_TOLERANCE))
    negbin = positive & ~poisson
    if poisson.any():
        out[poisson] = stats.poisson.cdf(x[poisson], mean[poisson])
    if negbin.any():
        r, p = _count_parameters(mean[negbin], variance[negbin])
        out[negbin] = stats.nbinom.cdf(x[negbin], r, p)
    return out


def _points_by_family(
    actual: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    scale: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Actuals, scaled means and variances, and per family the mask of known points."""
    actual = np.asarray(actual, dtype=float)
    mean, variance, family = _prepare(mean, variance, family, scale)
    family_full = np.broadcast_to(family[:, None], actual.shape)
    known = ~np.isnan(actual)
    masks = {name: (family_full == name) & known for name in ("normal", "count", "zero")}
    return actual, mean, variance, masks


def band_coverage(
    actual: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    lower: float,
    upper: float,
    *,
    scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Return, per point, whether ``actual`` lies in the band of quantiles ``lower``-``upper``.

    Shapes as :func:`distribution_quantiles`; ``NaN`` actuals give ``NaN``. For the
    count family this is computed from the CDF (a point ``y`` is above the lower
    quantile when ``F(floor(y)) >= lower`` and below the upper one when
    ``F(ceil(y) - 1) < upper``), which is exact and much faster than quantiles.
    """
    actual, mean, variance, masks = _points_by_family(actual, mean, variance, family, scale)
    covered = np.full(actual.shape, np.nan)
    normal, count, zero = masks["normal"], masks["count"], masks["zero"]
    if normal.any():
        sd = np.sqrt(variance[normal])
        lo = np.maximum(mean[normal] + sd * stats.norm.ppf(lower), 0.0)
        hi = np.maximum(mean[normal] + sd * stats.norm.ppf(upper), 0.0)
        covered[normal] = (actual[normal] >= lo - 1e-9) & (actual[normal] <= hi + 1e-9)
    if count.any():
        y = actual[count]
        m, v = mean[count], variance[count]
        above = _count_cdf(np.floor(y + 1e-9), m, v) >= lower - 1e-12
        below = _count_cdf(np.ceil(y - 1e-9) - 1.0, m, v) < upper - 1e-12
        covered[count] = above & below
    covered[zero] = actual[zero] <= 1e-9
    return covered


def pit_band_share(
    actual: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    lower: float,
    upper: float,
    *,
    scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Return, per point, the chance that its randomized PIT value lies in ``[lower, upper]``.

    The probability integral transform ``F(y)`` of a calibrated forecast is uniform,
    so ``upper - lower`` of the points fall between the two levels. For discrete
    demand ``F`` jumps: a point ``y`` stands for the whole PIT interval
    ``[F(y - 1), F(y)]`` and counts with the share of it inside the levels
    (Czado, Gneiting and Held 2009, *Predictive model assessment for count data*).
    Averaged over points this is the band coverage a calibrated forecast reaches,
    90% for 5%-95%, whatever mass it puts on zero; a count band itself always holds
    every week without demand, so its plain coverage (:func:`band_coverage`) cannot
    come down to 90% for demand that is zero more often than that.

    Shapes as :func:`band_coverage`; ``NaN`` actuals give ``NaN``. The normal family
    is censored at zero, so a zero actual stands for ``[0, F(0)]``; elsewhere it is
    continuous and the share is 0 or 1, the plain coverage.

    Examples
    --------
    Poisson(0.5): ``F(0) = 0.607``, ``F(1) = 0.910``. A zero week is 92% inside the
    5%-95% levels, a week of 1 entirely, a week of 2 (``F(1)`` to ``F(2) = 0.986``)
    for the 0.040 of its 0.076 below 0.95:

    >>> y = np.array([[0.0, 1.0, 2.0]])
    >>> pit_band_share(y, np.full((1, 3), 0.5), np.full((1, 3), 0.5), "count", 0.05, 0.95).round(3)
    array([[0.918, 1.   , 0.53 ]])
    """
    actual, mean, variance, masks = _points_by_family(actual, mean, variance, family, scale)
    below = np.full(actual.shape, np.nan)  # F just below y
    at = np.full(actual.shape, np.nan)  # F(y)
    normal, count, zero = masks["normal"], masks["count"], masks["zero"]
    if normal.any():
        y, m = actual[normal], mean[normal]
        sd = np.sqrt(variance[normal])
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, (y - m) / sd, np.where(y >= m, np.inf, -np.inf))
        # Censored at zero: F is 0 below zero, and zero holds the mass [0, F(0)].
        at[normal] = np.where(y < -1e-9, 0.0, stats.norm.cdf(z))
        below[normal] = np.where(y <= 1e-9, 0.0, at[normal])
    if count.any():
        k = np.floor(actual[count] + 1e-9)
        m, v = mean[count], variance[count]
        at[count] = _count_cdf(k, m, v)
        below[count] = _count_cdf(k - 1.0, m, v)
    at[zero] = 1.0
    below[zero] = np.where(actual[zero] <= 1e-9, 0.0, 1.0)
    width = at - below
    overlap = np.clip(np.minimum(at, upper) - np.maximum(below, lower), 0.0, None)
    point = ((at >= lower) & (at <= upper)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(width > 1e-12, overlap / width, point)
    share[np.isnan(actual)] = np.nan
    return share


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Return the share of non-``NaN`` actuals within ``[lower, upper]``."""
    actual = np.asarray(actual, dtype=float)
    known = ~np.isnan(actual)
    if not known.any():
        return float("nan")
    inside = (actual >= np.asarray(lower) - 1e-9) & (actual <= np.asarray(upper) + 1e-9)
    return float(inside[known].mean())


def calibrate_scale(
    actual: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    lower: float,
    upper: float,
    *,
    bounds: tuple[float, float] = (0.3, 5.0),
    n_grid: int = 33,
    min_points: int = 50,
    max_points: int = 40_000,
    seed: int = 0,
    metric: str = "pit",
) -> tuple[float, float, int]:
    """Find the standard-deviation multiplier at which the band covers its nominal share.

    Parameters
    ----------
    actual, mean, variance : ndarray, shape (n_series, n_points)
        Backtest actuals and the forecasts' means and variances at those points.
    family : str or array, shape (n_series,)
        Distribution family per series.
    lower, upper : float
        The band's quantile levels; the target coverage is ``upper - lower``.
    bounds : (float, float)
        Range searched for the multiplier.
    n_grid : int
        Multipliers tried, evenly spaced on a log scale over ``bounds``; the best
        one's neighbourhood is then searched on a finer grid.
    min_points : int
        With fewer backtest points the multiplier stays 1 (nothing to learn from).
    max_points : int
        Points sampled (with a fixed seed) when there are more, to bound the cost.
    metric : {"pit", "band"}
        What counts as covered: ``"pit"`` the randomized PIT share of
        :func:`pit_band_share` (the default: a calibrated discrete forecast reaches
        the target), ``"band"`` the plain share of actuals inside the band of
        :func:`band_coverage` (discrete demand then often stays above the target: a
        band cannot hold less than the weeks without demand).

    Returns
    -------
    (scale, coverage, n_points)
        The multiplier, the backtest coverage it reaches (by ``metric``) and the
        points used. The multiplier is the one of the grid coming closest to the
        target, among those no wider than the first multiplier of highest coverage
        (beyond it, a count distribution only gains coverage of zero weeks by
        losing the others).
    """
    if metric not in ("pit", "band"):
        raise ValueError(f"calibrate_scale: metric must be 'pit' or 'band', not {metric!r}")
    share = pit_band_share if metric == "pit" else band_coverage
    actual = np.asarray(actual, dtype=float)
    target = upper - lower
    family = np.broadcast_to(np.asarray(family, dtype=object), actual.shape[:1])
    rows, cols = np.nonzero(~np.isnan(actual) & ~np.isnan(np.asarray(mean, dtype=float)))
    n_points = len(rows)
    if n_points < min_points:
        return 1.0, float("nan"), n_points
    if n_points > max_points:
        pick = np.random.default_rng(seed).choice(n_points, max_points, replace=False)
        rows, cols = rows[pick], cols[pick]
    y = actual[rows, cols][:, None]
    m = np.asarray(mean, dtype=float)[rows, cols][:, None]
    v = np.asarray(variance, dtype=float)[rows, cols][:, None]
    fam = family[rows]

    def coverage(scale: float) -> float:
        return float(np.nanmean(share(y, m, v, fam, lower, upper, scale=scale)))

    # Coverage is not monotone in the scale for counts: a wider negative binomial at
    # the same mean piles mass on zero and lowers its upper quantile, so past some
    # width coverage falls again. Reaching the target there would mean a band that
    # misses every week with a little demand (an upper quantile of 0 for a series
    # selling in a quarter of its weeks), so only scales up to the widest useful one
    # (the first of highest coverage) are candidates. Of those, the one closest to
    # the target wins, the smallest on ties; discrete demand may stay above target.
    grid = np.geomspace(bounds[0], bounds[1], n_grid)
    reached = np.array([coverage(s) for s in grid])
    peak = int(np.argmax(np.round(reached, 6)))
    best = int(np.argmin(np.round(np.abs(reached[: peak + 1] - target), 6)))
    # Refine between the best point's neighbours (not beyond the peak).
    fine = np.geomspace(grid[max(best - 1, 0)], grid[min(best + 1, peak)], 17)
    fine_reached = np.array([coverage(s) for s in fine])
    grid = np.concatenate([grid[: peak + 1], fine])
    reached = np.concatenate([reached[: peak + 1], fine_reached])
    gap = np.round(np.abs(reached - target), 6)
    best = int(np.lexsort((grid, gap))[0])
    return float(grid[best]), float(reached[best]), n_points


def _ar1_normals(
    rng: np.random.Generator, shape: tuple[int, int, int], correlation: float
) -> np.ndarray:
    """Standard normals whose steps (last axis) follow an AR(1) with the given correlation."""
    z = rng.standard_normal(shape)
    if correlation <= 0:
        return z
    out = np.empty_like(z)
    out[..., 0] = z[..., 0]
    innovation = np.sqrt(1 - correlation**2)
    for h in range(1, shape[-1]):
        out[..., h] = correlation * out[..., h - 1] + innovation * z[..., h]
    return out


def sample_distribution(
    mean: np.ndarray,
    variance: np.ndarray,
    family: np.ndarray | Sequence[str] | str,
    n_paths: int,
    *,
    scale: np.ndarray | float = 1.0,
    seed: int | np.random.Generator | None = None,
    step_correlation: float = 0.0,
) -> np.ndarray:
    """Draw demand sample paths from the predictive distributions.

    Parameters
    ----------
    mean, variance : ndarray, shape (n_series, horizon)
        Mean and (uncalibrated) variance per step.
    family : str or array of str, shape (n_series,)
        Distribution family per series.
    n_paths : int
        Paths per series.
    scale : float or array
        Standard-deviation multiplier (as for the quantiles).
    seed : int or Generator, optional
        Random seed; the same seed gives the same paths.
    step_correlation : float
        Correlation between consecutive weeks of a path (Gaussian copula with
        AR(1) structure). 0 draws weeks independently. Either way each week's
        marginal distribution is exactly the one the quantiles come from.

    Returns
    -------
    ndarray, shape (n_series, n_paths, horizon)
        Non-negative demand paths.
    """
    rng = np.random.default_rng(seed)
    mean, variance, family = _prepare(mean, variance, family, scale)
    n_series, horizon = mean.shape
    out = np.zeros((n_series, n_paths, horizon))
    if n_series == 0:
        return out
    normal = family == "normal"
    count = family == "count"
    z = _ar1_normals(rng, (n_series, n_paths, horizon), step_correlation)
    if normal.any():
        sd = np.sqrt(variance[normal])[:, None, :]
        out[normal] = np.maximum(mean[normal][:, None, :] + sd * z[normal], 0.0)
    if count.any():
        m = np.broadcast_to(mean[count][:, None, :], (count.sum(), n_paths, horizon))
        v = np.broadcast_to(variance[count][:, None, :], m.shape)
        draws = np.zeros(m.shape)
        positive = m > 0
        poisson = positive & (v <= m * (1 + _POISSON_TOLERANCE))
        negbin = positive & ~poisson
        if step_correlation > 0:
            # Copula: push correlated normals through each week's count quantile function.
            u = np.clip(special.ndtr(z[count]), 1e-12, 1 - 1e-12)
            if poisson.any():
                draws[poisson] = stats.poisson.ppf(u[poisson], m[poisson])
            if negbin.any():
                r, p = _count_parameters(m[negbin], v[negbin])
                draws[negbin] = stats.nbinom.ppf(u[negbin], r, p)
        else:
            if poisson.any():
                draws[poisson] = rng.poisson(m[poisson])
            if negbin.any():
                r, _ = _count_parameters(m[negbin], v[negbin])
                # Poisson-gamma mixture: rate ~ Gamma(r, mean / r), demand ~ Poisson(rate).
                draws[negbin] = rng.poisson(rng.gamma(r, m[negbin] / r))
        out[count] = draws
    return np.clip(np.nan_to_num(out), 0.0, None)
