"""Run parameters: ``params/defaults.yaml`` merged with ``params/regions/<region>.yaml``.

YAML is read with ``yaml.safe_load`` and validated by one pydantic model. Unknown
keys and wrong types are errors that name the file and the key; codes are strings
(an unquoted ``00012345670005`` is read by YAML as a number and is rejected rather
than silently losing its zeros).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from toolkit.paths import PARAMS_DIR, resolve_path

__all__ = [
    "ConfigError",
    "Params",
    "load_params",
    "merge_params",
    "params_fingerprint",
    "region_params_paths",
]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
ServiceLevel = Annotated[float, Field(gt=0.0, lt=1.0)]


class ConfigError(ValueError):
    """Parameters that cannot be used; the message names the file and every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataParams(_Section):
    """Where the ERP extract comes from."""

    source: str = "data_samples/medtech_demo"
    """A folder of CSV/Parquet tables (relative to the project root) or a database URL."""


class RunParams(_Section):
    """How the pipeline runs the notebooks for this region."""

    seed: int = 7
    notebooks: list[str] = Field(default_factory=list)
    """Notebook names (without .ipynb) to run, in order; empty = every notebook."""
    period_days: int = Field(default=7, gt=0)
    """Length of one planning period in days (weekly buckets by default)."""


class ReportParams(_Section):
    """Presentation settings."""

    currency: str = "USD"
    title: str = "Global inventory network"


class QualityParams(_Section):
    """The data-quality gate (see :mod:`toolkit.quality` for the rules)."""

    proceed_with_warnings: bool = True
    """Run downstream steps when the gate fails (reports then say so at the top)."""
    max_defect_share_by_severity: dict[Literal["error", "warning"], Fraction] = Field(
        default_factory=lambda: {"error": 0.005, "warning": 0.05}
    )
    """The largest share of checked rows a rule of each severity may fail."""
    max_defect_share: dict[str, Fraction] = Field(
        default_factory=lambda: {
            "gtin_invalid": 0.0,
            "gtin_duplicate": 0.0,
            "item_controls_contradicted": 0.0,
            "alias_conflict": 0.0,
        }
    )
    """Per rule: the largest share of checked rows that may fail (overrides the severity's)."""
    end_of_life_changeover_weeks: int = Field(default=26, ge=0)
    """Weeks after a successor's first sale until an end-of-life item counts as phased out."""
    trace_query: str = ""
    """A UDI, serial or lot to trace in the report (empty = one from a finding)."""


class NetworkParams(_Section):
    """Landed cost and source selection."""

    carrying_rate: Fraction = 0.25
    """Annual inventory carrying cost as a fraction of unit value."""
    cost_per_day: float = Field(default=0.5, ge=0.0)
    """Trade-off for choosing a source: money per unit per day of lead time."""
    coverage_weeks: float = Field(default=4.0, ge=0.0)
    """Target cover used to call a site's position excess or shortage."""


