"""Report figures of a forecast: headline numbers, warnings by kind, series to look at."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weekly_demand import intermittent, series_frame, smooth, weekly_dates

from toolkit.forecast import run_forecast
from toolkit.forecast_summary import (
    describe_series,
    diagnostics_summary,
    largest_series,
    regional_stock,
    series_labels,
    spotlight_series,
    summarize_forecast,
)
from toolkit.lifecycle import carry_over_history, phase_out
from toolkit.segment import segment_demand

N_WEEKS = 120
ITEMS = pd.DataFrame(
    {
        "sku": ["BIG", "SMALL", "RARE", "OLD", "NEW"],
        "description": ["Big kit", "Small kit", "Rare pump", "Old stent", "New stent"],
        "product_line": ["consumables", "consumables", "capital", "implants", "implants"],
        "unit_cost": [10.0, 1.0, 5000.0, 50.0, 60.0],
        "lifecycle": ["mature", "mature", "mature", "end_of_life", "growth"],
        "successor_sku": [None, None, None, "NEW", None],
        "criticality": "standard",
    }
)


@pytest.fixture(scope="module")
def forecast_case():
    rng = np.random.default_rng(11)
    history = pd.concat(
        [
            series_frame("M1|BIG", smooth(rng, N_WEEKS, level=60.0)),
            series_frame("M1|SMALL", smooth(rng, N_WEEKS, level=20.0)),
            series_frame("M1|RARE", intermittent(rng, N_WEEKS, p=0.2, size=1.0)),
            series_frame("M1|OLD", smooth(rng, N_WEEKS, level=10.0)),
            series_frame("M1|NEW", np.r_[np.zeros(N_WEEKS - 40), smooth(rng, 40, 8.0)]),
            series_frame("M1|DEAD", np.r_[np.full(4, 3.0), np.zeros(N_WEEKS - 4)]),
        ],
        ignore_index=True,
    )
    history = carry_over_history(history, ITEMS)
    segments = segment_demand(history, ITEMS)
    future = weekly_dates(N_WEEKS + 3)[-2]
    events = pd.DataFrame(
        {
            "date": [future],
            "site_id": ["M1"],
            "region": [None],
            "sku": ["BIG"],
            "event_type": ["tender"],
            "quantity": [500.0],
        }
    )
    run = run_forecast(history, 6, events=events, segments=segments, n_jobs=1, progress=False)
    return history, segments, run, phase_out(run.forecast, ITEMS)


def test_largest_series_keeps_the_most_valuable(forecast_case) -> None:
    history, segments, _, _ = forecast_case
    kept = largest_series(history, segments, 2)
    assert set(kept["series_id"]) == set(segments["series_id"].head(2))
    assert len(largest_series(history, segments, 0)) == len(history)
    with pytest.raises(ValueError):
        largest_series(history, segments, -1)


def test_summary_figures(forecast_case) -> None:
    history, _, run, forecast = forecast_case
    risk = pd.DataFrame({"sku": ["OLD", "X"], "risk_units": [4.0, 0.0], "risk_value": [200.0, 0.0]})
    summary = summarize_forecast(run, forecast, history, ITEMS, risk=risk)
    assert summary.n_series == 6 and summary.horizon == 6
    assert summary.n_inactive == 1  # DEAD
    assert summary.n_phased_out == 1  # OLD, replaced by NEW
    selection = run.selection
    scored = selection[
        ~selection["pattern"].isin(["inactive", "new"]) & (selection["n_origins"] > 0)
    ]
    assert summary.n_backtested == len(scored)
    assert summary.mase == pytest.approx(scored["mase"].median())
    assert summary.mase_naive == pytest.approx(scored["mase_seasonal_naive"].median())
    assert 0 <= summary.better_share <= 1
    assert summary.band_target == pytest.approx(0.9)
    assert 0 < summary.band_coverage <= 1
    # The firm tender is in the forecast: 500 units of BIG at 10.
    assert summary.firm_units == pytest.approx(500.0)
    assert summary.firm_value == pytest.approx(5000.0)
    cost = forecast["series_id"].str.split("|").str[1].map(ITEMS.set_index("sku")["unit_cost"])
    assert summary.forecast_value == pytest.approx(float((forecast["forecast"] * cost).sum()))
    # Recent value counts each item's own demand once (NEW's carried-over OLD units out).
    recent = history[history["date"] > history["date"].max() - pd.Timedelta(weeks=6)]
    own = recent["quantity"] - recent["carried_over"]
    recent_cost = recent["sku"].map(ITEMS.set_index("sku")["unit_cost"]).fillna(0)
    assert summary.recent_value == pytest.approx(float((own * recent_cost).sum()))
    assert summary.value_change == pytest.approx(summary.forecast_value / summary.recent_value - 1)
    assert (summary.risk_skus, summary.risk_units, summary.risk_value) == (1, 4.0, 200.0)
    assert summary.first_week == forecast["date"].min()


def test_spotlight_picks_value_steady_and_firm_orders(forecast_case) -> None:
    _, segments, run, _ = forecast_case
    picks = spotlight_series(run, segments, ITEMS, n_largest=1)
    assert picks["series_id"].is_unique
    # The most valuable series (intermittent), the most valuable one selling most
    # weeks (NEW, which carries OLD's history), and the one with the tender ahead.
    assert picks["series_id"].tolist() == ["M1|RARE", "M1|NEW", "M1|BIG"]
    reasons = picks.set_index("series_id")["reason"]
    assert reasons["M1|RARE"].startswith("Class A, intermittent demand")
    assert "sells most weeks" in reasons["M1|NEW"]
    assert reasons["M1|BIG"].startswith("A firm order of 500 units")
    # Two of the most valuable: the steady one is among them, not added again.
    assert spotlight_series(run, segments, ITEMS, n_largest=2)["series_id"].tolist() == [
        "M1|RARE",
        "M1|NEW",
        "M1|BIG",
    ]


def test_diagnostics_summary_counts_by_kind() -> None:
    diagnostics = pd.DataFrame(
        {
            "series_id": ["a", "a", "b", "*"],
            "method": ["sarimax", "sarimax", "sarimax", "ses"],
            "stage": ["backtest", "backtest", "final", "backtest"],
            "origin": pd.NaT,
            "category": ["ConvergenceWarning", "ConvergenceWarning", "ConvergenceWarning", "error"],
            "message": ["no converge", "other", "no converge", "boom"],
            "count": [3, 1, 1, 2],
        }
    )
    table = diagnostics_summary(diagnostics)
    assert table.columns.tolist() == [
        "method",
        "stage",
        "category",
        "series",
        "occurrences",
        "example",
    ]
    first = table.iloc[0]
    assert (first["method"], first["stage"], first["series"], first["occurrences"]) == (
        "sarimax",
        "backtest",
        1,
        4,
    )
    assert first["example"] == "no converge"
    assert len(table) == 3
    assert diagnostics_summary(diagnostics.iloc[:0]).empty


def test_describe_and_label_series() -> None:
    frame = pd.DataFrame({"series_id": ["M1|BIG", "M2|ZZZ"], "score": [0.5, 0.7]})
    out = describe_series(frame, ITEMS)
    assert out.columns.tolist() == [
        "series_id",
        "site_id",
        "sku",
        "description",
        "product_line",
        "score",
    ]
    assert out["description"].tolist()[0] == "Big kit" and pd.isna(out["description"].iloc[1])
    by_sku = describe_series(pd.DataFrame({"sku": ["OLD"], "risk": [1.0]}), ITEMS, key="sku")
    assert by_sku.columns.tolist() == ["sku", "description", "product_line", "risk"]
    assert series_labels(["M1|BIG", "M2|ZZZ"], ITEMS) == {
        "M1|BIG": "M1 · BIG Big kit",
        "M2|ZZZ": "M2 · ZZZ",
    }


def test_regional_stock_keeps_the_region_markets_and_dcs() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["PL", "DC-E", "DC-N", "MK-E", "MK-N"],
            "site_type": ["plant", "dc", "dc", "market", "market"],
            "region": ["EMEA", "EMEA", "NAM", "EMEA", "NAM"],
        }
    )
    inventory = pd.DataFrame({"site_id": ["PL", "DC-E", "DC-N", "MK-E", "MK-N"], "quantity": 1.0})
    kept = regional_stock(inventory, sites, "EMEA")
    assert kept["site_id"].tolist() == ["DC-E", "MK-E"]


def test_spotlight_adds_the_largest_sarimax_series(forecast_case) -> None:
    import dataclasses

    _, segments, run, _ = forecast_case
    selection = run.selection.copy()
    selection.loc[selection["series_id"] == "M1|SMALL", "model"] = "sarimax"
    picks = spotlight_series(dataclasses.replace(run, selection=selection), segments, ITEMS)
    assert picks["series_id"].iloc[-1] == "M1|SMALL"
    assert "SARIMAX" in picks["reason"].iloc[-1]


def test_demand_outlook_history_forecast_and_band(forecast_case) -> None:
    from toolkit.forecast_summary import demand_outlook

    history, _, run, forecast = forecast_case
    outlook = demand_outlook(history, forecast, ITEMS, run=run, weeks=10, n_paths=300, seed=1)
    assert outlook.columns.tolist() == ["date", "actual_value", "forecast_value", "low", "high"]
    past = outlook.dropna(subset=["actual_value"])
    ahead = outlook.dropna(subset=["forecast_value"])
    assert len(past) == 10 and len(ahead) == 6
    assert past["date"].max() < ahead["date"].min()
    # Forecast value = sum of forecast x unit cost (phased-out OLD at zero).
    cost = forecast["series_id"].str.split("|").str[1].map(ITEMS.set_index("sku")["unit_cost"])
    expected = (forecast["forecast"] * cost.fillna(0)).groupby(forecast["date"]).sum()
    assert ahead.set_index("date")["forecast_value"].to_numpy() == pytest.approx(
        expected.to_numpy()
    )
    # The band surrounds the mean; the tender week's band sits 5,000 higher.
    assert (ahead["low"] <= ahead["forecast_value"] * 1.05).all()
    assert (ahead["high"] >= ahead["forecast_value"] * 0.95).all()
    tender = ahead.set_index("date")["low"].idxmax()
    assert tender == run.firm_orders()["date"].iloc[0]

    # Chunked sampling: same seed, same band; a band that still surrounds the mean.
    def chunked():
        return demand_outlook(
            history, forecast, ITEMS, run=run, weeks=10, n_paths=300, seed=1, chunk_series=2
        ).dropna(subset=["forecast_value"])

    first = chunked()
    pd.testing.assert_frame_equal(first, chunked())
    assert (first["high"] >= first["forecast_value"] * 0.95).all()
    assert demand_outlook(history, forecast, ITEMS)["low"].isna().all()  # no run: no band


def test_product_line_outlook(forecast_case) -> None:
    from toolkit.forecast_summary import product_line_outlook

    history, _, _, forecast = forecast_case
    table = product_line_outlook(history, forecast, ITEMS).set_index("product_line")
    assert table.index[-1] == "total"
    assert table.loc["total", "series"] == 6
    lines = table.drop(index="total")
    assert lines["forecast_value"].is_monotonic_decreasing
    assert table.loc["total", "forecast_value"] == pytest.approx(lines["forecast_value"].sum())
    consumables = table.loc["consumables"]
    assert consumables["change"] == pytest.approx(
        consumables["forecast_value"] / consumables["recent_value"] - 1
    )
    # Recent demand counts NEW's own units only (OLD's carried-over ones stay with OLD).
    recent = history[history["date"] > history["date"].max() - pd.Timedelta(weeks=6)]
    implants = recent[recent["sku"].isin(["OLD", "NEW"])]
    assert table.loc["implants", "recent_units"] == pytest.approx(
        float((implants["quantity"] - implants["carried_over"]).sum())
    )
