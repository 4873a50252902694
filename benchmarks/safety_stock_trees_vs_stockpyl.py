"""Exact placement vs stockpyl's guaranteed-service tree DP, on trees.

On spanning trees the Graves-Willems dynamic program is exact, so the two must find
the same optimal cost; the figure of interest is the time ratio. Instances: the
published Graves and Willems (2000) bulldozer and battery chains and the digital
camera (``tests/data/gsm/``), and seeded random trees (integer processing times,
single safety factor, one external demand per leaf, pooled standard deviation).

stockpyl is a benchmark-only reference (the ``bench`` extra). Install it with
``.venv/bin/uv pip install --python .venv/bin/python stockpyl==1.0.2`` (or
``make bench``) and run ``.venv/bin/python benchmarks/safety_stock_trees_vs_stockpyl.py``
(``--sizes 10,50,200``). Prints one line per instance and writes
``benchmarks/results/trees_vs_stockpyl.csv``.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import networkx as nx
import pandas as pd
from stockpyl.gsm_tree import optimize_committed_service_times
from stockpyl.supply_chain_network import network_from_edges

from toolkit.gsm_instances import read_gsm_instance
from toolkit.optimize import place_safety_stock
from toolkit.paths import PROJECT_ROOT

GSM_DATA = PROJECT_ROOT / "tests" / "data" / "gsm"
RESULTS = Path(__file__).resolve().parent / "results" / "trees_vs_stockpyl.csv"


def random_tree(size: int, seed: int) -> nx.DiGraph:
    """A random supply tree: each new node attaches as a supplier or a customer."""
    rng = random.Random(seed)
    graph = nx.DiGraph()
    graph.add_node(0)
    for node in range(1, size):
        other = rng.randrange(node)
        if rng.random() < 0.5:
            graph.add_edge(node, other)  # a new supplier of an existing node
        else:
            graph.add_edge(other, node)  # a new customer
    for node in graph:
        graph.nodes[node].update(
            processing_time=rng.randint(1, 10),
            holding_cost=round(rng.uniform(0.5, 10.0), 2),
            safety_factor=1.645,
        )
        if graph.out_degree(node) == 0:
            graph.nodes[node].update(
                demand_mean=rng.randint(10, 100),
                demand_std=round(rng.uniform(2.0, 30.0), 1),
                max_outbound_cst=rng.choice([0, 0, 1, 2]),
            )
    return graph


def to_stockpyl(graph: nx.DiGraph):
    """The same instance as a stockpyl network (integer node indices)."""
    index = {node: k + 1 for k, node in enumerate(graph)}
    data: dict[str, dict] = {
        "processing_time": {},
        "holding_cost": {},
        "demand_bound_constant": {},
        "external_inbound_cst": {},
        "external_outbound_cst": {},
        "demand_type": {},
        "mean": {},
        "standard_deviation": {},
    }
    for node, attributes in graph.nodes(data=True):
        k = index[node]
        data["processing_time"][k] = int(attributes["processing_time"])
        data["holding_cost"][k] = float(attributes["holding_cost"])
        data["demand_bound_constant"][k] = float(attributes["safety_factor"])
        data["external_inbound_cst"][k] = int(attributes.get("external_inbound_cst", 0))
        if graph.out_degree(node) == 0:
            data["external_outbound_cst"][k] = int(attributes.get("max_outbound_cst", 0))
            data["demand_type"][k] = "N"
            data["mean"][k] = float(attributes["demand_mean"])
            data["standard_deviation"][k] = float(attributes["demand_std"])
        elif "max_outbound_cst" in attributes:
            data["external_outbound_cst"][k] = int(attributes["max_outbound_cst"])
    edges = [(index[u], index[v]) for u, v in graph.edges]
    return network_from_edges(edges, node_order_in_lists=list(index.values()), **data)


def compare(name: str, graph: nx.DiGraph) -> dict:
    started = time.perf_counter()
    plan = place_safety_stock(graph)
    ours = time.perf_counter() - started
    network = to_stockpyl(graph)
    started = time.perf_counter()
    _, stockpyl_cost = optimize_committed_service_times(network)
    theirs = time.perf_counter() - started
    return {
        "instance": name,
        "stages": graph.number_of_nodes(),
        "cost": plan.total_cost,
        "stockpyl_cost": stockpyl_cost,
        "relative_difference": abs(plan.total_cost - stockpyl_cost) / max(1.0, abs(stockpyl_cost)),
        "status": plan.status,
        "method": plan.method,
        "seconds": ours,
        "stockpyl_seconds": theirs,
        "time_ratio": ours / theirs if theirs else float("nan"),
    }


def published() -> list[tuple[str, nx.DiGraph]]:
    cases = []
    for name, rate in (("bulldozer", 0.30), ("battery", 0.25), ("digital_camera", 0.24)):
        graph = read_gsm_instance(GSM_DATA / f"{name}.txt", holding_rate=rate)
        factor = next(graph.nodes[n]["safety_factor"] for n in graph if graph.out_degree(n) == 0)
        for node in graph:
            graph.nodes[node].setdefault("safety_factor", factor)
        cases.append((name, graph))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,30,100,300", help="random tree sizes")
    parser.add_argument("--seeds", type=int, default=3, help="random trees per size")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    cases = published()
    for size in (int(s) for s in args.sizes.split(",")):
        cases += [(f"random_{size}_{seed}", random_tree(size, seed)) for seed in range(args.seeds)]
    print(
        f"{'instance':>18} {'stages':>6} {'cost':>14} {'stockpyl':>14} {'rel.diff':>9} {'ours s':>8} {'stockpyl s':>10} {'ratio':>7}"
    )
    rows = []
    for name, graph in cases:
        row = compare(name, graph)
        rows.append(row)
        print(
            f"{name:>18} {row['stages']:>6} {row['cost']:>14,.2f} {row['stockpyl_cost']:>14,.2f} "
            f"{row['relative_difference']:>9.1e} {row['seconds']:>8.3f} {row['stockpyl_seconds']:>10.3f} "
            f"{row['time_ratio']:>7.3f}",
            flush=True,
        )
    frame = pd.DataFrame(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    same = (frame["relative_difference"] < 1e-6).all()
    print(
        f"same optimum on all {len(frame)} trees: {same}; median time ratio (ours / stockpyl) "
        f"{frame['time_ratio'].median():.3f}; results in {args.output}"
    )


if __name__ == "__main__":
    main()
