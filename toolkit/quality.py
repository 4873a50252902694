"""The traceability and data-quality gate: check an extract, quarantine, decide.

:func:`check` runs the named rules of :mod:`toolkit.quality_rules` over a
:class:`~toolkit.dataset.Dataset` and returns a :class:`QualityReport`:

- ``findings``: one row per defective cell (table, key, column, rule, severity,
  message, plus the site and sku it concerns and its 0-based ``row`` position);
- ``summary``: per rule and table, rows checked and failed, the share failed, the
  threshold and whether it passed;
- ``clean``: the dataset without the quarantined rows, and ``quarantine``: those
  rows per table with the rule(s) and reasons that sent them there;
- ``passed`` and ``verdict``: the gate's decision in plain words.

The rules
---------
Each rule is a documented function (``RULES[name].description``); errors
quarantine, warnings only report:

===============================  ========  =============================================
rule                             severity  quarantines
===============================  ========  =============================================
``gtin_invalid``                 error     the item, and every row referring to it
``gtin_duplicate``               error     every item sharing the GTIN, and their rows
``item_controls_contradicted``   error     the item, and every row referring to it
``alias_unmapped``               error     the demand/inventory/movement row
``alias_conflict``               error     every aliases row of the local code
``unknown_item``                 error     the row
``end_of_life_after_phase_out``  warning   nothing
``udi_missing``                  warning   nothing
``udi_unparseable``              error     the movement
``udi_gtin_mismatch``            error     the movement
``udi_lot_mismatch``             error     the movement
``udi_serial_mismatch``          error     the movement
``udi_expiry_mismatch``          error     the movement
``serial_missing``               error     the inventory or movement row
``lot_missing``                  error     the inventory or movement row
``serial_quantity_not_one``      error     the inventory or movement row
``serial_at_two_sites``          error     the stock row(s) its movements do not explain
``custody_not_held``             error     the movement
``custody_chain_break``          error     the movement
``in_transit_without_shipment``  error     the inventory row
``in_transit_overdue``           warning   nothing
``expired_released``             error     the inventory row
``expired_in_transit``           error     the inventory row
===============================  ========  =============================================

One defect gives one finding: a delivery from a site that never held the lot is
``custody_not_held`` only (not also a negative balance or a chain break); a serial
in stock at a second site is reported on the row its movements do not explain.

Quarantine, never drop
----------------------
Every row of every table ends up either in ``clean`` or in ``quarantine`` (checked
in code on every call: rows in = rows kept + rows quarantined). Error rules
quarantine the rows they fail (each rule's ``quarantines`` says which); warnings
only report. An item quarantined by an item-master rule (``gtin_invalid``,
``gtin_duplicate``, ``item_controls_contradicted``) takes every row that refers to
it with it (sourcing, demand, events, inventory, movements, policies, aliases):
an item that cannot be identified cannot be planned, and the clean data stay
referentially whole (every sku in them is in ``clean.items``). Those rows carry
the item's rule and the reason "item ... is quarantined". A ``successor_sku`` may
still name a quarantined item.

The gate
--------
Each (rule, table) line passes when its share of failed rows is at most its
threshold: ``quality.max_defect_share[rule]`` when set, else
``quality.max_defect_share_by_severity[severity]`` (see ``params/defaults.yaml``).
The gate passes when every line passes. Downstream notebooks call
``RegionContext.require_gate()``, which raises :class:`GateFailed` when the gate
failed and ``quality.proceed_with_warnings`` is false.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.config import QualityParams
from toolkit.custody import TraceNotFound, blank, holdings, trace
from toolkit.dataset import Dataset
from toolkit.quality_base import Rule, RuleInputs, Violations
from toolkit.quality_rules import ITEM_LEVEL_RULES, RULES, rules_table, select_rules
from toolkit.schema import TABLES

__all__ = [
    "FINDING_COLUMNS",
    "RULES",
    "SUMMARY_COLUMNS",
    "GateFailed",
    "QualityReport",
    "TraceNotFound",
    "check",
    "example_trace_query",
    "findings_by_site",
    "format_share",
    "holdings",
    "quarantine_summary",
    "rules_table",
    "scope_findings",
    "trace",
    "worst_offenders",
    "write_quarantine",
]

FINDING_COLUMNS = ["table", "key", "column", "rule", "severity", "message", "site_id", "sku", "row"]
SUMMARY_COLUMNS = [
    "rule",
    "label",
    "severity",
    "table",
    "rows_checked",
    "rows_failed",
    "share",
    "threshold",
    "passed",
]
#: The label of findings that concern no site (item master, aliases).
MASTER_DATA = "(master data)"

# Key columns that identify a row in a finding; aliases' key is not unique (conflicts
# are findings), so its sku is part of what names the row.
_KEY_COLUMNS = {name: spec.key for name, spec in TABLES.items()} | {
    "aliases": ("system", "local_code", "sku")
}
# The site a row concerns, for "defects by site": movements are charged to the site
# that sent them (the receiving plant for a production receipt).
_SITE_COLUMNS = {
    "sourcing": ("site_id",),
    "lanes": ("origin",),
    "demand": ("site_id",),
    "events": ("site_id",),
    "inventory": ("site_id",),
    "movements": ("from_site", "to_site"),
    "policies": ("site_id",),
}


class GateFailed(RuntimeError):
    """The data-quality gate failed and the parameters say not to proceed.

    The message is the gate's verdict, so a pipeline run shows the reason.
    """


@dataclass(frozen=True)
class QualityReport:
    """The outcome of :func:`check`.

    Attributes
    ----------
    findings : DataFrame
        Columns :data:`FINDING_COLUMNS`: one row per defective cell. ``key`` names
        the row by its key columns (``movement_id=MV00000001``), ``row`` is its
        0-based position in the table as checked.
    summary : DataFrame
        Columns :data:`SUMMARY_COLUMNS`: one line per rule and table checked.
    clean : Dataset
        The dataset without the quarantined rows.
    quarantine : dict of str to DataFrame
        Per table, the quarantined rows (original columns and index) plus
        ``quarantine_rules`` and ``quarantine_reasons``; empty frames for tables
        with nothing quarantined.
    passed : bool
        The gate's verdict.
    verdict : str
        The verdict in one or two plain sentences.
    reasons : tuple of str
        One line per failing (rule, table), empty when the gate passed.
    rows_in : dict of str to int
        Rows per table before the check.
    """

    findings: pd.DataFrame
    summary: pd.DataFrame
    clean: Dataset
    quarantine: dict[str, pd.DataFrame]
    passed: bool
    verdict: str
    reasons: tuple[str, ...]
    rows_in: dict[str, int]

    @property
    def failures(self) -> pd.DataFrame:
        """The summary lines that failed the gate."""
        return self.summary[~self.summary["passed"]]

    @property
    def short_verdict(self) -> str:
        """A few words for a headline: ``Passed`` or ``Failed: invalid GTIN, ...``."""
        if self.passed:
            return "Passed"
        labels = list(dict.fromkeys(self.failures["label"]))
        return "Failed: " + ", ".join(labels)

    def rows_quarantined(self) -> int:
        """How many rows, over every table, were quarantined."""
        return int(sum(len(frame) for frame in self.quarantine.values()))


# --------------------------------------------------------------------------- check


def _quality_params(thresholds: QualityParams | Mapping[str, float] | None) -> QualityParams:
    if thresholds is None:
        params = QualityParams()
    elif isinstance(thresholds, QualityParams):
        params = thresholds
    else:
        defaults = QualityParams()
        shares = {**defaults.max_defect_share, **dict(thresholds)}
        params = defaults.model_copy(update={"max_defect_share": shares})
    unknown = sorted(set(params.max_defect_share) - set(RULES))
    if unknown:
        raise KeyError(
            f"quality.max_defect_share names unknown rule(s) {unknown}; known: {', '.join(RULES)}"
        )
    return params


def _threshold(rule: Rule, params: QualityParams) -> float:
    if rule.name in params.max_defect_share:
        return float(params.max_defect_share[rule.name])
    by_severity = {**QualityParams().max_defect_share_by_severity}
    by_severity.update(params.max_defect_share_by_severity)
    return float(by_severity[rule.severity])


def check(
    dataset: Dataset,
    rules: Iterable[str] | None = None,
    thresholds: QualityParams | Mapping[str, float] | None = None,
) -> QualityReport:
    """Check an extract, quarantine the failing rows and decide the gate.

    Parameters
    ----------
    dataset : Dataset
        The extract as :func:`toolkit.data.load_dataset` returns it.
    rules : iterable of str, optional
        Names of the rules to run (see :data:`RULES`); all when None.
    thresholds : QualityParams or mapping of str to float, optional
        The gate's parameters (``params.quality``), or per-rule largest shares of
        failing rows that override the defaults of :class:`~toolkit.config.QualityParams`.

    Returns
    -------
    QualityReport

    Raises
    ------
    KeyError
        When ``rules`` or the thresholds name a rule that does not exist.

    Examples
    --------
    >>> from toolkit.data import load_dataset  # doctest: +SKIP
    >>> report = check(load_dataset("data_samples/medtech_demo"))  # doctest: +SKIP
    >>> report.passed, len(report.findings)  # doctest: +SKIP
    (False, 25)
    """
    params = _quality_params(thresholds)
    selected = select_rules(rules)
    inputs = RuleInputs(dataset, params)
    found = {rule.name: rule(inputs) for rule in selected}
    findings = _findings(dataset, selected, found)
    summary = _summary(selected, found, params)
    clean, quarantine = _quarantine(dataset, selected, found)
    reasons = tuple(_reason(line) for line in summary[~summary["passed"]].itertuples())
    passed = not reasons
    return QualityReport(
        findings=findings,
        summary=summary,
        clean=clean,
        quarantine=quarantine,
        passed=passed,
        verdict=_verdict(passed, reasons, findings, summary),
        reasons=reasons,
        rows_in=dataset.row_counts(),
    )


def _show(values: pd.Series) -> np.ndarray:
    """Key values as written in an extract: ISO dates, empty for missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        has_time = (values.dropna() != values.dropna().dt.normalize()).any()
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d")
        return blank(text)
    return blank(values.astype(object).where(values.notna(), None))


