"""What a data-quality rule is, and the inputs every rule reads.

A rule is a plain function of :class:`RuleInputs` wrapped by :func:`rule` into a
:class:`Rule` that carries its name, severity, the tables it checks and what it
quarantines; its docstring is its documentation (see :mod:`toolkit.quality_rules`
for the registry). It returns :class:`Violations`, one per table and column checked:
how many rows were checked and which failed, with a message per failing row.

:class:`RuleInputs` computes what several rules share only once, and only when a
selected rule asks for it: the parsed UDIs, the custody ledger, item lookups.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.config import QualityParams
from toolkit.custody import CustodyLedger, blank, build_ledger
from toolkit.dataset import Dataset
from toolkit.schema import PRIMARY_SYSTEM
from toolkit.udi import parse_udi_series

__all__ = ["SEVERITIES", "Rule", "RuleInputs", "Severity", "Violations", "rule"]

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")


@dataclass(frozen=True)
class Violations:
    """What one rule found in one column of one table.

    Attributes
    ----------
    table : str
        The table checked.
    column : str
        The column at fault in the failing rows.
    checked : int
        How many rows of the table the rule applies to (the denominator of the
        defect share).
    rows : ndarray of int
        0-based positions (not index labels) of the failing rows.
    messages : ndarray of str
        One message per failing row, in plain words.
    """

    table: str
    column: str
    checked: int
    rows: np.ndarray
    messages: np.ndarray

    @classmethod
    def found(
        cls, table: str, column: str, checked: int, mask: np.ndarray, messages: Sequence[str]
    ) -> Violations:
        """Build from a boolean ``mask`` over the table and messages for its True rows."""
        rows = np.flatnonzero(mask)
        text = np.asarray([str(m) for m in messages], dtype=object)
        if len(text) != len(rows):
            raise ValueError(f"{len(rows)} failing rows but {len(text)} messages")
        return cls(table, column, int(checked), rows, text)

    @classmethod
    def at(
        cls, table: str, column: str, checked: int, rows: np.ndarray, messages: Sequence[str]
    ) -> Violations:
        """Build from row positions and one message per position."""
        text = np.asarray([str(m) for m in messages], dtype=object)
        rows = np.asarray(rows, dtype=np.int64)
        if len(text) != len(rows):
            raise ValueError(f"{len(rows)} failing rows but {len(text)} messages")
        return cls(table, column, int(checked), rows, text)


class RuleInputs:
    """The dataset and parameters a rule reads, with shared work done once.

    Rules index tables by position: ``inputs.dataset.<table>`` as given, whatever
    its index. Every cached property is computed on first use.

    Parameters
    ----------
    dataset : Dataset
        The extract as :func:`toolkit.data.load_dataset` returns it (local codes of
        other ERP systems already mapped where ``aliases`` allows).
    params : QualityParams
        Thresholds and the end-of-life changeover allowance.
    """

    def __init__(self, dataset: Dataset, params: QualityParams) -> None:
        self.dataset = dataset
        self.params = params
        self._codes: dict[tuple[str, str], np.ndarray] = {}

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """The date the extract describes: the inventory snapshot, else the last movement or demand."""
        candidates = [
            self.dataset.inventory["snapshot_date"].max(),
            self.dataset.movements["timestamp"].max(),
            self.dataset.demand["date"].max(),
        ]
        for value in candidates:
            if pd.notna(value):
                return pd.Timestamp(value).normalize()
        return pd.Timestamp.today().normalize()

    @cached_property
    def items(self) -> pd.DataFrame:
        """The item master indexed by sku (first row of a duplicated sku)."""
        items = self.dataset.items
        return items[~items["sku"].duplicated()].set_index("sku")

    def item_values(self, table: str, column: str) -> np.ndarray:
        """The item master's ``column`` for every row of ``table`` (missing for unknown skus)."""
        values = self.items[column]
        if values.dtype == bool:
            values = values.astype(object)
        return self.dataset.table(table)["sku"].map(values).to_numpy(dtype=object)

    def known_item(self, table: str) -> np.ndarray:
        """Rows of ``table`` whose sku is in the item master."""
        return self.dataset.table(table)["sku"].isin(self.items.index).to_numpy()

    def flag(self, table: str, column: str) -> np.ndarray:
        """A boolean item attribute for every row of ``table`` (False for unknown skus)."""
        values = self.dataset.table(table)["sku"].map(self.items[column])
        return values.eq(True).to_numpy()

    def foreign(self, table: str) -> np.ndarray:
        """Rows of ``table`` whose codes come from another ERP system (``source_system``)."""
        frame = self.dataset.table(table)
        if "source_system" not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        system = frame["source_system"]
        return (system.notna() & system.ne(PRIMARY_SYSTEM)).to_numpy()

    def codes(self, table: str, column: str) -> np.ndarray:
        """A code column of ``table`` as an object array with ``""`` for empty (computed once)."""
        key = (table, column)
        if key not in self._codes:
            self._codes[key] = blank(self.dataset.table(table)[column])
        return self._codes[key]

    @cached_property
    def udi(self) -> pd.DataFrame:
        """The movements' UDIs parsed (see :func:`toolkit.udi.parse_udi_series`), positional index."""
        udi = self.dataset.movements["udi"].reset_index(drop=True)
        return parse_udi_series(udi, reference_year=self.as_of.year)

    @cached_property
    def ledger(self) -> CustodyLedger:
        """The movements as flows with running balances (see :func:`toolkit.custody.build_ledger`)."""
        return build_ledger(self.dataset.movements, self.dataset.inventory)

    @cached_property
    def control_evidence(self) -> pd.DataFrame:
        """Per sku: stock and movement rows, and how many carry a serial and a lot.

        Only rows whose sku is a known item count (unmapped local codes are the
        alias rule's business).
        """
        parts = []
        for table in ("inventory", "movements"):
            known = self.known_item(table)
            parts.append(
                pd.DataFrame(
                    {
                        "sku": self.dataset.table(table)["sku"].to_numpy(dtype=object)[known],
                        "with_serial": self.codes(table, "serial")[known] != "",
                        "with_lot": self.codes(table, "lot")[known] != "",
                    }
                )
            )
        rows = pd.concat(parts, ignore_index=True)
        return rows.groupby("sku").agg(
            rows=("sku", "size"), with_serial=("with_serial", "sum"), with_lot=("with_lot", "sum")
        )


