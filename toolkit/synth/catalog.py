"""The item master: product families, skus, GTINs, lifecycles and plant sourcing.

Items carry internal profile columns (family, base weekly demand, lifecycle curve
parameters, spare-part parent) that the demand and custody modules use; only the
canonical columns of ``items`` and ``sourcing`` are written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.synth.gs1 import gtin14

__all__ = [
    "PRODUCT_LINES",
    "Family",
    "FAMILIES",
    "build_items",
    "lifecycle_curves",
    "build_sourcing",
    "build_aliases",
]

#: Product lines and their share of the catalogue.
PRODUCT_LINES = {
    "implants": 0.30,
    "consumables": 0.35,
    "capital_equipment": 0.13,
    "spare_parts": 0.22,
}
_SKU_PREFIX = {
    "implants": "IMP",
    "consumables": "CON",
    "capital_equipment": "CAP",
    "spare_parts": "SPR",
}
# GS1 company prefixes: implants and consumables are registered by the Irish entity,
# equipment and its spare parts by the US one. Consumables are stocked and sold by the
# box (GTIN indicator 1); everything else by the unit of use (indicator 0).
_COMPANY_PREFIX = {
    "implants": "5391520",
    "consumables": "5391520",
    "capital_equipment": "0884521",
    "spare_parts": "0884521",
}
_INDICATOR = {"implants": 0, "consumables": 1, "capital_equipment": 0, "spare_parts": 0}
_ITEM_REFERENCE_START = {
    "implants": 10000,
    "consumables": 40000,
    "capital_equipment": 10000,
    "spare_parts": 40000,
}
_PLANTS = {
    "implants": ("PL-IE-GAL", "PL-US-MSP"),
    "consumables": ("PL-MX-TIJ", "PL-IE-GAL", "PL-CN-SUZ"),
    "capital_equipment": ("PL-US-MSP", "PL-IE-GAL"),
    "spare_parts": ("PL-US-MSP", "PL-CN-SUZ", "PL-MX-TIJ"),
}
# Days from start of a production order to a released lot (sterilisation and its
# release testing make implants slow; equipment is built to order).
_PROCESSING_DAYS = {
    "implants": (7, 15),
    "consumables": (2, 7),
    "capital_equipment": (20, 45),
    "spare_parts": (3, 12),
}
# Plants differ in cost: the standard cost in the item master is a blend.
_PLANT_COST_FACTOR = {"PL-IE-GAL": 1.0, "PL-US-MSP": 1.06, "PL-MX-TIJ": 0.86, "PL-CN-SUZ": 0.82}


@dataclass(frozen=True)
class Family:
    """A product family: what its skus are called, cost, how they are controlled.

    ``cost`` and ``weekly`` (global weekly demand of one sku, units) are ranges that
    each sku draws from log-uniformly; ``shelf_life`` is a range of days or None.
    """

    product_line: str
    name: str
    variants: tuple[str, ...]
    cost: tuple[float, float]
    shelf_life: tuple[int, int] | None
    lot: bool
    serial: bool
    critical: bool
    weekly: tuple[float, float]


def _sizes(template: str, values) -> tuple[str, ...]:
    return tuple(template.format(v) for v in values)


_IMPLANT = dict(product_line="implants", lot=True, serial=True, weekly=(2.0, 24.0))
_CONSUMABLE = dict(product_line="consumables", lot=True, serial=False, weekly=(120.0, 2000.0))
_EQUIPMENT = dict(
    product_line="capital_equipment", lot=False, serial=True, shelf_life=None, weekly=(0.3, 2.5)
)
_SPARE = dict(product_line="spare_parts", shelf_life=None, weekly=(0.8, 6.0))

FAMILIES: tuple[Family, ...] = (
    Family(name="Cementless hip stem", variants=_sizes("size {}", range(1, 13)), cost=(900, 2200), shelf_life=(1460, 1825), critical=False, **_IMPLANT),
    Family(name="Acetabular shell", variants=_sizes("{}mm", range(44, 68, 2)), cost=(700, 1500), shelf_life=(1460, 1825), critical=False, **_IMPLANT),
    Family(name="Knee femoral component", variants=tuple(f"size {s} {side}" for s in range(1, 9) for side in ("left", "right")), cost=(1200, 2600), shelf_life=(1460, 1825), critical=False, **_IMPLANT),
    Family(name="Pedicle screw", variants=tuple(f"{d}x{L}mm" for d in ("5.5", "6.5", "7.5") for L in (35, 40, 45, 50)), cost=(300, 600), shelf_life=(1460, 1825), critical=False, **_IMPLANT),
    Family(name="Lumbar interbody cage", variants=_sizes("{}mm", range(8, 17)), cost=(1500, 3000), shelf_life=(1095, 1825), critical=False, **_IMPLANT),
    Family(name="Drug-eluting coronary stent", variants=tuple(f"{d}x{L}mm" for d in ("2.5", "3.0", "3.5", "4.0") for L in (12, 18, 24, 30)), cost=(600, 1400), shelf_life=(1095, 1460), critical=False, **_IMPLANT),
    Family(name="Dual-chamber pacemaker", variants=("model DR", "model SR", "model DR MRI", "model SR MRI"), cost=(3000, 5000), shelf_life=(1095, 1460), critical=True, **_IMPLANT),
    Family(name="Implantable defibrillator", variants=("single-chamber", "dual-chamber", "CRT-D"), cost=(4200, 5000), shelf_life=(1095, 1460), critical=True, **_IMPLANT),
    Family(name="Mechanical heart valve", variants=_sizes("{}mm", range(19, 31, 2)), cost=(2500, 4500), shelf_life=(1460, 1825), critical=True, **_IMPLANT),
    Family(name="Central venous catheter", variants=("7Fr triple lumen 20cm", "7Fr double lumen 16cm", "5Fr single lumen 20cm", "8.5Fr quad lumen 20cm"), cost=(25, 60), shelf_life=(730, 1095), critical=True, **_CONSUMABLE),
    Family(name="Peripheral IV catheter", variants=_sizes("{}G box of 50", (14, 16, 18, 20, 22, 24)), cost=(8, 20), shelf_life=(730, 1095), critical=False, **_CONSUMABLE),
    Family(name="Absorbable suture", variants=tuple(f"{g} {L}in box of 12" for g in ("2-0", "3-0", "4-0") for L in (18, 27)), cost=(30, 70), shelf_life=(730, 1095), critical=False, **_CONSUMABLE),
    Family(name="Linear stapler reload", variants=tuple(f"{L}mm {c}" for L in (45, 60) for c in ("white", "blue", "green")), cost=(45, 80), shelf_life=(730, 1095), critical=False, **_CONSUMABLE),
    Family(name="Skin stapler", variants=("35W", "35R", "25W"), cost=(12, 30), shelf_life=(730, 1095), critical=False, **_CONSUMABLE),
    Family(name="Hydrophilic guidewire", variants=tuple(f"{d}in {L}cm" for d in ("0.014", "0.018", "0.035") for L in (150, 260)), cost=(20, 45), shelf_life=(365, 730), critical=False, **_CONSUMABLE),
    Family(name="Introducer sheath", variants=_sizes("{}Fr", range(4, 10)), cost=(15, 35), shelf_life=(365, 730), critical=False, **_CONSUMABLE),
    Family(name="Balloon dilatation catheter", variants=tuple(f"{d}x{L}mm" for d in ("2.0", "2.5", "3.0") for L in (15, 20)), cost=(55, 80), shelf_life=(365, 730), critical=False, **_CONSUMABLE),
    Family(name="Wound drainage set", variants=_sizes("{}Fr", (10, 12, 15, 19)), cost=(2, 12), shelf_life=(1095, 1095), critical=False, **_CONSUMABLE),
    Family(name="Volumetric infusion pump", variants=("VP-200", "VP-300", "VP-300 wireless"), cost=(8000, 14000), critical=True, **_EQUIPMENT),
    Family(name="Syringe infusion pump", variants=("SP-50", "SP-60 anaesthesia"), cost=(8000, 11000), critical=True, **_EQUIPMENT),
    Family(name="Bedside patient monitor", variants=("PM-12", "PM-15", "PM-19 ICU"), cost=(15000, 35000), critical=False, **_EQUIPMENT),
    Family(name="Mobile C-arm imaging system", variants=("CA-9", "CA-12 3D"), cost=(150000, 280000), critical=False, **_EQUIPMENT),
    Family(name="Compact ultrasound system", variants=("US-3", "US-5 cardiac"), cost=(40000, 110000), critical=False, **_EQUIPMENT),
    Family(name="Surgical robot system", variants=("SR-1 console", "SR-1 patient cart"), cost=(650000, 900000), critical=False, **_EQUIPMENT),
    Family(name="Electrosurgical generator", variants=("EG-300", "EG-400"), cost=(15000, 30000), critical=False, **_EQUIPMENT),
    Family(name="Anaesthesia workstation", variants=("AW-7",), cost=(40000, 65000), critical=False, **_EQUIPMENT),
    Family(name="Main control board", variants=("",), cost=(800, 3500), shelf_life=None, lot=False, serial=True, critical=True, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Drive motor assembly", variants=("",), cost=(400, 2500), shelf_life=None, lot=False, serial=True, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Li-ion battery pack", variants=("",), cost=(40, 300), shelf_life=None, lot=True, serial=False, critical=True, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Touchscreen display", variants=("",), cost=(300, 1500), shelf_life=None, lot=False, serial=True, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Power supply unit", variants=("",), cost=(200, 900), shelf_life=None, lot=False, serial=True, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Air filter kit", variants=("",), cost=(40, 120), shelf_life=None, lot=True, serial=False, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Pressure sensor module", variants=("",), cost=(80, 400), shelf_life=None, lot=True, serial=False, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Cable harness", variants=("",), cost=(40, 200), shelf_life=None, lot=True, serial=False, critical=False, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="X-ray tube assembly", variants=("",), cost=(4000, 6000), shelf_life=None, lot=False, serial=True, critical=True, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
    Family(name="Robotic arm joint actuator", variants=("",), cost=(2500, 6000), shelf_life=None, lot=False, serial=True, critical=True, **{k: v for k, v in _SPARE.items() if k != "shelf_life"}),
)  # fmt: skip

_FAMILY_BY_NAME = {family.name: family for family in FAMILIES}

# Spare-part families that only fit certain equipment families.
_SPARE_FITS = {
    "X-ray tube assembly": ("Mobile C-arm imaging system",),
    "Robotic arm joint actuator": ("Surgical robot system",),
}


def _line_counts(n_skus: int) -> dict[str, int]:
    """Split ``n_skus`` over the product lines by their shares (largest remainder)."""
    exact = {line: share * n_skus for line, share in PRODUCT_LINES.items()}
    counts = {line: int(value) for line, value in exact.items()}
    by_remainder = sorted(exact, key=lambda line: exact[line] - counts[line], reverse=True)
    for line in by_remainder[: n_skus - sum(counts.values())]:
        counts[line] += 1
    return counts


def _skus_of_line(line: str, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``count`` skus of one product line, cycling through its families."""
    families = [f for f in FAMILIES if f.product_line == line]
    rows = []
    used = dict.fromkeys(range(len(families)), 0)
    for i in range(count):
        k = i % len(families)
        family = families[k]
        n = used[k]
        used[k] += 1
        variant = family.variants[n % len(family.variants)]
        label = " ".join(part for part in (family.name, variant) if part)
        low, high = family.cost
        cost = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        shelf = None
        if family.shelf_life:
            shelf = int(
                rng.integers(family.shelf_life[0] // 30, family.shelf_life[1] // 30 + 1) * 30
            )
            shelf = min(max(shelf, family.shelf_life[0]), family.shelf_life[1])
        low_w, high_w = family.weekly
        rows.append(
            {
                "family": family.name,
                "description": label,
                "product_line": line,
                "unit_cost": round(cost, 2),
                "shelf_life_days": shelf,
                "lot_controlled": family.lot,
                "serial_controlled": family.serial,
                "family_critical": family.critical,
                "base_weekly": float(np.exp(rng.uniform(np.log(low_w), np.log(high_w)))),
            }
        )
    frame = pd.DataFrame(rows)
    start = 10001
    frame.insert(0, "sku", [f"{_SKU_PREFIX[line]}-{start + i}" for i in range(count)])
    reference = _ITEM_REFERENCE_START[line] + np.arange(count)
    frame["gtin"] = [gtin14(_INDICATOR[line], _COMPANY_PREFIX[line], int(r)) for r in reference]
    return frame


def _attach_spares(items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Give every spare part a parent equipment sku and name it after it."""
    equipment = items[items["product_line"].eq("capital_equipment")]
    spares = items["product_line"].eq("spare_parts")
    parents = []
    for family in items.loc[spares, "family"]:
        fits = _SPARE_FITS.get(family)
        pool = equipment[equipment["family"].isin(fits)] if fits else equipment
        pool = pool if len(pool) else equipment
        parents.append(pool["sku"].iloc[int(rng.integers(len(pool)))])
    items["parent_sku"] = None
    items.loc[spares, "parent_sku"] = parents
    parent_name = items["parent_sku"].map(items.set_index("sku")["description"])
    items.loc[spares, "description"] = (
        items.loc[spares, "description"] + " for " + parent_name[spares]
    )
    return items


# What a successor takes over from the generation it replaces.
_INHERITED = (
    "family",
    "shelf_life_days",
    "lot_controlled",
    "serial_controlled",
    "family_critical",
    "base_weekly",
)


def _assign_lifecycles(items: pd.DataFrame, n_weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    """Set lifecycle stage, successor and the demand-curve parameters of every sku.

    Curve parameters are week indices into the history: demand ramps up linearly from
    ``launch_week`` over ``ramp_weeks``, runs down linearly from ``phaseout_start``
    to zero at ``phaseout_end`` and follows ``trend`` (growth per year) in between.
    Supersession chains hand demand from the predecessor to its successor over the
    same weeks, so the pair's total stays level.
    """
    n = len(items)
    h = int(min(13, max(2, n_weeks // 10)))  # half the changeover time
    items = items.assign(
        lifecycle="mature",
        successor_sku=None,
        launch_week=-1,
        ramp_weeks=1,
        phaseout_start=n_weeks * 10,
        phaseout_end=n_weeks * 10,
        trend=rng.uniform(-0.03, 0.05, n),
    )
    col = {name: items.columns.get_loc(name) for name in items.columns}
    line_of = items["product_line"].to_numpy()
    taken = np.zeros(n, dtype=bool)

    def pick(lines: tuple[str, ...], count: int, generations: int = 1) -> list[list[int]]:
        """Pick ``count`` groups of ``generations`` untaken skus of one product line."""
        if generations == 1:
            candidates = np.flatnonzero(np.isin(line_of, lines) & ~taken)
            chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
            taken[chosen] = True
            return [[int(i)] for i in chosen]
        groups = []
        for _ in range(count):
            free = np.isin(line_of, lines) & ~taken
            sizes = pd.Series(line_of[free]).value_counts()
            usable = sorted(sizes.index[sizes >= generations])
            if not usable:
                break
            line = usable[int(rng.integers(len(usable)))]
            candidates = np.flatnonzero(free & (line_of == line))
            group = sorted(int(i) for i in rng.choice(candidates, size=generations, replace=False))
            taken[group] = True
            groups.append(group)
        return groups

    def set_(i: int, **values) -> None:
        for name, value in values.items():
            items.iat[i, col[name]] = value

    def supersede(old: int, new: int, switch: int) -> None:
        set_(old, lifecycle="end_of_life", successor_sku=items.iat[new, col["sku"]])
        set_(old, phaseout_start=switch - h, phaseout_end=switch + h)
        stage = "launch" if switch - h > n_weeks - 52 else "growth"
        set_(new, lifecycle=stage, launch_week=switch - h, ramp_weeks=2 * h, trend=0.0)
        # The next generation of the same product: same family, controls and demand,
        # a somewhat higher cost.
        for name in _INHERITED:
            items.iat[new, col[name]] = items.iat[old, col[name]]
        family = _FAMILY_BY_NAME[items.iat[old, col["family"]]]
        cost = min(items.iat[old, col["unit_cost"]] * rng.uniform(1.03, 1.12), family.cost[1])
        items.iat[new, col["unit_cost"]] = round(float(cost), 2)

    def name_generations(group: list[int]) -> None:
        # A successor is the next generation of the same product, not another size.
        base = items.iat[group[0], col["description"]]
        for k, i in enumerate(group):
            items.iat[i, col["description"]] = f"{base} gen {k + 1}"

    chain_lines = ("implants", "consumables", "capital_equipment")
    n_chains = max(2, round(n / 30))
    # One chain of three generations: gen 1 phased out early, gen 2 now being
    # replaced by gen 3, which is still ramping up at the snapshot.
    for group in pick(("implants",), 1, generations=3):
        first, second, third = group
        supersede(first, second, switch=round(0.3 * n_weeks))
        supersede(second, third, switch=n_weeks - 10)
        name_generations(group)
    for group in pick(chain_lines, n_chains - 1, generations=2):
        old, new = group
        supersede(old, new, switch=int(rng.integers(int(0.45 * n_weeks), int(0.8 * n_weeks) + 1)))
        name_generations(group)

    all_lines = tuple(PRODUCT_LINES)
    for (i,) in pick(all_lines, max(1, round(0.05 * n))):
        start = int(rng.integers(int(0.55 * n_weeks), int(0.85 * n_weeks) + 1))
        set_(i, lifecycle="launch", launch_week=start, ramp_weeks=int(rng.integers(2 * h, 3 * h)))
        set_(i, trend=0.0)
    for (i,) in pick(all_lines, max(1, round(0.05 * n))):
        start = int(rng.integers(int(0.3 * n_weeks), int(0.6 * n_weeks) + 1))
        # Still selling a little at the snapshot: the last stock is being run down.
        set_(i, lifecycle="end_of_life", phaseout_start=start)
        set_(i, phaseout_end=n_weeks + int(rng.integers(2, 20)))
    for (i,) in pick(all_lines, max(1, round(0.2 * n))):
        set_(i, lifecycle="growth", trend=float(rng.uniform(0.15, 0.35)))
    return items


def _revision_letter(number: int) -> str:
    """Return the revision letter of the ``number``-th redesign (B, C, ..., Z, AA, ...)."""
    letters = ""
    while number >= 0:
        letters = chr(ord("A") + number % 26) + letters
        number = number // 26 - 1
    return letters


def build_items(n_skus: int, n_weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return the item master with its profile columns.

    Parameters
    ----------
    n_skus : int
        Number of skus (at least 20).
    n_weeks : int
        Length of the demand history (lifecycle events are placed in it).
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        Canonical columns of ``items`` plus ``family, family_critical, base_weekly,
        parent_sku, launch_week, ramp_weeks, phaseout_start, phaseout_end, trend``.
    """
    if n_skus < 20:
        raise ValueError(f"n_skus must be at least 20, got {n_skus}")
    frames = [_skus_of_line(line, count, rng) for line, count in _line_counts(n_skus).items()]
    items = pd.concat(frames, ignore_index=True)
    items = _attach_spares(items, rng)
    items = _assign_lifecycles(items, n_weeks, rng)
    # Later skus that would share a name are later revisions of the design.
    revision = items.groupby("description").cumcount().to_numpy()
    suffix = [f" rev {_revision_letter(r)}" if r else "" for r in revision]
    items["description"] = items["description"] + suffix
    # Some standard families still hold a few critical skus (sole-source items).
    critical = items["family_critical"].to_numpy() | (rng.random(len(items)) < 0.08)
    items["criticality"] = np.where(critical, "critical", "standard")
    items["shelf_life_days"] = items["shelf_life_days"].astype("Int64")
    return items


def lifecycle_curves(items: pd.DataFrame, n_weeks: int) -> np.ndarray:
    """Return the demand level multiplier of every sku in every week (skus x weeks).

    The level is 0 before launch and after phase-out; growth items follow their
    trend, reaching 1 in the last week.
    """
    t = np.arange(n_weeks)[None, :]
    col = {name: items[name].to_numpy(dtype=float)[:, None] for name in (
        "launch_week", "ramp_weeks", "phaseout_start", "phaseout_end", "trend")}  # fmt: skip
    ramp_up = np.clip((t - col["launch_week"] + 1) / col["ramp_weeks"], 0.0, 1.0)
    span = np.maximum(col["phaseout_end"] - col["phaseout_start"], 1.0)
    ramp_down = np.clip((col["phaseout_end"] - t) / span, 0.0, 1.0)
    trend = np.exp(col["trend"] * (t - (n_weeks - 1)) / 52.0)
    return ramp_up * ramp_down * trend


def build_sourcing(items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return the canonical ``sourcing`` table: 1-2 plants per sku.

    ``capacity_per_week`` leaves 30-150 % headroom over the sku's base weekly demand
    split between its plants; the plant ``unit_cost`` varies with the plant's cost
    level around the item's standard cost.
    """
    rows = []
    for item in items.itertuples():
        plants = _PLANTS[item.product_line]
        n_plants = 2 if rng.random() < 0.3 else 1
        chosen = rng.choice(len(plants), size=n_plants, replace=False)
        low, high = _PROCESSING_DAYS[item.product_line]
        for k in sorted(chosen):
            plant = plants[k]
            capacity = item.base_weekly * rng.uniform(1.3, 2.5) / n_plants
            capacity = max(1.0, float(np.ceil(capacity)))
            cost = item.unit_cost * _PLANT_COST_FACTOR[plant] * rng.uniform(0.95, 1.05)
            rows.append(
                {
                    "site_id": plant,
                    "sku": item.sku,
                    "processing_days": float(rng.integers(low, high + 1)),
                    "capacity_per_week": capacity,
                    "unit_cost": round(float(cost), 2),
                }
            )
    return pd.DataFrame(rows)


def build_aliases(
    items: pd.DataFrame, skus_sold: pd.Index, system: str, rng: np.random.Generator
) -> pd.DataFrame:
    """Return the ``aliases`` of the second ERP system.

    Every sku the system's markets sell gets a local code, and so do about a tenth of
    the others (items set up locally but not sold there). Local codes are SAP-style
    material numbers: ten digits with leading zeros.
    """
    unsold = ~items["sku"].isin(skus_sold).to_numpy()
    extra = unsold & (rng.random(len(items)) < 0.1)
    if extra.sum() < 2:  # always a few, so the master shows what it is
        extra[rng.permutation(np.flatnonzero(unsold))[:2]] = True
    mapped = items.loc[items["sku"].isin(skus_sold) | extra, "sku"].to_numpy()
    numbers = rng.choice(np.arange(4_000_000, 9_000_000), size=len(mapped), replace=False)
    return pd.DataFrame(
        {
            "system": system,
            "local_code": [f"{700_000_000 + int(n) * 3:010d}"[-10:] for n in numbers],
            "sku": mapped,
        }
    )
