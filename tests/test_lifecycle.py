"""Successors, launches and end-of-life obsolescence on hand examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weekly_demand import weekly_dates

from toolkit.lifecycle import (
    carry_over_history,
    launch_forecast,
    launch_profile,
    obsolescence_risk,
    override_forecast,
    phase_out,
    successor_chains,
)


def test_successor_chains_and_cycles() -> None:
    items = pd.DataFrame({"sku": ["A", "B", "C", "D"], "successor_sku": ["B", "C", None, ""]})
    assert successor_chains(items) == {"A": "C", "B": "C"}
    with pytest.raises(ValueError, match="cycle"):
        successor_chains(pd.DataFrame({"sku": ["A", "B"], "successor_sku": ["B", "A"]}))


def test_history_carries_over_along_the_chain_per_site() -> None:
    dates = weekly_dates(3)
    history = pd.DataFrame(
        {
            "site_id": ["M1", "M1", "M1", "M2", "M1"],
            "sku": ["A", "B", "C", "A", "C"],
            "date": [dates[0], dates[1], dates[1], dates[0], dates[2]],
            "quantity": [5.0, 3.0, 1.0, 7.0, 2.0],
        }
    )
    items = pd.DataFrame({"sku": ["A", "B", "C"], "successor_sku": ["B", "C", None]})
    out = carry_over_history(history, items).set_index(["series_id", "date"])
    # C at M1 gets A (5, week 0) and B (3, week 1) on top of its own 1 and 2.
    assert out.loc[("M1|C", dates[0]), "quantity"] == 5.0
    assert out.loc[("M1|C", dates[1]), "quantity"] == 4.0
    assert out.loc[("M1|C", dates[1]), "carried_over"] == 3.0
    assert out.loc[("M1|C", dates[2]), "quantity"] == 2.0
    # At M2 the successor series appears with A's history; A's own rows stay.
    assert out.loc[("M2|C", dates[0]), "quantity"] == 7.0
    assert out.loc[("M2|A", dates[0]), "quantity"] == 7.0


def test_phase_out_zeroes_predecessors_from_their_date() -> None:
    dates = weekly_dates(4, start="2026-01-05")
    forecast = pd.DataFrame(
        {
            "series_id": ["M1|A"] * 4 + ["M1|B"] * 4,
            "date": list(dates) * 2,
            "forecast": [5.0] * 8,
            "model": "sba",
            "q0.05": [1.0] * 8,
            "q0.95": [9.0] * 8,
        }
    )
    items = pd.DataFrame({"sku": ["A", "B"], "successor_sku": ["B", None]})
    out = phase_out(forecast, items, phase_out_dates={"A": dates[2]})
    a = out[out["series_id"] == "M1|A"]
    assert a["forecast"].tolist() == [5.0, 5.0, 0.0, 0.0]
    assert a["q0.95"].tolist() == [9.0, 9.0, 0.0, 0.0]
    assert out.loc[out["series_id"] == "M1|B", "forecast"].eq(5.0).all()
    # Without a date the predecessor stops at once.
    assert phase_out(forecast, items).query("series_id == 'M1|A'")["forecast"].eq(0).all()


def _launch_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two analogues launched in week 20 ramping linearly to 10/week over 10 weeks."""
    n = 80
    dates = weekly_dates(n)
    ramp = np.minimum(np.arange(n - 20) + 1, 10).astype(float)  # 1, 2, ..., 10, 10, ...
    frames = []
    for site in ("M1", "M2"):
        frames.append(
            pd.DataFrame(
                {"site_id": site, "sku": "OLDLAUNCH", "date": dates[20:], "quantity": ramp}
            )
        )
        # A mature item of the same line, selling from the start: not an analogue.
        frames.append(
            pd.DataFrame({"site_id": site, "sku": "MATURE", "date": dates, "quantity": 50.0})
        )
    # The new launch has sold 3 weeks at M1: 2, 4, 6 (twice the analogue's ramp).
    frames.append(
        pd.DataFrame(
            {"site_id": "M1", "sku": "NEW", "date": dates[-3:], "quantity": [2.0, 4.0, 6.0]}
        )
    )
    items = pd.DataFrame(
        {
            "sku": ["OLDLAUNCH", "MATURE", "NEW"],
            "product_line": ["implants"] * 3,
            "lifecycle": ["growth", "mature", "launch"],
        }
    )
    return pd.concat(frames, ignore_index=True), items