class SegmentParams(_Section):
    """Demand segmentation and service-level targets.

    The fields are the keyword arguments of :func:`toolkit.segment.segment_demand`
    (``segment_demand(history, items, **params.segment.model_dump())``); the pattern
    options ``min_history, window_weeks, adi_cutoff, cv2_cutoff`` are also those of
    :func:`toolkit.forecast.run_forecast` (see :meth:`ForecastParams.run_options`).
    """

    abc_cutoffs: Annotated[list[Fraction], Field(min_length=2, max_length=2)] = [0.80, 0.95]
    """Cumulative consumption-value shares closing classes A and B."""
    xyz_cutoffs: Annotated[list[float], Field(min_length=2, max_length=2)] = [0.5, 1.0]
    """Coefficients of variation closing classes X and Y."""
    adi_cutoff: float = Field(default=1.32, gt=0)
    """Syntetos-Boylan: average inter-demand interval at which demand becomes intermittent."""
    cv2_cutoff: float = Field(default=0.49, gt=0)
    """Syntetos-Boylan: squared CV of demand sizes at which demand becomes erratic."""
    service_levels: dict[str, dict[str, ServiceLevel]] = Field(
        default_factory=lambda: {
            "A": {"X": 0.99, "Y": 0.98, "Z": 0.97},
            "B": {"X": 0.97, "Y": 0.96, "Z": 0.95},
            "C": {"X": 0.95, "Y": 0.93, "Z": 0.90},
        }
    )
    """Cycle service level per ABC class and XYZ class."""
    critical_target: ServiceLevel = 0.995
    """Target of critical items (overrides every other rule)."""
    critical_levels: list[str] = Field(default_factory=lambda: ["critical"])
    """``items.criticality`` values that mark an item critical (case-insensitive)."""
    launch_target: ServiceLevel = 0.97
    """Target of series classed ``new`` (fewer than ``min_history`` weeks of demand)."""
    end_of_life_target: ServiceLevel = 0.90
    """Target of end-of-life items (stock left at phase-out becomes obsolete)."""
    min_history: int = Field(default=13, ge=1)
    """Weeks since the first demand below which a series is ``new``."""
    window_weeks: int | None = Field(default=104, gt=0)
    """Most recent weeks the variability and pattern metrics use (null: all)."""
    annual_weeks: int = Field(default=52, gt=0)
    """Most recent weeks whose mean demand, times 52, is the annual quantity."""

    @field_validator("abc_cutoffs", "xyz_cutoffs")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if not value[0] < value[1]:
            raise ValueError(f"cut-offs must increase, got {value}")
        return value

    @field_validator("service_levels")
    @classmethod
    def _full_matrix(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        missing = [f"{a}{x}" for a in "ABC" for x in "XYZ" if x not in value.get(a, {})]
        if missing:
            raise ValueError(f"a target is needed for every ABC x XYZ segment; missing {missing}")
        return value


# YAML reads an unquoted 2027-01-04 as a date and a quoted one as text: accept both.
ScenarioDate = Annotated[date | None, Field(strict=False)]


class ScenarioSpec(_Section):
    """One adjustment of a named what-if on top of the baseline forecast.

    The fields are the keys of an adjustment of :func:`toolkit.scenarios.apply_scenarios`
    (``apply_scenarios(forecast, [s.model_dump() for s in params.forecast.scenarios])``).
    Filters left empty match everything; several entries with the same ``name``
    make one scenario and apply in order. In the matched weeks the forecast and its
    quantiles become ``value * multiplier + add``.
    """

    name: str
    """The scenario's name, shown in the report (entries with one name are one scenario)."""
    description: str = ""
    """What the scenario stands for, in a sentence."""
    region: str | None = None
    """Only series of markets in this region."""
    sites: list[str] = Field(default_factory=list)
    """Only these market site ids."""
    product_line: str | None = None
    """Only skus of this product line."""
    skus: list[str] = Field(default_factory=list)
    """Only these skus."""
    start: ScenarioDate = None
    """First forecast week affected (inclusive; empty: from the start of the horizon)."""
    end: ScenarioDate = None
    """Last forecast week affected (inclusive; empty: to the end of the horizon)."""
    multiplier: float = Field(default=1.0, ge=0)
    """Factor on the forecast and its quantiles (0.85: a 15% loss)."""
    add: float = 0.0
    """Units per series and week added after the multiplier (negative removes)."""

    @model_validator(mode="after")
    def _window_in_order(self) -> ScenarioSpec:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"scenario {self.name!r}: end {self.end} is before start {self.start}")
        return self


