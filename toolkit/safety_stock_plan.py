"""A region's safety-stock plan from the dataset: every sku placed optimally, beside today's.

The chain for one region (``notebooks/04_safety_stock.ipynb`` runs it)::

    demand = market_demand(segments, run=run, forecast=forecast)      # per market and sku
    networks = region_networks(dataset, demand, region="EMEA", ...)   # one supply tree per sku
    plan = plan_safety_stock(networks, policies=dataset.policies, ...)  # SCIP, sku by sku
    frontier = region_frontier(networks, [0.90, 0.95, 0.99], plan=plan)

Units and definitions
---------------------
Period
    ``period_days`` days (``params.run.period_days``, 7: a week). Every time
    (processing, service and net replenishment times) is in periods, every demand
    mean and standard deviation is per period. :func:`market_demand` works in weeks,
    the forecast's bucket; :func:`region_networks` converts (a standard deviation
    scales with the square root of time, periods taken as independent).
Processing time
    periods to make or move the sku into a site: production days at the plant,
    transit + customs days of the inbound lane elsewhere
    (:func:`toolkit.network_supply.supply_network`).
Demand and its variability (per market and sku)
    ``demand_mean``: the mean weekly forecast over the horizon (firm orders
    included; phased-out items 0) where a forecast is given, else the mean weekly
    demand of the segmentation window. ``demand_std``: the root mean square error of
    the chosen forecasting method on its backtest (every origin, 1 to
    ``backtest_horizon`` weeks ahead: errors the method really made on weeks it had
    not seen). Intermittent and lumpy series order a handful of times in the
    backtest weeks, too few to measure their error, so theirs is at least the
    standard deviation of weekly demand over the segmentation window; series
    without a backtest (new, or left out of the forecast) use that standard
    deviation alone. Plants and DCs cover the pooled demand of the markets they
    serve (``sqrt`` of the summed variances, in the optimizer).
Service level
    per market and sku: the segment target (:func:`toolkit.segment.segment_demand`);
    a plant or DC: the demand-weighted mean of the targets of the markets it serves.
Safety stock
    ``z sigma sqrt(NRT)`` units, with ``z`` the normal quantile of the service level,
    ``sigma`` the per-period standard deviation the site covers and ``NRT`` its net
    replenishment time (inbound service time + processing time - outbound service
    time: the periods of demand the site must cover from its own stock).
Order-up-to level (base stock)
    ``demand_mean x NRT + safety_stock``: each review the site orders enough to
    raise its inventory position (on hand + on order - backorders) back to it.
Reorder point
    order-up-to level minus the mean demand of one review period
    (``review_periods``, default 1), never below zero: with a periodic review the
    position at which an order is due. Sites with ``NRT = 0`` are not stocking
    points: they pass goods on (order-up-to and reorder point 0).
Holding cost
    ``carrying_rate x landed value at the site x safety stock`` per year (per period:
    times ``period_days / 365``): the optimizer's objective. The landed value is the
    plant's unit cost plus freight, tariff and transit carrying up to the site.
Value
    safety stock x the item's standard unit cost (``items.unit_cost``), as every
    report values stock: the working capital it ties up.
Today
    ``policies.safety_stock`` of the site and sku. Plants and DCs serve several
    regions: today's stock there is counted for this region in proportion to its
    share of the demand the site ships for the sku (the region's planned demand
    against other regions' recent demand on their best routes). Freed = today -
    proposed (positive: the plan holds less).

Every requested sku is accounted for: ``plan.solves`` has one row per sku with its
status (``optimal`` proven; ``time_limit`` or ``not_proven`` with the best plan
found and its proven bound; or why it failed: ``no network``, ``invalid network``,
``infeasible``, ``error``); a sku without a plan is never dropped silently, and one
with a plan that is not proven optimal keeps it, marked.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.network import build_network
from toolkit.network_balance import demand_rates
from toolkit.network_supply import supply_network
from toolkit.optimize import (
    CandidateLimitError,
    InfeasibleError,
    NetworkValidationError,
    place_safety_stock,
)
from toolkit.parallel import chunk_rows, map_chunks, resolve_jobs

__all__ = [
    "COUNT_PATTERNS",
    "ECHELONS",
    "FAILED_STATUSES",
    "WEEK_DAYS",
    "market_demand",
    "RegionNetworks",
    "region_networks",
    "RegionSafetyStockPlan",
    "PlanSummary",
    "plan_safety_stock",
    "summarize_plan",
    "status_summary",
    "top_differences",
    "by_product_line",
    "variability_sources",
    "RegionFrontier",
    "region_frontier",
    "frontier_skus",
    "plan_flows",
]

#: Days of the bucket :func:`market_demand` works in (the forecast's week).
WEEK_DAYS = 7.0
#: Demand patterns whose backtest error is floored at the demand's standard deviation.
COUNT_PATTERNS: tuple[str, ...] = ("intermittent", "lumpy")
#: Site types in network order (the ``echelon`` of :func:`toolkit.network.build_network`).
ECHELONS: tuple[str, ...] = ("plant", "dc", "market")
#: Statuses of a sku without a plan.
FAILED_STATUSES: tuple[str, ...] = (
    "no network",
    "invalid network",
    "infeasible",
    "too many candidates",
    "error",
)

_DAYS_PER_YEAR = 365.0
_RATE_COLUMNS = ["site_id", "sku", "demand_per_day", "demand_std_per_day"]
#: Columns of ``RegionSafetyStockPlan.policies``.
_POLICY_COLUMNS: list[str] = (
    "site_id sku name site_type echelon site_region status service_level "
    "safety_factor demand_mean demand_std processing_time inbound_service_time "
    "outbound_service_time net_replenishment_time net_replenishment_days "
    "safety_stock order_up_to base_stock reorder_point stocking_point unit_cost "
    "landed_value value unit_holding_cost holding_cost_per_period "
    "holding_cost_per_year std_source"
).split()
#: Columns of ``RegionSafetyStockPlan.comparison``.
_COMPARISON_COLUMNS: list[str] = (
    "site_id sku site_type echelon in_policies today_units_site region_share "
    "today_units proposed_units difference_units unit_cost today_value "
    "proposed_value freed_value today_holding_cost_per_year "
    "proposed_holding_cost_per_year"
).split()
#: Columns of ``RegionSafetyStockPlan.solves``.
_SOLVE_COLUMNS: list[str] = (
    "sku status is_optimal has_plan method holding_cost_per_period gap best_bound "
    "solve_seconds candidate_pairs bnb_nodes sites stocking_points scip_version "
    "message"
).split()


# --- demand per market and sku ---------------------------------------------------------


def _backtest_rmse(scores: pd.DataFrame) -> pd.Series:
    """Root mean square of the chosen method's per-origin RMSE, per series."""
    if scores is None or scores.empty or "rmse" not in scores:
        return pd.Series(dtype=float)
    chosen = scores[scores["chosen"].astype(bool)] if "chosen" in scores else scores
    squared = (chosen["rmse"].astype(float) ** 2).groupby(chosen["series_id"].astype(str))
    return np.sqrt(squared.mean()).dropna()


