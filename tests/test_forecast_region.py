"""toolkit.forecast_region: the chain history -> segments -> forecast the reports share.

On the tiny network of test_network: at market M1, S1 (10 a week for weeks 0-59) is
replaced by its successor S2 (12 a week from week 40); M3 sells S1 (3 a week) and
has not sold S2 yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_network import tiny_dataset

from toolkit.config import load_params
from toolkit.forecast_region import forecast_region
from toolkit.paths import PROJECT_ROOT

WEEKS = pd.date_range("2025-01-06", periods=80, freq="W-MON")


@pytest.fixture
def dataset():
    data = tiny_dataset()
    items = data.items.copy()
    items["successor_sku"] = pd.Series(["S2", None], dtype="string")
    rows = [(week, "M1", "S1", 10.0) for week in WEEKS[:60]]
    rows += [(week, "M1", "S2", 12.0) for week in WEEKS[40:]]
    rows += [(week, "M3", "S1", 3.0) for week in WEEKS]
    demand = pd.DataFrame(rows, columns=["date", "site_id", "sku", "quantity"])
    return data.replace(items=items, demand=demand.astype({"site_id": "str", "sku": "str"}))


def _params(**forecast):
    params = load_params(PROJECT_ROOT / "params" / "regions" / "emea.yaml")
    options = {"horizon": 8, "n_origins": 2, "backtest_horizon": 4, "n_jobs": 1, **forecast}
    return params.model_copy(update={"forecast": params.forecast.model_copy(update=options)})


def test_successor_carries_history_and_predecessor_is_phased_out(dataset) -> None:
    result = forecast_region(dataset, _params())
    history = result.history.groupby("series_id")["quantity"].sum()
    # S2 at M1 carries S1's 60 weeks of 10 on top of its own 40 weeks of 12.
    assert history["M1|S2"] == pytest.approx(60 * 10 + 40 * 12)
    # The successor takes over at every market, also where it has not sold yet (M3).
    assert history["M3|S2"] == pytest.approx(80 * 3)
    forecast = result.forecast.set_index("series_id")
    for predecessor in ["M1|S1", "M3|S1"]:
        columns = ["forecast", "q0.05", "q0.5", "q0.95"]
        assert (forecast.loc[predecessor, columns].to_numpy() == 0).all()
    assert forecast.loc["M1|S2", "forecast"].mean() == pytest.approx(12, rel=0.05)
    assert forecast.loc["M3|S2", "forecast"].mean() == pytest.approx(3, rel=0.05)
    assert set(result.segments["series_id"]) >= {"M1|S1", "M1|S2", "M3|S1", "M3|S2"}
    assert len(result.forecast) == result.forecast["series_id"].nunique() * 8
    assert np.isfinite(result.run.selection["score"].dropna()).all()


def test_max_series_keeps_the_most_valuable(dataset) -> None:
    result = forecast_region(dataset, _params(max_series=1))
    # S2 (365 a unit, 22 a week with S1's history) outvalues every S1 series.
    assert set(result.history["series_id"]) == {"M1|S2"}
    assert set(result.forecast["series_id"]) == {"M1|S2"}
    assert len(result.segments) >= 3  # segments still cover every series