class ForecastParams(_Section):
    """Forecasting, backtesting and scenarios.

    Every field but ``max_series`` and ``scenarios`` is a keyword argument of
    :func:`toolkit.forecast.run_forecast`; :meth:`run_options` returns them together
    with the pattern options of the ``segment`` section.
    """

    horizon: int = Field(default=26, gt=0)
    """Weeks to forecast after the last week of history."""
    quantiles: list[Annotated[float, Field(gt=0.0, lt=1.0)]] = Field(
        default_factory=lambda: [0.05, 0.5, 0.95]
    )
    """Quantile levels of the forecast; the outermost pair is the band that is calibrated."""
    methods: dict[str, list[str]] | None = None
    """Candidate methods per demand pattern, overriding the defaults for those patterns
    (null: the defaults of :data:`toolkit.forecast_methods.DEFAULT_CANDIDATES`)."""
    n_origins: int = Field(default=3, ge=0)
    """Backtest origins for the choice of method (0: no backtest, default methods)."""
    backtest_horizon: int | None = Field(default=None, gt=0)
    """Weeks forecast at each backtest origin (null: the horizon, at most 13)."""
    origin_step: int | None = Field(default=None, gt=0)
    """Weeks between backtest origins (null: the backtest horizon)."""
    selection_metrics: list[Literal["mase", "rmsse", "mae", "rmse"]] = Field(
        default_factory=lambda: ["mase", "rmsse"], min_length=1
    )
    """Backtest errors averaged into the score that chooses the method."""
    calibrate: bool = True
    """Calibrate the band's width on the backtest errors."""
    season_length: int = Field(default=52, gt=1)
    """Weeks per season."""
    firm_event_types: list[str] = Field(default_factory=lambda: ["tender", "maintenance"])
    """Event types whose quantities are firm orders added on top of the forecast."""
    event_encoding: dict[str, Literal["quantity", "indicator", "step"]] = Field(
        default_factory=dict
    )
    """How event types become regressors, overriding the defaults."""
    n_jobs: int | None = 1
    """Worker processes (null: every core; the pipeline runs two regions at once)."""
    chunk_size: int | None = Field(default=None, gt=0)
    """Series per parallel task (null: automatic)."""
    max_series: int = Field(default=0, ge=0)
    """Forecast at most this many series (highest annual value first); 0 = all. Small for quick runs."""
    scenarios: list[ScenarioSpec] = Field(default_factory=list)
    """Named what-ifs applied to the forecast (see :class:`ScenarioSpec`)."""

    @field_validator("quantiles")
    @classmethod
    def _sorted_levels(cls, value: list[float]) -> list[float]:
        if not value or len(set(value)) != len(value):
            raise ValueError(f"quantile levels must be distinct, got {value}")
        return sorted(value)

    def run_options(self, segment: SegmentParams | None = None) -> dict[str, Any]:
        """Return the keyword arguments of :func:`toolkit.forecast.run_forecast`.

        Parameters
        ----------
        segment : SegmentParams, optional
            Its pattern options (``min_history, window_weeks, adi_cutoff,
            cv2_cutoff``) are added, so that series are classified as in the
            segmentation.

        Returns
        -------
        dict
            Every field but ``max_series`` and ``scenarios`` (``horizon`` included),
            plus the pattern options when ``segment`` is given.
        """
        options = self.model_dump(exclude={"max_series", "scenarios"})
        options["event_encoding"] = options["event_encoding"] or None
        if segment is not None:
            options.update(
                segment.model_dump(
                    include={"min_history", "window_weeks", "adi_cutoff", "cv2_cutoff"}
                )
            )
        return options


class OptimizeParams(_Section):
    """Safety-stock placement (see :mod:`toolkit.safety_stock_plan`)."""

    service_level: ServiceLevel = 0.95
    """Target of a market without a segment target (segment targets come first)."""
    frontier: list[ServiceLevel] = Field(
        default_factory=lambda: [0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995]
    )
    """Uniform service levels of the cost-service frontier."""
    frontier_value_share: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    """The frontier solves the most valuable SKUs covering this share of the demand value."""
    frontier_min_skus: int = Field(default=10, ge=1)
    """...and at least this many SKUs (when the region has as many)."""
    time_limit_seconds: float = Field(default=60.0, gt=0)
    """Solver seconds per SKU; a SKU stopped by it keeps its best plan, marked."""
    max_skus: int = Field(default=0, ge=0)
    """Optimize at most this many SKUs (highest value first); 0 = all."""
    must_hold: list[str] = Field(default_factory=list)
    """Site ids that must hold safety stock (serve from stock)."""
    may_not_hold: list[str] = Field(default_factory=list)
    """Site ids that may hold no safety stock."""
    n_jobs: int | None = 1
    """Worker processes (null: every core; the pipeline runs two regions at once)."""
    chunk_size: int | None = Field(default=None, gt=0)
    """SKUs per parallel task (null: automatic)."""


