"""Read published guaranteed-service instances into the graph the optimizer takes.

The format is the stage table of the Willems (2008) data set as distributed with the
``stochasticnetworkcontrol/snc`` repository (Apache-2.0): CSV, one row per stage,
columns ``stage_id, lead_time, max_s_time, cost (or cost_rate), risk_pool,
ext_demand_mean, ext_demand_std, ext_demand_thres, up_stages...`` where the trailing
fields repeat ``upstream stage, units of it per unit of this stage``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import networkx as nx

__all__ = ["read_gsm_instance"]


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def read_gsm_instance(path: str | Path, *, holding_rate: float = 1.0) -> nx.DiGraph:
    """Read one instance as a supply graph for :func:`toolkit.optimize.place_safety_stock`.

    The holding cost per unit is ``holding_rate`` times the stage's cumulative cost:
    its added cost plus, for each upstream stage, the units used times that stage's
    cumulative cost. Demand stages carry ``demand_mean``, ``demand_std``, their
    ``safety_factor`` (``ext_demand_thres``) and ``max_s_time`` as ``max_outbound_cst``
    (0 where empty). Internal stages pool the demand they serve: when all demand
    stages share one safety factor, the optimizer pools the standard deviations and
    applies it; otherwise each internal stage gets ``safety_factor = 1`` and
    ``demand_std = sqrt(sum_d (phi_jd z_d sigma_d)^2)``, the pooled safety-stock
    requirement of the published convention.

    Parameters
    ----------
    path : str or Path
    holding_rate : float
        Holding cost per unit of value per period.

    Returns
    -------
    networkx.DiGraph
        Node attributes ``processing_time, holding_cost, added_cost,
        cumulative_cost`` (plus the demand attributes above); edge attribute ``units``.

    Raises
    ------
    ValueError
        A risk-pooling exponent other than 2, or an unknown upstream stage.
    """
    graph = nx.DiGraph()
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header = [h.strip() for h in rows[0]]
    cost_column = "cost" if "cost" in header else "cost_rate"
    fixed = header.index("up_stages")
    upstream: dict[str, list[tuple[str, float]]] = {}
    for row in rows[1:]:
        if not row or not row[0].strip():
            continue
        fields = dict(zip(header[:fixed], [*row[:fixed], *[""] * fixed], strict=False))
        stage = fields["stage_id"].strip()
        pooling = _float(fields.get("risk_pool", ""))
        if pooling is not None and pooling != 2:
            raise ValueError(f"stage {stage!r}: risk_pool {pooling:g} is not supported (only 2)")
        attributes = {
            "processing_time": _float(fields["lead_time"]) or 0.0,
            "added_cost": _float(fields[cost_column]) or 0.0,
        }
        std = _float(fields.get("ext_demand_std", ""))
        if std is not None:
            attributes["demand_mean"] = _float(fields.get("ext_demand_mean", "")) or 0.0
            attributes["demand_std"] = std
            attributes["safety_factor"] = _float(fields.get("ext_demand_thres", "")) or 0.0
        max_s = _float(fields.get("max_s_time", ""))
        if max_s is not None:
            attributes["max_outbound_cst"] = max_s
        graph.add_node(stage, **attributes)
        trailing = [f.strip() for f in row[fixed:]]
        upstream[stage] = [
            (trailing[k], float(trailing[k + 1]))
            for k in range(0, len(trailing) - 1, 2)
            if trailing[k]
        ]
    for stage, suppliers in upstream.items():
        for supplier, units in suppliers:
            if supplier not in graph:
                raise ValueError(f"stage {stage!r} lists unknown upstream stage {supplier!r}")
            graph.add_edge(supplier, stage, units=units)

    for stage in nx.topological_sort(graph):
        node = graph.nodes[stage]
        node["cumulative_cost"] = node["added_cost"] + sum(
            graph.edges[p, stage]["units"] * graph.nodes[p]["cumulative_cost"]
            for p in graph.predecessors(stage)
        )
        node["holding_cost"] = holding_rate * node["cumulative_cost"]

    demand = [s for s in graph if "demand_std" in graph.nodes[s]]
    factors = {graph.nodes[s]["safety_factor"] for s in demand}
    if len(factors) == 1:
        (common,) = factors
        for stage in graph:
            graph.nodes[stage].setdefault("safety_factor", common)
    else:
        _pool_safety_stock_requirement(graph, demand)
    return graph


def _pool_safety_stock_requirement(graph: nx.DiGraph, demand: list[str]) -> None:
    """Internal stages cover sqrt(sum_d (phi z_d sigma_d)^2) with safety factor 1."""
    phi: dict[str, dict[str, float]] = {}
    for stage in reversed(list(nx.topological_sort(graph))):
        shares: dict[str, float] = {stage: 1.0} if stage in demand else {}
        for customer in graph.successors(stage):
            units = graph.edges[stage, customer]["units"]
            for d, value in phi[customer].items():
                shares[d] = shares.get(d, 0.0) + units * value
        phi[stage] = shares
    for stage in graph:
        node = graph.nodes[stage]
        if "demand_std" in node:
            continue
        node["safety_factor"] = 1.0
        node["demand_std"] = math.sqrt(
            sum(
                (value * graph.nodes[d]["safety_factor"] * graph.nodes[d]["demand_std"]) ** 2
                for d, value in phi[stage].items()
            )
        )
        node["demand_mean"] = sum(
            value * graph.nodes[d]["demand_mean"] for d, value in phi[stage].items()
        )
