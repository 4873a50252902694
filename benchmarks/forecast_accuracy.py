"""Forecast accuracy and throughput: the toolkit's automatic selection vs statsforecast.

Run with ``.venv/bin/python benchmarks/forecast_accuracy.py`` after ``make bench``
(statsforecast is a benchmark-only reference, never imported by the toolkit).

Two data sets, one run, side by side:

``realistic``
    The seeded ERP sample of :mod:`toolkit.synth` when that module exists, else
    :func:`medtech_weekly_demand` below with 600 series (seed 7).
``generated_5000``
    :func:`medtech_weekly_demand` with 5,000 series (seed 11), the throughput test.

Each series' last ``HORIZON`` (13) weeks are held out. Every method forecasts them
from the weeks before. Reported per data set and method:

* ``mase``, ``rmsse``: mean over series of the scaled errors (scales: mean
  absolute / squared one-week change of the training weeks; series whose training
  weeks never change are left out of both, for every method alike);
* ``coverage_90``: share of held-out weeks inside the q0.05-q0.95 band (methods
  with intervals only);
* ``pit_coverage_90`` (toolkit only: it needs the predictive distribution, not just
  the band): the mean randomized-PIT share of the held-out weeks between the 5% and
  95% levels (``toolkit.forecast_distribution.pit_band_share``). For discrete demand
  this is the coverage a calibrated forecast reaches, 90%; the plain share above
  cannot come down to it where most weeks have no demand (a zero week is always in
  the band);
* ``seconds`` (wall), ``cpu_seconds`` (this process and its workers: the machine
  may be shared, CPU time is the steadier figure), ``series_per_second``,
  ``peak_rss_mb`` (largest resident memory of the process and its workers
  together during the run, sampled every 0.2 s) and the 1-minute
  ``load_average`` when the run started.

Rows with ``segment = all`` cover every series; the others split the same errors
by the demand pattern the toolkit assigned on the training weeks.

The toolkit gets the known events (tenders listed in advance, promotions,
reimbursement changes) as regressors, as it would in production; statsforecast's
intermittent models cannot use them. A second toolkit row (``toolkit_auto_no_events``)
shows the selection without them on the realistic set.

Results go to ``benchmarks/results/forecast_accuracy.csv``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.backtest import naive_scales  # noqa: E402
from toolkit.demand_panel import to_weekly_panel  # noqa: E402
from toolkit.forecast import run_forecast  # noqa: E402

HORIZON = 13
RESULTS = ROOT / "benchmarks" / "results" / "forecast_accuracy.csv"


def medtech_weekly_demand(
    n_series: int, n_weeks: int = 156, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate weekly demand of market sites x skus that looks like medical devices.

    A mix of demand patterns seen at market level for medical devices:

    * 30 % high-runner consumables (catheters, sutures, test kits): negative
      binomial around a level with a trend, a summer slowdown and a year-end dip
      in elective procedures, promotions and an occasional reimbursement change;
    * 15 % erratic: frequent hospital orders in batches of very variable size;
    * 30 % intermittent: a few units at irregular intervals (spares, instruments);
    * 20 % lumpy: rare, large orders (implant sets, capital-equipment consumables),
      some of them tenders known in advance;
    * 5 % lifecycle: launches ramping up from a later start, and end-of-life items
      declining to zero.

    Returns
    -------
    (history, events)
        ``history``: ``series_id, site_id, sku, date, quantity`` (weeks before a
        launch omitted); ``events``: ``date, site_id, sku, event_type, quantity``,
        future events included.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_weeks, freq="W-MON")
    week_of_year = dates.isocalendar().week.to_numpy(dtype=int)
    t = np.arange(n_weeks)
    kinds = rng.choice(
        ["smooth", "erratic", "intermittent", "lumpy", "lifecycle"],
        size=n_series,
        p=[0.30, 0.15, 0.30, 0.20, 0.05],
    )
    frames, events = [], []
    for i, kind in enumerate(kinds):
        site = f"M{rng.integers(1, 40):02d}"
        sku = f"SKU{i:05d}"
        first = 0
        if kind == "smooth":
            level = np.exp(rng.normal(np.log(40), 1.0))
            trend = 1 + rng.normal(0, 0.15) * t / 52
            summer = 1 - rng.uniform(0, 0.3) * ((week_of_year >= 28) & (week_of_year <= 34))
            year_end = 1 - rng.uniform(0.1, 0.5) * ((week_of_year >= 51) | (week_of_year <= 1))
            rate = level * np.clip(trend, 0.2, None) * summer * year_end
            if rng.random() < 0.3:
                # Promotions: known in advance, +20-50 % in their week.
                weeks = rng.choice(n_weeks, size=rng.integers(2, 6), replace=False)
                lift = rng.uniform(0.2, 0.5)
                rate[weeks] *= 1 + lift
                events += [(dates[w], site, sku, "promotion", 1.0) for w in weeks]
            if rng.random() < 0.2:
                # A reimbursement change shifts the level from its date on.
                change = rng.integers(n_weeks // 3, n_weeks)
                effect = rng.choice([0.75, 0.85, 1.15])
                rate[change:] *= effect
                events.append((dates[change], site, sku, "reimbursement", effect - 1))
            dispersion = rng.uniform(5, 40)
            quantity = rng.negative_binomial(dispersion, dispersion / (dispersion + rate))
        elif kind == "erratic":
            rate = np.exp(rng.normal(np.log(20), 0.8))
            occurs = rng.random(n_weeks) < rng.uniform(0.8, 0.97)
            sizes = rng.lognormal(np.log(rate), rng.uniform(0.7, 1.2), n_weeks)
            quantity = np.round(occurs * sizes)
        elif kind == "intermittent":
            occurs = rng.random(n_weeks) < rng.uniform(0.08, 0.6)
            quantity = occurs * (1 + rng.poisson(rng.uniform(0.2, 3.0), n_weeks))
        elif kind == "lumpy":
            occurs = rng.random(n_weeks) < rng.uniform(0.04, 0.35)
            mean_size = np.exp(rng.normal(np.log(15), 0.8))
            quantity = np.round(occurs * rng.lognormal(np.log(mean_size), 1.0, n_weeks))
            if rng.random() < 0.4:
                # Tenders: large awarded orders, announced with their volume.
                weeks = rng.choice(n_weeks, size=rng.integers(1, 4), replace=False)
                volume = np.round(mean_size * rng.uniform(3, 8, len(weeks)))
                quantity[weeks] += volume
                events += [
                    (dates[w], site, sku, "tender", float(v))
                    for w, v in zip(weeks, volume, strict=True)
                ]
        else:
            level = np.exp(rng.normal(np.log(15), 0.8))
            if rng.random() < 0.5:
                first = int(rng.integers(n_weeks // 3, n_weeks - 26))
                ramp = 1 - np.exp(-np.clip(t - first, 0, None) / rng.uniform(4, 16))
                rate = level * ramp * (t >= first)
            else:
                end = int(rng.integers(n_weeks // 2, n_weeks + 26))
                rate = level * np.clip((end - t) / rng.uniform(26, 78), 0, 1)
            quantity = rng.poisson(rate)
        frame = pd.DataFrame(
            {
                "series_id": f"{site}|{sku}",
                "site_id": site,
                "sku": sku,
                "date": dates[first:],
                "quantity": np.asarray(quantity, dtype=float)[first:],
            }
        )
        frames.append(frame)
    history = pd.concat(frames, ignore_index=True)
    event_frame = pd.DataFrame(events, columns=["date", "site_id", "sku", "event_type", "quantity"])
    return history, event_frame


def realistic_set() -> tuple[str, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """The sample ERP extract of toolkit.synth if it exists, else the generator above."""
    try:
        from toolkit.synth import generate  # type: ignore[import-not-found]
    except ImportError:
        history, events = medtech_weekly_demand(600, seed=7)
        return "realistic_generated_600", history, events, None
    from toolkit.demand_panel import demand_history

    tables, _ = generate(seed=7)
    history = demand_history(tables["demand"], tables["items"], aliases=tables["aliases"])
    events, sites = tables["events"], tables["sites"]
    return "toolkit_synth_seed7", history, events, sites


def _tree_rss_mb() -> float:
    """Resident memory of this process and all its descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [os.getpid()]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