class SimulateParams(_Section):
    """Monte-Carlo digital twin."""

    replications: int = Field(default=200, gt=0)
    horizon_weeks: int = Field(default=52, gt=0)


class Params(_Section):
    """Every parameter of a regional run (see ``params/defaults.yaml`` for documentation)."""

    region: str
    data: DataParams = Field(default_factory=DataParams)
    run: RunParams = Field(default_factory=RunParams)
    report: ReportParams = Field(default_factory=ReportParams)
    quality: QualityParams = Field(default_factory=QualityParams)
    network: NetworkParams = Field(default_factory=NetworkParams)
    segment: SegmentParams = Field(default_factory=SegmentParams)
    forecast: ForecastParams = Field(default_factory=ForecastParams)
    optimize: OptimizeParams = Field(default_factory=OptimizeParams)
    simulate: SimulateParams = Field(default_factory=SimulateParams)

    @field_validator("region")
    @classmethod
    def _region_is_a_code(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("region must not be empty")
        return value.strip()


def merge_params(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``, merging nested mappings key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_params(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such parameters file")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    return content


def _has_key(tree: dict[str, Any], location: tuple[Any, ...]) -> bool:
    node: Any = tree
    for part in location:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _describe(error: ValidationError, files: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = []
    for item in error.errors():
        location = tuple(item["loc"])
        key = ".".join(str(part) for part in location)
        origin = next((str(p) for p, tree in reversed(files) if _has_key(tree, location)), None)
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and section)"
        elif item["type"] == "string_type" and isinstance(item.get("input"), int | float):
            message = f"must be text; quote codes in YAML (got the number {item['input']!r})"
        else:
            message = item["msg"]
        lines.append(f"  - {key}: {message}" + (f" [in {origin}]" if origin else ""))
    return "\n".join(lines)


def load_params(path: str | Path, defaults: str | Path | None = None) -> Params:
    """Read region parameters merged over the defaults and validate them.

    Parameters
    ----------
    path : str or Path
        A region file such as ``params/regions/emea.yaml`` (relative to the project
        root), or a defaults-style file holding a ``region`` key.
    defaults : str or Path, optional
        The defaults file; by default ``defaults.yaml`` in the parent folder of the
        region file's folder, falling back to ``params/defaults.yaml``.

    Returns
    -------
    Params

    Raises
    ------
    ConfigError
        Naming the file and key of every unknown key or wrong value.
    """
    region_path = resolve_path(path)
    if defaults is None:
        sibling = region_path.parent.parent / "defaults.yaml"
        defaults_path = sibling if sibling.is_file() else PARAMS_DIR / "defaults.yaml"
    else:
        defaults_path = resolve_path(defaults)
    files = []
    if defaults_path.resolve() != region_path.resolve() and defaults_path.is_file():
        files.append((defaults_path, _read_yaml(defaults_path)))
    files.append((region_path, _read_yaml(region_path)))
    merged: dict[str, Any] = {}
    for _, tree in files:
        merged = merge_params(merged, tree)
    try:
        return Params.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid parameters in {region_path}:\n{_describe(exc, files)}"
        ) from None


def params_fingerprint(params: Params) -> str:
    """Return a short hash of the validated parameters (recorded in every report)."""
    canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def region_params_paths(params_dir: str | Path = PARAMS_DIR) -> list[Path]:
    """Return every region parameters file, sorted by name."""
    return sorted(resolve_path(params_dir).joinpath("regions").glob("*.yaml"))
