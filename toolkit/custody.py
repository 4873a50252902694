"""Chain of custody of lots and serialized units, computed from the movements.

Conventions of the data model (``docs/data_model.md``): an empty ``from_site`` is a
production receipt at a plant, an empty ``to_site`` a delivery to a customer, and a
shipment moves stock to its destination at dispatch (so in-transit stock sits at its
destination). A *position* is what one site holds of one ``(sku, lot, serial)``.

The movements are taken to cover the whole life of every lot and unit since its
production receipt (as the sample extract does): every balance starts at zero.

Everything here is vectorized: the movements become inflows and outflows, sorted
once by position and time (inflows first at equal timestamps, since a balance only
has to hold between instants), and running balances are a grouped cumulative sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.udi import UdiError, parse_udi

__all__ = [
    "CustodyLedger",
    "TraceNotFound",
    "blank",
    "build_ledger",
    "combined_codes",
    "describe_unit",
    "holdings",
    "serial_chain_breaks",
    "serial_locations",
    "trace",
]

# Stand-ins for the two ends of a chain that have no site: where a unit comes from
# (production) and where it goes (a customer). They differ on purpose: a unit that
# was delivered cannot be received from production again.
PRODUCTION = "\x00production"
CUSTOMER = "\x00customer"
# Quantities are floats: a balance this close to zero is zero.
_TOLERANCE = 1e-9


def blank(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return codes as an object array with ``""`` for missing values."""
    array = np.asarray(values, dtype=object)
    missing = pd.isna(array)
    if missing.any():
        array = array.copy()
        array[missing] = ""
    return array


def combined_codes(*columns: np.ndarray) -> np.ndarray:
    """Number the distinct combinations of several equally long columns.

    Each column is factorized and the codes are folded in one at a time, compacting
    after each step so that the numbers never overflow. Missing values form a
    combination of their own.

    Parameters
    ----------
    *columns : ndarray
        Columns of the same length (any hashable values).

    Returns
    -------
    ndarray of int64
        Equal rows get equal codes; codes run from 0 to the number of combinations - 1.

    Examples
    --------
    >>> combined_codes(np.array(["a", "a", "b"]), np.array([1, 1, 1])).tolist()
    [0, 0, 1]
    """
    if not columns:
        raise ValueError("combined_codes needs at least one column")
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        values, uniques = pd.factorize(column, use_na_sentinel=False)
        codes = codes * max(len(uniques), 1) + values.astype(np.int64)
        codes = pd.factorize(codes)[0].astype(np.int64)
    return codes


def describe_unit(sku: str, lot: str, serial: str) -> str:
    """Name a unit or lot in words: ``unit S1 of K1``, ``lot L1 of C1``."""
    if serial:
        return f"unit {serial} of {sku}"
    if lot:
        return f"lot {lot} of {sku}"
    return f"{sku} (no lot or serial)"


@dataclass(frozen=True)
class CustodyLedger:
    """Every movement as an inflow and an outflow, with the running balance of its position.

    Attributes
    ----------
    flows : DataFrame
        One row per end of a movement that has a site, sorted by position, time,
        inflows before outflows, and movement order. Columns: ``movement`` (0-based
        position of the movement in the movements table), ``position`` (code of
        site, sku, lot, serial), ``site_id``, ``timestamp``, ``inflow`` (bool),
        ``change`` (signed quantity), ``balance`` (the position's balance after
        this flow) and ``inflows_before`` (inflows of the position up to and
        including this flow).
    stock_position : ndarray of int64
        The position code of each inventory row (same coding as ``flows.position``;
        a position no movement touches has a code of its own).
    """

    flows: pd.DataFrame
    stock_position: np.ndarray

    @cached_property
    def last_flows(self) -> pd.DataFrame:
        """Return the last flow of each position, indexed by position code."""
        position = self.flows["position"].to_numpy()
        last = np.ones(len(position), dtype=bool)
        last[:-1] = position[1:] != position[:-1]
        return self.flows[last].set_index("position")

    @cached_property
    def shortfalls(self) -> pd.DataFrame:
        """Return the outflows that take a balance below zero.

        An outflow is reported when the position held at least zero before it and
        less than zero after: a site ships or delivers more of a lot or unit than it
        holds. Later outflows while the balance stays negative are the same
        shortfall, so they are not reported again.

        Returns
        -------
        DataFrame
            The offending flows (columns of :attr:`flows`) plus ``held_before``.
        """
        flows = self.flows
        balance = flows["balance"].to_numpy()
        held_before = balance - flows["change"].to_numpy()
        crossing = (
            ~flows["inflow"].to_numpy() & (balance < -_TOLERANCE) & (held_before >= -_TOLERANCE)
        )
        return flows[crossing].assign(held_before=held_before[crossing])