def _row_keys(frame: pd.DataFrame, table: str, rows: np.ndarray) -> np.ndarray:
    columns = [c for c in _KEY_COLUMNS[table] if c in frame.columns]
    picked = frame.iloc[rows]
    parts = [c + "=" + pd.Series(_show(picked[c]), dtype=object) for c in columns]
    if not parts:
        return np.array([f"row={r}" for r in rows], dtype=object)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + ", " + part
    return joined.to_numpy(dtype=object)


def _row_sites(frame: pd.DataFrame, table: str, rows: np.ndarray) -> np.ndarray:
    sites = pd.Series(None, index=range(len(rows)), dtype=object)
    for column in _SITE_COLUMNS.get(table, ()):
        if column in frame.columns:
            values = frame[column].to_numpy(dtype=object)[rows]
            sites = sites.where(sites.notna(), pd.Series(values, dtype=object))
    return sites.to_numpy(dtype=object)


def _findings(
    dataset: Dataset, selected: list[Rule], found: Mapping[str, list[Violations]]
) -> pd.DataFrame:
    parts = []
    for rule in selected:
        for violations in found[rule.name]:
            if not len(violations.rows):
                continue
            frame = dataset.table(violations.table)
            rows = violations.rows
            sku = frame["sku"].to_numpy(dtype=object)[rows] if "sku" in frame.columns else None
            parts.append(
                pd.DataFrame(
                    {
                        "table": violations.table,
                        "key": _row_keys(frame, violations.table, rows),
                        "column": violations.column,
                        "rule": rule.name,
                        "severity": rule.severity,
                        "message": violations.messages,
                        "site_id": _row_sites(frame, violations.table, rows),
                        "sku": sku,
                        "row": rows,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "row" else object) for c in FINDING_COLUMNS}
        )
    return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def _summary(
    selected: list[Rule],
    found: Mapping[str, list[Violations]],
    params: QualityParams,
) -> pd.DataFrame:
    lines = []
    for rule in selected:
        threshold = _threshold(rule, params)
        for table in rule.tables:
            of_table = [v for v in found[rule.name] if v.table == table]
            checked = max((v.checked for v in of_table), default=0)
            failed = len(np.unique(np.concatenate([v.rows for v in of_table]))) if of_table else 0
            share = failed / checked if checked else 0.0
            lines.append(
                {
                    "rule": rule.name,
                    "label": rule.label,
                    "severity": rule.severity,
                    "table": table,
                    "rows_checked": checked,
                    "rows_failed": failed,
                    "share": share,
                    "threshold": threshold,
                    # A hair of tolerance: a share equal to its threshold passes.
                    "passed": bool(share <= threshold + 1e-12),
                }
            )
    return pd.DataFrame(lines, columns=SUMMARY_COLUMNS)


