"""Weekly panels, ERP demand histories and events turned into exogenous regressors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weekly_demand import weekly_dates

from toolkit.demand_panel import (
    build_exog,
    demand_history,
    events_to_exog,
    map_local_codes,
    split_firm_events,
    to_weekly_panel,
)


def test_panel_snaps_to_mondays_fills_gaps_and_clips_returns() -> None:
    history = pd.DataFrame(
        {
            "series_id": ["A", "A", "A", "B"],
            # Wednesday of week 1, Sunday of week 1 (same week), Monday of week 4.
            "date": ["2024-01-03", "2024-01-07", "2024-01-22", "2024-01-15"],
            "quantity": [2.0, 3.0, -4.0, np.nan],
        }
    )
    panel = to_weekly_panel(history)
    assert panel.dates.freqstr == "W-MON"
    assert panel.dates[0] == pd.Timestamp("2024-01-01")
    assert panel.series_ids.tolist() == ["A", "B"]
    # A: 5 in week 1, zero in the missing weeks, the return clipped to 0.
    assert panel.values[0].tolist() == [5.0, 0.0, 0.0, 0.0]
    # B starts in week 3 (NaN before); a missing quantity counts as 0.
    assert np.isnan(panel.values[1, :2]).all()
    assert panel.values[1, 2:].tolist() == [0.0, 0.0]
    assert panel.start.tolist() == [0, 2]
    assert panel.future_dates(2)[0] == pd.Timestamp("2024-01-29")


def test_demand_history_fill_rules_and_local_codes() -> None:
    demand = pd.DataFrame(
        {
            "date": ["2024-01-08", "2024-01-22", "2024-01-15", "2024-01-01"],
            "site_id": ["M1", "M1", "M2", "M3"],
            "sku": ["OLD", "NEW", "L-77", "OLD"],
            "quantity": [1.0, 2.0, 3.0, 4.0],
            "source_system": [None, None, "SAP-LATAM", None],
        }
    )
    items = pd.DataFrame({"sku": ["OLD", "NEW"], "lifecycle": ["mature", "launch"]})
    aliases = pd.DataFrame({"system": ["SAP-LATAM"], "local_code": ["L-77"], "sku": ["OLD"]})
    history = demand_history(demand, items, aliases=aliases)
    weeks = history.groupby("series_id")["date"].agg(["min", "count"])
    # Mature items start at the extract's first week, a launch at its first demand.
    assert weeks.loc["M1|OLD"].tolist() == [pd.Timestamp("2024-01-01"), 4]
    assert weeks.loc["M1|NEW"].tolist() == [pd.Timestamp("2024-01-22"), 1]
    # The local code of the second ERP became the global sku.
    assert "M2|OLD" in weeks.index
    mapped = map_local_codes(demand, aliases)
    assert mapped["sku"].tolist() == ["OLD", "NEW", "OLD", "OLD"]
    first_demand = demand_history(demand, items, fill_from="first_demand")
    assert first_demand.groupby("series_id")["date"].min()["M1|OLD"] == pd.Timestamp("2024-01-08")


def test_events_to_exog_matching_and_encodings() -> None:
    series = pd.DataFrame(
        {
            "series_id": ["DE|A", "DE|B", "FR|A"],
            "site_id": ["DE", "DE", "FR"],
            "sku": ["A", "B", "A"],
        }
    )
    sites = pd.DataFrame({"site_id": ["DE", "FR"], "region": ["EMEA", "EMEA"]})
    dates = weekly_dates(5)
    events = pd.DataFrame(
        {
            "date": [dates[1], dates[2], dates[2], dates[3], dates[4]],
            "site_id": ["DE", "DE", None, None, "FR"],
            "region": [None, None, "EMEA", None, None],
            "sku": ["A", None, "A", None, "A"],
            "event_type": ["tender", "promotion", "reimbursement", "reimbursement", "tender"],
            "quantity": [40.0, 1.0, -0.1, 0.05, np.nan],
        }
    )
    exog = events_to_exog(events, series, dates, sites=sites)
    assert list(exog.columns) == [
        "series_id",
        "date",
        "event_tender",
        "event_promotion",
        "event_reimbursement",
    ]
    wide = {name: group.reset_index(drop=True) for name, group in exog.groupby("series_id")}
    # Tender at DE for A with its quantity; FR's tender has no quantity: counts 1.
    assert wide["DE|A"]["event_tender"].tolist() == [0, 40, 0, 0, 0]
    assert wide["FR|A"]["event_tender"].tolist() == [0, 0, 0, 0, 1]
    # Promotion at DE for every sku: an indicator.
    assert wide["DE|B"]["event_promotion"].tolist() == [0, 0, 1, 1 - 1, 0]
    # Reimbursement: a step, the running sum of the changes; the EMEA one only hits
    # sku A, the global one (no site, no region, no sku) everybody.
    assert wide["DE|A"]["event_reimbursement"].tolist() == pytest.approx([0, 0, -0.1, -0.05, -0.05])
    assert wide["DE|B"]["event_reimbursement"].tolist() == pytest.approx([0, 0, 0, 0.05, 0.05])
    with pytest.raises(KeyError, match="regions"):
        events_to_exog(events, series, dates)


def test_firm_events_and_future_exog_columns() -> None:
    events = pd.DataFrame(
        {
            "date": ["2024-01-08", "2024-01-08", "2024-01-15"],
            "site_id": ["M1", None, "M1"],
            "region": [None, "EMEA", None],
            "sku": ["A", "A", "A"],
            "event_type": ["tender", "tender", "promotion"],
            "quantity": [100.0, 50.0, 1.0],
        }
    )
    firm, rest = split_firm_events(events)
    assert len(firm) == 1 and firm["quantity"].iloc[0] == 100
    assert rest["event_type"].tolist() == ["tender", "promotion"]
    history = pd.DataFrame(
        {
            "series_id": "M1|A",
            "date": weekly_dates(3),
            "quantity": [1.0, 2.0, 3.0],
            "price_index": [1.0, 1.1, 1.2],
        }
    )
    future = pd.DataFrame({"series_id": "M1|A", "date": [weekly_dates(4)[3]], "price_index": [1.3]})
    panel = to_weekly_panel(history)
    exog, names = build_exog(history, panel, horizon=2, future_exog=future)
    assert names == ["price_index"]
    assert exog[0, :, 0].tolist() == [1.0, 1.1, 1.2, 1.3, 0.0]
