"""Weekly demand forecasts with automatic method choice per series, quantiles and paths.

:func:`forecast` is the entry point of the contract in ``docs/architecture.md``:
``forecast(history, horizon, ...) -> DataFrame`` with ``series_id, date, forecast,
model`` and quantile columns ``q0.05, q0.5, q0.95`` (or those requested).
:func:`run_forecast` returns the same table with everything behind it (the choice
and its reasons, the backtest scores, the calibration, the fits' warnings), and
:func:`sample_paths` draws demand scenarios for the Monte-Carlo digital twin.

How a series is forecast
------------------------
1. The history is put on a weekly calendar (``W-MON``); missing weeks are zero.
2. Its demand pattern is classified on the last ``window_weeks`` weeks
   (:func:`toolkit.segment.segment_panel_patterns`, or taken from ``segments``).
3. The candidate methods of its pattern (:data:`~toolkit.forecast_methods.DEFAULT_CANDIDATES`)
   and seasonal naive are backtested at ``n_origins`` rolling origins, each
   forecasting ``backtest_horizon`` weeks from the data up to the origin only.
4. The candidate with the lowest mean of MASE and RMSSE over the origins is
   chosen and refitted on the whole history.
5. The forecast is the method's mean; quantiles and paths come from a distribution
   of the pattern's family (:mod:`toolkit.forecast_distribution`) whose spread is
   calibrated so that the backtest band covers its nominal share, counted on the
   randomized PIT for discrete demand (see docs/forecasting.md). Known firm orders
   (:meth:`ForecastRun.firm_orders`) are added on top.

Fallbacks (never an exception)
------------------------------
=============================  ==============================================
situation                      forecast
=============================  ==============================================
no demand in the window        ``zero``: forecast and quantiles 0 (``inactive``)
fewer than ``min_history``     ``recent_mean``: the mean of the last half of the
weeks since first demand       weeks since the first demand (a launch ramps up),
                               count (Poisson/negative binomial) quantiles
                               (``new``; launches can instead borrow an analogue's
                               ramp, :func:`toolkit.lifecycle.launch_forecast`)
too short for any backtest     the pattern's default method
                               (:data:`~toolkit.forecast_methods.DEFAULT_METHOD`)
chosen method fails to refit   the next best candidate, then the default, then
                               ``mean``
=============================  ==============================================

Every forecast and quantile is clipped at zero. Series are processed in chunks
over ``n_jobs`` processes with a tqdm progress bar (``progress=False`` hides it);
statsmodels warnings are recorded per series into :attr:`ForecastRun.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.backtest import METRICS, evaluate_panel, rolling_origins, selection_scores
from toolkit.demand_panel import (
    FIRM_EVENT_TYPES,
    WeeklyPanel,
    build_exog,
    events_to_exog,
    firm_event_volume,
    series_keys,
    split_firm_events,
    to_weekly_panel,
    week_start,
)
from toolkit.forecast_distribution import (
    FAMILY_BY_PATTERN,
    band_coverage,
    calibrate_scale,
    distribution_quantiles,
    pit_band_share,
    quantile_columns,
    sample_distribution,
)
from toolkit.forecast_methods import (
    COMBINATIONS,
    DEFAULT_CANDIDATES,
    DEFAULT_METHOD,
    METHODS,
    MethodContext,
    run_method,
)
from toolkit.parallel import chunk_rows, map_chunks, resolve_jobs
from toolkit.segment import segment_panel_patterns

__all__ = [
    "FALLBACK_PATTERNS",
    "PredictiveDistribution",
    "DemandPaths",
    "ForecastRun",
    "forecast",
    "run_forecast",
    "sample_paths",
    "events_to_exog",
]

#: Patterns whose method is fixed whatever is requested: inactive -> zero, new ->
#: recent_mean.
FALLBACK_PATTERNS: dict[str, str] = {"inactive": "zero", "new": "recent_mean"}

# Below this many series the work stays in the calling process (forking costs more).
_MIN_SERIES_FOR_PROCESSES = 200


@dataclass(frozen=True)
class DemandPaths:
    """Sampled weekly demand scenarios.

    Attributes
    ----------
    series_ids : ndarray of str, shape (n_series,)
    dates : DatetimeIndex, the forecast weeks (``W-MON``)
    values : ndarray, shape (n_series, n_paths, horizon)
        Non-negative demand per series, path and week.
    """

    series_ids: np.ndarray
    dates: pd.DatetimeIndex
    values: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Return the paths as a long frame ``series_id, path, date, quantity``."""
        n_series, n_paths, horizon = self.values.shape
        return pd.DataFrame(
            {
                "series_id": np.repeat(self.series_ids, n_paths * horizon),
                "path": np.tile(np.repeat(np.arange(n_paths), horizon), n_series),
                "date": np.tile(self.dates.values, n_series * n_paths),
                "quantity": self.values.ravel(),
            }
        )

    def series(self, series_id: str) -> np.ndarray:
        """Return the ``(n_paths, horizon)`` paths of one series."""
        position = np.flatnonzero(self.series_ids == series_id)
        if position.size == 0:
            raise KeyError(f"no series {series_id!r}")
        return self.values[position[0]]