def test_launch_profile_is_the_normalized_analogue_ramp() -> None:
    history, items = _launch_history()
    profile = launch_profile(history, items, ramp_weeks=12, mature_weeks=8)
    # Mature level 10 -> ratios 0.1, 0.2, ..., 1.0, 1.0, 1.0.
    assert profile["ratio"].tolist() == pytest.approx([0.1 * k for k in range(1, 11)] + [1, 1])
    assert profile["n_analogues"].iloc[0] == 2
    assert profile["mature_level"].iloc[0] == pytest.approx(10.0)


def test_launch_forecast_scales_the_ramp() -> None:
    history, items = _launch_history()
    profile = launch_profile(history, items, ramp_weeks=12, mature_weeks=8)
    table = launch_forecast(history, items, 4, profile=profile, ramp_weeks=12)
    assert set(table["series_id"]) == {"M1|NEW"}
    assert (table["model"] == "analogue").all()
    # Sold 2, 4, 6 against ratios 0.1, 0.2, 0.3: least-squares level 20; next weeks
    # follow ratios 0.4, 0.5, 0.6, 0.7.
    assert table["forecast"].tolist() == pytest.approx([8.0, 10.0, 12.0, 14.0])
    assert (table["q0.05"] <= table["q0.5"]).all() and (table["q0.5"] <= table["q0.95"]).all()
    # A launch that has not sold yet: an expected level or the analogues' level.
    items2 = pd.concat([items, pd.DataFrame({"sku": ["NEW2"], "product_line": ["implants"]})])
    planned = launch_forecast(
        history,
        items2,
        2,
        profile=profile,
        launch_series=["M3|NEW2"],
        expected_level={"NEW2": 30.0},
    )
    assert planned["forecast"].tolist() == pytest.approx([3.0, 6.0])
    fallback = launch_forecast(history, items2, 1, profile=profile, launch_series=["M3|NEW2"])
    assert fallback["forecast"].tolist() == pytest.approx([1.0])
    base = pd.DataFrame(
        {
            "series_id": ["M1|NEW", "M1|MATURE"],
            "date": [table["date"].iloc[0]] * 2,
            "forecast": [0.0, 50.0],
            "model": ["mean", "ses"],
        }
    )
    merged = override_forecast(base, table)
    assert merged.loc[merged["series_id"] == "M1|NEW", "model"].eq("analogue").all()
    assert merged.loc[merged["series_id"] == "M1|MATURE", "forecast"].tolist() == [50.0]


def test_obsolescence_risk_first_expiry_first_out() -> None:
    dates = weekly_dates(4, start="2026-01-05")
    # End-of-life sku E: demand 10 a week for 4 weeks = 40 units.
    forecast = pd.DataFrame(
        {"series_id": ["M1|E"] * 4, "date": dates, "forecast": [10.0] * 4, "model": "ses"}
    )
    inventory = pd.DataFrame(
        {
            "site_id": ["DC1", "DC1", "DC1"],
            "sku": ["E", "E", "E"],
            "lot": ["L1", "L2", "L3"],
            "expiry_date": [dates[1], pd.NaT, dates[3] + pd.Timedelta(days=60)],
            "quantity": [25.0, 30.0, 10.0],
            "status": ["released", "released", "in_transit"],
        }
    )
    items = pd.DataFrame({"sku": ["E"], "unit_cost": [100.0], "lifecycle": ["end_of_life"]})
    risk = obsolescence_risk(inventory, items, forecast).iloc[0]
    # L1 expires in week 1: only week 0's 10 units can use it -> 15 expire.
    # L3 (expires after the horizon) and L2 (no expiry) then meet the other 30:
    # L3 uses 10, L2 uses 20 and keeps 10 as excess.
    assert risk["stock_units"] == 65
    assert risk["forecast_demand"] == 40
    assert risk["consumed_units"] == 40
    assert risk["expiring_units"] == 15
    assert risk["excess_units"] == 10
    assert risk["risk_units"] == 25
    assert risk["risk_value"] == 2500
    by_site = obsolescence_risk(inventory, items, forecast, level="site")
    # Per site nothing matches: the stock is at DC1, demand at M1.
    assert by_site["forecast_demand"].iloc[0] == 0
    assert by_site["risk_units"].iloc[0] == 65 - 0