def _unit_columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # sku is never empty (the data model requires it): no need to blank it.
    return frame["sku"].to_numpy(dtype=object), blank(frame["lot"]), blank(frame["serial"])


def build_ledger(movements: pd.DataFrame, inventory: pd.DataFrame) -> CustodyLedger:
    """Turn the movements into per-position flows with running balances.

    Parameters
    ----------
    movements : DataFrame
        Canonical movements (positions, not index labels, identify rows).
    inventory : DataFrame
        Canonical inventory; its rows get position codes in the same numbering.

    Returns
    -------
    CustodyLedger
    """
    sku, lot, serial = _unit_columns(movements)
    to_site = movements["to_site"].to_numpy(dtype=object)
    from_site = movements["from_site"].to_numpy(dtype=object)
    inflow_at = np.flatnonzero(pd.notna(to_site))
    outflow_at = np.flatnonzero(pd.notna(from_site))
    movement = np.concatenate([inflow_at, outflow_at])
    inflow = np.concatenate(
        [np.ones(len(inflow_at), dtype=bool), np.zeros(len(outflow_at), dtype=bool)]
    )
    site = np.concatenate([to_site[inflow_at], from_site[outflow_at]])

    stock_sku, stock_lot, stock_serial = _unit_columns(inventory)
    stock_site = inventory["site_id"].to_numpy(dtype=object)
    # One numbering for flows and stock rows, so stock can be matched to its flows.
    codes = combined_codes(
        np.concatenate([site, stock_site]),
        np.concatenate([sku[movement], stock_sku]),
        np.concatenate([lot[movement], stock_lot]),
        np.concatenate([serial[movement], stock_serial]),
    )
    position, stock_position = codes[: len(movement)], codes[len(movement) :]

    quantity = movements["quantity"].to_numpy(dtype=float)
    change = np.where(inflow, quantity[movement], -quantity[movement])
    timestamp = movements["timestamp"].to_numpy(dtype="datetime64[ns]")[movement]
    # Primary key last: position, then time, then inflows first, then movement order.
    order = np.lexsort((movement, ~inflow, timestamp.view(np.int64), position))
    flows = pd.DataFrame(
        {
            "movement": movement[order],
            "position": position[order],
            "site_id": site[order],
            "timestamp": timestamp[order],
            "inflow": inflow[order],
            "change": change[order],
        }
    )
    by_position = flows.groupby("position", sort=False)
    flows["balance"] = by_position["change"].cumsum().to_numpy()
    flows["inflows_before"] = by_position["inflow"].cumsum().to_numpy()
    return CustodyLedger(flows=flows, stock_position=stock_position)


