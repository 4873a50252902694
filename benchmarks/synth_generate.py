"""Time the sample generator at benchmark scale (default 5,000 skus, 60 markets).

Prints generation and write time, rows per table and peak memory; writes
``benchmarks/results/synth_generate.csv``. The written extract goes to a temporary
folder unless ``--out`` is given (it is the input of the other benchmarks).

    python benchmarks/synth_generate.py [--skus 5000 --markets 60 --weeks 156 --out DIR]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from toolkit.synth import generate, write_extract

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--markets", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    started = time.perf_counter()
    tables, manifest = generate(
        seed=args.seed, n_skus=args.skus, n_markets=args.markets, n_weeks=args.weeks, defects=True
    )
    generated = time.perf_counter() - started
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="synth-bench-"))
    write_extract(tables, manifest, out)
    written = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = {name: len(frame) for name, frame in tables.items()}
    print(f"skus={args.skus} markets={args.markets} weeks={args.weeks} seed={args.seed}")
    for name, count in rows.items():
        print(f"  {name:<12}{count:>14,} rows")
    print(
        f"generate: {generated:6.1f} s   generate+write: {written:6.1f} s   peak RSS: {peak_mb:,.0f} MB"
    )
    print(f"extract written to {out}")
    RESULTS.mkdir(exist_ok=True)
    pd.DataFrame(
        [
            {
                "skus": args.skus,
                "markets": args.markets,
                "weeks": args.weeks,
                "demand_rows": rows["demand"],
                "movement_rows": rows["movements"],
                "generate_seconds": round(generated, 2),
                "total_seconds": round(written, 2),
                "peak_rss_mb": round(peak_mb),
            }
        ]
    ).to_csv(RESULTS / "synth_generate.csv", index=False)


if __name__ == "__main__":
    main()
