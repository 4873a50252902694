"""Time the data-quality gate on about 1,000,000 movements.

The committed sample's chains of custody are replicated: every copy gets its own
lots and serials (a suffix such as ``X07``), its own movement ids, and UDIs written
again for the new lots and serials (from the parsed original, so the sample's UDI
defects stay), all vectorized. The inventory is replicated the same way; items,
sites and lanes stay as they are. So the big extract carries the sample's defects
about a hundred times over, at the same rates.

Run from the project root::

    .venv/bin/python benchmarks/quality_check.py            # ~1,000,000 movements
    .venv/bin/python benchmarks/quality_check.py --copies 10

It prints rows per second and peak memory (tracemalloc during a second, traced run,
and the process's peak resident size), and appends a line to
``benchmarks/results/quality_check.csv``.
"""

from __future__ import annotations

import argparse
import csv
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.data import load_dataset
from toolkit.dataset import Dataset
from toolkit.paths import PROJECT_ROOT, SAMPLE_DATA_DIR
from toolkit.quality import check
from toolkit.synth.gs1 import udi_strings
from toolkit.udi import parse_udi_series

TARGET_MOVEMENTS = 1_000_000
RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "quality_check.csv"


def _suffixes(copies: int, rows: int) -> np.ndarray:
    """``X00``, ``X01``, ... one per copy, repeated for the copy's rows."""
    labels = np.array([f"X{k:02d}" if k < 100 else f"Y{k - 100:03d}" for k in range(copies)])
    return np.repeat(labels.astype(object), rows)


def _tag(codes: pd.Series, suffix: np.ndarray, copies: int) -> pd.Series:
    """Tile a code column ``copies`` times and suffix every present code."""
    tiled = np.tile(codes.to_numpy(dtype=object), copies)
    present = pd.notna(tiled)
    tagged = tiled.copy()
    tagged[present] = tiled[present] + suffix[present]
    return pd.Series(tagged, dtype=object)


def replicate(dataset: Dataset, copies: int) -> Dataset:
    """Return ``dataset`` with movements and inventory copied ``copies`` times, each copy its own stock."""
    moves = dataset.movements.reset_index(drop=True)
    n = len(moves)
    suffix = _suffixes(copies, n)
    parsed = parse_udi_series(moves["udi"], reference_year=2026)
    lot = _tag(moves["lot"], suffix, copies)
    serial = _tag(moves["serial"], suffix, copies)
    udi_lot = _tag(parsed["lot"].astype(object).where(parsed["lot"].notna()), suffix, copies)
    udi_serial = _tag(
        parsed["serial"].astype(object).where(parsed["serial"].notna()), suffix, copies
    )
    raw = np.tile(~moves["udi"].str.startswith("(").to_numpy(), copies)
    udi = udi_strings(
        pd.Series(np.tile(parsed["gtin"].to_numpy(dtype=object), copies)),
        pd.Series(np.tile(parsed["expiry"].to_numpy(), copies)),
        udi_lot,
        udi_serial,
        raw,
    )
    copy_number = np.repeat(np.arange(copies), n)
    big_moves = pd.DataFrame(
        {
            "movement_id": pd.Series(np.tile(moves["movement_id"].to_numpy(dtype=object), copies))
            + suffix,
            "timestamp": np.tile(moves["timestamp"].to_numpy(), copies),
            "udi": udi.to_numpy(dtype=object),
            "sku": np.tile(moves["sku"].to_numpy(dtype=object), copies),
            "lot": lot,
            "serial": serial,
            "from_site": np.tile(moves["from_site"].to_numpy(dtype=object), copies),
            "to_site": np.tile(moves["to_site"].to_numpy(dtype=object), copies),
            "quantity": np.tile(moves["quantity"].to_numpy(), copies),
            "document_id": pd.Series(np.tile(moves["document_id"].to_numpy(dtype=object), copies))
            + suffix,
            "source_system": np.tile(moves["source_system"].to_numpy(dtype=object), copies),
        }
    )
    # Keep the time order of the extract: copies interleave, as one big extract would.
    big_moves = big_moves.iloc[np.lexsort((copy_number, big_moves["timestamp"].to_numpy()))]
    stock = dataset.inventory.reset_index(drop=True)
    stock_suffix = _suffixes(copies, len(stock))
    big_stock = pd.DataFrame(
        {
            column: np.tile(stock[column].to_numpy(), copies)
            for column in stock.columns
            if column not in ("lot", "serial")
        }
    )
    big_stock["lot"] = _tag(stock["lot"], stock_suffix, copies)
    big_stock["serial"] = _tag(stock["serial"], stock_suffix, copies)
    big_stock = big_stock[list(stock.columns)]
    return dataset.replace(
        movements=big_moves.reset_index(drop=True), inventory=big_stock, fingerprint="benchmark"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=0, help="copies of the sample (0: ~1M rows)")
    args = parser.parse_args(argv)

    sample = load_dataset(SAMPLE_DATA_DIR)
    copies = args.copies or int(np.ceil(TARGET_MOVEMENTS / len(sample.movements)))
    started = time.perf_counter()
    big = replicate(sample, copies)
    built = time.perf_counter() - started
    rows = len(big.movements)
    print(
        f"{rows:,} movements and {len(big.inventory):,} inventory rows "
        f"({copies} copies of the sample) built in {built:.1f} s"
    )

    started = time.perf_counter()
    report = check(big)
    seconds = time.perf_counter() - started
    print(
        f"check: {seconds:.2f} s, {rows / seconds:,.0f} movements per second, "
        f"{len(report.findings):,} findings, gate {'passed' if report.passed else 'failed'}"
    )

    tracemalloc.start()
    check(big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of one check (tracemalloc): {peak / 2**20:,.0f} MB")
    print(f"peak resident size of the process: {peak_rss:,.0f} MB")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    new = not RESULTS.exists()
    with Path(RESULTS).open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(
                ["movements", "inventory_rows", "seconds", "movements_per_second",
                 "peak_traced_mb", "peak_rss_mb", "findings", "python", "pandas"]
            )  # fmt: skip
        writer.writerow(
            [rows, len(big.inventory), round(seconds, 3), round(rows / seconds),
             round(peak / 2**20, 1), round(peak_rss), len(report.findings),
             platform.python_version(), pd.__version__]
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
