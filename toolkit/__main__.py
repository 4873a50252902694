"""Command line: ``python -m toolkit run --params params/regions/emea.yaml`` or ``--all``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Global inventory network toolkit: run the regional reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute the notebooks per region into reports/")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--params", action="append", metavar="YAML", help="region parameters file (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every file in params/regions/")
    run.add_argument("--data", default="", help="data folder or database URL (overrides params)")
    run.add_argument("--out", default="reports", help="output folder (default: reports/)")
    run.add_argument("--run-id", default=None, help="run folder name (default: a timestamp)")
    run.add_argument(
        "--notebooks", nargs="+", default=(), metavar="NAME", help="run only these notebooks"
    )
    run.add_argument(
        "--jobs", type=int, default=2, help="regions run at once (default 2, one per core)"
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (non-zero when a region failed)."""
    args = _parser().parse_args(argv)
    from toolkit.pipeline import run_regions

    result = run_regions(
        None if args.all else args.params,
        data_source=args.data,
        out_dir=args.out,
        run_id=args.run_id,
        notebooks=args.notebooks,
        show_progress=not args.no_progress,
        jobs=args.jobs,
    )
    for region in result.regions:
        line = f"{region.region:>10}  {region.status}"
        if region.error:
            line += f"  ({region.error.splitlines()[0][:160]})"
        print(line)
    print(f"index: {result.run_dir / 'index.html'}")
    if result.failed:
        print(f"{len(result.failed)} region(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
