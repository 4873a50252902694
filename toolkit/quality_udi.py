"""Rules on the UDIs of the movements: readable, and agreeing with the record.

Every UDI is parsed once (:func:`toolkit.udi.parse_udi_series`, each distinct value
once). A UDI that cannot be read is reported with the parser's message and not
compared further; a readable one must carry the item's GTIN, the movement's lot
and serial, and the expiry the inventory records for that lot (or unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.custody import blank, combined_codes
from toolkit.quality_base import RuleInputs, Violations, rule

__all__ = [
    "UDI_RULES",
    "udi_expiry_mismatch",
    "udi_gtin_mismatch",
    "udi_lot_mismatch",
    "udi_missing",
    "udi_serial_mismatch",
    "udi_unparseable",
]


def _recorded(inputs: RuleInputs) -> np.ndarray:
    return inputs.dataset.movements["udi"].notna().to_numpy()


def _readable(inputs: RuleInputs) -> np.ndarray:
    return _recorded(inputs) & inputs.udi["error"].isna().to_numpy()


@rule("udi_missing", label="missing UDI", severity="warning", tables=("movements",))
def udi_missing(inputs: RuleInputs) -> list[Violations]:
    """A movement records no UDI, so the device identifier cannot be checked.

    A warning: the data model allows an empty ``udi``, and the lot and serial
    columns still identify the stock.
    """
    missing = ~_recorded(inputs)
    messages = ["no UDI recorded"] * int(missing.sum())
    return [Violations.found("movements", "udi", len(missing), missing, messages)]


@rule(
    "udi_unparseable",
    label="unreadable UDI",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def udi_unparseable(inputs: RuleInputs) -> list[Violations]:
    """A movement's UDI is not a valid GS1 element string.

    The message is the parser's: what is wrong, in which application identifier
    and at which position (e.g. a wrong GTIN check digit, a month 13, a lot of more
    than 20 characters because a GS separator is missing).
    """
    recorded = _recorded(inputs)
    errors = inputs.udi["error"].to_numpy(dtype=object)
    bad = recorded & pd.notna(errors)
    messages = [f"UDI cannot be read: {error}" for error in errors[bad]]
    return [Violations.found("movements", "udi", int(recorded.sum()), bad, messages)]


@rule(
    "udi_gtin_mismatch",
    label="UDI GTIN mismatch",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def udi_gtin_mismatch(inputs: RuleInputs) -> list[Violations]:
    """A readable UDI carries a GTIN other than the item master's GTIN for the movement's sku.

    Movements of skus the item master does not know are not checked (``unknown_item``
    and ``alias_unmapped`` report them).
    """
    item_gtin = inputs.item_values("movements", "gtin")
    applies = _readable(inputs) & pd.notna(item_gtin)
    udi_gtin = inputs.udi["gtin"].to_numpy(dtype=object)
    bad = applies & (udi_gtin != item_gtin)
    skus = inputs.dataset.movements["sku"].to_numpy(dtype=object)
    messages = [
        f"UDI carries GTIN {found} but the GTIN of {sku} is {expected}"
        for found, sku, expected in zip(udi_gtin[bad], skus[bad], item_gtin[bad], strict=True)
    ]
    return [Violations.found("movements", "udi", int(applies.sum()), bad, messages)]


def _field_mismatch(inputs: RuleInputs, field: str) -> list[Violations]:
    readable = _readable(inputs)
    in_udi = blank(inputs.udi[field])
    in_column = inputs.codes("movements", field)
    bad = readable & (in_udi != in_column)
    messages = [
        f"UDI carries {f'{field} {a}' if a else f'no {field}'} but the {field} column says "
        f"{b if b else 'nothing'}"
        for a, b in zip(in_udi[bad], in_column[bad], strict=True)
    ]
    return [Violations.found("movements", "udi", int(readable.sum()), bad, messages)]


@rule(
    "udi_lot_mismatch",
    label="UDI lot mismatch",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def udi_lot_mismatch(inputs: RuleInputs) -> list[Violations]:
    """A readable UDI's lot (AI 10) differs from the movement's ``lot`` (an absent lot counts as empty)."""
    return _field_mismatch(inputs, "lot")


@rule(
    "udi_serial_mismatch",
    label="UDI serial mismatch",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def udi_serial_mismatch(inputs: RuleInputs) -> list[Violations]:
    """A readable UDI's serial (AI 21) differs from the movement's ``serial`` (absent counts as empty)."""
    return _field_mismatch(inputs, "serial")


def _stock_expiry(inputs: RuleInputs) -> np.ndarray:
    """The expiry the inventory records for each movement's lot (or unit, without a lot).

    A lot's expiry is the lot's: any inventory row of the same sku and lot gives
    it. Units without a lot are looked up by sku and serial. Missing when no
    inventory row of that lot (unit) has an expiry date.
    """
    stock = inputs.dataset.inventory
    dated = stock["expiry_date"].notna().to_numpy()

    def unit_keys(table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lot, serial = inputs.codes(table, "lot"), inputs.codes(table, "serial")
        return inputs.codes(table, "sku"), lot, np.where(lot == "", serial, "")

    stock_keys = [key[dated] for key in unit_keys("inventory")]
    move_keys = unit_keys("movements")
    codes = combined_codes(
        *(np.concatenate([s, m]) for s, m in zip(stock_keys, move_keys, strict=True))
    )
    stock_codes, move_codes = codes[: int(dated.sum())], codes[int(dated.sum()) :]
    dates = pd.Series(stock["expiry_date"].to_numpy()[dated], dtype="datetime64[ns]")
    expiry = dates.groupby(stock_codes).first()
    return expiry.reindex(move_codes).to_numpy(dtype="datetime64[ns]")


@rule(
    "udi_expiry_mismatch",
    label="UDI expiry mismatch",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def udi_expiry_mismatch(inputs: RuleInputs) -> list[Violations]:
    """A readable UDI's expiry (AI 17) differs from the inventory's ``expiry_date`` of that lot.

    Only movements whose lot (or unit, for items without lots) has an expiry date
    in the inventory are checked; a UDI without AI (17) for such a lot is reported.
    """
    expected = _stock_expiry(inputs)
    applies = _readable(inputs) & ~np.isnat(expected)
    carried = inputs.udi["expiry"].to_numpy(dtype="datetime64[ns]")
    bad = applies & (carried != expected)
    messages = [
        f"UDI carries {'no expiry' if pd.isna(a) else f'expiry {pd.Timestamp(a):%Y-%m-%d}'} "
        f"but the stock of this lot expires on {pd.Timestamp(b):%Y-%m-%d}"
        for a, b in zip(carried[bad], expected[bad], strict=True)
    ]
    return [Violations.found("movements", "udi", int(applies.sum()), bad, messages)]


UDI_RULES = (
    udi_missing,
    udi_unparseable,
    udi_gtin_mismatch,
    udi_lot_mismatch,
    udi_serial_mismatch,
    udi_expiry_mismatch,
)
