"""The supply network as a graph: plants -> DCs -> markets, derived from the tables.

The Dataset's ``sites``, ``lanes`` and ``sourcing`` tables are the truth; the graph
is rebuilt from them whenever it is needed and never edited as a second copy (the
what-ifs in :mod:`toolkit.network_whatif` change the tables, then rebuild).

Conventions
-----------
Graph type
    :class:`networkx.MultiDiGraph`, one edge per lane, keyed by mode (``"sea"``,
    ``"air"``, ``"road"``): a lane's key in the data model is (origin, destination,
    mode), so parallel modes between two sites stay separate edges.
Units
    Days for every time (``transit_days``, ``customs_days``, ``processing_days``),
    currency per unit for every cost, ``tariff_rate`` as a fraction of unit cost.
Echelons
    ``plant`` = 0, ``dc`` = 1, ``market`` = 2 (node attribute ``echelon``).

The rest of the stage lives beside this module, one concern per file:

- :mod:`toolkit.network_paths`: landed cost and lead time per lane and sku, the
  cheapest and fastest supply paths, the best source per market and sku, lane flows.
- :mod:`toolkit.network_supply`: one sku's supply sub-network exported as the
  graph :func:`toolkit.optimize.place_safety_stock` takes.
- :mod:`toolkit.network_balance`: demand rates, stock positions, hot and cold spots.
- :mod:`toolkit.network_whatif`: disruptions (site outage, lane closure, customs
  delay) and their effect on supply.
- :mod:`toolkit.network_region`: one region's view of the global network (its
  markets' sources, lead times, landed cost, main DC) for the regional reports.
- :mod:`toolkit.network_plot`: the network picture, the report charts and the
  JupyterLab explorer.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.dataset import Dataset

__all__ = [
    "ECHELONS",
    "FINDING_COLUMNS",
    "LANE_KEY",
    "FINDING_WORDS",
    "NetworkError",
    "active_lanes",
    "build_network",
    "explain_findings",
    "region_subgraph",
    "validate_network",
]

#: Echelon number of each site type: supply flows from low to high.
ECHELONS: dict[str, int] = {"plant": 0, "dc": 1, "market": 2}

#: Columns that identify a lane (the key of the ``lanes`` table).
LANE_KEY = ("origin", "destination", "mode")

#: Columns of the findings table returned by :func:`validate_network`.
FINDING_COLUMNS = ("severity", "check", "site_id", "origin", "destination", "mode", "message")

# Lane columns copied onto every edge (further columns of the table are copied too).
_LANE_ATTRIBUTES = ("mode", "transit_days", "customs_days", "cost_per_unit", "tariff_rate")


class NetworkError(ValueError):
    """The supply network has hard errors; every one is named in the message.

    Attributes
    ----------
    findings : pandas.DataFrame
        The error rows of :func:`validate_network` (columns :data:`FINDING_COLUMNS`).
    """

    def __init__(self, findings: pd.DataFrame, header: str = "supply network has errors"):
        self.findings = findings.reset_index(drop=True)
        lines = [f"{header} ({len(self.findings)}):"]
        lines += [f"- {row.check}: {row.message}" for row in self.findings.itertuples()]
        super().__init__("\n".join(lines))


def active_lanes(lanes: pd.DataFrame, include_inactive: bool = False) -> pd.DataFrame:
    """Return the lanes in use: rows whose optional ``active`` flag is not false.

    A missing ``active`` column or an empty value counts as active (the data
    model's default).

    Examples
    --------
    >>> lanes = pd.DataFrame({"origin": ["P1", "P1"], "active": [True, False]})
    >>> active_lanes(lanes)["origin"].tolist()
    ['P1']
    """
    if include_inactive or "active" not in lanes.columns:
        return lanes
    active = lanes["active"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    return lanes[active]


def _findings(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    for column in FINDING_COLUMNS:
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame


def _lane_name(origin: str, destination: str, mode: str) -> str:
    return f"{origin} -> {destination} ({mode})"


def _unknown_site_findings(lanes: pd.DataFrame, site_ids: set[str]) -> list[dict]:
    rows = []
    for lane in lanes.itertuples(index=False):
        for end in ("origin", "destination"):
            site = getattr(lane, end)
            if site not in site_ids:
                rows.append(
                    {
                        "severity": "error",
                        "check": "unknown_site",
                        "site_id": site,
                        "origin": lane.origin,
                        "destination": lane.destination,
                        "mode": lane.mode,
                        "message": f"lane {_lane_name(lane.origin, lane.destination, lane.mode)}"
                        f" names {end} {site!r}, which is not in the sites table",
                    }
                )
    return rows


def build_network(
    dataset: Dataset, *, include_inactive: bool = False, validate: bool = False
) -> nx.MultiDiGraph:
    """Build the supply network graph from the sites, lanes and sourcing tables.

    Parameters
    ----------
    dataset : Dataset
        The extract; its tables are read, never changed.
    include_inactive : bool
        Also add lanes whose ``active`` flag is false (edge attribute ``active``
        tells them apart). By default only active lanes become edges.
    validate : bool
        Run :func:`validate_network` first and raise :class:`NetworkError` listing
        every hard error (supply cycles, unreachable markets, non-positive transit,
        sites without lanes). Warnings never raise.

    Returns
    -------
    networkx.MultiDiGraph
        One node per site (every site, connected or not) with the site's columns
        (``name``, ``site_type``, ``region``, ``country`` and any extra column) plus
        ``echelon`` (plant 0, dc 1, market 2); plants also carry ``sku_count``, the
        number of skus they source. One edge per lane, from origin to destination,
        keyed by ``mode``, with ``mode``, ``transit_days``, ``customs_days``,
        ``cost_per_unit`` (freight), ``tariff_rate``, ``active`` and any extra lane
        column. ``G.graph`` holds ``source`` and ``include_inactive``.

    Raises
    ------
    NetworkError
        With ``validate=True`` when there are hard errors; always when a lane names
        a site that is not in the sites table (such a graph would have nodes
        without attributes).

    Examples
    --------
    >>> from toolkit.dataset import Dataset
    >>> sites = pd.DataFrame({"site_id": ["P1", "M1"], "name": ["Plant", "Market"],
    ...     "site_type": ["plant", "market"], "region": ["EU", "EU"], "country": ["DE", "FR"]})
    >>> lanes = pd.DataFrame({"origin": ["P1"], "destination": ["M1"], "mode": ["road"],
    ...     "transit_days": [2.0], "cost_per_unit": [1.5], "tariff_rate": [0.0],
    ...     "customs_days": [0.0]})
    >>> G = build_network(Dataset.from_tables({"sites": sites, "lanes": lanes}))
    >>> G.nodes["M1"]["echelon"], G.edges["P1", "M1", "road"]["transit_days"]
    (2, 2.0)
    """
    sites = dataset.sites
    lanes = active_lanes(dataset.lanes, include_inactive)
    if validate:
        findings = validate_network(dataset, include_inactive=include_inactive)
        errors = findings[findings["severity"] == "error"]
        if len(errors):
            raise NetworkError(errors)
    unknown = _unknown_site_findings(lanes, set(sites["site_id"]))
    if unknown:
        raise NetworkError(_findings(unknown), "lanes name unknown sites")

    graph = nx.MultiDiGraph(source=dataset.source, include_inactive=include_inactive)
    sku_counts = dataset.sourcing.groupby("site_id")["sku"].nunique()
    for record in sites.to_dict("records"):
        site_id = record.pop("site_id")
        record["echelon"] = ECHELONS.get(record.get("site_type"))
        if record.get("site_type") == "plant":
            record["sku_count"] = int(sku_counts.get(site_id, 0))
        graph.add_node(site_id, **record)

    if "active" not in lanes.columns:
        lanes = lanes.assign(active=True)
    extra = [c for c in lanes.columns if c not in ("origin", "destination")]
    for record in lanes[["origin", "destination", *extra]].to_dict("records"):
        origin = record.pop("origin")
        destination = record.pop("destination")
        record["active"] = bool(record["active"]) if pd.notna(record["active"]) else True
        graph.add_edge(origin, destination, key=record["mode"], **record)
    return graph


def region_subgraph(
    graph: nx.MultiDiGraph, region: str, *, upstream: bool = True
) -> nx.MultiDiGraph:
    """The region's sites and (by default) every site upstream of them.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        From :func:`build_network`.
    region : str
        A value of the node attribute ``region``.
    upstream : bool
        Add every site from which a lane path leads into the region (the plants and
        DCs that can supply it, whatever their region).

    Returns
    -------
    networkx.MultiDiGraph
        A view of ``graph`` (do not edit it): other regions' markets and the lanes
        to them are left out.

    Raises
    ------
    ValueError
        When no node is in ``region``.
    """
    inside = {n for n, r in graph.nodes(data="region") if str(r) == region}
    if not inside:
        known = ", ".join(sorted({str(r) for _n, r in graph.nodes(data="region")}))
        raise ValueError(f"no site in region {region!r} (known: {known})")
    chosen = set(inside)
    if upstream:
        for node in inside:
            chosen |= nx.ancestors(graph, node)
    return graph.subgraph(chosen)


def _lane_graph(lanes: pd.DataFrame) -> nx.DiGraph:
    """Simple directed graph of site pairs that have at least one lane."""
    graph = nx.DiGraph()
    graph.add_edges_from(zip(lanes["origin"], lanes["destination"], strict=True))
    return graph


def _cycle_findings(pairs: nx.DiGraph, echelon: dict[str, int | None]) -> list[dict]:
    rows = []
    # One finding per strongly connected component (plus self-loops): enumerating
    # every simple cycle can explode, while one named cycle per knot is enough to fix it.
    for component in nx.strongly_connected_components(pairs):
        sub = pairs.subgraph(component)
        if len(component) == 1 and not sub.number_of_edges():
            continue
        levels = {echelon.get(site) for site in component}
        upstream = sorted(
            (u, v)
            for u, v in sub.edges
            if None not in (echelon.get(u), echelon.get(v)) and echelon[u] > echelon[v]
        )
        if len(component) > 1 and len(levels) == 1 and None not in levels:
            # Lanes between peers (DC <-> DC transshipment) in both directions: a loop
            # no cheapest or fastest path ever goes round, so only worth a warning.
            edges = nx.find_cycle(sub, source=min(component))
            cycle = [edges[0][0]] + [v for _u, v in edges]
            severity, check, text = "warning", "lateral_loop", "lateral (transshipment) loop"
        else:
            if upstream:  # name the loop through a lane that runs back upstream
                u, v = upstream[0]
                cycle = [u, *nx.shortest_path(sub, v, u)]
            else:
                edges = nx.find_cycle(sub, source=min(component))
                cycle = [edges[0][0]] + [v for _u, v in edges]
            severity, check, text = "error", "supply_cycle", "supply cycle"
        shown = " -> ".join(cycle)
        others = len(component) - len(set(cycle))
        rows.append(
            {
                "severity": severity,
                "check": check,
                "site_id": ", ".join(sorted(set(cycle))),
                "message": f"{text} {shown}"
                + (f" ({others} more site(s) in the same loop group)" if others else ""),
            }
        )
    return rows


def _reachable_from(pairs: nx.DiGraph, sources: Iterable[str]) -> set[str]:
    reached: set[str] = set()
    for source in sources:
        if source in pairs and source not in reached:
            reached |= nx.descendants(pairs, source) | {source}
    return reached


def validate_network(dataset: Dataset, *, include_inactive: bool = False) -> pd.DataFrame:
    """Check the supply network and list every problem found.

    Errors (``build_network(..., validate=True)`` raises on them):

    ``unknown_site``
        a lane names a site that is not in the sites table.
    ``non_positive_transit``
        a lane's ``transit_days`` is zero, negative or empty.
    ``supply_cycle``
        goods could flow in a circle back up the echelons (e.g. DC -> market -> DC);
        one cycle per strongly connected group of sites is named (``site_id`` lists
        the sites on it), through a lane that runs upstream where there is one.
    ``unreachable_market``
        no plant reaches the market over the lanes.
    ``site_without_lanes``
        a site has no lane in or out.

    Warnings:

    ``lateral_loop``
        lanes between sites of one echelon in both directions (DC <-> DC
        transshipment): allowed, since a best path never goes round a loop.
    ``upstream_lane``
        a lane runs against the echelons (e.g. market -> DC, DC -> plant).
    ``plant_without_sourcing``
        a plant sources no sku.
    ``unreachable_demand``
        a market has demand for a sku, but none of the plants sourcing that sku
        reach it (one row per market, skus listed in the message).

    Parameters
    ----------
    dataset : Dataset
        The extract.
    include_inactive : bool
        Check the network including inactive lanes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FINDING_COLUMNS`; errors first. Empty when all is well.
    """
    sites = dataset.sites
    lanes = active_lanes(dataset.lanes, include_inactive)
    site_ids = set(sites["site_id"])
    site_type = dict(zip(sites["site_id"], sites["site_type"], strict=True))
    rows = _unknown_site_findings(lanes, site_ids)

    transit = lanes["transit_days"].to_numpy(dtype=float)
    for lane in lanes[~(transit > 0)].itertuples(index=False):
        rows.append(
            {
                "severity": "error",
                "check": "non_positive_transit",
                "origin": lane.origin,
                "destination": lane.destination,
                "mode": lane.mode,
                "message": f"lane {_lane_name(lane.origin, lane.destination, lane.mode)} has "
                f"transit_days {lane.transit_days}; it must be greater than zero",
            }
        )

    pairs = _lane_graph(lanes)
    echelon = {site: ECHELONS.get(kind) for site, kind in site_type.items()}
    rows += _cycle_findings(pairs, echelon)

    plants = sorted(s for s, t in site_type.items() if t == "plant")
    markets = sorted(s for s, t in site_type.items() if t == "market")
    reached = _reachable_from(pairs, plants)
    for market in markets:
        if market not in reached:
            rows.append(
                {
                    "severity": "error",
                    "check": "unreachable_market",
                    "site_id": market,
                    "message": f"market {market} cannot be reached from any plant",
                }
            )
    connected = set(lanes["origin"]) | set(lanes["destination"])
    for site in sorted(site_ids - connected):
        rows.append(
            {
                "severity": "error",
                "check": "site_without_lanes",
                "site_id": site,
                "message": f"{site_type[site]} {site} has no lanes in or out",
            }
        )

    for lane in lanes.itertuples(index=False):
        up = ECHELONS.get(site_type.get(lane.origin), -1)
        down = ECHELONS.get(site_type.get(lane.destination), 99)
        if up > down:
            rows.append(
                {
                    "severity": "warning",
                    "check": "upstream_lane",
                    "origin": lane.origin,
                    "destination": lane.destination,
                    "mode": lane.mode,
                    "message": f"lane {_lane_name(lane.origin, lane.destination, lane.mode)} "
                    f"runs from a {site_type[lane.origin]} up to a "
                    f"{site_type[lane.destination]}",
                }
            )
    sourcing_plants = set(dataset.sourcing["site_id"])
    for plant in plants:
        if plant not in sourcing_plants:
            rows.append(
                {
                    "severity": "warning",
                    "check": "plant_without_sourcing",
                    "site_id": plant,
                    "message": f"plant {plant} sources no sku",
                }
            )
    rows += _unreachable_demand_findings(dataset, pairs, markets)

    findings = _findings(rows)
    order = np.argsort((findings["severity"] != "error").to_numpy(), kind="stable")
    return findings.iloc[order].reset_index(drop=True)


def _unreachable_demand_findings(
    dataset: Dataset, pairs: nx.DiGraph, markets: list[str], shown: int = 10
) -> list[dict]:
    demand = dataset.demand
    if demand.empty or dataset.sourcing.empty:
        return []
    wanted = demand.loc[demand["quantity"] > 0, ["site_id", "sku"]].drop_duplicates()
    # Skus missing from the item master (unmapped local codes) are a data-quality
    # finding, not a network one.
    wanted = wanted[wanted["site_id"].isin(markets) & wanted["sku"].isin(dataset.items["sku"])]
    reach = [
        (plant, market)
        for plant in dataset.sourcing["site_id"].unique()
        for market in _reachable_from(pairs, [plant])
    ]
    reach_frame = pd.DataFrame(reach, columns=["plant", "site_id"])
    supplied = dataset.sourcing[["site_id", "sku"]].rename(columns={"site_id": "plant"})
    served = supplied.merge(reach_frame, on="plant")[["site_id", "sku"]].drop_duplicates()
    missing = wanted.merge(served, on=["site_id", "sku"], how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"]
    rows = []
    for market, group in missing.groupby("site_id", sort=True):
        skus = sorted(group["sku"])
        listed = ", ".join(skus[:shown]) + (
            f" and {len(skus) - shown} more" if len(skus) > shown else ""
        )
        rows.append(
            {
                "severity": "warning",
                "check": "unreachable_demand",
                "site_id": market,
                "message": f"market {market} has demand for {len(skus)} sku(s) that no "
                f"sourcing plant reaches: {listed}",
            }
        )
    return rows


#: Plain words for each check of :func:`validate_network`: what was found, what it means.
FINDING_WORDS: dict[str, tuple[str, str]] = {
    "unknown_site": (
        "Lane names an unknown site",
        "The lanes table refers to a site the sites table does not hold; fix either table.",
    ),
    "non_positive_transit": (
        "Lane without a transit time",
        "A lane takes zero or negative days; lead times over it would be wrong.",
    ),
    "supply_cycle": (
        "Goods could flow in a circle",
        "Lanes lead back up the echelons; supply paths cannot be trusted until fixed.",
    ),
    "unreachable_market": (
        "Market no plant reaches",
        "No chain of lanes links any plant to this market: it cannot be supplied.",
    ),
    "site_without_lanes": (
        "Site without lanes",
        "The site has no lane in or out, so it takes no part in supply.",
    ),
    "lateral_loop": (
        "DCs ship to each other both ways",
        "Transshipment lanes run between DCs in both directions. Allowed: a best route "
        "never goes round such a loop.",
    ),
    "upstream_lane": (
        "Lane runs back upstream",
        "A lane goes against the flow (e.g. market to DC), such as a returns lane; "
        "supply never uses it.",
    ),
    "plant_without_sourcing": (
        "Plant makes no sku",
        "The sourcing table gives the plant nothing to make.",
    ),
    "unreachable_demand": (
        "Demand no making plant reaches",
        "The market sells skus that no plant making them can reach over active lanes.",
    ),
}


def explain_findings(findings: pd.DataFrame, *, max_sites: int = 6) -> pd.DataFrame:
    """Summarize :func:`validate_network` findings in plain words, one row per check.

    Parameters
    ----------
    findings : pandas.DataFrame
        The output of :func:`validate_network`.
    max_sites : int
        List at most this many sites per row (then "and N more").

    Returns
    -------
    pandas.DataFrame
        ``severity`` ("must fix" for errors, "note" for warnings), ``finding``,
        ``count``, ``sites`` (those named by the findings), ``meaning`` and
        ``example`` (the first finding's message); errors first. Empty (with these
        columns) when there is nothing to report.

    Examples
    --------
    >>> found = pd.DataFrame([{"severity": "warning", "check": "lateral_loop",
    ...     "site_id": "D1, D2", "origin": None, "destination": None, "mode": None,
    ...     "message": "lateral (transshipment) loop D1 -> D2 -> D1"}])
    >>> explain_findings(found)[["severity", "finding", "count", "sites"]].values.tolist()
    [['note', 'DCs ship to each other both ways', 1, 'D1, D2']]
    """
    columns = ["severity", "finding", "count", "sites", "meaning", "example"]
    rows = []
    for (severity, check), group in findings.groupby(["severity", "check"], sort=False):
        named: list[str] = []
        for column in ("site_id", "origin", "destination"):
            for value in group[column].dropna():
                for site in str(value).split(", "):
                    if site and site not in named:
                        named.append(site)
        shown = ", ".join(named[:max_sites])
        if len(named) > max_sites:
            shown += f" and {len(named) - max_sites} more"
        title, meaning = FINDING_WORDS.get(check, (check.replace("_", " "), ""))
        rows.append(
            {
                "severity": "must fix" if severity == "error" else "note",
                "finding": title,
                "count": len(group),
                "sites": shown,
                "meaning": meaning,
                "example": str(group["message"].iloc[0]),
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    order = np.argsort((table["severity"] != "must fix").to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)
