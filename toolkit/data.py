"""Load an ERP extract into a validated :class:`~toolkit.dataset.Dataset`.

One code path serves every source: a folder of ``<table>.csv`` / ``<table>.parquet``
files or a SQL database given by URL (SQLite or DuckDB files, PostgreSQL, ...) is
read into raw DataFrames, and :func:`validate_tables` types, checks and assembles
them. Every problem found is collected and raised together as one
:class:`DataError` naming table, column, row and rule; nothing is fixed silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.dataset import Dataset, dtype_for
from toolkit.paths import resolve_path
from toolkit.schema import PRIMARY_SYSTEM, TABLES, Column, TableSpec

__all__ = [
    "DataError",
    "Problem",
    "load_dataset",
    "read_raw_tables",
    "validate_tables",
    "dataset_fingerprint",
    "subset_to_region",
]

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
#: How many offending rows a message lists per (table, column, rule) before summarizing.
_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and which rule it breaks."""

    table: str
    column: str
    rule: str
    message: str
    rows: tuple[str, ...] = ()
    count: int = 0

    def describe(self) -> str:
        """Return the problem as one line of text."""
        where = f"{self.table}.{self.column}" if self.column else self.table
        line = f"[{self.rule}] {where}: {self.message}"
        if self.rows:
            shown = "; ".join(self.rows[:_ROWS_SHOWN])
            more = self.count - min(len(self.rows), _ROWS_SHOWN)
            line += f" (rows: {shown}" + (f"; and {more} more" if more > 0 else "") + ")"
        return line