def market_demand(
    segments: pd.DataFrame,
    *,
    run=None,
    forecast: pd.DataFrame | None = None,
    count_patterns: Sequence[str] = COUNT_PATTERNS,
) -> pd.DataFrame:
    """Weekly demand, its variability and the service target of every market-sku series.

    Parameters
    ----------
    segments : DataFrame
        :func:`toolkit.segment.segment_demand` of the region's history: ``series_id,
        site_id, sku, pattern, abc, xyz, service_level, target_source, annual_value``
        and the weekly ``mean, std`` of the segmentation window.
    run : toolkit.forecast.ForecastRun, optional
        Its backtest errors (``run.scores``: ``series_id, chosen, rmse``) give the
        standard deviation, its forecast the mean (unless ``forecast`` is given).
    forecast : DataFrame, optional
        ``series_id, forecast`` per week (e.g. after
        :func:`toolkit.lifecycle.phase_out`): the mean is its weekly average.
    count_patterns : sequence of str
        Patterns whose backtest error is floored at the weekly standard deviation
        of demand (see the module docstring).

    Returns
    -------
    DataFrame
        One row per series: ``series_id, site_id, sku, pattern, abc, xyz,
        service_level, target_source, annual_value, demand_mean, demand_std`` (units
        per week), ``mean_source`` (``forecast`` or ``history``) and ``std_source``
        (``backtest``, ``history`` without a backtest, or ``history_floor`` where
        the floor applied).

    Examples
    --------
    >>> segments = pd.DataFrame({"series_id": ["M1|S1"], "site_id": ["M1"], "sku": ["S1"],
    ...     "pattern": ["smooth"], "abc": ["A"], "xyz": ["X"], "service_level": [0.95],
    ...     "target_source": ["matrix"], "annual_value": [1000.0], "mean": [10.0], "std": [3.0]})
    >>> row = market_demand(segments).iloc[0]
    >>> float(row.demand_mean), float(row.demand_std), row.std_source
    (10.0, 3.0, 'history')
    """
    keep = "series_id site_id sku pattern abc xyz service_level target_source annual_value"
    out = segments[keep.split()].copy()
    out["series_id"] = out["series_id"].astype(str)
    out["site_id"] = out["site_id"].astype(str)
    out["sku"] = out["sku"].astype(str)
    history_mean = segments["mean"].astype(float).fillna(0.0).to_numpy()
    history_std = segments["std"].astype(float).fillna(0.0).to_numpy()

    table = forecast if forecast is not None else (run.forecast if run is not None else None)
    if table is not None and len(table):
        weekly = table.groupby(table["series_id"].astype(str))["forecast"].mean()
        mapped = out["series_id"].map(weekly)
        out["demand_mean"] = np.where(mapped.notna(), mapped, history_mean)
        out["mean_source"] = np.where(mapped.notna(), "forecast", "history")
    else:
        out["demand_mean"] = history_mean
        out["mean_source"] = "history"

    rmse = out["series_id"].map(_backtest_rmse(run.scores if run is not None else None))
    has_backtest = rmse.notna().to_numpy()
    floored = out["pattern"].isin(list(count_patterns)).to_numpy()
    backtest = rmse.to_numpy(dtype=float)
    std = np.where(
        has_backtest,
        np.where(floored, np.fmax(backtest, history_std), backtest),
        history_std,
    )
    source = np.where(
        has_backtest,
        np.where(floored & (history_std > np.nan_to_num(backtest)), "history_floor", "backtest"),
        "history",
    )
    out["demand_std"] = std
    out["std_source"] = source
    out["demand_mean"] = out["demand_mean"].astype(float).clip(lower=0.0)
    return out.reset_index(drop=True)


# --- one supply tree per sku ---------------------------------------------------------------


@dataclass(frozen=True)
class RegionNetworks:
    """The supply trees of a region's skus, ready for the optimizer.

    Attributes
    ----------
    region : str
    period_days, carrying_rate : float
    graphs : dict of str to networkx.DiGraph
        Per sku: :func:`toolkit.network_supply.supply_network` restricted to the
        region's markets with demand, plus ``service_level`` on every node and
        ``std_source`` on the markets.
    errors : dict of str to str
        Skus whose tree could not be built, with the reason.
    notes : dict of str to list of str
        Warnings while building a sku's tree (e.g. a market no plant reaches).
    skipped : tuple of str
        Skus sold in the region but beyond ``max_skus`` (lowest value).
    demand : DataFrame
        :func:`market_demand` of the markets with demand, per week.
    sku_value : Series
        Annual demand value per sku in the region (largest first): the order of the
        skus everywhere.
    unit_cost : Series
        ``items.unit_cost`` per sku.
    other_demand : DataFrame
        ``site_id, sku, other_demand_mean``: per period, the recent demand of other
        regions' markets shipped through each site on their best routes.
    markets : tuple of str
        The region's market sites.
    service_level : float
        The target where no segment target applies.
    """

    region: str
    period_days: float
    carrying_rate: float
    graphs: dict[str, nx.DiGraph]
    errors: dict[str, str]
    notes: dict[str, list[str]]
    skipped: tuple[str, ...]
    demand: pd.DataFrame
    sku_value: pd.Series
    unit_cost: pd.Series
    other_demand: pd.DataFrame
    markets: tuple[str, ...] = ()
    service_level: float = 0.95

    @property
    def requested(self) -> list[str]:
        """The skus to plan (graphs and errors), by value."""
        wanted = set(self.graphs) | set(self.errors)
        return [sku for sku in self.sku_value.index if sku in wanted]


def _leaf_demand(tree: nx.DiGraph, attribute: str = "demand_mean") -> dict[Hashable, float]:
    """Demand of the markets below (and at) each node of a tree."""
    below: dict[Hashable, float] = {}
    for node in reversed(list(nx.topological_sort(tree))):
        own = float(tree.nodes[node].get(attribute) or 0.0) if tree.out_degree(node) == 0 else 0.0
        below[node] = own + sum(below[child] for child in tree.successors(node))
    return below


def _set_service_levels(tree: nx.DiGraph, default: float) -> None:
    """Internal nodes: the demand-weighted mean of the targets of the markets they serve."""
    for node in reversed(list(nx.topological_sort(tree))):
        data = tree.nodes[node]
        if tree.out_degree(node) == 0:
            data.setdefault("service_level", default)
            continue
        leaves = [n for n in nx.descendants(tree, node) if tree.out_degree(n) == 0]
        weights = np.array([float(tree.nodes[n].get("demand_mean") or 0.0) for n in leaves])
        levels = np.array([float(tree.nodes[n]["service_level"]) for n in leaves])
        if weights.sum() > 0:
            data["service_level"] = float(np.dot(weights, levels) / weights.sum())
        else:
            data["service_level"] = float(levels.mean()) if len(levels) else default


