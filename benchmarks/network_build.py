"""Benchmark of toolkit.network at scale: 60 markets, 5,000 skus.

Target (issue 4): build + best-source table under 30 s on 2 cores.

Run with ``.venv/bin/python benchmarks/network_build.py`` (``--help`` for sizes).
Prints the time, result rows and peak memory of each step and writes
``benchmarks/results/network_build.csv``. The network comes from
``toolkit.synth.generate`` (with 26 weeks of history to keep generation short; its
time is not part of the figures) when it offers the sizes asked for, else from the
small seeded generator below (5 plants, 12 DCs in 4 regions, sea/air/road lanes):
``--generator own``. Peak memory per step is what tracemalloc sees in a second run
of the step; the process's peak resident memory includes the generator.
"""

from __future__ import annotations

import argparse
import inspect
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.network import build_network, validate_network
from toolkit.network_balance import demand_rates, stock_positions
from toolkit.network_paths import best_sources, cheapest_paths, fastest_paths
from toolkit.network_supply import supply_network
from toolkit.network_whatif import Disruption, disruption_impact

RESULTS = Path(__file__).resolve().parent / "results" / "network_build.csv"

_REGIONS = {
    "EMEA": ["DE", "FR", "IT", "ES", "GB", "NL", "PL", "SE", "CH", "AE", "ZA", "TR"],
    "NAM": ["US", "CA"],
    "LATAM": ["MX", "BR", "AR", "CL", "CO", "PE"],
    "APAC": ["JP", "CN", "AU", "IN", "KR", "SG", "TH", "MY"],
}
_PLANTS = [("IE", "EMEA"), ("CH", "EMEA"), ("US", "NAM"), ("MX", "LATAM"), ("SG", "APAC")]
_DC_COUNTRIES = {"EMEA": ["NL", "DE", "AE"], "NAM": ["US", "US", "CA"], "LATAM": ["BR", "MX", "CL"]}
_DC_COUNTRIES["APAC"] = ["SG", "JP", "AU"]