def format_share(share: float) -> str:
    """Write a share for a reader, with the digits that matter.

    Examples
    --------
    >>> [format_share(x) for x in (0, 0.00028, 0.005, 0.0222, 0.25)]
    ['0%', '0.028%', '0.5%', '2.2%', '25%']
    """
    if share == 0:
        return "0%"
    if share >= 0.1:
        return f"{100 * share:.0f}%"
    if share >= 0.01:
        return f"{100 * share:.1f}%"
    return f"{100 * share:.2g}%"


# How a reason names the rows of each table ("2 of 90 items").
_ROW_NOUNS = {
    "sites": "sites",
    "items": "items",
    "sourcing": "sourcing rows",
    "lanes": "lanes",
    "demand": "demand rows",
    "events": "events",
    "inventory": "inventory rows",
    "movements": "movements",
    "policies": "policies",
    "aliases": "alias rows",
}


def _reason(line) -> str:
    return (
        f"{line.label}: {line.rows_failed:,} of {line.rows_checked:,} {_ROW_NOUNS[line.table]} "
        f"({format_share(line.share)}; at most {format_share(line.threshold)} allowed)"
    )


def _verdict(
    passed: bool, reasons: tuple[str, ...], findings: pd.DataFrame, summary: pd.DataFrame
) -> str:
    if not passed:
        return "Data-quality gate failed: " + "; ".join(reasons) + "."
    if findings.empty:
        return f"Data-quality gate passed: no findings in {len(summary)} checks."
    return (
        f"Data-quality gate passed: {len(findings):,} findings, every check within its threshold."
    )