@dataclass(frozen=True)
class PredictiveDistribution:
    """The predictive distribution behind the quantiles, per series and week.

    Attributes
    ----------
    series_ids : ndarray of str, shape (n_series,)
    dates : DatetimeIndex, the forecast weeks
    mean, variance : ndarray, shape (n_series, horizon)
        The chosen method's mean (the forecast) and uncalibrated variance.
    family : ndarray of str, shape (n_series,)
        ``normal``, ``count`` or ``zero``.
    scale : ndarray, shape (n_series,)
        Calibrated standard-deviation multiplier.
    shift : ndarray, shape (n_series, horizon)
        Known firm-order units added on top (tenders, maintenance campaigns).
    """

    series_ids: np.ndarray
    dates: pd.DatetimeIndex
    mean: np.ndarray
    variance: np.ndarray
    family: np.ndarray
    scale: np.ndarray
    shift: np.ndarray

    @property
    def forecast(self) -> np.ndarray:
        """The point forecast: the mean plus the firm orders, shape ``(n_series, horizon)``."""
        return self.mean + self.shift

    def quantiles(self, levels: Sequence[float]) -> np.ndarray:
        """Return quantiles, shape ``(n_series, horizon, n_levels)``."""
        base = distribution_quantiles(
            self.mean, self.variance, self.family, levels, scale=self.scale
        )
        return base + self.shift[:, :, None]

    def sample(
        self, n_paths: int, seed: int | None = None, *, step_correlation: float = 0.0
    ) -> DemandPaths:
        """Draw demand paths consistent with :meth:`quantiles` (see
        :func:`toolkit.forecast_distribution.sample_distribution`)."""
        values = sample_distribution(
            self.mean,
            self.variance,
            self.family,
            n_paths,
            scale=self.scale,
            seed=seed,
            step_correlation=step_correlation,
        )
        return DemandPaths(self.series_ids, self.dates, values + self.shift[:, None, :])

    def coverage(
        self, actual: pd.DataFrame, lower: float = 0.05, upper: float = 0.95
    ) -> pd.DataFrame:
        """Score actual demand against the band between two quantile levels.

        Parameters
        ----------
        actual : DataFrame
            ``series_id, date, quantity`` for forecast weeks (e.g. held-out weeks),
            any day of the week (dates go to their Monday, quantities add up); rows
            outside the forecast's series and weeks are ignored. As in the data
            model, a week without a row is a week without demand: a series with
            rows is scored on every forecast week between the first and last week
            ``actual`` covers, with 0 where it has none.
        lower, upper : float
            The band's quantile levels.

        Returns
        -------
        DataFrame
            One row per scored ``series_id, date``: ``in_band`` (1 when the actual
            lies between the two quantiles) and ``pit_share`` (the share of its
            randomized PIT interval between the levels, see
            :func:`toolkit.forecast_distribution.pit_band_share`). Their means are
            the band's plain and PIT coverage.
        """
        weeks = week_start(actual["date"]).to_numpy()
        panel = actual.assign(date=weeks).pivot_table(
            index="series_id", columns="date", values="quantity", aggfunc="sum"
        )
        values = panel.reindex(index=self.series_ids, columns=self.dates).to_numpy(dtype=float)
        if len(actual):
            reported = np.isin(self.series_ids, panel.index)
            covered = np.asarray((self.dates >= weeks.min()) & (self.dates <= weeks.max()))
            block = np.ix_(reported, covered)
            values[block] = np.nan_to_num(values[block], nan=0.0)
        residual = values - self.shift
        args = (residual, self.mean, self.variance, self.family, lower, upper)
        in_band = band_coverage(*args, scale=self.scale)
        pit_share = pit_band_share(*args, scale=self.scale)
        rows, cols = np.nonzero(~np.isnan(values))
        return pd.DataFrame(
            {
                "series_id": self.series_ids[rows],
                "date": self.dates[cols],
                "in_band": in_band[rows, cols],
                "pit_share": pit_share[rows, cols],
            }
        )


