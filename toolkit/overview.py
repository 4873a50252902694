"""Descriptive figures of an extract: the network's shape, demand history, stock value.

These feed the data-overview notebook; they compute, :mod:`toolkit.overview_plot`
draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit.dataset import Dataset
from toolkit.schema import SITE_TYPES

__all__ = [
    "ExtractSummary",
    "extract_summary",
    "sites_by_echelon",
    "demand_history",
    "inventory_value_by_site",
]


@dataclass(frozen=True)
class ExtractSummary:
    """Headline counts and values of an extract."""

    plants: int
    dcs: int
    markets: int
    skus: int
    demand_weeks: int
    first_week: pd.Timestamp | None
    last_week: pd.Timestamp | None
    demand_value_last_52_weeks: float
    market_inventory_value: float
    upstream_inventory_value: float
    market_weeks_of_cover: float


def sites_by_echelon(sites: pd.DataFrame) -> pd.DataFrame:
    """Count sites per region and echelon (plant, dc, market).

    Returns a frame indexed by region with one column per site type and a total row.

    Examples
    --------
    >>> sites = pd.DataFrame({"site_type": ["plant", "dc", "market", "market"],
    ...                       "region": ["EMEA", "EMEA", "EMEA", "NAM"]})
    >>> sites_by_echelon(sites).loc["Total"].tolist()
    [1, 1, 2, 4]
    """
    table = pd.crosstab(sites["region"], sites["site_type"]).reindex(
        columns=list(SITE_TYPES), fill_value=0
    )
    table["total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum()
    table.columns.name = None
    return table


def _valued_demand(dataset: Dataset) -> pd.DataFrame:
    demand = dataset.demand.merge(
        dataset.items[["sku", "unit_cost", "product_line"]], on="sku", how="left"
    )
    demand["value"] = demand["quantity"] * demand["unit_cost"]
    return demand


def demand_history(dataset: Dataset, by: str = "product_line") -> pd.DataFrame:
    """Weekly demand value per ``by`` (a column of items or demand), dates as rows.

    Rows with a sku unknown to the item master (unmapped local codes) carry no value.
    """
    demand = _valued_demand(dataset)
    return demand.pivot_table(
        index="date", columns=by, values="value", aggfunc="sum", fill_value=0.0
    ).sort_index()


def inventory_value_by_site(dataset: Dataset) -> pd.DataFrame:
    """Stock units and value per site and status, largest value first."""
    stock = dataset.inventory.merge(dataset.items[["sku", "unit_cost"]], on="sku", how="left")
    stock["value"] = stock["quantity"] * stock["unit_cost"]
    table = stock.pivot_table(
        index="site_id", columns="status", values="value", aggfunc="sum", fill_value=0.0
    )
    table.columns.name = None
    table["total_value"] = table.sum(axis=1)
    units = stock.groupby("site_id")["quantity"].sum().rename("units")
    sites = dataset.sites.set_index("site_id")[["name", "site_type", "region"]]
    return (
        sites.join(units, how="inner")
        .join(table, how="inner")
        .sort_values("total_value", ascending=False)
        .reset_index()
    )


def extract_summary(dataset: Dataset) -> ExtractSummary:
    """Count sites and skus and value demand and stock.

    Stock is valued at unit cost and split into markets' stock and upstream (plants and
    DCs, shared by every region). ``market_weeks_of_cover`` is the markets' stock value
    divided by the average weekly demand value of the last 52 weeks (NaN without
    demand).
    """
    counts = dataset.sites["site_type"].value_counts()
    demand = _valued_demand(dataset)
    weeks = pd.DatetimeIndex(demand["date"].unique()).sort_values()
    last_year = (
        demand[demand["date"] > (weeks.max() - pd.Timedelta(weeks=52))] if len(weeks) else demand
    )
    demand_value = float(last_year["value"].sum())
    stock = dataset.inventory.merge(dataset.items[["sku", "unit_cost"]], on="sku", how="left")
    stock_value = stock["quantity"] * stock["unit_cost"]
    markets = set(dataset.sites.loc[dataset.sites["site_type"] == "market", "site_id"])
    at_markets = stock["site_id"].isin(markets)
    market_value = float(stock_value[at_markets].sum())
    weekly = demand_value / 52 if demand_value else float("nan")
    return ExtractSummary(
        plants=int(counts.get("plant", 0)),
        dcs=int(counts.get("dc", 0)),
        markets=int(counts.get("market", 0)),
        skus=int(dataset.items["sku"].nunique()),
        demand_weeks=len(weeks),
        first_week=weeks.min() if len(weeks) else None,
        last_week=weeks.max() if len(weeks) else None,
        demand_value_last_52_weeks=demand_value,
        market_inventory_value=market_value,
        upstream_inventory_value=float(stock_value[~at_markets].sum()),
        market_weeks_of_cover=market_value / weekly if weekly == weekly else float("nan"),
    )
