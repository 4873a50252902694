"""The in-memory form of an ERP extract: one typed DataFrame per canonical table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from toolkit.schema import TABLES, TableSpec

__all__ = ["Dataset", "empty_table", "dtype_for"]

_DTYPES = {
    "code": "str",
    "text": "str",
    "float": "float64",
    "int": "Int64",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
    "bool": "bool",
}


def dtype_for(kind: str, nullable: bool = False) -> str:
    """Return the pandas dtype a column of schema ``kind`` is stored with."""
    if kind == "bool" and nullable:
        return "boolean"
    return _DTYPES[kind]


def empty_table(spec: TableSpec) -> pd.DataFrame:
    """Return an empty DataFrame with the columns and dtypes of ``spec``."""
    return pd.DataFrame(
        {col.name: pd.Series(dtype=dtype_for(col.kind, col.nullable)) for col in spec.columns}
    )


@dataclass(frozen=True)
class Dataset:
    """A validated ERP extract: one DataFrame per table of the canonical data model.

    Optional tables that were absent from the source are empty DataFrames with the
    canonical columns; ``present`` says which tables the source really had.
    Code columns (site ids, skus, GTINs, lots, serials) are strings, dates are
    ``datetime64``, booleans are ``bool``.

    Attributes
    ----------
    sites, items, sourcing, lanes, demand, events, inventory, movements, policies, aliases
        The tables (see :data:`toolkit.schema.TABLES`).
    source : str
        Where the data came from (folder path or database URL, password masked).
    present : frozenset of str
        Names of the tables the source contained.
    fingerprint : str
        Content hash of the tables as loaded (see :func:`toolkit.data.dataset_fingerprint`).
    """

    sites: pd.DataFrame
    items: pd.DataFrame
    sourcing: pd.DataFrame
    lanes: pd.DataFrame
    demand: pd.DataFrame
    events: pd.DataFrame
    inventory: pd.DataFrame
    movements: pd.DataFrame
    policies: pd.DataFrame
    aliases: pd.DataFrame
    source: str = ""
    present: frozenset[str] = frozenset()
    fingerprint: str = ""

    @classmethod
    def from_tables(
        cls, tables: dict[str, pd.DataFrame], source: str = "", present=None
    ) -> Dataset:
        """Build a Dataset from already-typed tables, filling absent ones with empty frames.

        No validation happens here; use :func:`toolkit.data.load_dataset` or
        :func:`toolkit.data.validate_tables` for untrusted input.
        """
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise KeyError(f"unknown tables: {sorted(unknown)}")
        filled = {
            name: tables[name] if name in tables else empty_table(spec)
            for name, spec in TABLES.items()
        }
        return cls(
            **filled,
            source=source,
            present=frozenset(tables) if present is None else frozenset(present),
        )

    def table(self, name: str) -> pd.DataFrame:
        """Return the table called ``name``."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}")
        return getattr(self, name)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return every table by name (absent optional tables included, empty)."""
        return {name: getattr(self, name) for name in TABLES}

    def replace(self, **tables: pd.DataFrame) -> Dataset:
        """Return a copy with some tables replaced (the original is not changed)."""
        return dataclasses.replace(self, **tables)

    def row_counts(self) -> dict[str, int]:
        """Return the number of rows of every table."""
        return {name: len(frame) for name, frame in self.tables().items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={n}" for name, n in self.row_counts().items())
        return f"Dataset({counts}; source={self.source!r})"