@dataclass(frozen=True)
class ForecastRun:
    """A forecast with everything that explains it.

    Attributes
    ----------
    forecast : DataFrame
        ``series_id, date, forecast, model, q...``: the contract table.
    selection : DataFrame
        One row per series: ``pattern, model, reason, n_origins, n_candidates``, the
        chosen method's backtest ``score, mase, rmsse, coverage`` and seasonal
        naive's (``*_seasonal_naive``), and ``fva_mase, fva_rmsse``.
    scores : DataFrame
        Backtest errors per series, method and origin (columns of
        :data:`toolkit.backtest.METRICS`), with ``eligible`` (a candidate for the
        series) and ``chosen``.
    calibration : DataFrame
        Per pattern: ``family, scale``; the backtest ``coverage`` reached (the
        randomized PIT share of :func:`toolkit.forecast_distribution.pit_band_share`,
        what the calibration aims at ``target``); ``weeks_in_band``, the plain share
        of backtest weeks inside the band (higher for discrete demand: weeks without
        demand are always inside); and ``n_points``.
    diagnostics : DataFrame
        ``series_id, method, stage, origin, category, message, count``: warnings and
        errors of the fits (``series_id`` ``*`` for a vectorized method's whole chunk).
    coefficients : DataFrame
        Event effects estimated by the final SARIMAX fits: ``series_id, method,
        term, estimate, std_error``.
    distribution : PredictiveDistribution
        The distributions behind the quantiles (for :meth:`sample_paths`).
    """

    forecast: pd.DataFrame
    selection: pd.DataFrame
    scores: pd.DataFrame
    calibration: pd.DataFrame
    diagnostics: pd.DataFrame
    coefficients: pd.DataFrame
    distribution: PredictiveDistribution

    def sample_paths(
        self, n_paths: int, seed: int | None = None, *, step_correlation: float = 0.0
    ) -> DemandPaths:
        """Draw ``n_paths`` demand paths per series from this forecast's distributions."""
        return self.distribution.sample(n_paths, seed, step_correlation=step_correlation)

    def firm_orders(self) -> pd.DataFrame:
        """Return the firm orders inside the forecast, one row per series and week.

        Returns
        -------
        DataFrame
            ``series_id, date, quantity``: the known units (tenders, maintenance
            campaigns, see ``firm_event_types`` of :func:`run_forecast`) added on top
            of the method's forecast in that week; weeks without any are left out.
        """
        shift = self.distribution.shift
        rows, weeks = np.nonzero(shift > 0) if shift.size else (np.array([], int),) * 2
        return pd.DataFrame(
            {
                "series_id": self.distribution.series_ids[rows].astype(str),
                "date": self.distribution.dates[weeks],
                "quantity": shift[rows, weeks].astype(float),
            }
        )


def _candidate_lists(
    patterns: np.ndarray, methods: str | Sequence[str] | Mapping[str, Sequence[str]] | None
) -> list[tuple[str, ...]]:
    if methods is None:
        per_pattern = dict(DEFAULT_CANDIDATES)
    elif isinstance(methods, str):
        per_pattern = {p: (methods,) for p in DEFAULT_CANDIDATES}
    elif isinstance(methods, Mapping):
        per_pattern = {**DEFAULT_CANDIDATES, **{k: tuple(v) for k, v in methods.items()}}
    else:
        per_pattern = {p: tuple(methods) for p in DEFAULT_CANDIDATES}
    per_pattern.update({p: (m,) for p, m in FALLBACK_PATTERNS.items()})
    for names in per_pattern.values():
        unknown = [m for m in names if m not in METHODS]
        if unknown:
            raise KeyError(f"unknown methods {unknown}; known: {sorted(METHODS)}")
    return [per_pattern.get(p, (DEFAULT_METHOD.get(p, "mean"),)) for p in patterns]


def _reason(
    pattern: str,
    model: str,
    origins: int,
    ranked: list[tuple[str, float]],
    fell_back_from: str | None,
    min_history: int,
) -> str:
    if pattern == "inactive":
        text = "no demand in the analysis window: zero forecast"
    elif pattern == "new":
        text = (
            f"fewer than {min_history} weeks since the first demand: "
            "mean of the latest half of them"
        )
    elif ranked and ranked[0][0] == (fell_back_from or model):
        score = ranked[0][1]
        text = (
            f"lowest mean of MASE and RMSSE over {origins} origins among "
            f"{len(ranked)} methods ({score:.3f})"
        )
        if len(ranked) > 1:
            text += f"; runner-up {ranked[1][0]} ({ranked[1][1]:.3f})"
    else:
        text = f"history too short for a backtest: default method for {pattern} demand"
    if fell_back_from and fell_back_from != model:
        text += f"; {fell_back_from} failed to refit, used {model}"
    return text