# --------------------------------------------------------------------------- quarantine


def _held_rows(
    dataset: Dataset, selected: list[Rule], found: Mapping[str, list[Violations]]
) -> dict[str, pd.DataFrame]:
    """Per table: (row, rule, reason) for every row an error sends to quarantine."""
    entries: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for rule in selected:
        if rule.severity != "error":
            continue
        for violations in found[rule.name]:
            entries[violations.table].append(
                pd.DataFrame(
                    {"row": violations.rows, "rule": rule.name, "reason": violations.messages}
                )
            )
    # Quarantined items take every row that refers to them along.
    held_items = [e for e in entries["items"] if len(e) and set(e["rule"]) <= ITEM_LEVEL_RULES]
    if held_items:
        items = pd.concat(held_items, ignore_index=True)
        items["sku"] = dataset.items["sku"].to_numpy(dtype=object)[items["row"].to_numpy()]
        why = items.groupby("sku").agg(rule=("rule", "first"), reason=("reason", "first"))
        why["reason"] = "item " + why.index + " is quarantined: " + why["reason"]
        for table in TABLES:
            frame = dataset.table(table)
            if table == "items" or "sku" not in frame.columns:
                continue
            refers = frame["sku"].isin(why.index).to_numpy()
            rows = np.flatnonzero(refers)
            skus = frame["sku"].to_numpy(dtype=object)[rows]
            entries[table].append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "rule": why["rule"].reindex(skus).to_numpy(dtype=object),
                        "reason": why["reason"].reindex(skus).to_numpy(dtype=object),
                    }
                )
            )
    held = {}
    for table, parts in entries.items():
        parts = [p for p in parts if len(p)]
        if not parts:
            continue
        rows = pd.concat(parts, ignore_index=True)
        held[table] = rows.groupby("row", sort=True).agg(
            quarantine_rules=("rule", lambda r: "; ".join(dict.fromkeys(r))),
            quarantine_reasons=("reason", lambda r: "; ".join(dict.fromkeys(r))),
        )
    return held


