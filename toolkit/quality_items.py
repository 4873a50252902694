"""Rules on the item master and on how rows refer to items.

GTINs, lot and serial control flags against the rows that exist, local codes of
other ERP systems (``aliases``), skus nobody knows, and end-of-life items still in
use after their phase-out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.dataset import Dataset
from toolkit.quality_base import RuleInputs, Violations, rule
from toolkit.udi import gtin_check_digit_error

__all__ = [
    "ITEM_RULES",
    "alias_conflict",
    "alias_unmapped",
    "end_of_life_after_phase_out",
    "gtin_duplicate",
    "gtin_invalid",
    "item_controls_contradicted",
    "phase_out_dates",
    "unknown_item",
]


@rule(
    "gtin_invalid",
    label="invalid GTIN",
    severity="error",
    tables=("items",),
    quarantines="the item row, and every row of other tables that refers to the item",
)
def gtin_invalid(inputs: RuleInputs) -> list[Violations]:
    """An item's GTIN is not 14 digits with a correct GS1 check digit.

    The message is the GTIN checker's reason (wrong check digit, a character that
    is not a digit, a wrong length).
    """
    gtin = inputs.dataset.items["gtin"]
    reasons = {code: gtin_check_digit_error(code) for code in gtin.dropna().unique()}
    reason = gtin.map(reasons).where(gtin.notna(), "GTIN is empty")
    bad = reason.notna().to_numpy()
    messages = [
        f"GTIN {code}: {why}" if isinstance(code, str) else why
        for code, why in zip(gtin[bad], reason[bad], strict=True)
    ]
    return [Violations.found("items", "gtin", len(gtin), bad, messages)]


@rule(
    "gtin_duplicate",
    label="duplicate GTIN",
    severity="error",
    tables=("items",),
    quarantines="every item row sharing the GTIN (which one is right is unknown), "
    "and every row that refers to those items",
)
def gtin_duplicate(inputs: RuleInputs) -> list[Violations]:
    """Two or more items carry the same GTIN, so a UDI cannot tell them apart."""
    items = inputs.dataset.items
    gtin = items["gtin"]
    shared = (gtin.notna() & gtin.duplicated(keep=False)).to_numpy()
    skus_of = items[shared].groupby("gtin")["sku"].agg(list)
    messages = [
        f"GTIN {code} is also the GTIN of {', '.join(others)}"
        if (others := [s for s in skus_of[code] if s != sku])
        else f"GTIN {code} is on {len(skus_of[code])} item rows of {sku}"
        for code, sku in zip(gtin[shared], items["sku"][shared], strict=True)
    ]
    return [Violations.found("items", "gtin", len(items), shared, messages)]


@rule(
    "item_controls_contradicted",
    label="lot/serial flag contradicted",
    severity="error",
    tables=("items",),
    quarantines="the item row, and every row of other tables that refers to the item",
)
def item_controls_contradicted(inputs: RuleInputs) -> list[Violations]:
    """An item is not serial-controlled (lot-controlled) but its stock or movements carry serials (lots).

    Rows cannot invent serials or lots, so codes the item master does not ask for
    are evidence that the flag is wrong: the item is reported. The other way round
    (a controlled item whose rows lack the code) the flag is taken as the
    requirement and the rows are at fault: ``serial_missing`` and ``lot_missing``
    report them. Items with no stock and no movements are not checked.
    """
    items = inputs.dataset.items
    evidence = inputs.control_evidence.reindex(items["sku"]).fillna(0)
    rows = evidence["rows"].to_numpy(dtype=np.int64)
    checked = int((rows > 0).sum())
    found = []
    for what, flag, carrying in (
        ("serial", "serial_controlled", "with_serial"),
        ("lot", "lot_controlled", "with_lot"),
    ):
        carried = evidence[carrying].to_numpy(dtype=np.int64)
        bad = ~items[flag].to_numpy(dtype=bool) & (carried > 0)
        messages = [
            f"not {what}-controlled, but {c:,} of its {r:,} stock and movement rows carry a {what}"
            for c, r in zip(carried[bad], rows[bad], strict=True)
        ]
        found.append(Violations.found("items", flag, checked, bad, messages))
    return found


def _alias_targets(aliases: pd.DataFrame) -> pd.DataFrame:
    """Per (system, local_code): how many distinct skus it maps to, and which."""
    mapped = aliases.dropna(subset=["sku"]).drop_duplicates(["system", "local_code", "sku"])
    targets = mapped.groupby(["system", "local_code"])["sku"].agg(
        skus=lambda skus: ", ".join(sorted(skus)), count="size"
    )
    listed = aliases.drop_duplicates(["system", "local_code"]).set_index(["system", "local_code"])
    return targets.reindex(listed.index).fillna({"count": 0, "skus": ""})


@rule(
    "alias_unmapped",
    label="unmapped local code",
    severity="error",
    tables=("demand", "inventory", "movements"),
    quarantines="the row carrying the local code",
)
def alias_unmapped(inputs: RuleInputs) -> list[Violations]:
    """A row from another ERP system carries a local code that maps to no single sku.

    Rows with a ``source_system`` other than empty or ``global`` hold that system's
    local item code, which ``aliases`` maps to a global sku (the loader applies the
    mapping and keeps the original in ``local_code``). The code is unmapped when
    ``aliases`` has no row for it, or only rows with an empty sku, and ambiguous
    when it maps to two or more skus (``alias_conflict`` reports those aliases rows).
    """
    targets = _alias_targets(inputs.dataset.aliases)
    found = []
    for table in alias_unmapped.tables:
        frame = inputs.dataset.table(table)
        foreign = inputs.foreign(table)
        local = frame["local_code"] if "local_code" in frame.columns else frame["sku"]
        local = local.where(local.notna(), frame["sku"])[foreign]
        system = frame["source_system"][foreign]
        lookup = pd.MultiIndex.from_arrays([system.to_numpy(), local.to_numpy()])
        hit = targets.reindex(lookup)
        count = hit["count"].fillna(-1).to_numpy()
        bad_local = count != 1
        messages = [
            f"{s} local code {code} has no row in aliases"
            if n < 0
            else f"{s} local code {code} is mapped to no sku in aliases"
            if n == 0
            else f"{s} local code {code} is mapped to {int(n)} skus ({skus}): ambiguous"
            for s, code, n, skus in zip(
                system.to_numpy()[bad_local],
                local.to_numpy()[bad_local],
                count[bad_local],
                hit["skus"].to_numpy()[bad_local],
                strict=True,
            )
        ]
        bad = np.zeros(len(frame), dtype=bool)
        bad[np.flatnonzero(foreign)[bad_local]] = True
        found.append(Violations.found(table, "sku", int(foreign.sum()), bad, messages))
    return found


@rule(
    "alias_conflict",
    label="conflicting alias",
    severity="error",
    tables=("aliases",),
    quarantines="every aliases row of the local code (which mapping is right is unknown)",
)
def alias_conflict(inputs: RuleInputs) -> list[Violations]:
    """One local code of an ERP system is mapped to two or more global skus.

    Every aliases row of that (system, local_code) is reported: the extract does
    not say which mapping is right, so none of them can be used.
    """
    aliases = inputs.dataset.aliases
    targets = _alias_targets(aliases)
    lookup = pd.MultiIndex.from_frame(aliases[["system", "local_code"]])
    hit = targets.reindex(lookup)
    bad = (hit["count"].to_numpy() > 1) & aliases["sku"].notna().to_numpy()
    messages = [
        f"{system} local code {code} is mapped to {int(n)} skus: {skus}"
        for system, code, n, skus in zip(
            aliases["system"][bad],
            aliases["local_code"][bad],
            hit["count"][bad],
            hit["skus"][bad],
            strict=True,
        )
    ]
    return [Violations.found("aliases", "sku", len(aliases), bad, messages)]


@rule(
    "unknown_item",
    label="unknown sku",
    severity="error",
    tables=("demand", "events", "inventory", "movements", "policies", "sourcing"),
    quarantines="the row referring to the unknown sku",
)
def unknown_item(inputs: RuleInputs) -> list[Violations]:
    """A row refers to a sku the item master does not have.

    Rows of other ERP systems are left to ``alias_unmapped``; an event with an
    empty sku (every sku in scope) refers to no item. The loader already refuses
    unknown skus unless it was told not to check references, so this rule mostly
    guards datasets built in code.
    """
    found = []
    for table in unknown_item.tables:
        sku = inputs.dataset.table(table)["sku"]
        applies = sku.notna().to_numpy() & ~inputs.foreign(table)
        bad = applies & ~inputs.known_item(table)
        messages = [f"sku {code} is not in items" for code in sku[bad]]
        found.append(Violations.found(table, "sku", int(applies.sum()), bad, messages))
    return found


def phase_out_dates(dataset: Dataset, changeover_weeks: int = 26) -> pd.Series:
    """Return the phase-out date of every end-of-life item that has one.

    The phase-out date of an item whose ``lifecycle`` is ``end_of_life`` is

    1. its ``phase_out_date`` when the item master carries that (optional, extra)
       column and the cell is a date;
    2. otherwise, when it names a ``successor_sku``: the first week with positive
       demand of the successor (in any market) plus ``changeover_weeks``, the time
       customers get to switch;
    3. otherwise none: an end-of-life item without successor or date is running
       down its last stock, and its demand is expected.

    Parameters
    ----------
    dataset : Dataset
    changeover_weeks : int
        Weeks from the successor's first sale to the old item's phase-out.

    Returns
    -------
    Series
        Phase-out dates (``datetime64``) indexed by sku; items without one are left out.
    """
    items = dataset.items
    end_of_life = items[items["lifecycle"].eq("end_of_life")].drop_duplicates("sku")
    end_of_life = end_of_life.set_index("sku")
    explicit = pd.Series(pd.NaT, index=end_of_life.index, dtype="datetime64[ns]")
    if "phase_out_date" in end_of_life.columns:
        explicit = pd.to_datetime(end_of_life["phase_out_date"], errors="coerce")
    demand = dataset.demand
    selling = demand[demand["quantity"].gt(0)]
    first_sale = selling.groupby("sku")["date"].min()
    successor = end_of_life["successor_sku"] if "successor_sku" in end_of_life else None
    from_successor = pd.Series(pd.NaT, index=end_of_life.index, dtype="datetime64[ns]")
    if successor is not None:
        from_successor = successor.map(first_sale).astype("datetime64[ns]") + pd.Timedelta(
            weeks=changeover_weeks
        )
    dates = explicit.astype("datetime64[ns]").fillna(from_successor)
    return dates.dropna()


@rule(
    "end_of_life_after_phase_out",
    label="end-of-life item in use",
    severity="warning",
    tables=("demand", "policies"),
)
def end_of_life_after_phase_out(inputs: RuleInputs) -> list[Violations]:
    """Demand or a replenishment policy for an end-of-life item after its phase-out.

    The phase-out date is defined in :func:`phase_out_dates`: an explicit
    ``items.phase_out_date``, else the successor's first sale plus
    ``quality.end_of_life_changeover_weeks`` (26 by default). A demand row is
    reported when its period starts after that date and its quantity is positive;
    a policy when the phase-out date is before the extract's date (the inventory
    snapshot): the item should no longer be replenished. A warning, not an error:
    the demand really happened (perhaps booked on the old code instead of the
    successor) and stays in the clean data; the planner should review it.
    """
    dates = phase_out_dates(inputs.dataset, inputs.params.end_of_life_changeover_weeks)
    found = []
    demand = inputs.dataset.demand
    phase_out = demand["sku"].map(dates).to_numpy(dtype="datetime64[ns]")
    applies = ~np.isnat(phase_out)
    bad = applies & (demand["date"].to_numpy() > phase_out) & demand["quantity"].gt(0).to_numpy()
    messages = [
        f"{sku} was phased out on {end:%Y-%m-%d} but sells {q:g} in the week of {day:%Y-%m-%d}"
        for sku, end, q, day in zip(
            demand["sku"][bad],
            pd.DatetimeIndex(phase_out[bad]),
            demand["quantity"][bad],
            demand["date"][bad],
            strict=True,
        )
    ]
    found.append(Violations.found("demand", "date", int(applies.sum()), bad, messages))

    policies = inputs.dataset.policies
    phase_out = policies["sku"].map(dates).to_numpy(dtype="datetime64[ns]")
    applies = ~np.isnat(phase_out)
    bad = applies & (phase_out < inputs.as_of.to_datetime64())
    messages = [
        f"{sku} was phased out on {end:%Y-%m-%d} but still has a replenishment policy at {site}"
        for sku, end, site in zip(
            policies["sku"][bad],
            pd.DatetimeIndex(phase_out[bad]),
            policies["site_id"][bad],
            strict=True,
        )
    ]
    found.append(Violations.found("policies", "sku", int(applies.sum()), bad, messages))
    return found


ITEM_RULES = (
    gtin_invalid,
    gtin_duplicate,
    item_controls_contradicted,
    alias_unmapped,
    alias_conflict,
    unknown_item,
    end_of_life_after_phase_out,
)