class _Meter:
    """Wall time, CPU time and peak memory of a run, workers included.

    CPU time is this process's plus its finished workers' (``getrusage``); peak
    memory the largest resident set of the whole process tree, sampled every
    0.2 s by a background thread (tracemalloc would also trace the forked workers
    and slow them down).
    """

    def __enter__(self) -> _Meter:
        self.load = os.getloadavg()[0]
        self.peak_mb = _tree_rss_mb()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.started = time.perf_counter()
        self.cpu = self._cpu()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, _tree_rss_mb())

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = self._cpu() - self.cpu
        self._stop.set()
        self._sampler.join()
        self.peak_mb = max(self.peak_mb, _tree_rss_mb())

    def row(self, n_series: int) -> dict:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "series_per_second": n_series / self.seconds,
            "peak_rss_mb": self.peak_mb,
            "load_average": self.load,
        }


def _split(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    history = history.copy()
    history["date"] = pd.to_datetime(history["date"])
    cut = history["date"].max() - pd.Timedelta(weeks=HORIZON)
    return history[history["date"] <= cut], history[history["date"] > cut], cut


def _per_series_errors(
    train: pd.DataFrame,
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    column: str,
    pit: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per series: MASE, RMSSE and the share of held-out weeks inside the 90 % band.

    ``pit`` (the toolkit's ``PredictiveDistribution.coverage``) adds the randomized
    PIT share of each held-out week between the 5% and 95% levels.
    """
    panel = to_weekly_panel(train)
    scale_abs, scale_sq = naive_scales(panel.values)
    changes = np.diff(panel.values, axis=1)
    moving = np.nansum(np.abs(changes), axis=1) > 0
    scales = pd.DataFrame(
        {"series_id": panel.series_ids, "scale_abs": scale_abs, "scale_sq": scale_sq}
    )[moving]
    merged = (
        test[["series_id", "date", "quantity"]]
        .merge(predictions, on=["series_id", "date"], how="inner")
        .merge(scales, on="series_id", how="inner")
    )
    if pit is None:
        merged["pit_share"] = np.nan
    else:
        merged = merged.merge(
            pit[["series_id", "date", "pit_share"]], on=["series_id", "date"], how="left"
        )
    merged["point"] = merged[column].clip(lower=0)
    merged["abs_error"] = (merged["point"] - merged["quantity"]).abs()
    merged["sq_error"] = (merged["point"] - merged["quantity"]) ** 2
    lo, hi = (f"{column}-lo-90", f"{column}-hi-90") if column != "forecast" else ("q0.05", "q0.95")
    merged["inside"] = np.nan
    if lo in merged.columns and hi in merged.columns:
        merged["inside"] = (
            (merged["quantity"] >= merged[lo].clip(lower=0) - 1e-9)
            & (merged["quantity"] <= merged[hi] + 1e-9)
        ).astype(float)
    per_series = merged.groupby("series_id").agg(
        mae=("abs_error", "mean"),
        mse=("sq_error", "mean"),
        scale_abs=("scale_abs", "first"),
        scale_sq=("scale_sq", "first"),
        inside=("inside", "sum"),
        pit_inside=("pit_share", "sum"),
        weeks=("inside", "size"),
    )
    per_series["mase"] = per_series["mae"] / per_series["scale_abs"]
    per_series["rmsse"] = np.sqrt(per_series["mse"] / per_series["scale_sq"])
    if merged["inside"].isna().all():
        per_series["inside"] = np.nan
    if merged["pit_share"].isna().all():
        per_series["pit_inside"] = np.nan
    return per_series


def _summary_rows(
    dataset: str, method: str, errors: pd.DataFrame, patterns: pd.Series
) -> list[dict]:
    """One row for all series and one per demand pattern (from the toolkit's run)."""
    errors = errors.join(patterns.rename("pattern"), how="left")
    rows = []
    groups = [("all", errors)] + [
        (pattern, group) for pattern, group in errors.groupby("pattern", sort=True)
    ]
    for segment, group in groups:
        coverage = group["inside"].sum() / group["weeks"].sum()
        rows.append(
            {
                "dataset": dataset,
                "segment": segment,
                "method": method,
                "n_scored": len(group),
                "mase": float(group["mase"].mean()),
                "rmsse": float(group["rmsse"].mean()),
                "coverage_90": float(coverage) if group["inside"].notna().any() else np.nan,
                "pit_coverage_90": float(group["pit_inside"].sum() / group["weeks"].sum())
                if group["pit_inside"].notna().any()
                else np.nan,
            }
        )
    return rows


def run_toolkit(
    name: str,
    history: pd.DataFrame,
    events: pd.DataFrame | None,
    sites: pd.DataFrame | None,
    n_jobs: int,
    label: str = "toolkit_auto",
) -> tuple[list[dict], pd.Series, object]:
    train, test, _ = _split(history)
    with _Meter() as meter:
        # Events include those after the cut: tenders and promotions are known ahead.
        run = run_forecast(
            train, HORIZON, events=events, sites=sites, n_jobs=n_jobs, progress=False
        )
    patterns = run.selection.set_index("series_id")["pattern"]
    errors = _per_series_errors(
        train, test, run.forecast, "forecast", pit=run.distribution.coverage(test)
    )
    rows = _summary_rows(name, label, errors, patterns)
    n_series = train["series_id"].nunique()
    rows[0].update({"n_series": n_series, **meter.row(n_series)})
    return rows, patterns, run


def run_statsforecast(
    name: str, history: pd.DataFrame, patterns: pd.Series, n_jobs: int
) -> list[dict]:
    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonOptimized

    train, test, _ = _split(history)
    # statsforecast needs complete weekly series: the same zero-filled panel.
    panel = to_weekly_panel(train)
    frame = panel.to_frame().rename(
        columns={"series_id": "unique_id", "date": "ds", "quantity": "y"}
    )
    models = [
        ("sf_CrostonOptimized", CrostonOptimized(), False),
        ("sf_TSB", TSB(alpha_d=0.1, alpha_p=0.1), False),
        ("sf_ADIDA", ADIDA(), False),
        ("sf_IMAPA", IMAPA(), False),
        ("sf_AutoETS", AutoETS(season_length=52), True),
    ]
    rows = []
    n_series = frame["unique_id"].nunique()
    for label, model, has_intervals in models:
        engine = StatsForecast(models=[model], freq="W-MON", n_jobs=n_jobs)
        with _Meter() as meter, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predictions = engine.forecast(
                df=frame, h=HORIZON, level=[90] if has_intervals else None
            )
        predictions = predictions.rename(columns={"unique_id": "series_id", "ds": "date"})
        errors = _per_series_errors(train, test, predictions, str(model))
        method_rows = _summary_rows(name, label, errors, patterns)
        method_rows[0].update({"n_series": n_series, **meter.row(n_series)})
        rows.extend(method_rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--large", type=int, default=5000, help="series in the generated set")
    parser.add_argument("--skip-statsforecast", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()

    sets = [realistic_set()]
    if not args.skip_large:
        history, events = medtech_weekly_demand(args.large, seed=11)
        sets.append((f"generated_{args.large}", history, events, None))
    rows: list[dict] = []
    for name, history, events, sites in sets:
        toolkit_rows, patterns, run = run_toolkit(name, history, events, sites, args.n_jobs)
        rows.extend(toolkit_rows)
        print(run.calibration.to_string(index=False), flush=True)
        print(run.selection["model"].value_counts().to_string(), flush=True)
        if events is not None:
            no_events, _, _ = run_toolkit(
                name, history, None, sites, args.n_jobs, label="toolkit_auto_no_events"
            )
            rows.extend(no_events)
        if not args.skip_statsforecast:
            rows.extend(run_statsforecast(name, history, patterns, args.n_jobs))
        overall = pd.DataFrame([r for r in rows if r["segment"] == "all"])
        print(overall.round(4).to_string(index=False), flush=True)
    columns = [
        "dataset",
        "segment",
        "method",
        "n_series",
        "n_scored",
        "mase",
        "rmsse",
        "coverage_90",
        "pit_coverage_90",
        "seconds",
        "cpu_seconds",
        "series_per_second",
        "peak_rss_mb",
        "load_average",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS, index=False, float_format="%.4f")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[table["segment"] == "all"].round(4).to_string(index=False))
        by_pattern = table[table["segment"] != "all"].pivot_table(
            index=["dataset", "segment"], columns="method", values="rmsse"
        )
        print("RMSSE by demand pattern:")
        print(by_pattern.round(3).to_string())
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
