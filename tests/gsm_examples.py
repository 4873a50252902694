"""Example supply networks shared by the placement tests."""

from __future__ import annotations

import networkx as nx


def plants_to_dcs(n_plants: int, n_dcs: int) -> nx.DiGraph:
    """Every plant supplies every DC through a packing stage of its own; each DC
    serves its own market. With two DCs the network has tree-width two."""
    graph = nx.DiGraph()
    for p in range(n_plants):
        graph.add_node(f"plant{p}", processing_time=3 + p, holding_cost=1.0)
    for d in range(n_dcs):
        graph.add_node(f"dc{d}", processing_time=1 + d, holding_cost=2.0)
        graph.add_node(
            f"market{d}", processing_time=1, holding_cost=4.0, demand_mean=5, demand_std=2.0
        )
        graph.add_edge(f"dc{d}", f"market{d}")
        for p in range(n_plants):
            pack = f"pack{p}{d}"
            graph.add_node(pack, processing_time=1 + (p + d) % 3, holding_cost=1.5)
            graph.add_edges_from([(f"plant{p}", pack), (pack, f"dc{d}")])
    return graph