def _forecast_chunk(task: dict) -> dict:
    """Backtest, choose and refit the methods of one chunk of series."""
    values = task["values"]
    n_series, n_weeks = values.shape
    horizon = task["horizon"]
    methods = task["methods"]
    candidates = task["candidates"]
    eligible = task["eligible"]
    origins = task["origins"]
    exog = task["exog"]
    diagnostics: list[dict] = []
    arrays = None
    warm_start: dict = {}
    if len(origins):
        arrays = evaluate_panel(
            values,
            methods,
            origins,
            task["backtest_horizon"],
            series_ids=task["series_ids"],
            dates=task["dates"],
            candidates=candidates,
            season_length=task["season_length"],
            exog=exog,
            exog_names=task["exog_names"],
            band=task["band"],
            pattern_options=task["pattern_options"],
            warm_start=warm_start,
            min_train=task["min_history"],
        )
        score, _ = selection_scores(arrays, eligible, task["selection_metrics"])
        for row in arrays.diagnostics:
            diagnostics.append({**row, "stage": "backtest"})
    else:
        score = np.full((n_series, len(methods)), np.inf)
    order = np.argsort(score, axis=1, kind="stable")
    defaults = task["defaults"]
    context = MethodContext(
        task["series_ids"],
        task["dates"],
        task["season_length"],
        None if exog is None else exog[:, :n_weeks],
        None if exog is None else exog[:, n_weeks : n_weeks + horizon],
        task["exog_names"],
        warm_start,
    )
    # Try each series' methods best first, then its default, then the mean.
    attempts = [
        [methods[j] for j in order[i] if np.isfinite(score[i, j])] + [defaults[i], "mean", "zero"]
        for i in range(n_series)
    ]
    mean = np.full((n_series, horizon), np.nan)
    variance = np.full((n_series, horizon), np.nan)
    model = np.empty(n_series, dtype=object)
    first_choice = np.array([a[0] for a in attempts], dtype=object)
    coefficients: list[dict] = []
    step = np.zeros(n_series, dtype=int)
    pending = np.ones(n_series, dtype=bool)
    while pending.any():
        wanted = np.array([attempts[i][step[i]] for i in range(n_series)], dtype=object)
        for name in pd.unique(wanted[pending]):
            rows = np.flatnonzero(pending & (wanted == name))
            output = run_method(name, values, horizon, context, rows)
            for row in output.diagnostics:
                diagnostics.append({**row, "stage": "final", "origin": task["dates"][-1]})
            done = rows[~np.isnan(output.forecast[rows]).any(axis=1)]
            mean[done], variance[done] = output.forecast[done], output.variance[done]
            model[done] = name
            pending[done] = False
            done_ids = set(task["series_ids"][done])
            coefficients.extend(c for c in output.coefficients if c["series_id"] in done_ids)
        step[pending] += 1
    # Backtest forecasts of the chosen method, for calibrating its spread.
    column = {name: j for j, name in enumerate(methods)}
    chosen_index = np.array([column.get(m, -1) for m in model])
    n_origins = np.zeros(n_series, dtype=int)
    reasons = []
    ranked_rows = []
    for i in range(n_series):
        finite = [(methods[j], float(score[i, j])) for j in order[i] if np.isfinite(score[i, j])]
        ranked_rows.append(finite)
        if arrays is not None and chosen_index[i] >= 0:
            n_origins[i] = int((~np.isnan(arrays.metrics["mase"][i, chosen_index[i]])).sum())
        reasons.append(
            _reason(
                task["patterns"][i],
                model[i],
                n_origins[i],
                finite,
                first_choice[i] if finite else None,
                task["min_history"],
            )
        )
    result = {
        "rows": task["rows"],
        "mean": mean,
        "variance": variance,
        "model": model,
        "reason": np.array(reasons, dtype=object),
        "n_origins": n_origins,
        "n_candidates": eligible.sum(axis=1),
        "diagnostics": diagnostics,
        "coefficients": coefficients,
        "arrays": None,
    }
    if arrays is not None:
        picked = np.clip(chosen_index, 0, None)
        index = np.arange(n_series)
        chosen_forecast = arrays.forecast[index, picked]
        chosen_variance = arrays.variance[index, picked]
        chosen_forecast[chosen_index < 0] = np.nan
        chosen_variance[chosen_index < 0] = np.nan
        result["arrays"] = {
            "methods": methods,
            "origins": arrays.origins,
            "metrics": arrays.metrics,
            "ran": ~np.isnan(arrays.forecast[..., 0]),
            "score": score,
            "eligible": eligible,
            "chosen_index": chosen_index,
            "actual": arrays.actual,
            "chosen_forecast": chosen_forecast,
            "chosen_variance": chosen_variance,
        }
    return result