def _quarantine(
    dataset: Dataset, selected: list[Rule], found: Mapping[str, list[Violations]]
) -> tuple[Dataset, dict[str, pd.DataFrame]]:
    held = _held_rows(dataset, selected, found)
    kept_tables: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    digest = hashlib.sha256(dataset.fingerprint.encode())
    for table, frame in dataset.tables().items():
        reasons = held.get(table)
        mask = np.zeros(len(frame), dtype=bool)
        if reasons is not None:
            mask[reasons.index.to_numpy()] = True
        kept = frame[~mask]
        taken = frame[mask].assign(
            quarantine_rules=[] if reasons is None else reasons["quarantine_rules"].to_numpy(),
            quarantine_reasons=[] if reasons is None else reasons["quarantine_reasons"].to_numpy(),
        )
        _require_partition(table, frame, kept, taken)
        kept_tables[table] = kept
        quarantine[table] = taken
        digest.update(table.encode() + np.flatnonzero(mask).tobytes())
    clean = dataset.replace(**kept_tables, fingerprint=digest.hexdigest()[:16])
    return clean, quarantine


def _require_partition(
    table: str, rows_in: pd.DataFrame, kept: pd.DataFrame, taken: pd.DataFrame
) -> None:
    """Quarantine never drops: every row is kept or quarantined, exactly once.

    Compared as multisets of index labels, so tables whose labels repeat are checked too.
    """
    labels = pd.Index(kept.index.append(taken.index)).sort_values()
    if len(kept) + len(taken) != len(rows_in) or not labels.equals(rows_in.index.sort_values()):
        raise AssertionError(
            f"quarantine lost or duplicated rows of {table}: {len(rows_in)} in, "
            f"{len(kept)} kept, {len(taken)} quarantined"
        )


def quarantine_summary(report: QualityReport) -> pd.DataFrame:
    """Rows in, kept and quarantined per table (tables with rows only).

    Returns
    -------
    DataFrame
        ``table, rows_in, rows_kept, rows_quarantined, share_quarantined`` where
        ``rows_in == rows_kept + rows_quarantined`` on every line.
    """
    lines = []
    for table, rows_in in report.rows_in.items():
        if not rows_in:
            continue
        kept = len(report.clean.table(table))
        taken = len(report.quarantine[table])
        lines.append(
            {
                "table": table,
                "rows_in": rows_in,
                "rows_kept": kept,
                "rows_quarantined": taken,
                "share_quarantined": taken / rows_in,
            }
        )
    return pd.DataFrame(
        lines, columns=["table", "rows_in", "rows_kept", "rows_quarantined", "share_quarantined"]
    )


def write_quarantine(report: QualityReport, folder: str | Path) -> dict[str, Path]:
    """Write what a data steward needs to fix the extract at its source.

    Files: ``quality_findings.csv`` (every finding), ``quality_gate.csv`` (the
    per-rule summary) and ``quarantine_<table>.csv`` for each table with
    quarantined rows (the rows as they were, plus the rules and reasons). Dates are
    ISO 8601, empty cells are empty.

    Parameters
    ----------
    report : QualityReport
    folder : str or Path
        Created if missing (the pipeline's region folder, ``ctx.report_dir``).

    Returns
    -------
    dict of str to Path
        ``findings``, ``gate`` and each table name to the file written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "findings": folder / "quality_findings.csv",
        "gate": folder / "quality_gate.csv",
    }
    report.findings.to_csv(written["findings"], index=False)
    report.summary.to_csv(written["gate"], index=False)
    for table, frame in report.quarantine.items():
        if frame.empty:
            continue
        path = folder / f"quarantine_{table}.csv"
        _as_written(frame, table).to_csv(path, index=False)
        written[table] = path
    return written


def _as_written(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Dates as ISO dates and timestamps as ISO date-times, as the data model writes them."""
    kinds = {column.name: column.kind for column in TABLES[table].columns}
    out = frame.copy()
    for column in out.columns:
        kind = kinds.get(column)
        if kind in ("date", "datetime") and pd.api.types.is_datetime64_any_dtype(out[column]):
            pattern = "%Y-%m-%d" if kind == "date" else "%Y-%m-%dT%H:%M:%S"
            out[column] = out[column].dt.strftime(pattern)
    return out


