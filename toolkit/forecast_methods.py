"""The forecasting methods the toolkit chooses from, behind one calling convention.

Each method maps a panel of weekly demand (``(n_series, n_weeks)``, ``NaN`` before a
series' start, see :mod:`toolkit.smoothing`) and a horizon to a mean and a variance
per series and step. Vectorized methods handle the whole panel in one numpy pass;
statsmodels methods (ETS with damped trend, SARIMAX with event regressors) run
series by series, each fit inside ``warnings.catch_warnings(record=True)`` so that
convergence and estimation warnings land in a diagnostics table instead of the
console. A fit that raises gives ``NaN`` for that series (the method is then not
a candidate for it) and an ``error`` row in the diagnostics.

The toolkit's calendar is a ``W-MON`` DatetimeIndex with its frequency set, but the
statsmodels models receive each series on a ``RangeIndex`` of week numbers: with a
weekly DatetimeIndex pandas regenerates the (non-fixed-length) weekly range over
and over inside the fit, and a damped ETS fit took 35 ms instead of 16 ms. A
RangeIndex raises no frequency warning either; dates are put back on the results.

=================  ==========  =====================================================
method             min. weeks  what it is
=================  ==========  =====================================================
``zero``           0           no demand (inactive series)
``mean``           1           mean of the whole history
``recent_mean``    1           mean of the last half of the weeks since the first
                               demand (new series: launches, new listings)
``seasonal_naive`` season      the same week one season earlier (FVA benchmark)
``ses``            2           simple exponential smoothing (vectorized)
``seasonal_ses``   2 seasons   SES on demand adjusted by a smooth seasonal profile
``ets_damped``     16          statsmodels ``ETSModel`` (A,Ad,N): damped trend
``sarimax``        26          statsmodels ``SARIMAX`` (0,1,1) with event regressors
``croston``        4           Croston (vectorized, :mod:`toolkit.intermittent`)
``sba``            4           Syntetos-Boylan approximation
``tsb``            4           Teunter-Syntetos-Babai
``adida``          4           temporal aggregation, SES, even disaggregation
``imapa``          4           mean over aggregation levels
``combination``    2           mean of ``ses``, ``ets_damped`` and ``seasonal_ses``
=================  ==========  =====================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit import intermittent, smoothing
from toolkit.parallel import single_threaded_blas

__all__ = [
    "METHODS",
    "COMBINATIONS",
    "DEFAULT_CANDIDATES",
    "DEFAULT_METHOD",
    "MethodContext",
    "MethodOutput",
    "ForecastMethod",
    "minimum_history",
    "run_method",
    "combine_outputs",
]


@dataclass(frozen=True)
class MethodContext:
    """What a method may know besides the demand it is fitted on.

    Attributes
    ----------
    series_ids : ndarray of str
        Ids of the panel's rows (for diagnostics).
    dates : DatetimeIndex
        The panel's weeks (frequency ``W-MON``), as many as its columns.
    season_length : int
        Weeks per season.
    exog_history : ndarray, shape (n_series, n_weeks, n_exog), optional
        Exogenous regressors over the fitted weeks.
    exog_future : ndarray, shape (n_series, horizon, n_exog), optional
        Their values over the horizon (known future events).
    exog_names : list of str
        Names of the exogenous columns.
    warm_start : dict, optional
        Parameters of earlier fits by ``(method, series_id)``. Backtest origins run
        oldest first, so a statsmodels fit starts its optimizer where the same
        series' fit at the previous origin ended: fewer iterations (a damped ETS fit
        took 6 ms instead of 15), and no look-ahead, since earlier origins saw less.
    """

    series_ids: np.ndarray
    dates: pd.DatetimeIndex
    season_length: int = 52
    exog_history: np.ndarray | None = None
    exog_future: np.ndarray | None = None
    exog_names: list[str] = field(default_factory=list)
    warm_start: dict | None = None


@dataclass(frozen=True)
class MethodOutput:
    """Mean and variance per series and step, with what the fits reported.

    ``diagnostics`` rows have ``series_id, method, category, message``;
    ``coefficients`` rows (SARIMAX event effects) have ``series_id, method, term,
    estimate, std_error``.
    """

    forecast: np.ndarray
    variance: np.ndarray
    diagnostics: list[dict] = field(default_factory=list)
    coefficients: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class ForecastMethod:
    """A named method: how much history it needs and how to run it."""

    name: str
    min_history: Callable[[int], int]
    run: Callable[[np.ndarray, int, MethodContext], MethodOutput]
    uses_exog: bool = False


def _vectorized(name: str, func: Callable[..., smoothing.MethodForecast], **kwargs) -> Callable:
    def run(values: np.ndarray, horizon: int, context: MethodContext) -> MethodOutput:
        diagnostics: list[dict] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = func(values, horizon, **kwargs)
        for warning in caught:
            diagnostics.append(
                {
                    "series_id": "*",
                    "method": name,
                    "category": warning.category.__name__,
                    "message": str(warning.message),
                }
            )
        return MethodOutput(result.forecast, result.variance, diagnostics)

    return run


def _seasonal(name: str, func: Callable[..., smoothing.MethodForecast]) -> Callable:
    def run(values: np.ndarray, horizon: int, context: MethodContext) -> MethodOutput:
        seasonal = _vectorized(name, func, season_length=context.season_length)
        return seasonal(values, horizon, context)

    return run


def _zero(values: np.ndarray, horizon: int, context: MethodContext) -> MethodOutput:
    shape = (values.shape[0], horizon)
    return MethodOutput(np.zeros(shape), np.zeros(shape))


def _per_series(name: str, fit_one: Callable[..., tuple]) -> Callable:
    """Run ``fit_one`` on every series, recording its warnings and errors.

    BLAS is held to one thread meanwhile (see :mod:`toolkit.parallel`): the fits
    are small and many, and extra BLAS threads only contend for the cores.
    """

    def run(values: np.ndarray, horizon: int, context: MethodContext) -> MethodOutput:
        n_series, n_weeks = values.shape
        forecast = np.full((n_series, horizon), np.nan)
        variance = np.full((n_series, horizon), np.nan)
        diagnostics: list[dict] = []
        coefficients: list[dict] = []
        start = smoothing.first_valid_index(values)
        with single_threaded_blas():
            for i in range(n_series):
                if start[i] >= n_weeks:
                    continue
                # statsmodels gets week numbers, not dates (see the module docstring).
                series = pd.Series(values[i, start[i] :], index=pd.RangeIndex(start[i], n_weeks))
                exog = future = None
                if context.exog_history is not None:
                    exog = context.exog_history[i, start[i] :]
                    future = context.exog_future[i] if context.exog_future is not None else None
                series_id = str(context.series_ids[i])
                key = (name, series_id)
                start_params = None if context.warm_start is None else context.warm_start.get(key)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        mean, var, coefs, params = fit_one(
                            series, horizon, exog, future, context.exog_names, start_params
                        )
                        if context.warm_start is not None:
                            context.warm_start[key] = params
                    except Exception as error:  # one bad series must not stop thousands
                        diagnostics.append(
                            {
                                "series_id": series_id,
                                "method": name,
                                "category": "error",
                                "message": f"{type(error).__name__}: {error}",
                            }
                        )
                        mean = var = None
                        coefs = []
                for warning in caught:
                    diagnostics.append(
                        {
                            "series_id": series_id,
                            "method": name,
                            "category": warning.category.__name__,
                            "message": str(warning.message),
                        }
                    )
                if mean is not None:
                    forecast[i], variance[i] = mean, var
                for term, estimate, std_error in coefs:
                    coefficients.append(
                        {
                            "series_id": series_id,
                            "method": name,
                            "term": term,
                            "estimate": estimate,
                            "std_error": std_error,
                        }
                    )
        return MethodOutput(forecast, variance, diagnostics, coefficients)

    return run


def _fit_ets_damped(
    series: pd.Series,
    horizon: int,
    exog: np.ndarray | None,
    future: np.ndarray | None,
    names: list[str],
    start_params: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(series, error="add", trend="add", damped_trend=True)
    result = model.fit(disp=False, maxiter=200, start_params=start_params)
    n = len(series)
    prediction = result.get_prediction(start=n, end=n + horizon - 1)
    mean = np.asarray(prediction.predicted_mean, dtype=float)
    variance = np.asarray(prediction.forecast_variance, dtype=float)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(variance))):
        raise FloatingPointError("ETS produced a non-finite forecast")
    return mean, variance, [], np.asarray(result.params)


def _fit_sarimax(
    series: pd.Series,
    horizon: int,
    exog: np.ndarray | None,
    future: np.ndarray | None,
    names: list[str],
    start_params: tuple | None,
) -> tuple[np.ndarray, np.ndarray, list, tuple]:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if exog is None:
        raise ValueError("no exogenous regressors")
    # Only regressors that vary in the fitted window can be estimated.
    keep = np.flatnonzero(np.ptp(exog, axis=0) > 0)
    if keep.size == 0:
        raise ValueError("no event in the fitted window")
    regressors = pd.DataFrame(exog[:, keep], index=series.index, columns=[names[k] for k in keep])
    # Concentrating the scale out of the likelihood leaves one parameter less to search.
    model = SARIMAX(series, exog=regressors, order=(0, 1, 1), concentrate_scale=True)
    start = None
    if start_params is not None and start_params[0] == list(regressors.columns):
        start = start_params[1]
    result = model.fit(disp=False, maxiter=100, start_params=start)
    ahead = future[:, keep] if future is not None else np.zeros((horizon, keep.size), dtype=float)
    prediction = result.get_forecast(steps=horizon, exog=ahead)
    mean = np.asarray(prediction.predicted_mean, dtype=float)
    variance = np.asarray(prediction.var_pred_mean, dtype=float)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(variance))):
        raise FloatingPointError("SARIMAX produced a non-finite forecast")
    params, errors = result.params, result.bse
    coefs = [(name, float(params[name]), float(errors[name])) for name in regressors.columns]
    return mean, variance, coefs, (list(regressors.columns), np.asarray(params))


#: Forecast combinations: the mean of the named methods' forecasts (and variances)
#: where they apply. Combining is a robust hedge against choosing the wrong single
#: model from a short backtest (Makridakis et al., M4).
COMBINATIONS: dict[str, tuple[str, ...]] = {
    "combination": ("ses", "ets_damped", "seasonal_ses"),
}


def combine_outputs(outputs: Sequence[MethodOutput]) -> MethodOutput:
    """Average several methods' outputs where each applies (``NaN`` where none does)."""
    forecasts = np.stack([o.forecast for o in outputs])
    variances = np.stack([o.variance for o in outputs])
    counted = (~np.isnan(forecasts)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        forecast = np.where(counted > 0, np.nansum(forecasts, axis=0) / counted, np.nan)
        variance = np.where(counted > 0, np.nansum(variances, axis=0) / counted, np.nan)
    diagnostics = [row for o in outputs for row in o.diagnostics]
    coefficients = [row for o in outputs for row in o.coefficients]
    return MethodOutput(forecast, variance, diagnostics, coefficients)


def _combination(name: str) -> Callable:
    def run(values: np.ndarray, horizon: int, context: MethodContext) -> MethodOutput:
        outputs = [run_method(part, values, horizon, context) for part in COMBINATIONS[name]]
        return combine_outputs(outputs)

    return run


METHODS: dict[str, ForecastMethod] = {
    method.name: method
    for method in (
        ForecastMethod("zero", lambda m: 0, _zero),
        ForecastMethod("mean", lambda m: 1, _vectorized("mean", smoothing.historical_mean)),
        ForecastMethod(
            "recent_mean", lambda m: 1, _vectorized("recent_mean", smoothing.recent_mean)
        ),
        ForecastMethod(
            "seasonal_naive", lambda m: m, _seasonal("seasonal_naive", smoothing.seasonal_naive)
        ),
        ForecastMethod("ses", lambda m: 2, _vectorized("ses", smoothing.ses)),
        ForecastMethod(
            "seasonal_ses", lambda m: 2 * m, _seasonal("seasonal_ses", smoothing.seasonal_ses)
        ),
        ForecastMethod("ets_damped", lambda m: 16, _per_series("ets_damped", _fit_ets_damped)),
        ForecastMethod(
            "sarimax", lambda m: 26, _per_series("sarimax", _fit_sarimax), uses_exog=True
        ),
        ForecastMethod("croston", lambda m: 4, _vectorized("croston", intermittent.croston)),
        ForecastMethod("sba", lambda m: 4, _vectorized("sba", intermittent.sba)),
        ForecastMethod("tsb", lambda m: 4, _vectorized("tsb", intermittent.tsb)),
        ForecastMethod("adida", lambda m: 4, _vectorized("adida", intermittent.adida)),
        ForecastMethod("imapa", lambda m: 4, _vectorized("imapa", intermittent.imapa)),
        ForecastMethod("combination", lambda m: 2, _combination("combination")),
    )
}

#: Methods compared by the backtest for each demand pattern (the automatic choice).
#: Costly statsmodels fits only where the pattern calls for them: damped-trend ETS
#: for smooth demand, SARIMAX only for smooth and erratic series with events. The
#: long-run ``mean`` stays a candidate for erratic, intermittent and lumpy demand,
#: whose level often does not move: on both benchmark sets it lowered MASE and
#: RMSSE of the selection.
DEFAULT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("ses", "seasonal_ses", "ets_damped", "combination", "sarimax", "seasonal_naive"),
    "erratic": ("ses", "seasonal_ses", "tsb", "mean", "sarimax", "seasonal_naive"),
    "intermittent": ("sba", "croston", "tsb", "adida", "imapa", "mean"),
    "lumpy": ("sba", "croston", "tsb", "adida", "imapa", "mean"),
    "new": ("recent_mean",),
    "inactive": ("zero",),
}