def _serial_order(movements: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the movements of serialized units, sorted by unit and time.

    Returns the sorted positions and the unit code (sku, serial) of each.
    """
    serial = blank(movements["serial"])
    at = np.flatnonzero(serial != "")
    unit = combined_codes(movements["sku"].to_numpy(dtype=object)[at], serial[at])
    timestamp = movements["timestamp"].to_numpy(dtype="datetime64[ns]")[at].view(np.int64)
    order = np.lexsort((at, timestamp, unit))
    return at[order], unit[order]


def _chain_ends(movements: pd.DataFrame, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = movements["from_site"].to_numpy(dtype=object)[at]
    end = movements["to_site"].to_numpy(dtype=object)[at]
    start = np.where(pd.isna(start), PRODUCTION, start)
    end = np.where(pd.isna(end), CUSTOMER, end)
    return start, end


def serial_chain_breaks(movements: pd.DataFrame) -> pd.DataFrame:
    """Find movements of a serialized unit that do not start where its previous one ended.

    A production receipt starts nowhere (production) and a customer delivery ends
    nowhere (a customer); the two differ, so a unit received or delivered twice
    breaks its chain too.

    Returns
    -------
    DataFrame
        ``movement`` (position), ``expected_from`` (where the previous movement
        ended; empty for a customer) and ``previous`` (position of that movement).
    """
    at, unit = _serial_order(movements)
    start, end = _chain_ends(movements, at)
    same_unit = unit[1:] == unit[:-1]
    broken = np.flatnonzero(same_unit & (start[1:] != end[:-1])) + 1
    expected = end[broken - 1]
    return pd.DataFrame(
        {
            "movement": at[broken],
            "expected_from": np.where(expected == CUSTOMER, "", expected),
            "previous": at[broken - 1],
        }
    )


def serial_locations(movements: pd.DataFrame, serials: Iterable[str] | None = None) -> pd.Series:
    """Where each serialized unit's last movement left it.

    Parameters
    ----------
    movements : DataFrame
    serials : iterable of str, optional
        Only look at these serials (much faster when a few units are in question).

    Returns
    -------
    Series
        Indexed by ``(sku, serial)``: the ``to_site`` of the unit's last movement,
        or ``""`` when that movement was a delivery to a customer.
    """
    if serials is not None:
        movements = movements[movements["serial"].isin(list(serials))]
    at, unit = _serial_order(movements)
    if not len(at):
        return pd.Series(dtype=object, index=pd.MultiIndex.from_arrays([[], []]))
    last = np.ones(len(at), dtype=bool)
    last[:-1] = unit[1:] != unit[:-1]
    rows = at[last]
    where = blank(movements["to_site"].to_numpy(dtype=object)[rows])
    index = pd.MultiIndex.from_arrays(
        [blank(movements["sku"])[rows], blank(movements["serial"])[rows]], names=["sku", "serial"]
    )
    return pd.Series(where, index=index)


# --------------------------------------------------------------------------- trace


class TraceNotFound(LookupError):
    """No movement matches the UDI, serial or lot asked for."""


_TRACE_COLUMNS = [
    "step",
    "timestamp",
    "event",
    "from_site",
    "to_site",
    "quantity",
    "document_id",
    "movement_id",
    "sku",
    "lot",
    "serial",
]


def _event(from_site: pd.Series, to_site: pd.Series) -> np.ndarray:
    return np.select(
        [from_site.isna(), to_site.isna()],
        ["production receipt", "delivery to customer"],
        "shipment",
    )


@dataclass(frozen=True)
class _Match:
    """What a trace query names: a serial or a lot, possibly of given skus."""

    field: str  # "serial" or "lot"
    value: str
    skus: tuple[str, ...] | None  # None: any sku
    matched_by: str

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        hit = frame[self.field].to_numpy(dtype=object) == self.value
        if self.skus is not None:
            hit &= frame["sku"].isin(self.skus).to_numpy()
        return hit


def _match(dataset: Dataset, query: str) -> _Match:
    """Resolve a trace query: an exact serial, else an exact lot, else a parsed UDI."""
    text = str(query).strip()
    if not text:
        raise ValueError("trace needs a UDI, a serial or a lot; the query is empty")
    movements = dataset.movements
    for field in ("serial", "lot"):
        if (movements[field].to_numpy(dtype=object) == text).any():
            return _Match(field, text, None, field)
    try:
        udi = parse_udi(str(query))
    except UdiError as exc:
        raise TraceNotFound(
            f"{text!r} is not a serial or a lot of any movement, nor a UDI ({exc})"
        ) from None
    skus = tuple(dataset.items.loc[dataset.items["gtin"].eq(udi.gtin), "sku"])
    if not skus:
        raise TraceNotFound(f"the UDI's GTIN {udi.gtin} is not the GTIN of any item")
    if udi.serial is not None:
        found = _Match("serial", udi.serial, skus, "UDI serial")
    elif udi.lot is not None:
        found = _Match("lot", udi.lot, skus, "UDI lot")
    else:
        raise TraceNotFound(f"the UDI names GTIN {udi.gtin} but neither a lot nor a serial")
    if not found.mask(movements).any():
        raise TraceNotFound(
            f"no movement of {found.field} {found.value} of {', '.join(skus)} (GTIN {udi.gtin})"
        )
    return found


def trace(dataset: Dataset, udi_or_serial_or_lot: str) -> pd.DataFrame:
    """Return the chain of custody of one unit or lot: every movement, in time order.

    Parameters
    ----------
    dataset : Dataset
        The extract (its ``movements`` and, to resolve a UDI's GTIN, its ``items``).
    udi_or_serial_or_lot : str
        A serial, a lot, or a GS1 UDI in any form (HRI with parentheses, raw with GS
        separators, with or without a symbology identifier). An exact serial match
        wins, then an exact lot match; otherwise the text is parsed as a UDI and its
        GTIN (through ``items.gtin``) and serial (or, without a serial, its lot) are
        looked up.

    Returns
    -------
    DataFrame
        ``step, timestamp, event, from_site, to_site, quantity, document_id,
        movement_id, sku, lot, serial``; ``event`` is ``production receipt``,
        ``shipment`` or ``delivery to customer``. ``attrs["matched_by"]`` says how the
        query matched (``serial``, ``lot``, ``UDI serial``, ``UDI lot``).

    Raises
    ------
    TraceNotFound
        When nothing matches; the message says what was looked for.
    ValueError
        When the query is empty.

    Examples
    --------
    >>> from toolkit.data import load_dataset  # doctest: +SKIP
    >>> trace(load_dataset("data_samples/medtech_demo"), "IG00002299")  # doctest: +SKIP
    """
    found = _match(dataset, udi_or_serial_or_lot)
    movements = dataset.movements
    steps = movements[found.mask(movements)].copy()
    steps["_order"] = np.arange(len(steps))
    steps = steps.sort_values(["timestamp", "_order"], kind="stable")
    steps["event"] = _event(steps["from_site"], steps["to_site"])
    steps["step"] = np.arange(1, len(steps) + 1)
    result = steps[_TRACE_COLUMNS].reset_index(drop=True)
    result.attrs.update(
        {"query": str(udi_or_serial_or_lot).strip(), "matched_by": found.matched_by}
    )
    return result


def holdings(dataset: Dataset, udi_or_serial_or_lot: str) -> pd.DataFrame:
    """Return the inventory rows of the unit or lot that :func:`trace` finds (where it is now).

    Returns
    -------
    DataFrame
        ``site_id, status, quantity, expiry_date, sku, lot, serial, snapshot_date``;
        empty when nothing of it is in stock.

    Raises
    ------
    TraceNotFound, ValueError
        As :func:`trace`.
    """
    found = _match(dataset, udi_or_serial_or_lot)
    stock = dataset.inventory
    columns = [
        "site_id",
        "status",
        "quantity",
        "expiry_date",
        "sku",
        "lot",
        "serial",
        "snapshot_date",
    ]
    return stock.loc[found.mask(stock), columns].reset_index(drop=True)
