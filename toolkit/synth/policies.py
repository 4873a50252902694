"""The baseline inventory policies in force today: local rules of thumb.

Every market and DC sets its own (s, S) levels from recent average demand: safety
stock is a fixed number of weeks of demand (more for critical items) with a fat
margin, the reorder point adds demand over the replenishment lead time, and the
order-up-to level adds a four-week order cycle. No variability, no service target:
this is what the optimizer is meant to beat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["baseline_policies", "SAFETY_WEEKS", "SAFETY_MARGIN", "ORDER_CYCLE_WEEKS"]

#: Weeks of average demand held as safety stock, by product line.
SAFETY_WEEKS = {"consumables": 3.0, "implants": 4.0, "capital_equipment": 2.0, "spare_parts": 8.0}
#: The "just to be safe" factor planners put on top.
SAFETY_MARGIN = 1.5
#: Extra cover for critical items.
CRITICAL_FACTOR = 1.25
#: Weeks between replenishment orders.
ORDER_CYCLE_WEEKS = 4.0


def _levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Compute safety stock, reorder point and order-up-to from average demand."""
    average = frame["average_weekly"].to_numpy()
    weeks = frame["product_line"].map(SAFETY_WEEKS).to_numpy()
    critical = frame["criticality"].eq("critical").to_numpy()
    safety = np.ceil(weeks * average * SAFETY_MARGIN * np.where(critical, CRITICAL_FACTOR, 1.0))
    # A critical item is never planned to run out: keep at least one on the shelf.
    safety = np.where(critical, np.maximum(safety, 1.0), safety)
    reorder = np.ceil(safety + frame["lead_time_weeks"].to_numpy() * average)
    order_up_to = np.maximum(np.ceil(reorder + ORDER_CYCLE_WEEKS * average), reorder + 1)
    return frame.assign(safety_stock=safety, reorder_point=reorder, order_up_to=order_up_to)


def baseline_policies(
    recent: pd.DataFrame,
    items: pd.DataFrame,
    sites: pd.DataFrame,
    sourcing: pd.DataFrame,
    times: pd.DataFrame,
) -> pd.DataFrame:
    """Return the canonical ``policies`` table for every market and DC position.

    Parameters
    ----------
    recent : DataFrame
        ``site_id, sku, average_weekly``: each selling market's average weekly demand
        over the last half year (pairs still selling at the snapshot).
    items, sites, sourcing : DataFrame
        Item master, sites (with ``supply_dc``) and sourcing.
    times : DataFrame
        Door-to-door lane times (see :func:`toolkit.synth.geography.lane_times`).
    """
    profile = items.set_index("sku")
    markets = recent.assign(
        supply_dc=recent["site_id"].map(sites.set_index("site_id")["supply_dc"])
    )
    key = pd.MultiIndex.from_arrays([markets["supply_dc"], markets["site_id"]])
    markets["lead_time_weeks"] = times["slowest"].reindex(key).to_numpy() / 7

    dcs = markets.groupby(["supply_dc", "sku"], as_index=False)["average_weekly"].sum()
    dcs = dcs.rename(columns={"supply_dc": "site_id"})
    # A DC waits for production and the slowest lane from the slowest of its plants.
    supply = sourcing[["site_id", "sku", "processing_days"]].rename(columns={"site_id": "plant"})
    supply = dcs[["site_id", "sku"]].merge(supply, on="sku")
    key = pd.MultiIndex.from_arrays([supply["plant"], supply["site_id"]])
    supply["days"] = supply["processing_days"] + times["slowest"].reindex(key).to_numpy()
    lead = supply.groupby(["site_id", "sku"])["days"].max() / 7
    dcs = dcs.merge(lead.rename("lead_time_weeks").reset_index(), on=["site_id", "sku"])

    both = pd.concat([markets.drop(columns="supply_dc"), dcs], ignore_index=True)
    both["product_line"] = both["sku"].map(profile["product_line"])
    both["criticality"] = both["sku"].map(profile["criticality"])
    both = _levels(both).sort_values(["site_id", "sku"]).reset_index(drop=True)
    return both[["site_id", "sku", "reorder_point", "order_up_to", "safety_stock"]]