CheckFunction = Callable[[RuleInputs], list[Violations]]


@dataclass(frozen=True)
class Rule:
    """A named data-quality rule.

    Attributes
    ----------
    name : str
        Stable machine name (``gtin_invalid``), used in parameters and findings.
    label : str
        What it finds in plain words, for reports (``invalid GTIN``).
    severity : {"error", "warning"}
        Errors quarantine the failing rows; warnings only report them.
    tables : tuple of str
        The tables it checks.
    quarantines : str
        What it sends to quarantine, in words (empty for warnings).
    check : callable
        ``check(inputs) -> list[Violations]``; its docstring documents the rule.
    """

    name: str
    label: str
    severity: Severity
    tables: tuple[str, ...]
    quarantines: str
    check: CheckFunction

    @property
    def description(self) -> str:
        """The rule's documentation (its function's docstring)."""
        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        """The first paragraph of the documentation, on one line, without markup."""
        return " ".join(self.description.split("\n\n")[0].replace("``", "").split())

    def __call__(self, inputs: RuleInputs) -> list[Violations]:
        return self.check(inputs)


def rule(
    name: str, *, label: str, severity: Severity, tables: tuple[str, ...], quarantines: str = ""
) -> Callable[[CheckFunction], Rule]:
    """Turn a check function into a :class:`Rule` (a decorator).

    Examples
    --------
    >>> @rule("always_fine", label="nothing", severity="warning", tables=("items",))
    ... def always_fine(inputs):
    ...     '''Find nothing.'''
    ...     return []
    >>> always_fine.name, always_fine.summary
    ('always_fine', 'Find nothing.')
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    if severity == "error" and not quarantines:
        raise ValueError(f"rule {name!r} is an error: say what it quarantines")

    def wrap(function: CheckFunction) -> Rule:
        return Rule(
            name, label, severity, tables, quarantines if severity == "error" else "", function
        )

    return wrap