def _other_region_demand(
    dataset: Dataset,
    graph: nx.MultiDiGraph,
    region: str,
    skus: Iterable[str],
    *,
    carrying_rate: float,
    cost_per_day: float,
    period_days: float,
) -> pd.DataFrame:
    sites = dataset.sites
    others = set(
        sites.loc[(sites["site_type"] == "market") & (sites["region"] != region), "site_id"]
    )
    columns = ["site_id", "sku", "other_demand_mean"]
    if not others or dataset.demand.empty:
        return pd.DataFrame(columns=columns)
    rates = demand_rates(dataset.demand)
    rates = rates[rates["site_id"].isin(others) & (rates["demand_per_day"] > 0)]
    rows = []
    for sku in skus:
        markets = sorted(rates.loc[rates["sku"] == sku, "site_id"])
        if not markets:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tree = supply_network(
                    dataset,
                    sku,
                    graph=graph,
                    demand=rates,
                    markets=markets,
                    carrying_rate=carrying_rate,
                    cost_per_day=cost_per_day,
                    period_days=period_days,
                )
            except Exception:  # other regions' routing only weighs today's stock
                continue
        rows += [(site, sku, flow) for site, flow in _leaf_demand(tree).items()]
    return pd.DataFrame(rows, columns=columns)


def region_networks(
    dataset: Dataset,
    demand: pd.DataFrame,
    *,
    region: str,
    carrying_rate: float = 0.25,
    cost_per_day: float = 0.0,
    period_days: float = 7.0,
    service_level: float = 0.95,
    max_skus: int = 0,
    graph: nx.MultiDiGraph | None = None,
) -> RegionNetworks:
    """Build the supply tree of every sku sold in a region's markets.

    Parameters
    ----------
    dataset : Dataset
        The whole extract (plants and DCs serve every region; other regions'
        demand weighs today's stock at shared sites), e.g. ``ctx.clean``.
    demand : DataFrame
        :func:`market_demand` of the region's series; markets with a positive
        ``demand_mean`` are served.
    region : str
    carrying_rate, cost_per_day, period_days : float
        As for :func:`toolkit.network_supply.supply_network`.
    service_level : float
        Target of a market without one in ``demand``.
    max_skus : int
        Plan at most this many skus, highest annual value first (0: all).
    graph : networkx.MultiDiGraph, optional
        ``build_network(dataset)``.

    Returns
    -------
    RegionNetworks
    """
    graph = build_network(dataset) if graph is None else graph
    sites = dataset.sites
    markets = tuple(
        sorted(
            sites.loc[
                (sites["site_type"] == "market") & (sites["region"] == region), "site_id"
            ].astype(str)
        )
    )
    sold = demand[(demand["demand_mean"] > 0) & demand["site_id"].astype(str).isin(markets)].copy()
    sold["sku"] = sold["sku"].astype(str)
    sku_value = (
        sold.groupby("sku")["annual_value"].sum().sort_values(ascending=False, kind="stable")
    )
    chosen = list(sku_value.index)
    skipped: tuple[str, ...] = ()
    if max_skus and len(chosen) > max_skus:
        chosen, skipped = chosen[:max_skus], tuple(chosen[max_skus:])
    rates = sold.assign(
        demand_per_day=sold["demand_mean"] / WEEK_DAYS,
        demand_std_per_day=sold["demand_std"] / math.sqrt(WEEK_DAYS),
    )
    by_series = sold.set_index(["site_id", "sku"])
    graphs: dict[str, nx.DiGraph] = {}
    errors: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for sku in chosen:
        served = sorted(rates.loc[rates["sku"] == sku, "site_id"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                tree = supply_network(
                    dataset,
                    sku,
                    graph=graph,
                    demand=rates[_RATE_COLUMNS],
                    markets=served,
                    carrying_rate=carrying_rate,
                    cost_per_day=cost_per_day,
                    period_days=period_days,
                )
            except Exception as exc:  # reported per sku, never raised for the region
                errors[sku] = f"{type(exc).__name__}: {exc}"
                continue
        if caught:
            notes[sku] = [str(w.message) for w in caught]
        if tree.number_of_nodes() == 0:
            errors[sku] = f"no plant reaches its markets ({', '.join(served)})"
            continue
        for node in tree:
            if (node, sku) in by_series.index and tree.out_degree(node) == 0:
                row = by_series.loc[(node, sku)]
                tree.nodes[node]["service_level"] = float(row["service_level"])
                tree.nodes[node]["std_source"] = str(row["std_source"])
        _set_service_levels(tree, service_level)
        graphs[sku] = tree

    items = dataset.items.drop_duplicates("sku")
    unit_cost = pd.Series(
        items["unit_cost"].astype(float).to_numpy(),
        index=items["sku"].astype(str),
        name="unit_cost",
    )
    other = _other_region_demand(
        dataset,
        graph,
        region,
        graphs,
        carrying_rate=carrying_rate,
        cost_per_day=cost_per_day,
        period_days=period_days,
    )
    return RegionNetworks(
        region=region,
        period_days=float(period_days),
        carrying_rate=float(carrying_rate),
        graphs=graphs,
        errors=errors,
        notes=notes,
        skipped=skipped,
        demand=sold.reset_index(drop=True),
        sku_value=sku_value,
        unit_cost=unit_cost,
        other_demand=other,
        markets=markets,
        service_level=float(service_level),
    )


# --- solving, sku by sku ------------------------------------------------------------------


def _failure_status(exc: Exception) -> str:
    if isinstance(exc, NetworkValidationError):
        return "invalid network"
    if isinstance(exc, InfeasibleError):
        return "infeasible"
    if isinstance(exc, CandidateLimitError):
        return "too many candidates"
    return "error"


def _solve_one(
    sku: str,
    graph: nx.DiGraph,
    *,
    service_level: float | None,
    must_hold: Sequence[str],
    may_not_hold: Sequence[str],
    time_limit: float | None,
    gap: float,
    log_path: str | None,
) -> dict:
    """Solve one sku (a fresh SCIP model); failures become a status, never an exception."""
    record: dict = {"sku": sku, "sites": graph.number_of_nodes()}
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            plan = place_safety_stock(
                graph,
                service_level,
                must_hold=[n for n in must_hold if n in graph],
                may_not_hold=[n for n in may_not_hold if n in graph],
                time_limit=time_limit,
                gap=gap,
                log_path=log_path,
            )
        except Exception as exc:
            record |= {
                "status": _failure_status(exc),
                "is_optimal": False,
                "has_plan": False,
                "solve_seconds": time.monotonic() - started,
                "message": f"{type(exc).__name__}: {exc}",
                "placements": None,
            }
            return record
    frame = plan.to_frame()
    record |= {
        "status": plan.status,
        "is_optimal": plan.is_optimal,
        "has_plan": True,
        "method": plan.method,
        "holding_cost_per_period": plan.total_cost,
        "gap": plan.gap,
        "best_bound": plan.best_bound,
        "solve_seconds": plan.solve_seconds,
        "candidate_pairs": plan.candidate_pairs,
        "bnb_nodes": plan.bnb_nodes,
        "stocking_points": int((frame["safety_stock"] > 0).sum()),
        "scip_version": plan.scip_version,
        "message": "; ".join(sorted({str(w.message) for w in caught})),
        "placements": frame.reset_index().to_dict("list"),
    }
    return record


def _solve_chunk(task: dict) -> list[dict]:
    """Worker: solve a chunk of skus (module level, so that it pickles by name)."""
    options = dict(task["options"])
    log_dir = options.pop("log_dir", None)
    out = []
    for sku, graph in task["items"]:
        log_path = str(Path(log_dir) / f"{sku}.log") if log_dir else None
        out.append(_solve_one(sku, graph, log_path=log_path, **options))
    return out


def _strip_levels(graph: nx.DiGraph) -> nx.DiGraph:
    bare = graph.copy()
    for _node, data in bare.nodes(data=True):
        data.pop("service_level", None)
        data.pop("safety_factor", None)
    return bare


def _frontier_chunk(task: dict) -> list[dict]:
    """Worker: every service level of a chunk of skus, a fresh model per point."""
    options = task["options"]
    out = []
    for sku, graph in task["items"]:
        bare = _strip_levels(graph)
        for level in task["levels"]:
            record = _solve_one(sku, bare, service_level=level, log_path=None, **options)
            frame = record.pop("placements")
            record["service_level"] = float(level)
            record["safety_stock_units"] = (
                float(np.sum(frame["safety_stock"])) if frame is not None else math.nan
            )
            out.append(record)
    return out


def _run_chunks(
    func,
    items: list[tuple[str, nx.DiGraph]],
    extra: dict,
    *,
    n_jobs: int | None,
    chunk_size: int | None,
    progress: bool,
    description: str,
) -> list[dict]:
    jobs = resolve_jobs(n_jobs)
    # Solves are short: about four tasks per worker, however few skus.
    size = chunk_size or max(1, -(-len(items) // (4 * jobs)))
    tasks = [
        {"items": [items[i] for i in rows], **extra}
        for rows in chunk_rows(len(items), jobs, chunk_size=size)
    ]
    results = map_chunks(func, tasks, n_jobs=jobs, progress=progress, description=description)
    return [record for chunk in results for record in chunk]


@dataclass(frozen=True)
class RegionSafetyStockPlan:
    """A region's optimal safety stock per site and sku, and today's beside it.

    Attributes
    ----------
    region : str
    period_days : float
        Length of a period in days; times are in periods.
    policies : DataFrame
        One row per site and planned sku: ``site_id, sku, name, site_type, echelon,
        site_region, status`` (the sku's solve status), ``service_level,
        safety_factor, demand_mean, demand_std`` (per period), ``processing_time,
        inbound_service_time, outbound_service_time, net_replenishment_time`` (periods),
        ``net_replenishment_days``, ``safety_stock, order_up_to, reorder_point``
        (units; ``base_stock`` = ``order_up_to``), ``stocking_point``, ``unit_cost``,
        ``landed_value`` (per unit at the site), ``value`` (safety stock at unit
        cost), ``holding_cost_per_period``, ``holding_cost_per_year``, ``std_source``
        (markets). The columns ``reorder_point, order_up_to, safety_stock`` are those
        of the canonical ``policies`` table, so the proposal can stand in for it.
    solves : DataFrame
        One row per requested sku: ``sku, status, is_optimal, has_plan, method,
        holding_cost_per_period, gap, best_bound, solve_seconds, candidate_pairs,
        bnb_nodes, sites, stocking_points, scip_version, message`` (why it failed, or
        the solver's warnings).
    comparison : DataFrame
        One row per site and planned sku in the plan or in today's policies of the
        plan's sites and the region's markets: ``today_units_site`` (the policy),
        ``region_share``, ``today_units`` (the region's part), ``proposed_units``,
        ``difference_units`` (today - proposed), ``unit_cost``, ``today_value,
        proposed_value, freed_value``, ``today_holding_cost_per_year,
        proposed_holding_cost_per_year``, ``in_policies`` (a policy exists today).
    by_site, by_echelon : DataFrame
        ``comparison`` summed per site (with ``change``: ``less``, ``more`` or
        ``same`` than today) and per echelon (``plant, dc, market`` and ``total``).
    not_compared : DataFrame
        Today's policies at the region's markets for skus without a plan (no
        forecast demand, failed, or skipped), with ``reason`` and ``today_value``.
    skipped : tuple of str
    market_demand : DataFrame
        The demand of the planned skus' markets (for the weighted service level).
    wall_seconds : float
        Elapsed time of the whole solve (all skus, all workers).
    review_periods : float
        Periods between reviews (the reorder point is one review's demand below the
        order-up-to level).
    must_hold, may_not_hold : tuple of str
        The site rules applied.
    """

    region: str
    period_days: float
    policies: pd.DataFrame
    solves: pd.DataFrame
    comparison: pd.DataFrame
    by_site: pd.DataFrame
    by_echelon: pd.DataFrame
    not_compared: pd.DataFrame
    skipped: tuple[str, ...]
    market_demand: pd.DataFrame
    wall_seconds: float
    review_periods: float = 1.0
    must_hold: tuple[str, ...] = ()
    may_not_hold: tuple[str, ...] = ()

    @property
    def total_cost(self) -> float:
        """Holding cost of the proposed safety stock per year."""
        return float(self.policies["holding_cost_per_year"].sum())

    @property
    def total_value(self) -> float:
        """Value of the proposed safety stock at unit cost."""
        return float(self.policies["value"].sum())

    @property
    def requested(self) -> int:
        """Skus asked for (solved + failed)."""
        return len(self.solves)

    @property
    def solved(self) -> int:
        """Skus with a plan (proven optimal or not)."""
        return int(self.solves["has_plan"].sum())

    @property
    def failed(self) -> int:
        """Skus without a plan."""
        return int((~self.solves["has_plan"].astype(bool)).sum())

    @property
    def optimal(self) -> int:
        """Skus whose plan is proven optimal."""
        return int(self.solves["is_optimal"].sum())


def _policy_rows(
    records: list[dict], networks: RegionNetworks, review_periods: float
) -> pd.DataFrame:
    frames = []
    for record in records:
        if not record["has_plan"]:
            continue
        sku, graph = record["sku"], networks.graphs[record["sku"]]
        frame = pd.DataFrame(record["placements"]).rename(columns={"node": "site_id"})
        frame.insert(1, "sku", sku)
        nodes = [graph.nodes[n] for n in frame["site_id"]]
        frame["name"] = [d.get("name") for d in nodes]
        frame["site_type"] = [d.get("site_type") for d in nodes]
        frame["echelon"] = [d.get("echelon") for d in nodes]
        frame["site_region"] = [d.get("region") for d in nodes]
        frame["service_level"] = [float(d.get("service_level", math.nan)) for d in nodes]
        frame["landed_value"] = [float(d.get("delivered_cost", math.nan)) for d in nodes]
        frame["std_source"] = [d.get("std_source") for d in nodes]
        frame["status"] = record["status"]
        frames.append(frame)
    columns = _POLICY_COLUMNS
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["net_replenishment_days"] = out["net_replenishment_time"] * networks.period_days
    out["order_up_to"] = out["base_stock"]
    out["reorder_point"] = (out["base_stock"] - out["demand_mean"] * review_periods).clip(lower=0.0)
    out["stocking_point"] = out["net_replenishment_time"] > 0
    out.loc[~out["stocking_point"], ["order_up_to", "reorder_point"]] = 0.0
    out["unit_cost"] = out["sku"].map(networks.unit_cost).astype(float)
    out["value"] = out["safety_stock"] * out["unit_cost"]
    out["holding_cost_per_period"] = out["holding_cost"]
    out["holding_cost_per_year"] = out["holding_cost"] * _DAYS_PER_YEAR / networks.period_days
    return out[columns]


def _comparison(
    policies: pd.DataFrame,
    today: pd.DataFrame,
    networks: RegionNetworks,
    planned: Sequence[str],
) -> pd.DataFrame:
    keys = ["site_id", "sku"]
    proposed = policies[[*keys, "site_type", "echelon", "safety_stock", "unit_holding_cost"]]
    region_markets = set(networks.markets)
    today = today[[*keys, "safety_stock"]].astype({"safety_stock": float})
    today[keys] = today[keys].astype(str)
    # Today's policies of the planned skus at the plan's sites and the region's markets.
    in_plan = pd.MultiIndex.from_frame(today[keys]).isin(
        pd.MultiIndex.from_frame(policies[keys].astype(str))
    )
    today = today[
        today["sku"].isin(set(planned)) & (in_plan | today["site_id"].isin(region_markets))
    ]
    today = today.groupby(keys, as_index=False)["safety_stock"].sum()
    merged = proposed.merge(
        today.rename(columns={"safety_stock": "today_units_site"}), on=keys, how="outer"
    )
    merged["in_policies"] = merged["today_units_site"].notna()
    merged["today_units_site"] = merged["today_units_site"].fillna(0.0)
    merged["proposed_units"] = merged["safety_stock"].fillna(0.0)

    # The region's share of a shared site: its planned demand through the site
    # against other regions' recent demand on their best routes.
    own = {}
    for sku, graph in networks.graphs.items():
        for site, flow in _leaf_demand(graph).items():
            own[(site, sku)] = flow
    other = networks.other_demand.set_index(["site_id", "sku"])["other_demand_mean"]
    pairs = list(zip(merged["site_id"], merged["sku"], strict=True))
    mine = np.array([own.get(p, math.nan) for p in pairs])
    theirs = np.array([float(other.get(p, 0.0)) for p in pairs])
    share = np.where(np.isnan(mine), 1.0, np.where(mine + theirs > 0, mine / (mine + theirs), 1.0))
    merged["region_share"] = np.where(merged["site_id"].isin(region_markets), 1.0, share)
    merged["today_units"] = merged["today_units_site"] * merged["region_share"]
    merged["difference_units"] = merged["today_units"] - merged["proposed_units"]

    # Sites out of the plan's tree (markets without demand for the sku): site facts
    # and the carrying cost at unit cost.
    graph_nodes = {}
    for graph in networks.graphs.values():
        for node, data in graph.nodes(data=True):
            graph_nodes.setdefault(node, data)
    missing = merged["site_type"].isna()
    merged.loc[missing, "site_type"] = merged.loc[missing, "site_id"].map(
        lambda s: graph_nodes.get(s, {}).get("site_type", "market" if s in region_markets else None)
    )
    merged.loc[missing, "echelon"] = merged.loc[missing, "site_type"].map(
        {t: i for i, t in enumerate(ECHELONS)}
    )
    merged["unit_cost"] = merged["sku"].map(networks.unit_cost).astype(float)
    per_period = networks.carrying_rate * networks.period_days / _DAYS_PER_YEAR
    merged["unit_holding_cost"] = merged["unit_holding_cost"].fillna(
        merged["unit_cost"] * per_period
    )
    per_year = merged["unit_holding_cost"] * _DAYS_PER_YEAR / networks.period_days
    merged["today_value"] = merged["today_units"] * merged["unit_cost"]
    merged["proposed_value"] = merged["proposed_units"] * merged["unit_cost"]
    merged["freed_value"] = merged["today_value"] - merged["proposed_value"]
    merged["today_holding_cost_per_year"] = merged["today_units"] * per_year
    merged["proposed_holding_cost_per_year"] = merged["proposed_units"] * per_year
    columns = _COMPARISON_COLUMNS
    merged["echelon"] = merged["echelon"].astype(float).astype("Int64")
    return merged[columns].sort_values(keys, ignore_index=True)


_SUMS = [
    "today_units",
    "proposed_units",
    "today_value",
    "proposed_value",
    "freed_value",
    "today_holding_cost_per_year",
    "proposed_holding_cost_per_year",
]


def _by_site(comparison: pd.DataFrame, names: Mapping[str, str], tolerance: float) -> pd.DataFrame:
    grouped = comparison.groupby(["site_id", "site_type", "echelon"], as_index=False, dropna=False)[
        _SUMS
    ].sum()
    grouped["skus_held"] = (
        (comparison[comparison["proposed_units"] > 0].groupby("site_id")["sku"].nunique())
        .reindex(grouped["site_id"])
        .fillna(0)
        .astype(int)
        .to_numpy()
    )
    grouped.insert(1, "name", grouped["site_id"].map(names))
    # The same: a difference within ``tolerance`` of the site's larger value, or below
    # 1% of the region's safety stock (a few units at a plant are not a change).
    region = max(grouped["today_value"].sum(), grouped["proposed_value"].sum())
    threshold = np.maximum(
        tolerance * np.maximum(grouped["today_value"], grouped["proposed_value"]), 0.01 * region
    )
    grouped["change"] = np.select(
        [grouped["freed_value"] > threshold, grouped["freed_value"] < -threshold],
        ["less", "more"],
        "same",
    )
    return grouped.sort_values(
        ["echelon", "proposed_value"], ascending=[True, False], ignore_index=True
    )


def _by_echelon(by_site: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for echelon in ECHELONS:
        part = by_site[by_site["site_type"] == echelon]
        row = {"echelon": echelon, "sites": int((part["proposed_units"] > 0).sum())}
        row |= {c: float(part[c].sum()) for c in _SUMS}
        rows.append(row)
    total = {"echelon": "total", "sites": sum(r["sites"] for r in rows)}
    total |= {c: sum(r[c] for r in rows) for c in _SUMS}
    frame = pd.DataFrame([*rows, total])
    today = frame["today_value"].where(frame["today_value"] > 0)
    frame["freed_share"] = frame["freed_value"] / today
    return frame


def _not_compared(
    today: pd.DataFrame, networks: RegionNetworks, solves: pd.DataFrame, planned: set[str]
) -> pd.DataFrame:
    markets = set(networks.markets)
    frame = today[today["site_id"].astype(str).isin(markets)].copy()
    frame["sku"] = frame["sku"].astype(str)
    frame = frame[~frame["sku"].isin(planned)]
    failed = set(solves.loc[~solves["has_plan"].astype(bool), "sku"])
    frame["reason"] = np.select(
        [frame["sku"].isin(failed), frame["sku"].isin(set(networks.skipped))],
        ["no plan (solve failed)", "skipped (max_skus)"],
        "no demand forecast",
    )
    frame["unit_cost"] = frame["sku"].map(networks.unit_cost).astype(float)
    frame["today_value"] = frame["safety_stock"] * frame["unit_cost"]
    return frame[
        ["site_id", "sku", "reason", "safety_stock", "unit_cost", "today_value"]
    ].reset_index(drop=True)


def plan_safety_stock(
    networks: RegionNetworks,
    *,
    policies: pd.DataFrame | None = None,
    site_names: Mapping[str, str] | None = None,
    must_hold: Iterable[str] = (),
    may_not_hold: Iterable[str] = (),
    time_limit: float | None = None,
    gap: float = 0.0,
    review_periods: float = 1.0,
    n_jobs: int | None = 1,
    chunk_size: int | None = None,
    progress: bool = True,
    log_dir: str | Path | None = None,
    change_tolerance: float = 0.05,
) -> RegionSafetyStockPlan:
    """Place safety stock optimally for every sku of a region, and compare with today.

    Each sku is its own guaranteed-service problem
    (:func:`toolkit.optimize.place_safety_stock`, a fresh SCIP model), solved in
    chunks over ``n_jobs`` worker processes.

    Parameters
    ----------
    networks : RegionNetworks
        From :func:`region_networks`.
    policies : DataFrame, optional
        Today's ``policies`` table (``site_id, sku, safety_stock``); none: nothing held
        today.
    site_names : mapping, optional
        Site id -> name for the site summary.
    must_hold, may_not_hold : iterable of str
        Site ids that must hold safety stock (serve from stock) or may hold none;
        applied to every sku whose tree contains them.
    time_limit : float, optional
        Seconds per sku. A sku stopped by it keeps its best plan, marked
        ``time_limit``.
    gap : float
        Relative optimality gap at which to stop (0: prove optimality).
    review_periods : float
        Periods between reviews (for the reorder point).
    n_jobs : int, optional
        Worker processes (1: in this process; None: every core).
    chunk_size : int, optional
        Skus per task (default: about four tasks per worker).
    progress : bool
        Show a progress bar over the chunks.
    log_dir : str or Path, optional
        Folder for SCIP's log per sku (skus solved by the tree reductions need no
        MILP and write none).
    change_tolerance : float
        Relative difference below which a site holds the ``same`` as today (a
        difference below 1% of the region's safety stock is also the same).

    Returns
    -------
    RegionSafetyStockPlan

    Raises
    ------
    ValueError
        When a site is in both ``must_hold`` and ``may_not_hold``.
    """
    must_hold, may_not_hold = tuple(map(str, must_hold)), tuple(map(str, may_not_hold))
    both = sorted(set(must_hold) & set(may_not_hold))
    if both:
        raise ValueError(f"sites {both} are in both must_hold and may_not_hold")
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    items = [(sku, networks.graphs[sku]) for sku in networks.requested if sku in networks.graphs]
    options = {
        "service_level": networks.service_level,
        "must_hold": must_hold,
        "may_not_hold": may_not_hold,
        "time_limit": time_limit,
        "gap": gap,
        "log_dir": None if log_dir is None else str(log_dir),
    }
    records = _run_chunks(
        _solve_chunk,
        items,
        {"options": options},
        n_jobs=n_jobs,
        chunk_size=chunk_size,
        progress=progress,
        description="skus",
    )
    records += [
        {
            "sku": sku,
            "status": "no network",
            "is_optimal": False,
            "has_plan": False,
            "message": message,
            "sites": 0,
            "solve_seconds": 0.0,
        }
        for sku, message in networks.errors.items()
    ]
    order = {sku: i for i, sku in enumerate(networks.requested)}
    records.sort(key=lambda r: order.get(r["sku"], len(order)))
    wall = time.monotonic() - started

    policy_table = _policy_rows(records, networks, review_periods)
    solves = pd.DataFrame(
        [{k: v for k, v in r.items() if k != "placements"} for r in records], columns=_SOLVE_COLUMNS
    )
    solves["is_optimal"] = solves["is_optimal"].astype(bool)
    solves["has_plan"] = solves["has_plan"].astype(bool)
    planned = list(solves.loc[solves["has_plan"], "sku"])
    today = (
        policies
        if policies is not None
        else pd.DataFrame(columns=["site_id", "sku", "safety_stock"])
    )
    comparison = _comparison(policy_table, today, networks, planned)
    names = dict(site_names or {})
    for graph in networks.graphs.values():
        for node, name in graph.nodes(data="name"):
            names.setdefault(node, name)
    by_site = _by_site(comparison, names, change_tolerance)
    demand = networks.demand[networks.demand["sku"].isin(set(planned))].reset_index(drop=True)
    return RegionSafetyStockPlan(
        region=networks.region,
        period_days=networks.period_days,
        policies=policy_table,
        solves=solves,
        comparison=comparison,
        by_site=by_site,
        by_echelon=_by_echelon(by_site),
        not_compared=_not_compared(today, networks, solves, set(planned)),
        skipped=networks.skipped,
        market_demand=demand,
        wall_seconds=wall,
        review_periods=float(review_periods),
        must_hold=must_hold,
        may_not_hold=may_not_hold,
    )


# --- summaries for the report -----------------------------------------------------------


@dataclass(frozen=True)
class PlanSummary:
    """The headline figures of a region's plan (see :func:`summarize_plan`)."""

    skus_requested: int
    skus_solved: int
    skus_optimal: int
    skus_failed: int
    skus_skipped: int
    today_value: float
    proposed_value: float
    freed_value: float
    freed_share: float
    today_units: float
    proposed_units: float
    holding_cost_per_year: float
    today_holding_cost_per_year: float
    service_level: float
    stocking_points: int
    stocking_sites: int
    not_compared_value: float
    solve_seconds: float
    wall_seconds: float
    scip_version: str


def summarize_plan(plan: RegionSafetyStockPlan) -> PlanSummary:
    """Return a plan's headline figures.

    ``service_level`` is the targets of the planned market-sku series weighted by
    their annual demand value; ``freed_share`` is freed / today's value (nan without
    stock today).
    """
    total = plan.by_echelon.set_index("echelon").loc["total"]
    demand = plan.market_demand
    weights = demand["annual_value"].astype(float).to_numpy()
    levels = demand["service_level"].astype(float).to_numpy()
    level = float(np.dot(weights, levels) / weights.sum()) if weights.sum() > 0 else math.nan
    versions = plan.solves["scip_version"].dropna()
    stocking = plan.policies[plan.policies["safety_stock"] > 0]
    today = float(total["today_value"])
    return PlanSummary(
        skus_requested=plan.requested,
        skus_solved=plan.solved,
        skus_optimal=plan.optimal,
        skus_failed=plan.failed,
        skus_skipped=len(plan.skipped),
        today_value=today,
        proposed_value=float(total["proposed_value"]),
        freed_value=float(total["freed_value"]),
        freed_share=float(total["freed_value"]) / today if today > 0 else math.nan,
        today_units=float(total["today_units"]),
        proposed_units=float(total["proposed_units"]),
        holding_cost_per_year=float(total["proposed_holding_cost_per_year"]),
        today_holding_cost_per_year=float(total["today_holding_cost_per_year"]),
        service_level=level,
        stocking_points=len(stocking),
        stocking_sites=int(stocking["site_id"].nunique()),
        not_compared_value=float(plan.not_compared["today_value"].sum()),
        solve_seconds=float(plan.solves["solve_seconds"].fillna(0.0).sum()),
        wall_seconds=plan.wall_seconds,
        scip_version=str(versions.iloc[0]) if len(versions) else "",
    )


def status_summary(solves: pd.DataFrame) -> pd.DataFrame:
    """Count skus per solve status and method, with the total seconds and an example message.

    Returns
    -------
    DataFrame
        ``status, method, skus, share, solve_seconds, example`` (proven optimal first).
    """
    frame = solves.assign(method=solves["method"].fillna("–"), message=solves["message"].fillna(""))
    grouped = frame.groupby(["status", "method"], as_index=False).agg(
        skus=("sku", "size"),
        solve_seconds=("solve_seconds", "sum"),
        example=("message", lambda m: next((x for x in m if x), "")),
    )
    grouped["share"] = grouped["skus"] / max(len(solves), 1)
    grouped["rank"] = (grouped["status"] != "optimal").astype(int)
    grouped = grouped.sort_values(["rank", "skus"], ascending=[True, False], ignore_index=True)
    return grouped[["status", "method", "skus", "share", "solve_seconds", "example"]]


def top_differences(
    comparison: pd.DataFrame, items: pd.DataFrame | None = None, *, n: int = 10, freed: bool = True
) -> pd.DataFrame:
    """The skus whose safety stock changes most in value, summed over the region's sites.

    Parameters
    ----------
    comparison : DataFrame
        ``plan.comparison``.
    items : DataFrame, optional
        ``sku, description, product_line`` to describe the skus.
    n : int
    freed : bool
        The largest freed values (True) or the largest additions (False).

    Returns
    -------
    DataFrame
        ``sku, [description, product_line], sites, today_units, proposed_units,
        today_value, proposed_value, freed_value``.
    """
    grouped = comparison.groupby("sku", as_index=False).agg(
        sites=("site_id", "nunique"),
        today_units=("today_units", "sum"),
        proposed_units=("proposed_units", "sum"),
        today_value=("today_value", "sum"),
        proposed_value=("proposed_value", "sum"),
        freed_value=("freed_value", "sum"),
    )
    grouped = grouped[grouped["freed_value"] > 0] if freed else grouped[grouped["freed_value"] < 0]
    grouped = grouped.sort_values("freed_value", ascending=not freed, ignore_index=True).head(n)
    if items is not None:
        described = items[["sku", "description", "product_line"]].drop_duplicates("sku")
        described = described.assign(sku=described["sku"].astype(str))
        grouped = grouped.merge(described, on="sku", how="left")
        grouped = grouped[["sku", "description", "product_line", *grouped.columns[1:-2]]]
    return grouped


def by_product_line(comparison: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Today's and the proposed safety stock summed per product line, with a total row.

    Returns
    -------
    DataFrame
        ``product_line, skus, today_value, proposed_value, freed_value, freed_share,
        today_holding_cost_per_year, proposed_holding_cost_per_year``, largest
        today's value first, then ``total``.
    """
    lines = items[["sku", "product_line"]].drop_duplicates("sku")
    lines = lines.assign(sku=lines["sku"].astype(str))
    frame = comparison.merge(lines, on="sku", how="left")
    frame["product_line"] = frame["product_line"].fillna("unknown").astype(str)
    sums = [
        "today_value",
        "proposed_value",
        "freed_value",
        "today_holding_cost_per_year",
        "proposed_holding_cost_per_year",
    ]
    grouped = frame.groupby("product_line", as_index=False).agg(
        skus=("sku", "nunique"), **{c: (c, "sum") for c in sums}
    )
    grouped = grouped.sort_values("today_value", ascending=False, ignore_index=True)
    total = {"product_line": "total", "skus": int(frame["sku"].nunique())}
    total |= {c: float(grouped[c].sum()) for c in sums}
    grouped = pd.concat([grouped, pd.DataFrame([total])], ignore_index=True)
    grouped.insert(
        5,
        "freed_share",
        grouped["freed_value"] / grouped["today_value"].where(grouped["today_value"] > 0),
    )
    return grouped


def variability_sources(demand: pd.DataFrame) -> pd.DataFrame:
    """How the demand variability of the planned market-sku series was measured.

    Returns
    -------
    DataFrame
        ``std_source, series, annual_value, share`` (share of the annual value).
    """
    grouped = demand.groupby("std_source", as_index=False).agg(
        series=("series_id", "size"), annual_value=("annual_value", "sum")
    )
    total = grouped["annual_value"].sum()
    grouped["share"] = grouped["annual_value"] / total if total > 0 else np.nan
    return grouped.sort_values("annual_value", ascending=False, ignore_index=True)


def plan_flows(networks: RegionNetworks) -> pd.DataFrame:
    """Lanes of the planned trees with the demand value they carry (for the network picture).

    Returns
    -------
    DataFrame
        ``origin, destination, mode, units_per_day, value_per_day``: the markets'
        mean demand below each lane, at unit cost, summed over skus.
    """
    rows = []
    for sku, graph in networks.graphs.items():
        below = _leaf_demand(graph)
        cost = float(networks.unit_cost.get(sku, math.nan))
        for u, v, mode in graph.edges(data="mode"):
            units = below[v] / networks.period_days
            rows.append((u, v, mode, units, units * cost))
    columns = ["origin", "destination", "mode", "units_per_day", "value_per_day"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.groupby(columns[:3], as_index=False)[columns[3:]].sum()


# --- the cost-service frontier ------------------------------------------------------------


@dataclass(frozen=True)
class RegionFrontier:
    """The optimal safety-stock cost of a region's most valuable skus at uniform service levels.

    Attributes
    ----------
    table : DataFrame
        One row per level: ``service_level, skus, solved, optimal, failed,
        safety_stock_units, safety_stock_value, holding_cost_per_year,
        solve_seconds`` (sums over the skus with a plan at that level).
    points : DataFrame
        One row per sku and level (status, cost, units).
    skus : tuple of str
        The skus on the frontier (most valuable first).
    value_share : float
        Their share of the region's annual demand value.
    skus_total : int
        Skus with a supply tree in the region.
    chosen : dict or None
        The plan on the same skus: ``service_level`` (value-weighted target),
        ``holding_cost_per_year``, ``safety_stock_value``.
    """

    table: pd.DataFrame
    points: pd.DataFrame
    skus: tuple[str, ...]
    value_share: float
    skus_total: int
    chosen: dict | None


def frontier_skus(
    networks: RegionNetworks, value_share: float = 0.8, min_skus: int = 0
) -> list[str]:
    """The most valuable skus with a tree, until they cover ``value_share`` of the value.

    At least ``min_skus`` of them (when there are as many), so that a region where one
    sku holds most of the value still gets a frontier of several. With values 50, 30
    and 20, a share of 0.8 keeps the first two; with ``min_skus=3``, all three.
    """
    values = networks.sku_value[[s for s in networks.sku_value.index if s in networks.graphs]]
    if values.empty:
        return []
    if value_share >= 1.0:
        return list(values.index)
    total = float(networks.sku_value.sum())
    cumulative = values.cumsum() / total if total > 0 else values.cumsum()
    count = int(np.searchsorted(cumulative.to_numpy(), value_share - 1e-12) + 1)
    return list(values.index[: min(max(count, min_skus), len(values))])


def region_frontier(
    networks: RegionNetworks,
    service_levels: Sequence[float],
    *,
    value_share: float = 0.8,
    min_skus: int = 10,
    plan: RegionSafetyStockPlan | None = None,
    must_hold: Iterable[str] = (),
    may_not_hold: Iterable[str] = (),
    time_limit: float | None = None,
    gap: float = 0.0,
    n_jobs: int | None = 1,
    chunk_size: int | None = None,
    progress: bool = True,
) -> RegionFrontier:
    """Optimal safety-stock cost and value at each uniform service level, summed over skus.

    Every node of every sku takes the level in turn (segment targets are set aside);
    each point of each sku is a fresh model. Only the most valuable skus covering
    ``value_share`` of the region's demand value are solved, to keep it fast.

    Parameters
    ----------
    networks : RegionNetworks
    service_levels : sequence of float
    value_share : float
        Share of the annual demand value the skus on the frontier cover (1: all).
    min_skus : int
        The frontier has at least this many skus (see :func:`frontier_skus`).
    plan : RegionSafetyStockPlan, optional
        The plan to mark on the frontier (its cost on the same skus).
    must_hold, may_not_hold, time_limit, gap, n_jobs, chunk_size, progress
        As for :func:`plan_safety_stock`.

    Returns
    -------
    RegionFrontier
    """
    skus = frontier_skus(networks, value_share, min_skus)
    items = [(sku, networks.graphs[sku]) for sku in skus]
    options = {
        "must_hold": tuple(map(str, must_hold)),
        "may_not_hold": tuple(map(str, may_not_hold)),
        "time_limit": time_limit,
        "gap": gap,
    }
    records = _run_chunks(
        _frontier_chunk,
        items,
        {"options": options, "levels": [float(x) for x in service_levels]},
        n_jobs=n_jobs,
        chunk_size=chunk_size,
        progress=progress,
        description="frontier skus",
    )
    points = pd.DataFrame(records)
    if points.empty:
        points = pd.DataFrame(
            columns=[
                "sku",
                "service_level",
                "status",
                "has_plan",
                "is_optimal",
                "holding_cost_per_period",
                "safety_stock_units",
                "solve_seconds",
            ]
        )
    points["unit_cost"] = points["sku"].map(networks.unit_cost).astype(float)
    points["safety_stock_value"] = points["safety_stock_units"] * points["unit_cost"]
    points["holding_cost_per_year"] = (
        points["holding_cost_per_period"].astype(float) * _DAYS_PER_YEAR / networks.period_days
    )
    rows = []
    for level in service_levels:
        part = points[points["service_level"] == float(level)]
        solved = part[part["has_plan"].astype(bool)]
        rows.append(
            {
                "service_level": float(level),
                "skus": len(part),
                "solved": len(solved),
                "optimal": int(part["is_optimal"].astype(bool).sum()),
                "failed": len(part) - len(solved),
                "safety_stock_units": float(solved["safety_stock_units"].sum()),
                "safety_stock_value": float(solved["safety_stock_value"].sum()),
                "holding_cost_per_year": float(solved["holding_cost_per_year"].sum()),
                "solve_seconds": float(part["solve_seconds"].astype(float).sum()),
            }
        )
    table = pd.DataFrame(rows)
    total = float(networks.sku_value.sum())
    share = float(networks.sku_value.reindex(skus).sum() / total) if total > 0 else math.nan
    chosen = None
    if plan is not None and skus:
        chosen_rows = plan.policies[plan.policies["sku"].isin(set(skus))]
        demand = plan.market_demand[plan.market_demand["sku"].isin(set(skus))]
        weights = demand["annual_value"].astype(float)
        level = (
            float((weights * demand["service_level"]).sum() / weights.sum())
            if weights.sum() > 0
            else math.nan
        )
        chosen = {
            "service_level": level,
            "holding_cost_per_year": float(chosen_rows["holding_cost_per_year"].sum()),
            "safety_stock_value": float(chosen_rows["value"].sum()),
        }
    return RegionFrontier(
        table=table,
        points=points,
        skus=tuple(skus),
        value_share=share,
        skus_total=len(networks.graphs),
        chosen=chosen,
    )
