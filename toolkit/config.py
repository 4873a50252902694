"""Run parameters: ``params/defaults.yaml`` merged with ``params/regions/<region>.yaml``.

YAML is read with ``yaml.safe_load`` and validated by one pydantic model. Unknown
keys and wrong types are errors that name the file and the key; codes are strings
(an unquoted ``00012345670005`` is read by YAML as a number and is rejected rather
than silently losing its zeros).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
    """Demand segmentation and service-level targets."""

    abc_cutoffs: Annotated[list[Fraction], Field(min_length=2, max_length=2)] = [0.80, 0.95]
    """Cumulative consumption-value shares closing classes A and B."""
    xyz_cutoffs: Annotated[list[float], Field(min_length=2, max_length=2)] = [0.5, 1.0]
    """Coefficients of variation closing classes X and Y."""
    adi_cutoff: float = Field(default=1.32, gt=0)
    cv2_cutoff: float = Field(default=0.49, gt=0)
    service_levels: dict[str, dict[str, ServiceLevel]] = Field(
        default_factory=lambda: {
            "A": {"X": 0.99, "Y": 0.98, "Z": 0.97},
            "B": {"X": 0.97, "Y": 0.96, "Z": 0.95},
            "C": {"X": 0.95, "Y": 0.93, "Z": 0.90},
        }
    )
    critical_service_level: ServiceLevel = 0.995
    launch_service_level: ServiceLevel = 0.97
    end_of_life_service_level: ServiceLevel = 0.90

    @field_validator("abc_cutoffs", "xyz_cutoffs")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if not value[0] < value[1]:
            raise ValueError(f"cut-offs must increase, got {value}")
        return value


class ScenarioSpec(_Section):
    """A named what-if on top of the baseline forecast."""

    name: str
    multiplier: float = Field(gt=0)
    region: str | None = None
    sites: list[str] = Field(default_factory=list)
    product_line: str | None = None
    skus: list[str] = Field(default_factory=list)
    start: str | None = None
    end: str | None = None
    description: str = ""


class ForecastParams(_Section):
    """Forecasting and backtesting."""

    horizon_weeks: int = Field(default=26, gt=0)
    backtest_origins: int = Field(default=3, gt=0)
    quantiles: list[Fraction] = Field(default_factory=lambda: [0.05, 0.5, 0.95])
    max_series: int = Field(default=0, ge=0)
    """Forecast at most this many series (largest first); 0 = all. Small for quick runs."""
    scenarios: list[ScenarioSpec] = Field(default_factory=list)


class OptimizeParams(_Section):
    """Safety-stock placement."""

    service_level: ServiceLevel = 0.95
    frontier: list[ServiceLevel] = Field(
        default_factory=lambda: [0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995]
    )
    time_limit_seconds: float = Field(default=60.0, gt=0)
    max_skus: int = Field(default=0, ge=0)
    """Optimize at most this many SKUs (highest value first); 0 = all."""
    must_hold: list[str] = Field(default_factory=list)
    may_not_hold: list[str] = Field(default_factory=list)


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
