"""Known data-quality defects, injected on purpose and listed in a manifest.

Each kind changes or adds specific rows so that it is the *only* thing wrong with
them: the traceability checker should find exactly the manifest. Where a defect
cannot help breaking a balance (a serial in stock at a second site, a shipment from
a site that never held the lot), that imbalance is the same defect, on the same row.

A defect entry names the table, the row's key as written in the file (empty string
for an empty cell), the column at fault and a readable detail. One injection can
touch more than one row (a serial blanked in the inventory row and in its receipt
movement); every touched row gets its own entry and they share an ``injection`` id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.schema import TABLES
from toolkit.synth.extract import as_written
from toolkit.synth.gs1 import GS, wrong_check_digit
from toolkit.synth.timeline import SNAPSHOT_DATE

__all__ = ["DEFECT_KINDS", "DefectCounts", "Defect", "inject_defects"]


@dataclass(frozen=True)
class DefectCounts:
    """How many defects of each kind to inject (``--defects`` uses the defaults).

    Each number counts injections. Most touch one row; ``missing_serial`` and
    ``serial_quantity_not_one`` touch two (the inventory row and the unit's
    receipt movement). Where the data offer fewer candidates than asked for, fewer
    are injected; the manifest says what was.

    Attributes
    ----------
    bad_gtin_check_digit : int
        ``items.gtin`` with a wrong check digit (on items without movements, so no
        UDI disagrees with the item master).
    unmapped_alias : int
        An extra demand row from the second ERP whose local code has no ``aliases`` row.
    conflicting_alias : int
        An extra ``aliases`` row mapping a local code already mapped to another sku
        (a code no demand row uses).
    movement_from_non_holder : int
        An extra delivery to a customer from a market that never received that lot.
    missing_serial : int
        A serialized unit just received at its plant, its serial blank in the
        inventory row and in the receipt movement (and left out of that UDI).
    serial_quantity_not_one : int
        A serialized unit just received at its plant with quantity 2 in the
        inventory row and in the receipt movement.
    serial_at_two_sites : int
        An extra released inventory row for a serial that is in stock elsewhere.
    udi_lot_mismatch : int
        A movement whose UDI carries a different lot (AI 10) than its ``lot`` column.
    expired_released : int
        Released stock of a lot whose expiry date has passed (the lot's UDIs carry
        the same expiry, later than all its movements).
    """

    bad_gtin_check_digit: int = 2
    unmapped_alias: int = 3
    conflicting_alias: int = 1
    movement_from_non_holder: int = 3
    missing_serial: int = 2
    serial_quantity_not_one: int = 2
    serial_at_two_sites: int = 2
    udi_lot_mismatch: int = 3
    expired_released: int = 2

    @classmethod
    def none(cls) -> DefectCounts:
        """Return counts of zero for every kind (a clean extract)."""
        return cls(**dict.fromkeys(DEFECT_KINDS, 0))

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


DEFECT_KINDS = tuple(f.name for f in dataclasses.fields(DefectCounts))


@dataclass(frozen=True)
class Defect:
    """One defective cell: where it is and what is wrong with it."""

    kind: str
    table: str
    key: tuple[tuple[str, str], ...]
    column: str
    detail: str
    injection: str = ""

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "injection": self.injection,
            "table": self.table,
            "key": dict(self.key),
            "column": self.column,
            "detail": self.detail,
        }


@dataclass
class _Injector:
    """Shared state while defects go in: the tables and what is already touched."""

    tables: dict[str, pd.DataFrame]
    rng: np.random.Generator
    system: str
    defects: list[Defect] = field(default_factory=list)
    touched_lots: set = field(default_factory=set)
    touched_serials: set = field(default_factory=set)

    def key_of(self, table: str, row: pd.Series, columns: tuple[str, ...] | None = None) -> tuple:
        spec = TABLES[table]
        names = columns or spec.key
        return tuple((c, as_written(row[c], spec.column(c).kind)) for c in names)

    def record(self, kind: str, number: int, table: str, row: pd.Series, column: str, detail: str,
               key_columns: tuple[str, ...] | None = None) -> None:  # fmt: skip
        self.defects.append(
            Defect(
                kind,
                table,
                self.key_of(table, row, key_columns),
                column,
                detail,
                f"{kind}-{number}",
            )
        )

    def choose(self, candidates: np.ndarray | pd.Index, count: int) -> np.ndarray:
        candidates = np.asarray(candidates)
        if count <= 0 or not len(candidates):
            return candidates[:0]
        return np.sort(self.rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def _bad_gtin(inj: _Injector, count: int) -> None:
    items = inj.tables["items"]
    stocked = set(inj.tables["movements"]["sku"]) | set(inj.tables["inventory"]["sku"])
    for n, i in enumerate(inj.choose(items.index[~items["sku"].isin(stocked)], count), 1):
        right = items.at[i, "gtin"]
        wrong = wrong_check_digit(right, int(inj.rng.integers(1, 10)))
        items.at[i, "gtin"] = wrong
        inj.record("bad_gtin_check_digit", n, "items", items.loc[i], "gtin",
                   f"GTIN {wrong} ends in check digit {wrong[-1]}; the valid one is {right[-1]}")  # fmt: skip


def _unmapped_alias(inj: _Injector, count: int) -> None:
    demand = inj.tables["demand"]
    local = demand[demand["source_system"].eq(inj.system)]
    if local.empty or count <= 0:
        return
    known = set(inj.tables["aliases"]["local_code"])
    rows = []
    for _ in range(count):
        code = f"{int(inj.rng.integers(700_000_000, 999_999_999)):010d}"
        while code in known:
            code = f"{int(inj.rng.integers(700_000_000, 999_999_999)):010d}"
        known.add(code)
        like = local.iloc[int(inj.rng.integers(len(local)))]
        rows.append({"date": like["date"], "site_id": like["site_id"], "sku": code,
                     "quantity": float(inj.rng.integers(1, 25)), "source_system": inj.system})  # fmt: skip
    added = pd.DataFrame(rows).astype(demand.dtypes.to_dict())
    added = added.sort_values(["site_id", "sku", "date"]).reset_index(drop=True)
    for n, (_, row) in enumerate(added.iterrows(), 1):
        inj.record("unmapped_alias", n, "demand", row, "sku",
                   f"{inj.system} local code {row['sku']} has no row in aliases")  # fmt: skip
    # Each new row goes at the end of its market's block (demand is in market order).
    site = demand["site_id"].to_numpy()
    cut = np.array([int(np.flatnonzero(site == s)[-1]) + 1 for s in added["site_id"]])
    pieces, start = [], 0
    for k in np.argsort(cut, kind="stable"):
        end = int(cut[k])
        pieces += [demand.iloc[start:end], added.iloc[[k]]]
        start = end
    pieces.append(demand.iloc[start:])
    inj.tables["demand"] = pd.concat(pieces, ignore_index=True)


def _conflicting_alias(inj: _Injector, count: int) -> None:
    aliases, items = inj.tables["aliases"], inj.tables["items"]
    used = set(inj.tables["demand"]["sku"])
    unused = aliases.index[~aliases["local_code"].isin(used)]
    line = items.set_index("sku")["product_line"]
    rows = []
    for n, i in enumerate(inj.choose(unused, count), 1):
        mapped = aliases.at[i, "sku"]
        others = items.loc[items["product_line"].eq(line[mapped]) & items["sku"].ne(mapped), "sku"]
        other = others.iloc[int(inj.rng.integers(len(others)))]
        row = pd.Series(
            {
                "system": aliases.at[i, "system"],
                "local_code": aliases.at[i, "local_code"],
                "sku": other,
            }
        )
        rows.append(row)
        inj.record("conflicting_alias", n, "aliases", row, "sku",
                   f"local code {row['local_code']} is mapped to both {mapped} and {other}",
                   key_columns=("system", "local_code", "sku"))  # fmt: skip
    if rows:
        inj.tables["aliases"] = pd.concat([aliases, pd.DataFrame(rows)], ignore_index=True)


def _movement_from_non_holder(inj: _Injector, count: int) -> None:
    moves, stock = inj.tables["movements"], inj.tables["inventory"]
    lot_moves = moves[moves["lot"].notna() & moves["serial"].isna()]
    sites_of_lot = pd.concat(
        [lot_moves[["sku", "lot", "from_site"]].set_axis(["sku", "lot", "site"], axis=1),
         lot_moves[["sku", "lot", "to_site"]].set_axis(["sku", "lot", "site"], axis=1)]
    ).dropna().drop_duplicates()  # fmt: skip
    markets = stock[stock["site_id"].str.startswith("MK-")][["site_id", "sku"]].drop_duplicates()
    # Lots paired with a market that stocks the sku but never saw that lot.
    pairs = sites_of_lot[["sku", "lot"]].drop_duplicates().merge(markets, on="sku")
    seen = pairs.merge(
        sites_of_lot, left_on=["sku", "lot", "site_id"], right_on=["sku", "lot", "site"], how="left"
    )
    pairs = pairs[seen["site"].isna().to_numpy()].reset_index(drop=True)
    first_seen = lot_moves.groupby(["sku", "lot"])["timestamp"].min()
    udi_of = lot_moves.drop_duplicates(["sku", "lot"]).set_index(["sku", "lot"])["udi"]
    added = []
    taken: set = set()
    next_order = int(
        moves["document_id"].str.extract(r"^SO(\d+)$")[0].dropna().astype(int).max() or 0
    )
    for i in inj.choose(pairs.index, count * 3):
        sku, lot, site = pairs.loc[i, ["sku", "lot", "site_id"]]
        if (sku, lot) in taken or len(added) >= count:
            continue
        taken.add((sku, lot))
        start = first_seen[(sku, lot)] + pd.Timedelta(days=1)
        span = max((SNAPSHOT_DATE - pd.Timedelta(hours=12) - start).total_seconds() / 60, 1)
        when = (start + pd.Timedelta(minutes=int(inj.rng.integers(int(span))))).floor("min")
        next_order += 1
        udi = udi_of[(sku, lot)]
        added.append({"movement_id": "", "timestamp": when, "udi": udi, "sku": sku,
                      "lot": lot, "serial": None, "from_site": site, "to_site": None,
                      "quantity": float(inj.rng.integers(1, 6)), "document_id": f"SO{next_order:07d}"})  # fmt: skip
    if not added:
        return
    inj.touched_lots.update(taken)
    added = pd.DataFrame(added).astype(moves.dtypes.to_dict())
    both = pd.concat([moves.assign(_new=False), added.assign(_new=True)], ignore_index=True)
    both = both.sort_values(["timestamp", "_new"], kind="stable").reset_index(drop=True)
    # Renumber so movement ids still run in time order.
    both["movement_id"] = [f"MV{n:08d}" for n in range(1, len(both) + 1)]
    for n, (_, row) in enumerate(both[both["_new"]].iterrows(), 1):
        inj.record("movement_from_non_holder", n, "movements", row, "from_site",
                   f"{row['from_site']} delivers {row['quantity']:g} of lot {row['lot']} "
                   f"of {row['sku']} but never received that lot")  # fmt: skip
    inj.tables["movements"] = both.drop(columns="_new")


def _fresh_plant_units(inj: _Injector) -> pd.DataFrame:
    """Serialized units whose only movement is their receipt at the plant holding them."""
    moves, stock = inj.tables["movements"], inj.tables["inventory"]
    units = moves[moves["serial"].notna()]
    n_moves = units.groupby(["sku", "serial"]).size()
    single = n_moves[n_moves == 1].index
    at_plant = stock[stock["serial"].notna() & stock["site_id"].str.startswith("PL-")]
    at_plant = at_plant[pd.MultiIndex.from_frame(at_plant[["sku", "serial"]]).isin(single)]
    only = units[pd.MultiIndex.from_frame(units[["sku", "serial"]]).isin(single)]
    receipt = only.reset_index().set_index(["sku", "serial"])["index"]
    at_plant = at_plant.assign(
        movement_row=receipt.reindex(
            pd.MultiIndex.from_frame(at_plant[["sku", "serial"]])
        ).to_numpy()
    )
    untouched = [
        (s, n) not in inj.touched_serials
        for s, n in zip(at_plant["sku"], at_plant["serial"], strict=True)
    ]
    return at_plant[np.array(untouched, dtype=bool)]


def _without_serial(udi: str, serial: str) -> str:
    if udi.endswith(f"(21){serial}"):
        return udi[: -len(serial) - 4]
    return udi[: -len(serial) - 2].rstrip(GS)


def _missing_serial(inj: _Injector, count: int) -> None:
    stock, moves = inj.tables["inventory"], inj.tables["movements"]
    fresh = _fresh_plant_units(inj).drop_duplicates(["site_id", "sku", "lot"])
    for n, i in enumerate(inj.choose(fresh.index, count), 1):
        serial, sku = stock.at[i, "serial"], stock.at[i, "sku"]
        m = int(fresh.at[i, "movement_row"])
        inj.touched_serials.add((sku, serial))
        stock.at[i, "serial"] = None
        moves.at[m, "serial"] = None
        moves.at[m, "udi"] = _without_serial(moves.at[m, "udi"], serial)
        detail = (
            f"serial-controlled {sku} unit received as serial {serial} is recorded without serial"
        )
        inj.record("missing_serial", n, "inventory", stock.loc[i], "serial", detail)
        inj.record("missing_serial", n, "movements", moves.loc[m], "serial", detail)


def _serial_quantity_not_one(inj: _Injector, count: int) -> None:
    stock, moves = inj.tables["inventory"], inj.tables["movements"]
    fresh = _fresh_plant_units(inj)
    for n, i in enumerate(inj.choose(fresh.index, count), 1):
        serial, sku = stock.at[i, "serial"], stock.at[i, "sku"]
        m = int(fresh.at[i, "movement_row"])
        inj.touched_serials.add((sku, serial))
        stock.at[i, "quantity"] = 2.0
        moves.at[m, "quantity"] = 2.0
        detail = f"serial {serial} of {sku} is counted with quantity 2"
        inj.record("serial_quantity_not_one", n, "inventory", stock.loc[i], "quantity", detail)
        inj.record("serial_quantity_not_one", n, "movements", moves.loc[m], "quantity", detail)


def _serial_at_two_sites(inj: _Injector, count: int) -> None:
    stock = inj.tables["inventory"]
    downstream = ~stock["site_id"].str.startswith("PL-")
    candidates = stock[stock["serial"].notna() & stock["status"].eq("released") & downstream]
    untouched = [
        (s, n) not in inj.touched_serials
        for s, n in zip(candidates["sku"], candidates["serial"], strict=True)
    ]
    candidates = candidates[np.array(untouched, dtype=bool)]
    holders = stock[downstream].groupby("sku")["site_id"].unique()
    rows = []
    for i in inj.choose(candidates.index, count * 3):
        if len(rows) >= count:
            break
        row = stock.loc[i]
        elsewhere = [s for s in holders[row["sku"]] if s != row["site_id"]]
        if not elsewhere:
            continue
        inj.touched_serials.add((row["sku"], row["serial"]))
        copy = row.copy()
        copy["site_id"] = elsewhere[int(inj.rng.integers(len(elsewhere)))]
        rows.append(copy)
        inj.record("serial_at_two_sites", len(rows), "inventory", copy, "serial",
                   f"serial {row['serial']} of {row['sku']} is also in stock at {row['site_id']}")  # fmt: skip
    if rows:
        inj.tables["inventory"] = pd.concat([stock, pd.DataFrame(rows)], ignore_index=True)


def _typo(lot: str, rng: np.random.Generator) -> str:
    """Return ``lot`` with a keying error: one digit changed."""
    positions = [k for k, ch in enumerate(lot) if ch.isdigit()]
    k = positions[int(rng.integers(len(positions)))]
    digit = (int(lot[k]) + int(rng.integers(1, 10))) % 10
    return lot[:k] + str(digit) + lot[k + 1 :]


def _replace_field(udi: str, ai: str, old: str, new: str) -> str:
    """Replace the value of application identifier ``ai`` in a UDI of either form."""
    if udi.startswith("("):
        return udi.replace(f"({ai}){old}", f"({ai}){new}", 1)
    start = 16 if ai == "17" or udi[16:18] == ai else 24
    assert udi[start : start + 2 + len(old)] == ai + old, (udi, ai, old)
    return udi[: start + 2] + new + udi[start + 2 + len(old) :]


def _udi_lot_mismatch(inj: _Injector, count: int) -> None:
    moves = inj.tables["movements"]
    lots = moves[moves["lot"].notna() & moves["serial"].isna()]
    untouched = [
        (s, n) not in inj.touched_lots for s, n in zip(lots["sku"], lots["lot"], strict=True)
    ]
    lots = lots[np.array(untouched, dtype=bool)].drop_duplicates(["sku", "lot"])
    for n, m in enumerate(inj.choose(lots.index, count), 1):
        lot = moves.at[m, "lot"]
        inj.touched_lots.add((moves.at[m, "sku"], lot))
        keyed = _typo(lot, inj.rng)
        moves.at[m, "udi"] = _replace_field(moves.at[m, "udi"], "10", lot, keyed)
        inj.record("udi_lot_mismatch", n, "movements", moves.loc[m], "udi",
                   f"UDI carries lot {keyed} but the lot column says {lot}")  # fmt: skip


def _expired_released(inj: _Injector, count: int) -> None:
    stock, moves = inj.tables["inventory"], inj.tables["movements"]
    lot_rows = stock[stock["lot"].notna() & stock["serial"].isna() & stock["expiry_date"].notna()]
    one_site = lot_rows.groupby(["sku", "lot"])["site_id"].transform("size").eq(1)
    lot_rows = lot_rows[one_site & lot_rows["status"].eq("released")]
    last_move = moves.groupby(["sku", "lot"])["timestamp"].max()
    last = last_move.reindex(pd.MultiIndex.from_frame(lot_rows[["sku", "lot"]])).to_numpy()
    lot_rows = lot_rows[last < SNAPSHOT_DATE - pd.Timedelta(days=3)]
    untouched = [
        (s, n) not in inj.touched_lots
        for s, n in zip(lot_rows["sku"], lot_rows["lot"], strict=True)
    ]
    lot_rows = lot_rows[np.array(untouched, dtype=bool)]
    for n, i in enumerate(inj.choose(lot_rows.index, count), 1):
        sku, lot = stock.at[i, "sku"], stock.at[i, "lot"]
        inj.touched_lots.add((sku, lot))
        first_day = last_move[(sku, lot)].normalize() + pd.Timedelta(days=1)
        days = int((SNAPSHOT_DATE - pd.Timedelta(days=1) - first_day).days)
        expiry = first_day + pd.Timedelta(days=int(inj.rng.integers(0, days + 1)))
        old = stock.at[i, "expiry_date"]
        stock.at[i, "expiry_date"] = expiry
        of_lot = moves.index[moves["sku"].eq(sku) & moves["lot"].eq(lot)]
        moves.loc[of_lot, "udi"] = [
            _replace_field(u, "17", old.strftime("%y%m%d"), expiry.strftime("%y%m%d"))
            for u in moves.loc[of_lot, "udi"]
        ]
        inj.record("expired_released", n, "inventory", stock.loc[i], "expiry_date",
                   f"released stock of lot {lot} of {sku} expired on {expiry:%Y-%m-%d}")  # fmt: skip


# Order matters: rows are added before others are chosen, and movement ids are
# renumbered (for the added movements) before any defect records a movement id.
_INJECTORS = (
    ("bad_gtin_check_digit", _bad_gtin),
    ("unmapped_alias", _unmapped_alias),
    ("conflicting_alias", _conflicting_alias),
    ("movement_from_non_holder", _movement_from_non_holder),
    ("missing_serial", _missing_serial),
    ("serial_quantity_not_one", _serial_quantity_not_one),
    ("serial_at_two_sites", _serial_at_two_sites),
    ("udi_lot_mismatch", _udi_lot_mismatch),
    ("expired_released", _expired_released),
)


def inject_defects(
    tables: dict[str, pd.DataFrame], counts: DefectCounts, system: str, rng: np.random.Generator
) -> tuple[dict[str, pd.DataFrame], tuple[Defect, ...]]:
    """Return copies of ``tables`` with defects injected, and the defects.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Clean canonical tables (not modified).
    counts : DefectCounts
        How many of each kind.
    system : str
        The second ERP system whose local codes ``aliases`` maps.
    rng : numpy.random.Generator

    Returns
    -------
    tables : dict of str to DataFrame
    defects : tuple of Defect
        In the order of :data:`DEFECT_KINDS`.
    """
    # Tables changed in place are copied; the others only ever get new frames.
    in_place = ("items", "inventory", "movements", "aliases")
    copies = {name: frame.copy() if name in in_place else frame for name, frame in tables.items()}
    inj = _Injector(copies, rng, system)
    for kind, inject in _INJECTORS:
        inject(inj, getattr(counts, kind))
    order = {kind: k for k, kind in enumerate(DEFECT_KINDS)}
    defects = tuple(sorted(inj.defects, key=lambda d: order[d.kind]))
    return inj.tables, defects
