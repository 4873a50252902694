"""Named scenarios applied on a baseline forecast, side by side."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.scenarios import apply_scenarios, series_attributes

SITES = pd.DataFrame({"site_id": ["DE", "FR", "US"], "region": ["EMEA", "EMEA", "NAM"]})
ITEMS = pd.DataFrame({"sku": ["K", "C"], "product_line": ["implants", "consumables"]})


def _baseline() -> pd.DataFrame:
    dates = pd.date_range("2026-01-05", periods=2, freq="W-MON")
    rows = []
    for series_id in ("DE|K", "FR|C", "US|K"):
        for date in dates:
            rows.append((series_id, date, 10.0, "sba", 2.0, 20.0))
    return pd.DataFrame(rows, columns=["series_id", "date", "forecast", "model", "q0.05", "q0.95"])


def test_region_product_line_and_window_filters() -> None:
    scenarios = [
        {"name": "tender_surge_emea", "region": "EMEA", "multiplier": 1.2},
        {
            "name": "reimbursement_loss",
            "product_line": "implants",
            "multiplier": 0.7,
            "start": "2026-01-12",
        },
    ]
    out = apply_scenarios(_baseline(), scenarios, sites=SITES, items=ITEMS)
    assert out.columns[0] == "scenario"
    assert out["scenario"].unique().tolist() == [
        "baseline",
        "tender_surge_emea",
        "reimbursement_loss",
    ]
    table = out.set_index(["scenario", "series_id", "date"])["forecast"]
    first, second = pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-12")
    assert table["tender_surge_emea", "DE|K", first] == pytest.approx(12.0)
    assert table["tender_surge_emea", "FR|C", first] == pytest.approx(12.0)
    assert table["tender_surge_emea", "US|K", first] == pytest.approx(10.0)
    assert table["reimbursement_loss", "US|K", first] == pytest.approx(10.0)
    assert table["reimbursement_loss", "US|K", second] == pytest.approx(7.0)
    assert table["reimbursement_loss", "FR|C", second] == pytest.approx(10.0)
    # Quantiles move with the forecast.
    q = out.set_index(["scenario", "series_id", "date"])["q0.95"]
    assert q["tender_surge_emea", "DE|K", first] == pytest.approx(24.0)


def test_several_adjustments_in_one_scenario_and_dict_form() -> None:
    scenarios = {
        "combined": [
            {"sites": ["DE"], "multiplier": 2.0},
            {"skus": "K", "add": -25.0},  # more than the forecast: clipped at zero
        ],
        "one_series": {"series": ["FR|C"], "multiplier": 0.5},
    }
    out = apply_scenarios(_baseline(), scenarios, sites=SITES, items=ITEMS)
    table = out.groupby(["scenario", "series_id"])["forecast"].first()
    assert table["combined", "DE|K"] == 0.0  # 10 * 2 - 25 < 0 -> 0
    assert table["combined", "US|K"] == 0.0
    assert table["combined", "FR|C"] == 10.0
    assert table["one_series", "FR|C"] == 5.0
    assert (out[["forecast", "q0.05", "q0.95"]] >= 0).all().all()


def test_invalid_scenarios_are_refused() -> None:
    with pytest.raises(KeyError, match="unknown keys"):
        apply_scenarios(_baseline(), [{"name": "x", "regoin": "EMEA"}], sites=SITES)
    with pytest.raises(ValueError, match="negative"):
        apply_scenarios(_baseline(), [{"name": "x", "multiplier": -1}])
    with pytest.raises(KeyError, match="no region"):
        apply_scenarios(_baseline(), [{"name": "x", "region": "EMEA"}])


def test_series_attributes() -> None:
    attributes = series_attributes(["DE|K", "US|C"], sites=SITES, items=ITEMS)
    assert attributes["region"].tolist() == ["EMEA", "NAM"]
    assert attributes["product_line"].tolist() == ["implants", "consumables"]


def test_empty_filters_match_everything_as_config_entries_do() -> None:
    from toolkit.config import ScenarioSpec

    spec = ScenarioSpec(name="all_up", multiplier=2.0)  # sites=[], skus=[], region=None
    out = apply_scenarios(_baseline(), [spec.model_dump()], sites=SITES, items=ITEMS)
    changed = out[out["scenario"] == "all_up"]
    assert (changed["forecast"] == 20.0).all()
    dated = ScenarioSpec(name="later", sites=["DE"], start="2026-01-12", add=5.0)
    out = apply_scenarios(_baseline(), [dated.model_dump()], sites=SITES, items=ITEMS)
    table = out[out["scenario"] == "later"].set_index(["series_id", "date"])["forecast"]
    assert table["DE|K", pd.Timestamp("2026-01-05")] == 10.0
    assert table["DE|K", pd.Timestamp("2026-01-12")] == 15.0
    assert table["FR|C", pd.Timestamp("2026-01-12")] == 10.0


def test_phased_out_rows_stay_at_zero() -> None:
    base = _baseline().assign(phased_out=False)
    base.loc[base["series_id"] == "US|K", ["forecast", "q0.05", "q0.95"]] = 0.0
    base.loc[base["series_id"] == "US|K", "phased_out"] = True
    out = apply_scenarios(base, [{"name": "more", "add": 3.0, "multiplier": 2.0}])
    more = out[out["scenario"] == "more"].set_index("series_id")
    assert (more.loc["US|K", "forecast"] == 0.0).all()
    assert (more.loc["DE|K", "forecast"] == 23.0).all()
    assert list(out.columns) == ["scenario", *base.columns]


def test_scenario_totals_and_weekly() -> None:
    from toolkit.scenarios import scenario_totals, scenario_weekly

    items = pd.DataFrame({"sku": ["K", "C"], "unit_cost": [100.0, 2.0]})
    stacked = apply_scenarios(
        _baseline(),
        [
            {"name": "surge", "sites": ["DE"], "multiplier": 1.5, "start": "2026-01-12"},
            {"name": "flat", "sites": ["XX"], "multiplier": 3.0},
        ],
        sites=SITES,
        items=ITEMS,
    )
    totals = scenario_totals(stacked, items, descriptions={"surge": "DE up by half"})
    assert totals["scenario"].tolist() == ["baseline", "surge", "flat"]
    row = totals.set_index("scenario").loc["surge"]
    assert row["units"] == pytest.approx(65.0)  # 60 + 5 in one week of DE|K
    assert row["value_change"] == pytest.approx(500.0)
    assert row["value_change_share"] == pytest.approx(500.0 / (4 * 1000.0 + 2 * 20.0))
    assert row["series_changed"] == 1 and row["description"] == "DE up by half"
    assert row["first_week"] == row["last_week"] == pd.Timestamp("2026-01-12")
    flat = totals.set_index("scenario").loc["flat"]
    assert (
        flat["value_change"] == 0.0 and flat["series_changed"] == 0 and pd.isna(flat["first_week"])
    )
    weekly = scenario_weekly(stacked, items)
    assert weekly.columns.tolist() == ["baseline", "surge", "flat"]
    assert weekly.loc[pd.Timestamp("2026-01-12"), "surge"] == pytest.approx(2520.0)
    units = scenario_weekly(stacked, measure="forecast")
    assert units.loc[pd.Timestamp("2026-01-05"), "baseline"] == pytest.approx(30.0)
    with pytest.raises(KeyError, match="no scenario"):
        scenario_totals(stacked, items, baseline_name="nope")
