"""Writing an extract: one file per canonical table, plus the defects manifest.

CSV is the default (ISO dates, codes as text so a GTIN keeps its leading zeros,
booleans as ``true``/``false``, whole numbers without a decimal point). When the CSV
files together would pass a size budget, the biggest tables (movements, then demand)
are written as Parquet instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from toolkit.schema import TABLES

__all__ = [
    "CSV_BUDGET_BYTES",
    "MANIFEST_FILE",
    "as_written",
    "csv_frame",
    "choose_formats",
    "write_extract",
]

#: Largest total size of the CSV files before big tables switch to Parquet.
CSV_BUDGET_BYTES = 5_000_000
MANIFEST_FILE = "defects_manifest.json"
# Tables that may go to Parquet, in the order they are switched.
_PARQUET_FIRST = ("movements", "demand")
_FLOAT_FORMAT = "%.10g"


def as_written(value: object, kind: str = "code") -> str:
    """Return ``value`` as the CSV writer writes it (empty string for missing).

    Examples
    --------
    >>> as_written(pd.Timestamp("2026-11-02"), "date")
    '2026-11-02'
    >>> as_written(None)
    ''
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "datetime":
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "bool":
        return "true" if bool(value) else "false"
    if isinstance(value, float):
        return _FLOAT_FORMAT % value
    return str(value)


def csv_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``frame`` with dates, timestamps and booleans turned into their CSV text."""
    spec = TABLES[table]
    out = frame.copy()
    for column in spec.columns:
        if column.name not in out:
            continue
        values = out[column.name]
        if column.kind == "date":
            out[column.name] = values.dt.strftime("%Y-%m-%d")
        elif column.kind == "datetime":
            out[column.name] = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif column.kind == "bool":
            out[column.name] = values.map({True: "true", False: "false"})
    return out


def _csv_text(frame: pd.DataFrame, table: str) -> str:
    return csv_frame(frame, table).to_csv(
        index=False, lineterminator="\n", float_format=_FLOAT_FORMAT
    )


def _estimated_csv_bytes(frame: pd.DataFrame, table: str, sample_rows: int = 5000) -> int:
    if len(frame) <= sample_rows:
        return len(_csv_text(frame, table).encode())
    sample = len(_csv_text(frame.iloc[:sample_rows], table).encode())
    return int(sample * len(frame) / sample_rows)


def choose_formats(
    tables: Mapping[str, pd.DataFrame], budget: int = CSV_BUDGET_BYTES
) -> dict[str, str]:
    """Return ``csv`` or ``parquet`` per table: CSV unless the total passes ``budget``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
    budget : int
        Largest total CSV size in bytes.
    """
    sizes = {name: _estimated_csv_bytes(frame, name) for name, frame in tables.items()}
    formats = dict.fromkeys(tables, "csv")
    for name in _PARQUET_FIRST:
        if sum(size for t, size in sizes.items() if formats[t] == "csv") <= budget:
            break
        if name in formats:
            formats[name] = "parquet"
    return formats


def write_extract(
    tables: Mapping[str, pd.DataFrame],
    manifest: object,
    out_dir: str | Path,
    formats: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``tables`` and the manifest into ``out_dir``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Canonical tables, typed as :func:`toolkit.synth.generate` returns them.
    manifest : ExtractManifest
        Written as ``defects_manifest.json`` (anything with a ``to_dict()``).
    out_dir : str or Path
        Created if missing. A file of the other format for the same table is
        removed, so a folder never holds two versions of a table.
    formats : mapping of str to str, optional
        ``csv`` or ``parquet`` per table; by default :func:`choose_formats` decides.

    Returns
    -------
    dict of str to Path
        The file written for each table, and ``manifest`` for the manifest.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    formats = dict(formats) if formats is not None else choose_formats(tables)
    written: dict[str, Path] = {}
    for name in TABLES:
        if name not in tables:
            continue
        fmt = formats.get(name, "csv")
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"unknown format {fmt!r} for table {name!r}")
        path = out / f"{name}.{fmt}"
        stale = out / f"{name}.{'parquet' if fmt == 'csv' else 'csv'}"
        stale.unlink(missing_ok=True)
        if fmt == "csv":
            path.write_text(_csv_text(tables[name], name), encoding="utf-8", newline="")
        else:
            tables[name].to_parquet(path, index=False)
        written[name] = path
    manifest_path = out / MANIFEST_FILE
    text = json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n"
    manifest_path.write_text(text, encoding="utf-8")
    written["manifest"] = manifest_path
    return written