def generate_network(markets: int = 60, skus: int = 5000, seed: int = 7) -> Dataset:
    """A seeded multi-echelon network: 5 plants, 12 DCs, ``markets`` markets, ``skus`` skus.

    Plants ship to every DC (road inside a region, sea and air across), DCs serve
    their region's markets by road (air too outside EMEA and NAM) plus one DC of
    another region by air as a back-up, and each plant flies direct to a few
    markets. Each sku is made at one plant, 30% at two.
    """
    rng = np.random.default_rng(seed)
    site_rows = [(f"PL-{c}", f"Plant {c}", "plant", r, c) for c, r in _PLANTS]
    dcs = []
    for region, countries in _DC_COUNTRIES.items():
        for i, country in enumerate(countries):
            dcs.append((f"DC-{region}-{i + 1}", region, country))
            site_rows.append((dcs[-1][0], f"DC {region} {i + 1}", "dc", region, country))
    region_names = list(_REGIONS)
    weights = np.array([0.4, 0.2, 0.15, 0.25])
    market_regions = rng.choice(region_names, size=markets, p=weights)
    market_sites = []
    for i, region in enumerate(market_regions):
        country = rng.choice(_REGIONS[region])
        market_sites.append((f"MK-{i + 1:03d}", region, country))
        site_rows.append(
            (f"MK-{i + 1:03d}", f"Market {country} {i + 1}", "market", region, country)
        )
    sites = pd.DataFrame(site_rows, columns=["site_id", "name", "site_type", "region", "country"])

    lanes = []

    def lane(origin, o_country, destination, d_country, mode, transit) -> None:
        border = o_country != d_country
        cost = {"road": (0.2, 1.5), "sea": (0.1, 0.8), "air": (2.0, 8.0)}[mode]
        lanes.append(
            (
                origin,
                destination,
                mode,
                float(transit),
                float(rng.uniform(*cost)),
                float(rng.uniform(0.0, 0.08)) if border else 0.0,
                float(rng.integers(1, 6)) if border else 0.0,
            )
        )

    for p_country, p_region in _PLANTS:
        plant = f"PL-{p_country}"
        for dc, d_region, d_country in dcs:
            if d_region == p_region:
                lane(plant, p_country, dc, d_country, "road", rng.integers(1, 5))
            else:
                lane(plant, p_country, dc, d_country, "sea", rng.integers(15, 36))
            lane(plant, p_country, dc, d_country, "air", rng.integers(2, 6))
        for market, _m_region, m_country in rng.permutation(np.array(market_sites))[:8]:
            lane(plant, p_country, market, m_country, "air", rng.integers(2, 6))
    for market, m_region, m_country in market_sites:
        own = [d for d in dcs if d[1] == m_region]
        for dc, _d_region, d_country in rng.permutation(np.array(own))[:2]:
            lane(dc, d_country, market, m_country, "road", rng.integers(1, 5))
            if m_region in ("LATAM", "APAC"):
                lane(dc, d_country, market, m_country, "air", rng.integers(1, 3))
        others = [d for d in dcs if d[1] != m_region]
        dc, _d_region, d_country = others[rng.integers(len(others))]
        lane(dc, d_country, market, m_country, "air", rng.integers(2, 6))
    lanes = pd.DataFrame(
        lanes,
        columns=[
            "origin",
            "destination",
            "mode",
            "transit_days",
            "cost_per_unit",
            "tariff_rate",
            "customs_days",
        ],
    ).drop_duplicates(["origin", "destination", "mode"])
    lanes["active"] = True

    sku_ids = np.array([f"SKU{i:05d}" for i in range(skus)], dtype=object)
    unit_cost = np.round(rng.lognormal(np.log(150.0), 1.2, size=skus), 2) + 1.0
    items = pd.DataFrame(
        {
            "sku": sku_ids,
            "description": "device",
            "gtin": [f"{i:014d}" for i in range(skus)],
            "product_line": rng.choice(["implants", "instruments", "consumables"], size=skus),
            "unit_cost": unit_cost,
            "lifecycle": "mature",
            "shelf_life_days": pd.array([None] * skus, dtype="Int64"),
            "lot_controlled": True,
            "serial_controlled": False,
        }
    )
    first = rng.integers(len(_PLANTS), size=skus)
    second = (first + rng.integers(1, len(_PLANTS), size=skus)) % len(_PLANTS)
    dual = rng.random(skus) < 0.3
    plant_of = np.concatenate([first, second[dual]])
    sku_of = np.concatenate([np.arange(skus), np.flatnonzero(dual)])
    sourcing = pd.DataFrame(
        {
            "site_id": [f"PL-{_PLANTS[p][0]}" for p in plant_of],
            "sku": sku_ids[sku_of],
            "processing_days": rng.integers(1, 15, size=len(sku_of)).astype(float),
            "capacity_per_week": 1000.0,
            "unit_cost": unit_cost[sku_of] * rng.uniform(0.9, 1.1, size=len(sku_of)),
        }
    )
    return Dataset.from_tables(
        {"sites": sites, "lanes": lanes, "items": items, "sourcing": sourcing},
        source=f"benchmark generator (seed {seed})",
    )


def _synth_network(markets: int, skus: int, seed: int, weeks: int) -> Dataset | None:
    """``toolkit.synth.generate`` when it exists and takes market and sku counts."""
    try:
        from toolkit.synth import generate
    except ImportError:
        return None
    params = inspect.signature(generate).parameters
    if not {"n_markets", "n_skus"} <= set(params):
        return None
    options = {"seed": seed, "n_skus": skus, "n_markets": markets}
    if "n_weeks" in params:
        options["n_weeks"] = weeks
    result = generate(**options)
    tables = result[0] if isinstance(result, tuple) else result
    if isinstance(tables, Dataset):
        return tables
    return Dataset.from_tables(tables, source=f"toolkit.synth.generate(seed={seed})")


