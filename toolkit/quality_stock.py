"""Rules on stock and movements: serials and lots, chain of custody, transit, expiry.

The chain-of-custody rules read the ledger of :mod:`toolkit.custody` (every movement
as an inflow at ``to_site`` and an outflow at ``from_site``, running balances per
site, sku, lot and serial). The movements are taken to cover each lot's and unit's
whole life since its production receipt, so every balance starts at zero.

One defect is reported once: a delivery from a site that never held the lot is a
shortfall (``custody_not_held``), not also a broken chain; a serial in stock at a
second site is reported on the row its movements do not explain, not on both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.custody import combined_codes, describe_unit, serial_chain_breaks, serial_locations
from toolkit.quality_base import RuleInputs, Violations, rule

__all__ = [
    "STOCK_RULES",
    "custody_chain_break",
    "custody_not_held",
    "expired_in_transit",
    "expired_released",
    "in_transit_overdue",
    "in_transit_without_shipment",
    "lot_missing",
    "serial_at_two_sites",
    "serial_missing",
    "serial_quantity_not_one",
]

_STOCK_TABLES = ("inventory", "movements")


def _units(inputs: RuleInputs, table: str, rows: np.ndarray) -> list[str]:
    """Describe the lot or unit of some rows in words."""
    sku, lot, serial = (inputs.codes(table, c)[rows] for c in ("sku", "lot", "serial"))
    return [describe_unit(*values) for values in zip(sku, lot, serial, strict=True)]


def _missing_code(inputs: RuleInputs, field: str) -> list[Violations]:
    """Rows of an item controlled by ``field`` (lot or serial) that do not carry it."""
    found = []
    for table in _STOCK_TABLES:
        frame = inputs.dataset.table(table)
        applies = inputs.flag(table, f"{field}_controlled")
        bad = applies & (inputs.codes(table, field) == "")
        messages = [
            f"{sku} is {field}-controlled but this row has no {field}" for sku in frame["sku"][bad]
        ]
        found.append(Violations.found(table, field, int(applies.sum()), bad, messages))
    return found


@rule(
    "serial_missing",
    label="serial missing",
    severity="error",
    tables=_STOCK_TABLES,
    quarantines="the inventory or movement row",
)
def serial_missing(inputs: RuleInputs) -> list[Violations]:
    """An inventory or movement row of a serial-controlled item has no serial.

    The item master's flag is the requirement: a row without the serial is at
    fault even when no row of the item carries one (the serial was never scanned).
    """
    return _missing_code(inputs, "serial")


@rule(
    "lot_missing",
    label="lot missing",
    severity="error",
    tables=_STOCK_TABLES,
    quarantines="the inventory or movement row",
)
def lot_missing(inputs: RuleInputs) -> list[Violations]:
    """An inventory or movement row of a lot-controlled item has no lot.

    The item master's flag is the requirement, as for ``serial_missing``.
    """
    return _missing_code(inputs, "lot")


@rule(
    "serial_quantity_not_one",
    label="serial quantity not 1",
    severity="error",
    tables=_STOCK_TABLES,
    quarantines="the inventory or movement row",
)
def serial_quantity_not_one(inputs: RuleInputs) -> list[Violations]:
    """A row that names a serial has a quantity other than 1: a serial is one unit."""
    found = []
    for table in _STOCK_TABLES:
        frame = inputs.dataset.table(table)
        serial = inputs.codes(table, "serial")
        applies = serial != ""
        quantity = frame["quantity"].to_numpy(dtype=float)
        bad = applies & (quantity != 1)
        messages = [
            f"serial {s} of {sku} has quantity {q:g}, not 1"
            for s, sku, q in zip(serial[bad], frame["sku"][bad], quantity[bad], strict=True)
        ]
        found.append(Violations.found(table, "quantity", int(applies.sum()), bad, messages))
    return found


@rule(
    "serial_at_two_sites",
    label="serial at two sites",
    severity="error",
    tables=("inventory",),
    quarantines="the inventory row(s) of the serial at a site its movements do not lead to",
)
def serial_at_two_sites(inputs: RuleInputs) -> list[Violations]:
    """One serial of one sku is in stock at two or more sites at the snapshot.

    The movements say where the unit is: the destination of its last movement. The
    rows at other sites are reported (a row with no movements behind it is this
    same defect, not a second one). When the last movement was a delivery to a
    customer, or no movement records the unit, every row of it is reported.
    """
    stock = inputs.dataset.inventory
    serial = inputs.codes("inventory", "serial")
    at = np.flatnonzero(serial != "")
    checked = len(at)
    sku = inputs.codes("inventory", "sku")[at]
    site = stock["site_id"].to_numpy(dtype=object)[at]
    unit = combined_codes(sku, serial[at])
    # Sites per unit: count the distinct (unit, site) pairs of each unit.
    pairs = np.unique(combined_codes(unit, site), return_index=True)[1]
    sites_per_unit = np.bincount(unit[pairs], minlength=int(unit.max(initial=-1)) + 1)
    multi = sites_per_unit[unit] > 1
    if not multi.any():
        return [Violations.at("inventory", "serial", checked, at[:0], [])]
    unit_serial = serial[at]
    locations = serial_locations(inputs.dataset.movements, set(unit_serial[multi]))
    where = np.full(len(at), None, dtype=object)
    where[multi] = locations.reindex(
        pd.MultiIndex.from_arrays([sku[multi], unit_serial[multi]])
    ).to_numpy(dtype=object)
    bad = multi & (site != where)
    sites_of = pd.Series(site[multi]).groupby(unit[multi]).agg(lambda s: sorted(set(s)))
    messages = []
    for k in np.flatnonzero(bad):
        others = ", ".join(s for s in sites_of[unit[k]] if s != site[k])
        if pd.isna(where[k]):
            evidence = "no movement records where it is"
        elif where[k] == "":
            evidence = "its last movement delivered it to a customer"
        else:
            evidence = f"its movements put it at {where[k]}"
        messages.append(
            f"serial {unit_serial[k]} of {sku[k]} is also in stock at {others}; {evidence}"
        )
    return [Violations.at("inventory", "serial", checked, at[bad], messages)]


@rule(
    "custody_not_held",
    label="shipped by a non-holder",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def custody_not_held(inputs: RuleInputs) -> list[Violations]:
    """A movement takes more of a lot or unit out of a site than the site holds.

    Per site, sku, lot and serial the balance runs over the movements in time
    order (inflows first at equal timestamps). The outflow that takes a balance
    below zero is reported; while the balance stays negative, later outflows are
    the same shortfall and are not reported again. This covers "nothing leaves a
    site that does not hold it", "balances never go negative" and, for serialized
    units, a movement that starts away from where the unit is.
    """
    moves = inputs.dataset.movements
    checked = int(moves["from_site"].notna().sum())
    short = inputs.ledger.shortfalls
    rows = short["movement"].to_numpy()
    to_site = moves["to_site"].to_numpy(dtype=object)[rows]
    units = _units(inputs, "movements", rows)
    messages = []
    for site, unit, quantity, to, held, received in zip(
        short["site_id"], units, -short["change"], to_site, short["held_before"],
        short["inflows_before"], strict=True,
    ):  # fmt: skip
        where = "to a customer" if pd.isna(to) else f"to {to}"
        verb = "delivers" if pd.isna(to) else "ships"
        if received == 0:
            holding = "never received it"
        elif held <= 1e-9:
            holding = "holds none of it"
        else:
            holding = f"holds only {held:g}"
        messages.append(f"{site} {verb} {quantity:g} of {unit} {where} but {holding}")
    return [Violations.at("movements", "from_site", checked, rows, messages)]


@rule(
    "custody_chain_break",
    label="broken serial chain",
    severity="error",
    tables=("movements",),
    quarantines="the movement",
)
def custody_chain_break(inputs: RuleInputs) -> list[Violations]:
    """A serialized unit's movement does not start where its previous movement ended.

    A production receipt (empty ``from_site``) starts the chain and a delivery to a
    customer (empty ``to_site``) ends it, so a unit received twice, or received
    again after its delivery, breaks it. A movement out of a site that does not
    hold the unit is reported by ``custody_not_held`` only.
    """
    moves = inputs.dataset.movements
    checked = int((inputs.codes("movements", "serial") != "").sum())
    breaks = serial_chain_breaks(moves)
    short = set(inputs.ledger.shortfalls["movement"].tolist())
    breaks = breaks[~breaks["movement"].isin(short)]
    rows = breaks["movement"].to_numpy()
    ids = moves["movement_id"].to_numpy(dtype=object)
    starts = moves["from_site"].to_numpy(dtype=object)[rows]
    messages = [
        f"{unit} ended its previous movement {ids[previous]} "
        f"{f'at {expected}' if expected else 'with a customer'}, but this one starts "
        f"{'as a new production receipt' if pd.isna(start) else f'at {start}'}"
        for unit, previous, expected, start in zip(
            _units(inputs, "movements", rows), breaks["previous"], breaks["expected_from"], starts,
            strict=True,
        )
    ]  # fmt: skip
    return [Violations.at("movements", "from_site", checked, rows, messages)]


def _open_shipments(inputs: RuleInputs) -> pd.DataFrame:
    """For every in-transit inventory row, the last movement of its lot or unit at its site.

    Columns: ``row`` (inventory position), ``movement`` (position, -1 when none),
    ``inflow`` and ``from_site`` of that movement, ``open`` (an inflow shipped from
    another site: the shipment the stock is travelling on).
    """
    stock = inputs.dataset.inventory
    rows = np.flatnonzero(stock["status"].eq("in_transit").to_numpy())
    last = inputs.ledger.last_flows.reindex(inputs.ledger.stock_position[rows])
    movement = last["movement"].fillna(-1).to_numpy(dtype=np.int64)
    found = movement >= 0
    from_site = np.full(len(rows), None, dtype=object)
    from_site[found] = inputs.dataset.movements["from_site"].to_numpy(dtype=object)[movement[found]]
    inflow = last["inflow"].eq(True).to_numpy()
    return pd.DataFrame(
        {
            "row": rows,
            "movement": movement,
            "inflow": inflow,
            "from_site": from_site,
            "open": found & inflow & pd.notna(from_site),
        }
    )


@rule(
    "in_transit_without_shipment",
    label="in transit, no shipment",
    severity="error",
    tables=("inventory",),
    quarantines="the inventory row",
)
def in_transit_without_shipment(inputs: RuleInputs) -> list[Violations]:
    """In-transit stock whose lot or unit has no open shipment to the row's site.

    In-transit stock sits at its destination, so the last movement of that lot
    (or unit) touching the row's site must be a shipment into it from another
    site; otherwise nothing is on its way (never shipped there, already shipped on
    or delivered, or only received from production).
    """
    shipments = _open_shipments(inputs)
    closed = shipments[~shipments["open"]]
    stock = inputs.dataset.inventory
    ids = inputs.dataset.movements["movement_id"].to_numpy(dtype=object)
    sites = stock["site_id"].to_numpy(dtype=object)[closed["row"]]
    messages = []
    for site, unit, movement, inflow in zip(
        sites, _units(inputs, "inventory", closed["row"].to_numpy()), closed["movement"],
        closed["inflow"], strict=True,
    ):  # fmt: skip
        if movement < 0:
            messages.append(f"{unit} is in transit to {site} but no movement takes it there")
        elif not inflow:
            messages.append(
                f"{unit} is in transit to {site} but its last movement there ({ids[movement]}) "
                "takes it out"
            )
        else:
            messages.append(
                f"{unit} is in transit to {site} but its last movement there ({ids[movement]}) "
                "is a production receipt, not a shipment"
            )
    return [Violations.at("inventory", "status", len(shipments), closed["row"], messages)]


def _slowest_lane_days(lanes: pd.DataFrame) -> pd.Series:
    """Door-to-door days of the slowest active lane per (origin, destination)."""
    active = lanes[lanes["active"].astype(bool)]
    days = active["transit_days"] + active["customs_days"]
    return days.groupby([active["origin"], active["destination"]]).max()


@rule(
    "in_transit_overdue",
    label="overdue in transit",
    severity="warning",
    tables=("inventory",),
)
def in_transit_overdue(inputs: RuleInputs) -> list[Violations]:
    """In-transit stock shipped longer ago than the slowest active lane takes.

    The shipment's dispatch is compared with the row's snapshot date; the lane's
    time is ``transit_days + customs_days`` of the slowest active lane from the
    shipment's origin to the row's site. A warning: the goods receipt may simply
    not be posted yet. Rows without an open shipment or a known lane are not
    checked.
    """
    shipments = _open_shipments(inputs)
    shipments = shipments[shipments["open"]]
    stock = inputs.dataset.inventory
    site = stock["site_id"].to_numpy(dtype=object)[shipments["row"]]
    lane = _slowest_lane_days(inputs.dataset.lanes).reindex(
        pd.MultiIndex.from_arrays([shipments["from_site"].to_numpy(), site])
    )
    lane_days = lane.to_numpy(dtype=float)
    known = ~np.isnan(lane_days)
    dispatched = inputs.dataset.movements["timestamp"].to_numpy()[shipments["movement"]]
    snapshot = stock["snapshot_date"].to_numpy()[shipments["row"]]
    age_days = (snapshot - dispatched) / np.timedelta64(1, "D")
    bad = known & (age_days > lane_days)
    messages = [
        f"shipped from {origin} on {pd.Timestamp(when):%Y-%m-%d}, {age:.0f} days before the "
        f"snapshot; the slowest active lane takes {days:g} days"
        for origin, when, age, days in zip(
            shipments["from_site"][bad], dispatched[bad], age_days[bad], lane_days[bad], strict=True
        )
    ]
    rows = shipments["row"].to_numpy()[bad]
    return [Violations.at("inventory", "status", int(known.sum()), rows, messages)]


def _expired(inputs: RuleInputs, status: str, wording: str) -> list[Violations]:
    stock = inputs.dataset.inventory
    expiry = stock["expiry_date"].to_numpy()
    snapshot = stock["snapshot_date"].to_numpy()
    applies = stock["status"].eq(status).to_numpy() & ~np.isnat(expiry)
    # The expiry date is the last day of use: stock expires the day after.
    bad = applies & (expiry < snapshot)
    messages = [
        f"{wording} stock of {unit} expired on {pd.Timestamp(e):%Y-%m-%d}, "
        f"before the snapshot of {pd.Timestamp(s):%Y-%m-%d}"
        for unit, e, s in zip(
            _units(inputs, "inventory", np.flatnonzero(bad)), expiry[bad], snapshot[bad],
            strict=True,
        )
    ]  # fmt: skip
    return [Violations.found("inventory", "expiry_date", int(applies.sum()), bad, messages)]


@rule(
    "expired_released",
    label="expired stock released",
    severity="error",
    tables=("inventory",),
    quarantines="the inventory row",
)
def expired_released(inputs: RuleInputs) -> list[Violations]:
    """Released stock whose expiry date is before the snapshot date.

    The expiry date is the last day the device may be used, so stock expiring on
    the snapshot day itself is still good. Expired stock must be blocked
    (``quarantine`` status), not available to ship.
    """
    return _expired(inputs, "released", "released")


@rule(
    "expired_in_transit",
    label="expired stock in transit",
    severity="error",
    tables=("inventory",),
    quarantines="the inventory row",
)
def expired_in_transit(inputs: RuleInputs) -> list[Violations]:
    """In-transit stock whose expiry date is before the snapshot date: expired goods on their way."""
    return _expired(inputs, "in_transit", "in-transit")


STOCK_RULES = (
    serial_missing,
    lot_missing,
    serial_quantity_not_one,
    serial_at_two_sites,
    custody_not_held,
    custody_chain_break,
    in_transit_without_shipment,
    in_transit_overdue,
    expired_released,
    expired_in_transit,
)
