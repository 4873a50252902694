"""The segment and forecast parameters are the toolkit functions' arguments, one to one."""

from __future__ import annotations

import inspect
from datetime import date

import pandas as pd
import pytest

from toolkit.config import (
    ForecastParams,
    ScenarioSpec,
    SegmentParams,
    load_params,
    region_params_paths,
)
from toolkit.forecast import run_forecast
from toolkit.paths import PROJECT_ROOT
from toolkit.scenarios import SCENARIO_KEYS, apply_scenarios
from toolkit.segment import DEFAULT_SERVICE_LEVELS, segment_demand


def _keywords(function) -> set[str]:
    return {
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def test_segment_params_are_segment_demand_arguments() -> None:
    # Every argument but the analysis end date (a property of the data, not a setting).
    assert set(SegmentParams.model_fields) == _keywords(segment_demand) - {"end"}


def test_segment_params_defaults_are_segment_demand_defaults() -> None:
    # A notebook run and a direct call without params segment alike.
    signature = inspect.signature(segment_demand).parameters
    for name, value in SegmentParams().model_dump().items():
        default = signature[name].default
        if name == "service_levels":
            default = DEFAULT_SERVICE_LEVELS  # what the function's None stands for
        expected = list(default) if isinstance(default, tuple) else default
        assert value == expected, name


def test_forecast_params_are_run_forecast_arguments() -> None:
    arguments = set(inspect.signature(run_forecast).parameters)
    options = ForecastParams().run_options(SegmentParams())
    assert set(options) <= arguments
    # Everything a region may set, apart from the data and the call's own plumbing.
    data = {"history", "events", "sites", "future_exog", "segments", "end", "progress"}
    assert set(options) == arguments - data
    assert set(ForecastParams.model_fields) - set(options) == {"max_series", "scenarios"}
    # The pattern options come from the segment section, so both classify alike.
    segment = SegmentParams(min_history=8, window_weeks=None)
    options = ForecastParams().run_options(segment)
    assert (options["min_history"], options["window_weeks"]) == (8, None)
    assert ForecastParams().run_options()["event_encoding"] is None


def test_scenario_spec_fields_are_adjustment_keys() -> None:
    assert set(ScenarioSpec.model_fields) <= SCENARIO_KEYS


def test_scenario_dates_from_yaml_text_or_dates_and_in_order() -> None:
    spec = ScenarioSpec(name="s", start="2027-01-04", end=date(2027, 3, 29), multiplier=0.9)
    assert spec.start == date(2027, 1, 4)
    with pytest.raises(ValueError, match="before start"):
        ScenarioSpec(name="s", start="2027-03-01", end="2027-01-04")
    with pytest.raises(ValueError):
        ScenarioSpec(name="s", multiplier=-0.1)


def test_service_level_matrix_must_be_complete(tmp_path) -> None:
    with pytest.raises(ValueError, match="missing"):
        SegmentParams(service_levels={"A": {"X": 0.99}})
    # A region file overrides single targets: they are merged over the defaults.
    (tmp_path / "regions").mkdir()
    path = tmp_path / "regions" / "x.yaml"
    path.write_text("region: EMEA\nsegment:\n  service_levels:\n    A: {X: 0.995}\n")
    levels = load_params(path).segment.service_levels
    assert levels["A"]["X"] == 0.995 and levels["C"]["Z"] == 0.90


def test_region_scenarios_name_real_markets_lines_and_skus() -> None:
    sample = PROJECT_ROOT / "data_samples" / "medtech_demo"
    sites = pd.read_csv(sample / "sites.csv", dtype=str)
    items = pd.read_csv(sample / "items.csv", dtype=str)
    for path in region_params_paths():
        params = load_params(path)
        scenarios = params.forecast.scenarios
        assert 1 <= len({s.name for s in scenarios}) <= 2, path.name
        markets = set(
            sites.loc[
                (sites["region"] == params.region) & (sites["site_type"] == "market"), "site_id"
            ]
        )
        for spec in scenarios:
            assert spec.description, spec.name
            assert spec.region in (None, params.region), spec.name
            assert set(spec.sites) <= markets, spec.name
            assert spec.product_line is None or spec.product_line in set(items["product_line"])
            assert set(spec.skus) <= set(items["sku"]), spec.name
            assert spec.multiplier != 1.0 or spec.add != 0.0, spec.name


def test_region_scenarios_apply_as_configured() -> None:
    params = load_params("params/regions/latam.yaml")
    dates = pd.date_range("2026-11-02", periods=26, freq="W-MON")
    base = pd.DataFrame(
        {
            "series_id": ["MK-BR|CON-10001"] * 26 + ["MK-MX|CAP-10001"] * 26,
            "date": list(dates) * 2,
            "forecast": 10.0,
            "q0.95": 20.0,
        }
    )
    sites = pd.DataFrame({"site_id": ["MK-BR", "MK-MX"], "region": "LATAM"})
    items = pd.DataFrame(
        {"sku": ["CON-10001", "CAP-10001"], "product_line": ["consumables", "capital_equipment"]}
    )
    out = apply_scenarios(
        base, [s.model_dump() for s in params.forecast.scenarios], sites=sites, items=items
    )
    table = out.set_index(["scenario", "series_id", "date"])["forecast"]
    loss, pumps = (s.name for s in params.forecast.scenarios)
    assert table[loss, "MK-BR|CON-10001", dates[0]] == 10.0  # before January 2027
    assert table[loss, "MK-BR|CON-10001", dates[-1]] == pytest.approx(8.5)
    assert table[loss, "MK-MX|CAP-10001", dates[-1]] == 10.0
    assert table[pumps, "MK-MX|CAP-10001", pd.Timestamp("2027-01-04")] == 12.0
    assert table[pumps, "MK-MX|CAP-10001", pd.Timestamp("2027-04-05")] == 10.0
