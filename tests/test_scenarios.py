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
