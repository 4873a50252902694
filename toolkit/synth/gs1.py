"""GS1 identifiers the generator writes: GTIN-14 and UDI element strings.

A UDI is written either in the human-readable form
``(01)<gtin>(17)<YYMMDD>(10)<lot>(21)<serial>`` or raw, as a scanner delivers it:
the application identifiers run together and a GS character (0x1D, the FNC1
separator) ends every variable-length field that is not the last one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from stdnum import ean

__all__ = ["GS", "gtin14", "wrong_check_digit", "udi_strings"]

#: The group separator that stands for FNC1 in a raw GS1 element string.
GS = "\x1d"


def gtin14(indicator: int, company_prefix: str, item_reference: int) -> str:
    """Return a GTIN-14 with a valid check digit.

    Parameters
    ----------
    indicator : int
        Packaging-level indicator digit (0 for the unit of use, 1-8 for packs).
    company_prefix : str
        The GS1 company prefix, with its leading zeros.
    item_reference : int
        The item reference, zero-padded to fill the 13 data digits.

    Examples
    --------
    >>> gtin14(0, "0884521", 12345)
    '00884521123451'
    """
    width = 12 - len(company_prefix)
    body = f"{indicator}{company_prefix}{item_reference:0{width}d}"
    if len(body) != 13:
        raise ValueError(f"item reference {item_reference} does not fit in {width} digits")
    return body + ean.calc_check_digit(body)


def wrong_check_digit(gtin: str, shift: int) -> str:
    """Return ``gtin`` with its check digit replaced by a wrong one.

    ``shift`` (1-9) says how far the wrong digit is from the right one (mod 10).
    """
    right = int(ean.calc_check_digit(gtin[:-1]))
    return gtin[:-1] + str((right + 1 + (shift - 1) % 9) % 10)


def udi_strings(
    gtin: pd.Series,
    expiry: pd.Series,
    lot: pd.Series,
    serial: pd.Series,
    raw: np.ndarray,
) -> pd.Series:
    """Return one UDI element string per row.

    Parameters
    ----------
    gtin : Series of str
        GTIN-14 of each row.
    expiry : Series of datetime64
        Expiry date (NaT when the item has no shelf life; AI 17 is then left out).
    lot, serial : Series of str
        Lot and serial (missing when not controlled; AI 10 / 21 are then left out).
    raw : ndarray of bool
        Rows to write in the raw form with GS separators; the others get the
        human-readable form with parentheses.

    Returns
    -------
    Series of str
    """
    gtin = gtin.astype(str).to_numpy(dtype=object)
    has_expiry = expiry.notna().to_numpy()
    yymmdd = expiry.dt.strftime("%y%m%d").fillna("").to_numpy(dtype=object)
    has_lot = lot.notna().to_numpy()
    has_serial = serial.notna().to_numpy()
    lot_text = lot.fillna("").astype(str).to_numpy(dtype=object)
    serial_text = serial.fillna("").astype(str).to_numpy(dtype=object)

    def field(mask: np.ndarray, text: np.ndarray, ai: str, human: bool) -> np.ndarray:
        head = f"({ai})" if human else ai
        return np.where(mask, head + text, "")

    human = (
        "(01)"
        + gtin
        + field(has_expiry, yymmdd, "17", True)
        + field(has_lot, lot_text, "10", True)
        + field(has_serial, serial_text, "21", True)
    )
    # In the raw form a variable-length field (lot) needs a separator only when
    # another field follows it; the serial is always last.
    lot_end = np.where(has_lot & has_serial, GS, "")
    scanned = (
        "01"
        + gtin
        + field(has_expiry, yymmdd, "17", False)
        + field(has_lot, lot_text, "10", False)
        + lot_end
        + field(has_serial, serial_text, "21", False)
    )
    return pd.Series(np.where(raw, scanned, human), index=lot.index, dtype="str")