#: Method used without a backtest (history too short to hold out any weeks).
DEFAULT_METHOD: dict[str, str] = {
    "smooth": "ses",
    "erratic": "ses",
    "intermittent": "sba",
    "lumpy": "sba",
    "new": "recent_mean",
    "inactive": "zero",
}


def minimum_history(name: str, season_length: int) -> int:
    """Return the observed weeks method ``name`` needs."""
    return METHODS[name].min_history(season_length)


def run_method(
    name: str,
    values: np.ndarray,
    horizon: int,
    context: MethodContext,
    rows: np.ndarray | Sequence[int] | None = None,
) -> MethodOutput:
    """Run method ``name`` on some rows of a panel; other rows get ``NaN``.

    Rows with less history than the method needs (or, for methods using
    regressors, without any) are skipped. The output always covers every row of
    ``values``.
    """
    method = METHODS[name]
    n_series = values.shape[0]
    forecast = np.full((n_series, horizon), np.nan)
    variance = np.full((n_series, horizon), np.nan)
    selected = np.zeros(n_series, dtype=bool)
    if rows is None:
        selected[:] = True
    else:
        selected[np.asarray(rows, dtype=int)] = True
    selected &= smoothing.n_observations(values) >= method.min_history(context.season_length)
    if method.uses_exog:
        if context.exog_history is None or not context.exog_names:
            selected[:] = False
        else:
            selected &= (np.ptp(context.exog_history, axis=1) > 0).any(axis=1)
    if not selected.any():
        return MethodOutput(forecast, variance)
    pick = np.flatnonzero(selected)
    sub_context = MethodContext(
        context.series_ids[pick],
        context.dates,
        context.season_length,
        None if context.exog_history is None else context.exog_history[pick],
        None if context.exog_future is None else context.exog_future[pick],
        context.exog_names,
        context.warm_start,
    )
    output = method.run(values[pick], horizon, sub_context)
    forecast[pick] = output.forecast
    variance[pick] = output.variance
    return MethodOutput(forecast, variance, output.diagnostics, output.coefficients)