class DataError(ValueError):
    """The extract breaks the canonical data model; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem], source: str = ""):
        self.problems = tuple(problems)
        self.source = source
        header = f"{len(problems)} problem(s) in the ERP extract" + (
            f" at {source}" if source else ""
        )
        super().__init__(header + ":\n" + "\n".join(f"  - {p.describe()}" for p in problems))

    def to_frame(self) -> pd.DataFrame:
        """Return the problems as a DataFrame (table, column, rule, message, count, rows)."""
        return pd.DataFrame(
            [
                {
                    "table": p.table,
                    "column": p.column,
                    "rule": p.rule,
                    "message": p.message,
                    "count": p.count,
                    "rows": "; ".join(p.rows),
                }
                for p in self.problems
            ]
        )


# --------------------------------------------------------------------------- reading


def _is_database_url(source: str | Path) -> bool:
    return isinstance(source, str) and "://" in source


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def read_raw_tables(source: str | Path) -> tuple[dict[str, pd.DataFrame], list[Problem], str]:
    """Read every canonical table present at ``source`` without typing it.

    Parameters
    ----------
    source : str or Path
        A folder holding ``<table>.csv`` or ``<table>.parquet`` files, or a SQLAlchemy
        database URL (``sqlite:///path/to/file.db``, ``duckdb:///file.duckdb``,
        ``postgresql://user@host/db``) whose tables carry the canonical names.

    Returns
    -------
    tables : dict of str to DataFrame
        Raw tables by name; CSV columns are all text so codes keep leading zeros.
    problems : list of Problem
        Reading problems (a folder or table that cannot be read).
    label : str
        A printable description of the source (passwords masked).
    """
    if _is_database_url(source):
        return _read_database(str(source))
    return _read_folder(resolve_path(source))


def _read_folder(folder: Path) -> tuple[dict[str, pd.DataFrame], list[Problem], str]:
    label = str(folder)
    if not folder.is_dir():
        return {}, [Problem("", "", "source_missing", f"no folder at {folder}")], label
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLES:
        candidates = [p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.exists()]
        if len(candidates) > 1:
            problems.append(
                Problem(name, "", "ambiguous_table", "both a .csv and a .parquet file exist")
            )
            continue
        if not candidates:
            continue
        path = candidates[0]
        try:
            if path.suffix == ".csv":
                # Everything as text: codes keep their leading zeros and "NA" stays a
                # code, not a missing value; typing happens in validate_tables.
                tables[name] = pd.read_csv(
                    path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
                )
            else:
                tables[name] = pd.read_parquet(path)
        except Exception as exc:  # a broken file is reported, not raised raw
            problems.append(Problem(name, "", "unreadable", f"cannot read {path.name}: {exc}"))
    return tables, problems, label


def _read_database(url: str) -> tuple[dict[str, pd.DataFrame], list[Problem], str]:
    import sqlalchemy as sa

    label = _masked(url)
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            present = {name.lower(): name for name in sa.inspect(connection).get_table_names()}
            for name in TABLES:
                if name not in present:
                    continue
                quoted = connection.dialect.identifier_preparer.quote(present[name])
                tables[name] = pd.read_sql_query(sa.text(f"SELECT * FROM {quoted}"), connection)
        engine.dispose()
    except Exception as exc:
        problems.append(Problem("", "", "source_unreadable", f"cannot read {label}: {exc}"))
    return tables, problems, label


# --------------------------------------------------------------------------- typing


def _row_labels(frame: pd.DataFrame, spec: TableSpec, mask: np.ndarray) -> tuple[str, ...]:
    """Describe the rows selected by ``mask`` as 'row N (key=value, ...)' (N is 1-based)."""
    positions = np.flatnonzero(mask)[:_ROWS_SHOWN]
    keys = [c for c in spec.key if c in frame.columns]
    labels = []
    for pos in positions:
        values = ", ".join(f"{c}={_show(frame[c].iloc[pos])}" for c in keys)
        labels.append(f"row {pos + 1}" + (f" ({values})" if values else ""))
    return tuple(labels)


def _show(value: object) -> str:
    """Print a key value the way it appears in the extract (dates as ISO dates)."""
    if isinstance(value, pd.Timestamp):
        return (
            value.isoformat() if (value.hour or value.minute or value.second) else str(value.date())
        )
    return str(value)


def _as_text(values: pd.Series) -> pd.Series:
    """Turn a raw column into stripped strings with missing values as NA."""
    if pd.api.types.is_float_dtype(values):
        # A code that a database stored as a number: render whole numbers without ".0".
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    if pd.api.types.is_bool_dtype(values):
        values = values.map({True: "true", False: "false"})
    text = values.astype("str").str.strip()
    return text.mask(values.isna() | (text == ""))


def _coerce_column(raw: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray, str]:
    """Type one column. Returns the typed values, a mask of values that failed, and why."""
    present = raw.notna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        text = _as_text(raw)
        present = text.notna().to_numpy()
    else:
        text = None

    kind = column.kind
    if kind in ("code", "text"):
        typed = _as_text(raw)
        return typed, np.zeros(len(raw), dtype=bool), ""
    if kind in ("float", "int"):
        typed = pd.to_numeric(text if text is not None else raw, errors="coerce")
        typed = typed.astype("float64")
        failed = present & typed.isna().to_numpy()
        if kind == "int":
            fractional = typed.notna() & (typed != np.floor(typed))
            failed |= fractional.to_numpy()
            typed = typed.mask(fractional)
            return typed.round().astype("Int64"), failed, "is not a whole number"
        return typed, failed, "is not a number"
    if kind in ("date", "datetime"):
        source = text if text is not None else raw
        typed = pd.to_datetime(source, errors="coerce", format="ISO8601")
        if getattr(typed.dt, "tz", None) is not None:
            typed = typed.dt.tz_convert("UTC").dt.tz_localize(None)
        typed = typed.astype("datetime64[ns]")
        if kind == "date":
            typed = typed.dt.normalize()
        failed = present & typed.isna().to_numpy()
        return typed, failed, "is not an ISO 8601 date" + ("" if kind == "date" else "/time")
    if kind == "bool":
        if pd.api.types.is_bool_dtype(raw) and not raw.isna().any():
            return raw.astype("bool"), np.zeros(len(raw), dtype=bool), ""
        lowered = (text if text is not None else _as_text(raw)).str.lower()
        typed = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        typed[lowered.isin(_TRUE).to_numpy()] = True
        typed[lowered.isin(_FALSE).to_numpy()] = False
        failed = present & typed.isna().to_numpy()
        return typed, failed, "is not a boolean (true/false, yes/no, 1/0)"
    raise AssertionError(f"unknown column kind {kind!r}")


def _type_table(
    name: str, raw: pd.DataFrame, spec: TableSpec, problems: list[Problem]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Type the columns of one table, recording missing columns and bad values.

    Returns the typed frame and, per column, the mask of values that could not be typed
    (so later checks do not report the same cell twice).
    """
    untyped: dict[str, np.ndarray] = {}
    frame = raw.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in spec.columns:
        if column.name not in frame.columns:
            if column.required:
                problems.append(
                    Problem(name, column.name, "missing_column", "required column is missing")
                )
                continue
            default = column.default if column.default is not None else pd.NA
            frame[column.name] = pd.Series([default] * len(frame), index=frame.index, dtype=object)
        typed, failed, reason = _coerce_column(frame[column.name], column)
        if failed.any():
            bad_values = frame[column.name][failed].astype(str).unique()[:3]
            problems.append(
                Problem(
                    name,
                    column.name,
                    "wrong_type",
                    f"{int(failed.sum())} value(s) {reason} (e.g. {', '.join(map(repr, bad_values))})",
                    _row_labels(frame, spec, failed),
                    int(failed.sum()),
                )
            )
        frame[column.name] = typed
        untyped[column.name] = failed
    return frame, untyped


def _check_values(
    name: str,
    frame: pd.DataFrame,
    spec: TableSpec,
    untyped: Mapping[str, np.ndarray],
    problems: list[Problem],
) -> None:
    """Check emptiness, allowed values and bounds column by column."""
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        if not column.nullable and column.required:
            empty = values.isna().to_numpy() & ~untyped.get(column.name, False)
            if empty.any():
                problems.append(
                    Problem(
                        name,
                        column.name,
                        "empty_value",
                        f"{int(empty.sum())} empty value(s)",
                        _row_labels(frame, spec, empty),
                        int(empty.sum()),
                    )
                )
        if column.choices:
            wrong = (values.notna() & ~values.isin(column.choices)).to_numpy()
            if wrong.any():
                seen = ", ".join(map(repr, values[wrong].unique()[:5]))
                problems.append(
                    Problem(
                        name,
                        column.name,
                        "not_allowed",
                        f"{int(wrong.sum())} value(s) not in {list(column.choices)}: {seen}",
                        _row_labels(frame, spec, wrong),
                        int(wrong.sum()),
                    )
                )
        if column.kind in ("float", "int"):
            numeric = values.astype("float64")
            if column.positive:
                wrong = (numeric <= 0).fillna(False).to_numpy()
                rule, text = "not_positive", "must be greater than 0"
            elif column.min_value is not None:
                wrong = (numeric < column.min_value).fillna(False).to_numpy()
                rule, text = "below_minimum", f"must be at least {column.min_value:g}"
            else:
                continue
            if wrong.any():
                problems.append(
                    Problem(
                        name,
                        column.name,
                        rule,
                        f"{int(wrong.sum())} value(s) {text}",
                        _row_labels(frame, spec, wrong),
                        int(wrong.sum()),
                    )
                )


def _check_key(name: str, frame: pd.DataFrame, spec: TableSpec, problems: list[Problem]) -> None:
    keys = [c for c in spec.key if c in frame.columns]
    if not spec.unique_key or len(keys) != len(spec.key) or frame.empty:
        return
    duplicated = frame.duplicated(subset=keys, keep=False).to_numpy()
    if duplicated.any():
        problems.append(
            Problem(
                name,
                ", ".join(keys),
                "duplicate_key",
                f"{int(duplicated.sum())} rows share a key with another row",
                _row_labels(frame, spec, duplicated),
                int(duplicated.sum()),
            )
        )


def _foreign_system_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose codes belong to another ERP system (mapped through ``aliases``)."""
    if "source_system" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    system = frame["source_system"]
    return (system.notna() & (system != PRIMARY_SYSTEM)).to_numpy()


def _map_aliases(frame: pd.DataFrame, aliases: pd.DataFrame) -> pd.DataFrame:
    """Replace local codes of other ERP systems by their global sku where unambiguous.

    The local code is kept in ``local_code``. Codes with no mapping, or with more than
    one, are left as they are: the quality gate reports and quarantines them.
    """
    foreign = _foreign_system_rows(frame)
    if not foreign.any():
        return frame
    unique_maps = (
        aliases.dropna(subset=["sku"])
        .drop_duplicates(subset=["system", "local_code", "sku"])
        .groupby(["system", "local_code"])["sku"]
        .agg(lambda skus: skus.iloc[0] if len(skus) == 1 else pd.NA)
        .dropna()
    )
    frame = frame.copy()
    frame["local_code"] = frame["sku"].where(foreign)
    lookup = pd.MultiIndex.from_arrays([frame["source_system"], frame["sku"]])
    mapped = pd.Series(unique_maps.reindex(lookup).to_numpy(), index=frame.index)
    frame["sku"] = frame["sku"].where(~(foreign & mapped.notna().to_numpy()), mapped)
    return frame


def _check_references(
    name: str,
    frame: pd.DataFrame,
    spec: TableSpec,
    typed: Mapping[str, pd.DataFrame],
    problems: list[Problem],
) -> None:
    foreign = _foreign_system_rows(frame)
    for ref in spec.references:
        target = typed.get(ref.table)
        if ref.column not in frame.columns or target is None or ref.target_column not in target:
            continue
        values = frame[ref.column]
        known = target[ref.target_column]
        checked = values.notna().to_numpy(copy=True)
        if ref.column == "sku":
            # Other systems' local codes are the quality gate's business (aliases rule).
            checked &= ~foreign
        dangling = checked & ~values.isin(known).to_numpy()
        if dangling.any():
            unknown = ", ".join(map(repr, values[dangling].unique()[:5]))
            problems.append(
                Problem(
                    name,
                    ref.column,
                    "unknown_reference",
                    f"{int(dangling.sum())} row(s) refer to {ref.table}.{ref.target_column} "
                    f"values that do not exist: {unknown}",
                    _row_labels(frame, spec, dangling),
                    int(dangling.sum()),
                )
            )
        for attribute, required in ref.where:
            if attribute not in target.columns:
                continue
            kinds = target.set_index(ref.target_column)[attribute]
            kinds = kinds[~kinds.index.duplicated()]
            actual = values.map(kinds)
            wrong = checked & ~dangling & (actual != required).fillna(False).to_numpy()
            if wrong.any():
                examples = ", ".join(
                    f"{v!r} is a {k}"
                    for v, k in pd.DataFrame({"v": values[wrong], "k": actual[wrong]})
                    .drop_duplicates()
                    .head(3)
                    .itertuples(index=False)
                )
                problems.append(
                    Problem(
                        name,
                        ref.column,
                        "wrong_site_type",
                        f"{int(wrong.sum())} row(s) must refer to a {required}: {examples}",
                        _row_labels(frame, spec, wrong),
                        int(wrong.sum()),
                    )
                )


def _check_events_scope(frame: pd.DataFrame, spec: TableSpec, problems: list[Problem]) -> None:
    if frame.empty:
        return
    neither = (frame["site_id"].isna() & frame["region"].isna()).to_numpy()
    if neither.any():
        problems.append(
            Problem(
                "events",
                "site_id, region",
                "no_scope",
                f"{int(neither.sum())} event(s) name neither a site nor a region",
                _row_labels(frame, spec, neither),
                int(neither.sum()),
            )
        )


def validate_tables(
    raw_tables: Mapping[str, pd.DataFrame],
    source: str = "",
    *,
    check_references: bool = True,
    reading_problems: list[Problem] | None = None,
) -> Dataset:
    """Type, check and assemble raw tables into a :class:`Dataset`.

    Checks, in one pass over everything: required tables and columns exist; values
    have the right type (numbers, ISO dates, booleans); required values are not
    empty; categorical codes are allowed values; quantities and costs respect their
    bounds; keys are unique; every referenced site and sku exists (and sourcing sites
    are plants, demand sites are markets). Local item codes of a second ERP system
    (rows with a ``source_system``) are mapped to global skus through ``aliases``;
    unmapped ones are left for the quality gate.

    Parameters
    ----------
    raw_tables : mapping of str to DataFrame
        Tables by canonical name, as read (typically all-text CSV columns).
    source : str
        Where the tables came from, for messages.
    check_references : bool
        Check foreign keys (on by default).
    reading_problems : list of Problem, optional
        Problems met while reading, reported together with the rest.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Listing every problem found, each naming table, column, rows and rule.
    """
    problems: list[Problem] = list(reading_problems or [])
    typed: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        if name not in raw_tables:
            if spec.required:
                problems.append(Problem(name, "", "missing_table", "required table is missing"))
            continue
        frame, untyped = _type_table(name, raw_tables[name], spec, problems)
        _check_values(name, frame, spec, untyped, problems)
        _check_key(name, frame, spec, problems)
        if name == "events":
            _check_events_scope(frame, spec, problems)
        typed[name] = frame

    if "aliases" in typed:
        for name in ("demand", "inventory", "movements"):
            if name in typed:
                typed[name] = _map_aliases(typed[name], typed["aliases"])
    if check_references:
        for name, frame in typed.items():
            _check_references(name, frame, TABLES[name], typed, problems)
    if problems:
        raise DataError(problems, source)

    # Columns that can be empty take their nullable dtype; booleans with a default.
    for name, frame in typed.items():
        for column in TABLES[name].columns:
            if column.kind == "bool":
                filled = frame[column.name].fillna(bool(column.default))
                frame[column.name] = filled.astype(dtype_for("bool"))
    dataset = Dataset.from_tables(typed, source=source, present=typed.keys())
    return dataset.replace(fingerprint=dataset_fingerprint(dataset))


def load_dataset(source: str | Path, *, check_references: bool = True) -> Dataset:
    """Load and validate an ERP extract.

    Parameters
    ----------
    source : str or Path
        A folder of ``<table>.csv`` / ``<table>.parquet`` files (relative paths are
        taken from the project root), or a SQLAlchemy database URL such as
        ``sqlite:///extract.db`` or ``postgresql://user@host/erp``.
    check_references : bool
        Check that every referenced site and sku exists.

    Returns
    -------
    Dataset
        One typed DataFrame per canonical table.

    Raises
    ------
    DataError
        When anything breaks the data model; the message lists every problem.

    Examples
    --------
    >>> from toolkit.paths import SAMPLE_DATA_DIR
    >>> dataset = load_dataset(SAMPLE_DATA_DIR)  # doctest: +SKIP
    >>> dataset.items["gtin"].str.len().eq(14).all()  # doctest: +SKIP
    True
    """
    raw, problems, label = read_raw_tables(source)
    return validate_tables(raw, label, check_references=check_references, reading_problems=problems)


def dataset_fingerprint(dataset: Dataset) -> str:
    """Return a short content hash of every table (row order and values).

    Two datasets with the same fingerprint hold the same data; reports record it.
    """
    digest = hashlib.sha256()
    for name, frame in dataset.tables().items():
        digest.update(name.encode())
        digest.update(",".join(map(str, frame.columns)).encode())
        if len(frame):
            hashed = pd.util.hash_pandas_object(frame.astype("str"), index=False)
            digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()[:16]


def subset_to_region(dataset: Dataset, region: str) -> Dataset:
    """Keep the markets of one region and the whole upstream network serving them.

    Plants, DCs, sourcing, lanes and items stay complete (the network is global);
    market-level rows (demand, events, inventory, policies, movements) are kept only
    for the region's markets and for plants and DCs. Region-wide events of the region
    are kept.

    Parameters
    ----------
    dataset : Dataset
    region : str
        A value of ``sites.region``.

    Returns
    -------
    Dataset
    """
    sites = dataset.sites
    if region not in set(sites["region"]):
        known = ", ".join(sorted(sites["region"].unique()))
        raise ValueError(f"region {region!r} is not in sites.region (known: {known})")
    other_markets = set(
        sites.loc[(sites["site_type"] == "market") & (sites["region"] != region), "site_id"]
    )

    def keep(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        mask = pd.Series(True, index=frame.index)
        for column in columns:
            mask &= ~frame[column].isin(other_markets)
        return frame[mask]

    events = dataset.events
    events = events[
        (events["site_id"].notna() & ~events["site_id"].isin(other_markets))
        | (events["site_id"].isna() & (events["region"] == region))
    ]
    return dataset.replace(
        sites=sites[~sites["site_id"].isin(other_markets)],
        lanes=keep(dataset.lanes, "origin", "destination"),
        demand=keep(dataset.demand, "site_id"),
        events=events,
        inventory=keep(dataset.inventory, "site_id"),
        policies=keep(dataset.policies, "site_id"),
        movements=keep(dataset.movements, "from_site", "to_site"),
    )