def _scores_frame(
    results: list[dict], series_ids: np.ndarray, dates: pd.DatetimeIndex
) -> pd.DataFrame:
    frames = []
    for result in results:
        arrays = result["arrays"]
        if arrays is None:
            continue
        ids = series_ids[result["rows"]]
        n_series, n_methods, n_origins = arrays["metrics"]["mase"].shape
        frame = pd.DataFrame(
            {
                "series_id": np.repeat(ids, n_methods * n_origins),
                "method": np.tile(np.repeat(arrays["methods"], n_origins), n_series),
                "origin": np.tile(dates[arrays["origins"] - 1].values, n_series * n_methods),
            }
        )
        for name in METRICS:
            frame[name] = arrays["metrics"][name].ravel()
        frame["eligible"] = np.repeat(arrays["eligible"], n_origins, axis=1).ravel()
        chosen = arrays["chosen_index"][:, None] == np.arange(n_methods)[None, :]
        frame["chosen"] = np.repeat(chosen, n_origins, axis=1).ravel()
        frames.append(frame[arrays["ran"].ravel()])
    columns = ["series_id", "method", "origin", *METRICS, "eligible", "chosen"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _diagnostics_frame(results: list[dict]) -> pd.DataFrame:
    rows = [row for result in results for row in result["diagnostics"]]
    columns = ["series_id", "method", "stage", "origin", "category", "message"]
    if not rows:
        return pd.DataFrame(columns=[*columns, "count"])
    frame = pd.DataFrame(rows)
    for col in columns:
        if col not in frame.columns:
            frame[col] = None
    # The same warning at several origins is one row with a count.
    grouped = frame.groupby(
        ["series_id", "method", "stage", "category", "message"], dropna=False, sort=False
    )
    out = grouped.agg(origin=("origin", "max"), count=("origin", "size")).reset_index()
    return out[[*columns, "count"]]


_CALIBRATION_COLUMNS = [
    "pattern",
    "family",
    "scale",
    "coverage",
    "weeks_in_band",
    "target",
    "n_points",
]


def _calibrate(
    patterns: np.ndarray,
    family: np.ndarray,
    results: list[dict],
    n_series: int,
    band: tuple[float, float],
    enabled: bool,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Fit one spread multiplier per pattern on the chosen methods' backtest errors."""
    scale = np.ones(n_series)
    rows = []
    if not enabled:
        return scale, pd.DataFrame(columns=_CALIBRATION_COLUMNS)
    actual, mean, variance, owner = [], [], [], []
    for result in results:
        if result["arrays"] is None:
            continue
        arrays = result["arrays"]
        n, n_origins, h = arrays["actual"].shape
        actual.append(arrays["actual"].reshape(n, n_origins * h))
        mean.append(arrays["chosen_forecast"].reshape(n, n_origins * h))
        variance.append(arrays["chosen_variance"].reshape(n, n_origins * h))
        owner.append(result["rows"])
    if not owner:
        return scale, pd.DataFrame(columns=_CALIBRATION_COLUMNS)
    actual_all = np.concatenate(actual)
    mean_all = np.concatenate(mean)
    variance_all = np.concatenate(variance)
    owner_all = np.concatenate(owner)
    lower, upper = band
    family_scale: dict[str, float] = {}
    for fam in ("normal", "count"):
        members = np.flatnonzero(family[owner_all] == fam)
        if members.size:
            family_scale[fam], _, _ = calibrate_scale(
                actual_all[members],
                mean_all[members],
                variance_all[members],
                fam,
                lower,
                upper,
            )
    for pattern in pd.unique(patterns):
        fam = FAMILY_BY_PATTERN.get(pattern, "count")
        if fam == "zero":
            continue
        members = np.flatnonzero(patterns[owner_all] == pattern)
        points = (actual_all[members], mean_all[members], variance_all[members], fam, lower, upper)
        value, coverage, n_points = 1.0, float("nan"), 0
        if members.size:
            value, coverage, n_points = calibrate_scale(*points)
        in_band = float("nan")
        if n_points < 50:
            # Too few points for this pattern alone: use its family's multiplier.
            value = family_scale.get(fam, 1.0)
        else:
            in_band = float(np.nanmean(band_coverage(*points, scale=value)))
        scale[patterns == pattern] = value
        rows.append(
            {
                "pattern": pattern,
                "family": fam,
                "scale": value,
                "coverage": coverage,
                "weeks_in_band": in_band,
                "target": upper - lower,
                "n_points": n_points,
            }
        )
    return scale, pd.DataFrame(rows, columns=_CALIBRATION_COLUMNS)


def _empty_run(quantiles: Sequence[float]) -> ForecastRun:
    """The result for a history without rows: every table empty, with its columns."""
    columns = ["series_id", "date", "forecast", "model", *quantile_columns(quantiles)]
    empty = np.zeros((0, 0))
    distribution = PredictiveDistribution(
        np.array([], dtype=object),
        pd.DatetimeIndex([], freq=None),
        empty,
        empty,
        np.array([], dtype=object),
        np.zeros(0),
        empty,
    )
    return ForecastRun(
        forecast=pd.DataFrame(columns=columns),
        selection=pd.DataFrame(
            columns=["series_id", "pattern", "model", "reason", "n_origins", "n_candidates"]
        ),
        scores=pd.DataFrame(columns=["series_id", "method", "origin", *METRICS]),
        calibration=pd.DataFrame(columns=_CALIBRATION_COLUMNS),
        diagnostics=pd.DataFrame(
            columns=["series_id", "method", "stage", "origin", "category", "message", "count"]
        ),
        coefficients=pd.DataFrame(columns=["series_id", "method", "term", "estimate", "std_error"]),
        distribution=distribution,
    )


def run_forecast(
    history: pd.DataFrame,
    horizon: int,
    *,
    methods: str | Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    events: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    future_exog: pd.DataFrame | None = None,
    event_encoding: Mapping[str, str] | None = None,
    firm_event_types: Sequence[str] = FIRM_EVENT_TYPES,
    season_length: int = 52,
    segments: pd.DataFrame | None = None,
    n_origins: int = 3,
    backtest_horizon: int | None = None,
    origin_step: int | None = None,
    selection_metrics: Sequence[str] = ("mase", "rmsse"),
    calibrate: bool = True,
    min_history: int = 13,
    window_weeks: int | None = 104,
    adi_cutoff: float = 1.32,
    cv2_cutoff: float = 0.49,
    end: pd.Timestamp | str | None = None,
    n_jobs: int | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> ForecastRun:
    """Forecast every series of a history and keep the evidence behind each forecast.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (or ``site_id, sku`` instead of ``series_id``),
        weekly; numeric extra columns are exogenous regressors (their future values
        from ``future_exog``).
    horizon : int
        Weeks to forecast after the history's last week.
    methods : str, list or dict, optional
        Candidates compared per series. None: by demand pattern
        (:data:`~toolkit.forecast_methods.DEFAULT_CANDIDATES`); a name: that method
        for every series; a list: those candidates for every series; a dict:
        pattern -> list, overriding the defaults for those patterns. Inactive and new
        series always get their fallback (``zero``, ``mean``).
    quantiles : sequence of float
        Quantile levels; columns ``q<level>``. The outermost pair is the band the
        calibration targets.
    events : DataFrame, optional
        Known events (canonical ``events`` table, past and future) turned into
        regressors (:func:`toolkit.demand_panel.events_to_exog`) for SARIMAX.
    sites : DataFrame, optional
        ``site_id, region``, to match region-level events.
    future_exog : DataFrame, optional
        Future values of ``history``'s exogenous columns.
    event_encoding : dict, optional
        Event type -> ``quantity``/``indicator``/``step``.
    firm_event_types : sequence of str
        Event types whose quantities are firm orders on top of usual demand in the
        event week (default tenders and maintenance campaigns, when they name a
        site and a sku, :func:`toolkit.demand_panel.split_firm_events`). Their units
        are taken out of the history before any method sees it (so a tender does
        not inflate the baseline level) and added back, known, to the forecast,
        its quantiles and its paths. Backtest errors are measured on demand net of
        them. Pass ``()`` to treat every event as a regressor.
    season_length : int
        Weeks per season (52).
    segments : DataFrame, optional
        ``series_id, pattern`` (e.g. :func:`toolkit.segment.segment_demand`); the
        pattern is computed from the history for series not in it.
    n_origins : int
        Backtest origins for the choice of method (0 disables the backtest: each
        series gets its pattern's default method, no calibration). A series is
        backtested only at origins where it has at least ``min_history`` weeks.
    backtest_horizon : int, optional
        Weeks forecast at each origin (default ``min(horizon, 13)``).
    origin_step : int, optional
        Weeks between origins (default ``backtest_horizon``).
    selection_metrics : sequence of str
        Backtest errors averaged into the selection score.
    calibrate : bool
        Calibrate the quantiles' spread on the backtest (default) or keep the
        methods' own variances.
    min_history, window_weeks, adi_cutoff, cv2_cutoff
        Pattern classification options (see :mod:`toolkit.segment`).
    end : date, optional
        Last week of history to use (default: the history's last week).
    n_jobs : int, optional
        Worker processes (None: every core; fewer than 200 series stay in-process).
    chunk_size : int, optional
        Series per task (default: about four tasks per process, at least 50).
    progress : bool
        Show a tqdm progress bar over chunks.

    Returns
    -------
    ForecastRun
        Series ids come back as strings; a history without rows gives empty tables.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1 week")
    quantiles = sorted(float(q) for q in quantiles)
    if not quantiles or quantiles[0] <= 0 or quantiles[-1] >= 1:
        raise ValueError("quantile levels must lie strictly between 0 and 1")
    if len(history) == 0:
        return _empty_run(quantiles)
    panel = to_weekly_panel(history, end=end)
    n_series, n_weeks = panel.values.shape
    if n_series == 0:
        return _empty_run(quantiles)
    firm_events, regressor_events = split_firm_events(events, firm_event_types)
    firm = firm_event_volume(
        firm_events,
        series_keys(history, sites, series_ids=panel.series_ids),
        panel.dates.append(panel.future_dates(horizon)),
    )
    # Methods forecast the usual demand; firm orders are known and added back.
    baseline = WeeklyPanel(
        panel.series_ids, panel.dates, np.clip(panel.values - firm[:, :n_weeks], 0.0, None)
    )
    pattern_options = {
        "adi_cutoff": adi_cutoff,
        "cv2_cutoff": cv2_cutoff,
        "min_history": min_history,
        "window_weeks": window_weeks,
    }
    patterns = segment_panel_patterns(baseline, **pattern_options)
    if segments is not None and "pattern" in segments.columns:
        given = segments.drop_duplicates("series_id").set_index("series_id")["pattern"]
        mapped = pd.Series(panel.series_ids).map(given)
        patterns = np.where(mapped.notna(), mapped.astype(object), patterns).astype(object)
    candidate_lists = _candidate_lists(patterns, methods)
    method_names = list(dict.fromkeys([m for names in candidate_lists for m in names]))
    # A combination's parts are backtested with it (it is averaged from them).
    for name in list(method_names):
        for part in COMBINATIONS.get(name, ()):
            if part not in method_names:
                method_names.append(part)
    if "seasonal_naive" not in method_names:
        method_names.append("seasonal_naive")
    eligible = np.array(
        [[m in names for m in method_names] for names in candidate_lists], dtype=bool
    ).reshape(n_series, len(method_names))
    evaluated = eligible.copy()
    evaluated[:, method_names.index("seasonal_naive")] = True
    exog, exog_names = build_exog(
        history,
        panel,
        horizon=horizon,
        events=regressor_events,
        sites=sites,
        future_exog=future_exog,
        encoding=event_encoding,
    )
    backtest_horizon = min(horizon, 13) if backtest_horizon is None else backtest_horizon
    origins = (
        rolling_origins(n_weeks, backtest_horizon, n_origins, origin_step)
        if n_origins > 0
        else np.array([], dtype=int)
    )
    band = (quantiles[0], quantiles[-1])
    defaults = np.array(
        [FALLBACK_PATTERNS.get(p, DEFAULT_METHOD.get(p, "mean")) for p in patterns], dtype=object
    )
    if methods is not None and isinstance(methods, str):
        defaults = np.where(np.isin(patterns, list(FALLBACK_PATTERNS)), defaults, methods)
    jobs = resolve_jobs(n_jobs) if n_series >= _MIN_SERIES_FOR_PROCESSES else 1
    tasks = [
        {
            "rows": rows,
            "values": baseline.values[rows],
            "series_ids": panel.series_ids[rows],
            "dates": panel.dates,
            "patterns": patterns[rows],
            "methods": method_names,
            "candidates": evaluated[rows],
            "eligible": eligible[rows],
            "defaults": defaults[rows],
            "origins": origins,
            "backtest_horizon": backtest_horizon,
            "horizon": horizon,
            "season_length": season_length,
            "exog": None if exog is None else exog[rows],
            "exog_names": exog_names,
            "band": band,
            "pattern_options": pattern_options,
            "selection_metrics": tuple(selection_metrics),
            "min_history": min_history,
        }
        for rows in chunk_rows(n_series, jobs, chunk_size=chunk_size)
    ]
    results = map_chunks(
        _forecast_chunk, tasks, n_jobs=jobs, progress=progress, description="forecast"
    )
    mean = np.zeros((n_series, horizon))
    variance = np.zeros((n_series, horizon))
    model = np.empty(n_series, dtype=object)
    reason = np.empty(n_series, dtype=object)
    n_used = np.zeros(n_series, dtype=int)
    n_candidates = np.zeros(n_series, dtype=int)
    for result in results:
        rows = result["rows"]
        mean[rows], variance[rows] = result["mean"], result["variance"]
        model[rows], reason[rows] = result["model"], result["reason"]
        n_used[rows], n_candidates[rows] = result["n_origins"], result["n_candidates"]
    mean = np.clip(np.nan_to_num(mean), 0.0, None)
    variance = np.clip(np.nan_to_num(variance), 0.0, None)
    family = np.array([FAMILY_BY_PATTERN.get(p, "count") for p in patterns], dtype=object)
    family[model == "zero"] = "zero"
    scale, calibration = _calibrate(patterns, family, results, n_series, band, calibrate)
    dates = panel.future_dates(horizon)
    distribution = PredictiveDistribution(
        panel.series_ids, dates, mean, variance, family, scale, firm[:, n_weeks:]
    )
    table = pd.DataFrame(
        {
            "series_id": np.repeat(panel.series_ids, horizon).astype(str),
            "date": np.tile(dates.values, n_series),
            "forecast": distribution.forecast.ravel(),
            "model": np.repeat(model, horizon).astype(str),
        }
    )
    levels = distribution.quantiles(quantiles)
    for k, column in enumerate(quantile_columns(quantiles)):
        table[column] = levels[:, :, k].ravel()
    scores = _scores_frame(results, panel.series_ids, panel.dates)
    selection = _selection_frame(panel, patterns, model, reason, n_used, n_candidates, scores)
    coefficients = pd.DataFrame(
        [c for r in results for c in r["coefficients"]],
        columns=["series_id", "method", "term", "estimate", "std_error"],
    )
    return ForecastRun(
        forecast=table,
        selection=selection,
        scores=scores,
        calibration=calibration,
        diagnostics=_diagnostics_frame(results),
        coefficients=coefficients,
        distribution=distribution,
    )


def _selection_frame(
    panel: WeeklyPanel,
    patterns: np.ndarray,
    model: np.ndarray,
    reason: np.ndarray,
    n_origins: np.ndarray,
    n_candidates: np.ndarray,
    scores: pd.DataFrame,
) -> pd.DataFrame:
    selection = pd.DataFrame(
        {
            "series_id": panel.series_ids.astype(str),
            "pattern": patterns,
            "model": model,
            "reason": reason,
            "n_origins": n_origins,
            "n_candidates": n_candidates,
        }
    )
    columns = ["mase", "rmsse", "coverage"]
    if len(scores):
        per_method = scores.groupby(["series_id", "method"], as_index=False)[columns].mean()
        per_method["score"] = per_method[["mase", "rmsse"]].mean(axis=1)
        chosen = selection[["series_id", "model"]].merge(
            per_method, left_on=["series_id", "model"], right_on=["series_id", "method"]
        )
        baseline = per_method[per_method["method"] == "seasonal_naive"]
        selection = selection.merge(
            chosen[["series_id", "score", *columns]], on="series_id", how="left"
        ).merge(
            baseline[["series_id", "score", "mase", "rmsse"]].rename(
                columns={
                    "score": "score_seasonal_naive",
                    "mase": "mase_seasonal_naive",
                    "rmsse": "rmsse_seasonal_naive",
                }
            ),
            on="series_id",
            how="left",
        )
    else:
        for col in ("score", *columns, "score_seasonal_naive", "mase_seasonal_naive"):
            selection[col] = np.nan
        selection["rmsse_seasonal_naive"] = np.nan
    selection["fva_mase"] = selection["mase_seasonal_naive"] - selection["mase"]
    selection["fva_rmsse"] = selection["rmsse_seasonal_naive"] - selection["rmsse"]
    return selection


def forecast(
    history: pd.DataFrame,
    horizon: int,
    *,
    methods: str | Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    events: pd.DataFrame | None = None,
    season_length: int = 52,
    n_jobs: int | None = None,
    progress: bool = True,
    **options,
) -> pd.DataFrame:
    """Forecast weekly demand per series: the toolkit's forecasting contract.

    Parameters
    ----------
    history : DataFrame
        Long ``series_id, date, quantity`` (dates are week starts; optional
        exogenous numeric columns).
    horizon : int
        Weeks to forecast.
    methods : str, list or dict, optional
        Candidate methods (see :func:`run_forecast`); by default chosen per series
        among those suited to its demand pattern by a rolling-origin backtest.
    quantiles : sequence of float
        Quantile levels of the output columns.
    events : DataFrame, optional
        Known events (past and future) used as regressors.
    season_length : int
        Weeks per season.
    n_jobs : int, optional
        Worker processes (None: every core).
    progress : bool
        Show a progress bar.
    **options
        Any further option of :func:`run_forecast`.

    Returns
    -------
    DataFrame
        ``series_id, date, forecast, model, q<level>...``, one row per series and
        forecast week; nothing is negative.

    Examples
    --------
    >>> history = pd.DataFrame({"series_id": "M1|A", "quantity": [3.0, 0.0, 4.0, 2.0] * 10,
    ...     "date": pd.date_range("2024-01-01", periods=40, freq="W-MON")})
    >>> table = forecast(history, 4, progress=False)
    >>> list(table.columns)
    ['series_id', 'date', 'forecast', 'model', 'q0.05', 'q0.5', 'q0.95']
    """
    return run_forecast(
        history,
        horizon,
        methods=methods,
        quantiles=quantiles,
        events=events,
        season_length=season_length,
        n_jobs=n_jobs,
        progress=progress,
        **options,
    ).forecast


def sample_paths(
    history: pd.DataFrame,
    horizon: int,
    n_paths: int,
    seed: int | None = None,
    *,
    step_correlation: float = 0.0,
    **options,
) -> DemandPaths:
    """Draw ``n_paths`` weekly demand scenarios per series for Monte-Carlo simulation.

    The series are forecast as by :func:`run_forecast` (``**options`` are passed
    on) and the paths drawn from the same distributions as the quantiles, so a
    path's weekly values have exactly the forecast's quantiles (up to sampling
    noise). To draw more paths without refitting, keep the run and call
    :meth:`ForecastRun.sample_paths`.

    Parameters
    ----------
    history : DataFrame
        As for :func:`forecast`.
    horizon : int
        Weeks per path.
    n_paths : int
        Paths per series.
    seed : int, optional
        Random seed (same seed, same paths).
    step_correlation : float
        Correlation between consecutive weeks of a path (0: independent weeks).

    Returns
    -------
    DemandPaths
        ``values`` of shape ``(n_series, n_paths, horizon)``, non-negative; series in
        the order of ``series_ids`` (sorted ids, as in the forecast table).
    """
    options.setdefault("progress", False)
    run = run_forecast(history, horizon, **options)
    return run.sample_paths(n_paths, seed, step_correlation=step_correlation)
