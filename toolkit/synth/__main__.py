"""Command line: ``python -m toolkit.synth --seed 7 --defects --out DIR``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from toolkit.synth.build import generate
from toolkit.synth.extract import write_extract

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.synth",
        description="Generate a seeded synthetic ERP extract of a medical-device maker.",
    )
    parser.add_argument(
        "--seed", type=int, required=True, help="random seed (same seed, same files)"
    )
    parser.add_argument("--out", required=True, help="folder to write the tables into")
    parser.add_argument("--skus", type=int, default=90, help="number of skus (default 90)")
    parser.add_argument(
        "--markets", type=int, default=12, help="number of markets, 5-72 (default 12)"
    )
    parser.add_argument(
        "--weeks", type=int, default=156, help="weeks of demand history (default 156)"
    )
    parser.add_argument(
        "--defects", action="store_true", help="inject the default data-quality defects"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Generate and write an extract; print what was written."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    tables, manifest = generate(
        seed=args.seed,
        n_skus=args.skus,
        n_markets=args.markets,
        n_weeks=args.weeks,
        defects=args.defects,
    )
    generated = time.perf_counter() - started
    written = write_extract(tables, manifest, args.out)
    total = time.perf_counter() - started
    size = 0
    for name, path in written.items():
        rows = f"{len(tables[name]):>10,} rows" if name in tables else " " * 15
        bytes_ = path.stat().st_size
        size += bytes_
        print(f"{path.name:<24}{rows}  {bytes_ / 1e6:8.2f} MB")
    counts = {kind: n for kind, n in manifest.injections().items() if n}
    print(f"{'total':<24}{'':15}  {size / 1e6:8.2f} MB")
    print(f"defects injected: {counts or 'none'}")
    print(f"generated in {generated:.1f} s, written in {total - generated:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