# --------------------------------------------------------------------------- views


def scope_findings(findings: pd.DataFrame, sites: Iterable[str]) -> pd.DataFrame:
    """Keep the findings at ``sites`` and those that concern no site (master data)."""
    return findings[findings["site_id"].isna() | findings["site_id"].isin(list(sites))]


def findings_by_site(findings: pd.DataFrame) -> pd.DataFrame:
    """Count findings per site and rule, sites with most findings first.

    Returns
    -------
    DataFrame
        One row per site (``(master data)`` for item and alias findings), one
        column per rule with findings, and ``total``.
    """
    if findings.empty:
        return pd.DataFrame({"site_id": pd.Series(dtype=object), "total": pd.Series(dtype=int)})
    site = findings["site_id"].fillna(MASTER_DATA)
    counts = pd.crosstab(site, findings["rule"])
    counts = counts[[r for r in RULES if r in counts.columns]]
    counts["total"] = counts.sum(axis=1)
    counts = counts.sort_values(["total"], ascending=False, kind="stable")
    return counts.rename_axis(index="site_id", columns=None).reset_index()


def worst_offenders(findings: pd.DataFrame, by: str = "site_id", top: int = 10) -> pd.DataFrame:
    """The sites (or skus) with most findings, and which rules they break.

    Parameters
    ----------
    findings : DataFrame
        ``QualityReport.findings`` (or part of it).
    by : {"site_id", "sku"}
    top : int

    Returns
    -------
    DataFrame
        ``<by>, findings, errors, warnings, rules`` (rules by count, most first).
    """
    if by not in ("site_id", "sku"):
        raise ValueError(f"by must be 'site_id' or 'sku', got {by!r}")
    having = findings.assign(**{by: findings[by].fillna(MASTER_DATA)})
    if having.empty:
        return pd.DataFrame(columns=[by, "findings", "errors", "warnings", "rules"])
    grouped = having.groupby(by)
    table = pd.DataFrame(
        {
            "findings": grouped.size(),
            "errors": grouped["severity"].agg(lambda s: int((s == "error").sum())),
            "warnings": grouped["severity"].agg(lambda s: int((s == "warning").sum())),
            "rules": grouped["rule"].agg(lambda r: ", ".join(r.value_counts().index)),
        }
    )
    table = table.sort_values(["findings", "errors"], ascending=False, kind="stable")
    return table.head(top).reset_index()


# Rules whose findings make a good chain-of-custody demonstration, best first.
_TRACE_EXAMPLE_RULES = (
    "serial_at_two_sites",
    "custody_chain_break",
    "custody_not_held",
    "serial_quantity_not_one",
    "udi_serial_mismatch",
    "in_transit_without_shipment",
)


def example_trace_query(report: QualityReport, dataset: Dataset) -> str:
    """Pick a serial (else a lot) from a finding, so a report can demonstrate a trace.

    Findings of :data:`_TRACE_EXAMPLE_RULES` come first, then any finding on an
    inventory or movement row. Falls back to the first movement's serial or lot,
    and to ``""`` when there are no movements.
    """
    findings = report.findings[report.findings["table"].isin(["inventory", "movements"])]
    rank = {rule: k for k, rule in enumerate(_TRACE_EXAMPLE_RULES)}
    order = findings["rule"].map(rank).fillna(len(rank))
    for field in ("serial", "lot"):
        for line in findings.assign(_rank=order).sort_values("_rank", kind="stable").itertuples():
            value = dataset.table(line.table)[field].iloc[line.row]
            if isinstance(value, str) and value:
                return value
    moves = dataset.movements
    for field in ("serial", "lot"):
        values = moves[field].dropna()
        if len(values):
            return str(values.iloc[0])
    return ""