def _demand_and_stock(dataset: Dataset, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demand rates (each sku sold in 10 markets) and released stock at markets."""
    rng = np.random.default_rng(seed + 1)
    markets = dataset.sites.loc[dataset.sites["site_type"] == "market", "site_id"].to_numpy()
    skus = dataset.items["sku"].to_numpy()
    pick = np.concatenate([rng.choice(len(markets), 10, replace=False) for _ in skus])
    rates = pd.DataFrame(
        {
            "site_id": markets[pick],
            "sku": np.repeat(skus, 10),
            "demand_per_day": rng.gamma(1.5, 2.0, size=len(pick)),
        }
    )
    rates["demand_std_per_day"] = rates["demand_per_day"] * 0.6
    stock = pd.DataFrame(
        {
            "snapshot_date": pd.Timestamp("2026-01-05"),
            "site_id": rates["site_id"],
            "sku": rates["sku"],
            "lot": "L1",
            "serial": None,
            "expiry_date": pd.NaT,
            "quantity": np.round(rates["demand_per_day"] * rng.uniform(0, 60, len(rates))),
            "status": "released",
        }
    )
    return rates, stock


def _measure(step: str, action: Callable[[], object], rows: list[dict], memory: bool) -> object:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    peak_mb = float("nan")
    if memory:  # a second run under tracemalloc: its overhead stays out of the timing
        tracemalloc.start()
        action()
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    size = len(result) if hasattr(result, "__len__") else 0
    rows.append({"step": step, "seconds": seconds, "rows": size, "peak_traced_mb": peak_mb})
    print(f"{step:<40} {seconds:8.2f} s {size:>10,} rows {peak_mb:10.1f} MB", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=60)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--generator",
        choices=["synth", "own"],
        default="synth",
        help="toolkit.synth.generate (falls back to own when missing) or the one here",
    )
    parser.add_argument("--weeks", type=int, default=26, help="demand history (synth)")
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc re-runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    memory = not args.no_memory

    start = time.perf_counter()
    dataset = None
    if args.generator == "synth":
        dataset = _synth_network(args.markets, args.skus, args.seed, args.weeks)
    generator = "toolkit.synth.generate"
    if dataset is None:
        dataset = generate_network(args.markets, args.skus, args.seed)
        generator = "benchmarks/network_build.generate_network"
    print(
        f"{generator}: {dataset.row_counts()['sites']} sites, {len(dataset.lanes)} lanes, "
        f"{len(dataset.items)} skus, {len(dataset.sourcing)} sourcing rows "
        f"({time.perf_counter() - start:.1f} s)"
    )
    rows: list[dict] = []
    graph = _measure("build_network", lambda: build_network(dataset), rows, memory)
    _measure("validate_network", lambda: validate_network(dataset), rows, memory)
    best = _measure(
        "best_sources (cost_per_day=1)",
        lambda: best_sources(graph, dataset.sourcing, cost_per_day=1.0),
        rows,
        memory,
    )
    target = rows[0]["seconds"] + rows[2]["seconds"]
    rows.append({"step": "build + best_sources", "seconds": target, "rows": len(best)})
    print(f"{'build + best_sources':<40} {target:8.2f} s   (target < 30 s)")
    _measure(
        "cheapest_paths (by plant)", lambda: cheapest_paths(graph, dataset.sourcing), rows, memory
    )
    _measure(
        "fastest_paths (by plant)", lambda: fastest_paths(graph, dataset.sourcing), rows, memory
    )
    dc = dataset.sites.loc[dataset.sites["site_type"] == "dc", "site_id"].iloc[0]
    _measure(
        f"disruption_impact ({dc} out)",
        lambda: disruption_impact(
            dataset, Disruption.site_outage(dc), cost_per_day=1.0, before=best
        ),
        rows,
        memory,
    )
    if len(dataset.demand) and len(dataset.inventory):
        rates = _measure("demand_rates", lambda: demand_rates(dataset.demand), rows, memory)
        stocked = dataset
    else:
        rates, stock = _demand_and_stock(dataset, args.seed)
        stocked = dataset.replace(inventory=stock)
    _measure(
        "stock_positions",
        lambda: stock_positions(stocked, demand=rates, graph=graph, cost_per_day=1.0),
        rows,
        memory,
    )
    some = dataset.items["sku"].iloc[:100]
    _measure(
        "supply_network x 100 skus",
        lambda: [supply_network(dataset, s, graph=graph, demand=rates) for s in some],
        rows,
        memory,
    )

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak_rss_mb:.0f} MB")
    table = pd.DataFrame(rows)
    table["markets"] = args.markets
    table["skus"] = args.skus
    table["generator"] = generator
    table["python"] = platform.python_version()
    table["peak_rss_mb"] = peak_rss_mb
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4g")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
