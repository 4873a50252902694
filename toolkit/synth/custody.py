"""Stock on hand and the chain of custody that put it there.

The generator works backwards from the snapshot. Every stocking position (a DC, or a
market that a plant supplies directly) holds one to three production lots; each lot
was received at a plant, released by quality assurance, shipped to the position (in
some regions through a hub DC) and partly passed on to the markets, which delivered
some of it to hospitals. Only lots that still have stock somewhere appear, so the
movements are a complete chain for everything in the inventory snapshot:

* every lot or serial enters with a production receipt at a plant (empty
  ``from_site``) and leaves with a delivery to a customer (empty ``to_site``);
* stock moves on from a site only after the slowest active lane into it has had time
  to deliver it (movements do not say which mode carried them);
* an ``in_transit`` row sits at its destination, and its last movement is the
  shipment there, less than the fastest lane's ``transit_days + customs_days`` before
  the snapshot; ``released`` and ``quarantine`` stock arrived longer ago than the
  slowest lane's time;
* no lot is older than its shelf life allows, so nothing in stock has expired.

A lot's units travel together in one movement per leg; serial-controlled units get
one movement row per serial and leg, quantity 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from toolkit.synth.gs1 import udi_strings
from toolkit.synth.timeline import SNAPSHOT_DATE, days_before_snapshot

__all__ = ["Custody", "build_custody", "stock_targets", "RAW_UDI_SHARE"]

#: Share of movements whose UDI is written in the raw scanned form (GS separators).
RAW_UDI_SHARE = 0.15

# Where stock sits in its replenishment cycle, as a fraction of the way from safety
# stock to order-up-to (below zero: safety stock is being eaten into).
_CYCLE_POSITION = (-0.3, 1.0)
# Days between production receipt and quality release (sterility testing for implants).
_RELEASE_DAYS = {
    "consumables": (2.0, 5.0),
    "implants": (5.0, 10.0),
    "capital_equipment": (3.0, 7.0),
    "spare_parts": (1.0, 4.0),
}
# Regional DCs that are sometimes replenished through a hub DC.
_HUB_OF = {"DC-PA-PTY": "DC-US-MEM", "DC-SG-SIN": "DC-NL-VEN"}
_PLANT_LETTER = {"PL-IE-GAL": "G", "PL-US-MSP": "M", "PL-MX-TIJ": "T", "PL-CN-SUZ": "S"}
_LINE_LETTER = {"implants": "I", "capital_equipment": "C", "spare_parts": "P", "consumables": "K"}
_NO_SHELF_LIFE_DAYS = 10_000
# Customer deliveries kept per market and lot: enough to trace a lot to hospitals,
# few enough to keep the extract small.
_MAX_SERIAL_DELIVERIES = 6
_MAX_LOT_DELIVERIES = 4
_MAX_LOT_AGE_DAYS = 400


class Custody(NamedTuple):
    """Inventory snapshot and movements (canonical columns, global skus)."""

    inventory: pd.DataFrame
    movements: pd.DataFrame


def _uniform(rng, bounds_by_line: dict, line: np.ndarray) -> np.ndarray:
    """Draw one uniform number per row from the range of its product line."""
    low = np.vectorize(lambda x: bounds_by_line[x][0], otypes=[float])(line)
    high = np.vectorize(lambda x: bounds_by_line[x][1], otypes=[float])(line)
    return rng.uniform(low, high) if len(line) else np.array([])


def _lane(times: pd.DataFrame, origin, destination) -> tuple[np.ndarray, np.ndarray]:
    """Return (fastest, slowest) door-to-door days for each origin/destination pair."""
    key = pd.MultiIndex.from_arrays([np.asarray(origin), np.asarray(destination)])
    found = times.reindex(key)
    if found["slowest"].isna().any():
        missing = key[found["slowest"].isna().to_numpy()][:3].tolist()
        raise ValueError(f"no active lane for {missing}")
    return found["fastest"].to_numpy(), found["slowest"].to_numpy()


def _split(rng, totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer ``totals`` over the columns of ``weights`` (rows sum to totals)."""
    out = np.zeros(weights.shape, dtype=np.int64)
    ok = weights.sum(axis=1) > 0
    if ok.any():
        p = weights[ok] / weights[ok].sum(axis=1, keepdims=True)
        out[ok] = rng.multinomial(totals[ok].astype(np.int64), p)
    return out


def stock_targets(policies: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return what each policy position holds today: somewhere in its (s, S) cycle.

    Parameters
    ----------
    policies : DataFrame
        Canonical ``policies`` table (the baseline in force).
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        ``site_id, sku, target``: safety stock plus a random share of the distance
        to order-up-to (a few positions are below safety stock or empty).
    """
    low, high = _CYCLE_POSITION
    share = rng.uniform(low, high, len(policies))
    safety = policies["safety_stock"].to_numpy()
    target = safety + share * (policies["order_up_to"].to_numpy() - safety)
    return policies[["site_id", "sku"]].assign(target=np.maximum(0, np.round(target)).astype(int))


def _market_positions(items, sourcing, sites, rates, targets) -> pd.DataFrame:
    """Markets' stock today and where it comes from (their DC or a local plant)."""
    profile = items.set_index("sku")
    site = sites.set_index("site_id")
    at_market = targets[targets["site_id"].map(site["site_type"]).eq("market")]
    pos = at_market.merge(rates, on=["site_id", "sku"], how="left").fillna({"recent_weekly": 0.0})
    pos["product_line"] = pos["sku"].map(profile["product_line"])
    pos["supply_dc"] = pos["site_id"].map(site["supply_dc"])
    # Made in China for China: a local plant that makes the sku supplies it directly.
    local = sourcing.assign(country=sourcing["site_id"].map(site["country"]))
    local = local.rename(columns={"site_id": "local_plant"})[["sku", "country", "local_plant"]]
    local = local.drop_duplicates(["sku", "country"])
    pos["country"] = pos["site_id"].map(site["country"])
    pos["region"] = pos["site_id"].map(site["region"])
    pos = pos.merge(local, on=["sku", "country"], how="left")
    pos["direct"] = pos["region"].eq("CHINA") & pos["local_plant"].notna()
    pos["first_site"] = np.where(pos["direct"], pos["site_id"], pos["supply_dc"])
    return pos.reset_index(drop=True)


def _stocking_positions(markets: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Positions that lots are shipped to from a plant: DCs and directly supplied markets."""
    via_dc = markets[~markets["direct"]]
    dcs = via_dc.groupby(["first_site", "sku", "product_line"], as_index=False)[
        "recent_weekly"
    ].sum()
    dc_targets = targets.rename(columns={"site_id": "first_site"})
    dcs = dcs.merge(dc_targets, on=["first_site", "sku"], how="left").fillna({"target": 0})
    dcs["target"] = dcs["target"].astype(int)
    dcs["direct"] = False
    dcs["plant"] = None
    direct = markets[markets["direct"]]
    direct = direct[["first_site", "sku", "product_line", "recent_weekly", "target", "direct"]]
    direct = direct.assign(plant=markets.loc[markets["direct"], "local_plant"].to_numpy())
    return pd.concat([dcs, direct], ignore_index=True)


def _lots(positions, items, sourcing, times, rng) -> pd.DataFrame:
    """One to three production lots per stocking position, with their timeline.

    Ages are days before the snapshot. A lot was received at ``receipt_age``, shipped
    from the plant at ``ship_age`` (to the hub, if any, which passes it on at
    ``hub_ship_age``) and is at its position from ``arrival_age`` on; the newest lot
    of some positions is still on its way (``in_transit``).
    """
    n_lots = np.where(positions["target"] <= 2, 1, 1 + rng.binomial(2, 0.5, len(positions)))
    lots = positions.loc[positions.index.repeat(n_lots)].reset_index(drop=True)
    lots["n_lots"] = np.repeat(n_lots, n_lots)
    lots["rank"] = _rank_within(n_lots)
    # The plant: the local one for direct supply, else any plant that makes the sku.
    by_sku = sourcing.sort_values(["sku", "site_id"]).groupby("sku")["site_id"].agg(list)
    choices = lots["sku"].map(by_sku)
    pick = rng.random(len(lots))
    any_plant = [c[int(u * len(c))] for c, u in zip(choices, pick, strict=True)]
    lots["plant"] = lots["plant"].where(lots["direct"], any_plant)

    hub = lots["first_site"].map(_HUB_OF)
    lots["hub"] = hub.where(hub.notna() & (rng.random(len(lots)) < 0.2))
    first_stop = lots["hub"].fillna(lots["first_site"])
    fast1, slow1 = _lane(times, lots["plant"], first_stop)
    has_hub = lots["hub"].notna().to_numpy()
    fast2 = np.full(len(lots), np.nan)
    slow2 = np.zeros(len(lots))
    if has_hub.any():
        fast2[has_hub], slow2[has_hub] = _lane(
            times, lots.loc[has_hub, "hub"], lots.loc[has_hub, "first_site"]
        )
    dwell = np.where(has_hub, rng.uniform(1, 5, len(lots)), 0.0)

    profile = items.set_index("sku")
    line = lots["product_line"].to_numpy()
    release = _uniform(rng, _RELEASE_DAYS, line)
    shelf = (
        lots["sku"].map(profile["shelf_life_days"]).astype("Float64").fillna(_NO_SHELF_LIFE_DAYS)
    )
    oldest_receipt = np.minimum(shelf.to_numpy(dtype=float) - 45, _MAX_LOT_AGE_DAYS)
    pipeline = release + slow1 + dwell + slow2
    latest_arrival = np.maximum(oldest_receipt - pipeline, 3.0)
    # Older ranks arrived earlier: rank r of n takes the r-th slice of the window.
    window = np.minimum(latest_arrival, 200.0) - 2.0
    n = lots["n_lots"].to_numpy()
    rank = lots["rank"].to_numpy()
    arrival = 2.0 + window * (n - rank - rng.random(len(lots))) / n

    in_transit = (rank == n - 1) & (rng.random(len(lots)) < 0.3)
    last_fast = np.where(has_hub, fast2, fast1)
    last_leg_age = np.where(in_transit, rng.uniform(0.05, last_fast - 0.05), np.nan)
    hub_ship = np.where(has_hub, np.where(in_transit, last_leg_age, arrival + slow2), np.nan)
    ship = np.where(
        has_hub, hub_ship + dwell + slow1, np.where(in_transit, last_leg_age, arrival + slow1)
    )
    lots["in_transit"] = in_transit
    lots["arrival_age"] = np.where(in_transit, np.nan, arrival)
    lots["hub_ship_age"] = hub_ship
    lots["ship_age"] = ship
    lots["receipt_age"] = ship + release
    lots["release_days"] = release
    lots["lot_id"] = np.arange(len(lots))
    return lots


def _rank_within(counts: np.ndarray) -> np.ndarray:
    """Return 0..k-1 for each group of ``counts`` consecutive rows."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts


def _position_holdings(lots: pd.DataFrame, rng) -> np.ndarray:
    """Split each position's target over its lots, newer lots holding more (FEFO)."""
    group = lots.groupby(["first_site", "sku"], sort=False).ngroup().to_numpy()
    weights = np.zeros((group.max() + 1, 3))
    weights[group, lots["rank"].to_numpy()] = (lots["rank"].to_numpy() + 1) * rng.uniform(
        0.5, 1.5, len(lots)
    )
    totals = lots.groupby(group)["target"].first().to_numpy()
    split = _split(rng, totals, weights)
    return split[group, lots["rank"].to_numpy()]


def _market_shipments(markets, lots, times, rng) -> pd.DataFrame:
    """What each market received from which lot of its DC, and when."""
    via_dc = markets[~markets["direct"] & (markets["target"] > 0)].reset_index(drop=True)
    arrived = lots[~lots["direct"] & ~lots["in_transit"] & (lots["arrival_age"] > 0.7)]
    combos = via_dc.merge(
        arrived[["first_site", "sku", "lot_id", "rank", "n_lots", "arrival_age"]],
        on=["first_site", "sku"],
    )
    if combos.empty:
        return combos.assign(quantity=[], status=[], ship_age=[], delivered=[])
    # Markets draw on the older lots first.
    market_row = combos.groupby(["site_id", "sku"], sort=False).ngroup().to_numpy()
    weights = np.zeros((market_row.max() + 1, 3))
    rank = combos["rank"].to_numpy()
    weights[market_row, rank] = (combos["n_lots"].to_numpy() - rank) * rng.uniform(
        0.5, 1.5, len(combos)
    )
    totals = combos.groupby(market_row)["target"].first().to_numpy()
    combos["quantity"] = _split(rng, totals, weights)[market_row, rank]

    fast, slow = _lane(times, combos["first_site"], combos["site_id"])
    arrival = combos["arrival_age"].to_numpy()
    can_release = arrival - 0.3 > slow + 0.3
    transit_top = np.minimum(fast - 0.05, arrival - 0.3)
    can_transit = transit_top > 0.05
    transit = can_transit & (~can_release | (rng.random(len(combos)) < 0.08))
    keep = transit | can_release
    ship = np.where(
        transit,
        rng.uniform(0.05, np.maximum(transit_top, 0.06)),
        rng.uniform(slow + 0.3, np.maximum(arrival - 0.3, slow + 0.31)),
    )
    combos["status"] = np.where(transit, "in_transit", "released")
    combos["ship_age"] = ship
    combos["lane_slowest"] = slow
    weeks_there = np.clip((ship - slow) / 7, 0, 8)
    serial = combos["serial_controlled"].to_numpy()
    used = combos["recent_weekly"].to_numpy() * weeks_there
    delivered = np.where(
        serial,
        np.minimum(rng.poisson(used * rng.uniform(0.2, 0.6, len(combos))), _MAX_SERIAL_DELIVERIES),
        rng.poisson(used * rng.uniform(0.2, 0.8, len(combos))),
    )
    combos["delivered"] = np.where(transit, 0, delivered)
    combos = combos[keep & ((combos["quantity"] > 0) | (combos["delivered"] > 0))]
    return combos.reset_index(drop=True)


def _deliveries(source: pd.DataFrame, site_col: str, earliest_age: np.ndarray, rng) -> pd.DataFrame:
    """Split each source row's ``delivered`` units into delivery parcels to customers.

    Serialized units leave one by one; lot quantities in up to four deliveries.
    """
    serial = source["serial_controlled"].to_numpy()
    delivered = source["delivered"].to_numpy()
    n_parcels = np.where(
        serial, delivered, np.minimum(delivered, 1 + rng.poisson(1.5, len(source)))
    )
    n_parcels = np.minimum(n_parcels, np.where(serial, n_parcels, _MAX_LOT_DELIVERIES))
    rows = source.loc[source.index.repeat(n_parcels)].reset_index(drop=True)
    parcel = _rank_within(n_parcels)
    weights = np.zeros((len(source), _MAX_LOT_DELIVERIES))
    lot_parcels = ~serial
    for k in range(_MAX_LOT_DELIVERIES):
        weights[:, k] = np.where(lot_parcels & (k < n_parcels), 1.0, 0.0)
    lot_split = _split(rng, np.where(lot_parcels, delivered, 0), weights)
    owner = np.repeat(np.arange(len(source)), n_parcels)
    quantity = np.where(
        serial[owner], 1, lot_split[owner, np.minimum(parcel, _MAX_LOT_DELIVERIES - 1)]
    )
    latest = np.repeat(earliest_age, n_parcels)
    rows["quantity"] = quantity
    rows["delivery_age"] = rng.uniform(0.02, np.maximum(latest - 0.2, 0.03))
    rows["delivered_from"] = rows[site_col]
    return rows[rows["quantity"] > 0]


def _plant_stock(items, sourcing, markets, rng) -> pd.DataFrame:
    """Recently produced lots still at their plant (quarantine until QA release)."""
    global_rate = markets.groupby("sku")["recent_weekly"].sum()
    stock = sourcing[sourcing["sku"].isin(global_rate.index)].reset_index(drop=True)
    profile = items.set_index("sku")
    # Serialized equipment and implants wait at the plant more often (built to order,
    # released unit by unit).
    serial = stock["sku"].map(profile["serial_controlled"]).astype(bool).to_numpy()
    stock = stock[rng.random(len(stock)) < np.where(serial, 0.5, 0.35)].reset_index(drop=True)
    stock["product_line"] = stock["sku"].map(profile["product_line"])
    stock["serial_controlled"] = stock["sku"].map(profile["serial_controlled"]).astype(bool)
    rate = stock["sku"].map(global_rate).to_numpy()
    quantity = np.maximum(1, rng.poisson(rate * rng.uniform(0.5, 1.5, len(stock))))
    stock["quantity"] = np.where(stock["serial_controlled"], np.minimum(quantity, 12), quantity)
    stock["receipt_age"] = rng.uniform(0.2, 21, len(stock))
    release = _uniform(rng, _RELEASE_DAYS, stock["product_line"].to_numpy())
    stock["status"] = np.where(stock["receipt_age"] < release, "quarantine", "released")
    return stock.rename(columns={"site_id": "plant"})


def _parcels(lots, shipments, rng) -> pd.DataFrame:
    """Every quantity that ends in one place, with the legs it travelled.

    Columns: lot_id, quantity, holder (empty once delivered), status, market (for
    stock that went on to a market), ship2_age, delivery_age, delivered_from.
    """
    held = lots.loc[
        lots["holding"] > 0, ["lot_id", "holding", "first_site", "in_transit", "direct"]
    ]
    at_dc = ~held["direct"] & ~held["in_transit"]
    status = np.where(held["in_transit"], "in_transit", "released")
    status = np.where(at_dc & (rng.random(len(held)) < 0.04), "quarantine", status)
    first = pd.DataFrame(
        {
            "lot_id": held["lot_id"],
            "quantity": held["holding"],
            "holder": held["first_site"],
            "status": status,
        }
    )
    at_market = shipments[shipments["quantity"] > 0]
    second = pd.DataFrame(
        {
            "lot_id": at_market["lot_id"],
            "quantity": at_market["quantity"],
            "holder": at_market["site_id"],
            "status": at_market["status"],
            "market": at_market["site_id"],
            "ship2_age": at_market["ship_age"],
        }
    )
    sold = shipments[shipments["delivered"] > 0]
    sold = _deliveries(sold, "site_id", (sold["ship_age"] - sold["lane_slowest"]).to_numpy(), rng)
    third = pd.DataFrame(
        {
            "lot_id": sold["lot_id"],
            "quantity": sold["quantity"],
            "market": sold["site_id"],
            "ship2_age": sold["ship_age"],
            "delivery_age": sold["delivery_age"],
            "delivered_from": sold["delivered_from"],
        }
    )
    direct = lots[lots["direct"] & ~lots["in_transit"]].copy()
    used = direct["recent_weekly"].to_numpy() * np.clip(direct["arrival_age"].to_numpy() / 7, 0, 8)
    direct["delivered"] = np.where(
        direct["serial_controlled"],
        np.minimum(rng.poisson(used * 0.4), _MAX_SERIAL_DELIVERIES),
        rng.poisson(used * rng.uniform(0.2, 0.8, len(direct))),
    )
    direct = direct[(direct["delivered"] > 0) & (direct["arrival_age"] > 0.3)]
    direct = _deliveries(direct, "first_site", direct["arrival_age"].to_numpy(), rng)
    fourth = pd.DataFrame(
        {
            "lot_id": direct["lot_id"],
            "quantity": direct["quantity"],
            "delivery_age": direct["delivery_age"],
            "delivered_from": direct["delivered_from"],
        }
    )
    return pd.concat([first, second, third, fourth], ignore_index=True)


def build_custody(
    items: pd.DataFrame,
    sourcing: pd.DataFrame,
    sites: pd.DataFrame,
    times: pd.DataFrame,
    rates: pd.DataFrame,
    targets: pd.DataFrame,
    rng: np.random.Generator,
) -> Custody:
    """Return the inventory snapshot and the movements that explain it.

    Parameters
    ----------
    items : DataFrame
        Item master with profile columns.
    sourcing : DataFrame
        Canonical sourcing table.
    sites : DataFrame
        Sites with profile columns (``supply_dc``).
    times : DataFrame
        Door-to-door lane times (see :func:`toolkit.synth.geography.lane_times`).
    rates : DataFrame
        ``site_id, sku, recent_weekly``: each market's recent weekly demand (it sets
        how much was delivered to customers lately).
    targets : DataFrame
        ``site_id, sku, target``: the stock each market and DC holds today (see
        :func:`stock_targets`).
    rng : numpy.random.Generator

    Returns
    -------
    Custody
    """
    profile = items.set_index("sku")
    markets = _market_positions(items, sourcing, sites, rates, targets)
    markets["serial_controlled"] = markets["sku"].map(profile["serial_controlled"]).astype(bool)
    positions = _stocking_positions(markets, targets)
    lots = _lots(positions, items, sourcing, times, rng)
    lots["serial_controlled"] = lots["sku"].map(profile["serial_controlled"]).astype(bool)
    lots["holding"] = _position_holdings(lots, rng)
    shipments = _market_shipments(markets, lots, times, rng)
    parcels = _parcels(lots, shipments, rng)

    # Keep only lots with stock left somewhere: the rest are history.
    stock_left = parcels[parcels["holder"].notna()].groupby("lot_id")["quantity"].sum()
    parcels = parcels[parcels["lot_id"].isin(stock_left.index[stock_left > 0])]
    lot_info = lots.set_index("lot_id")
    for column in ("sku", "plant", "hub", "first_site", "receipt_age", "ship_age", "hub_ship_age"):
        parcels[column] = parcels["lot_id"].map(lot_info[column])

    plant = _plant_stock(items, sourcing, markets, rng)
    plant_parcels = pd.DataFrame(
        {
            "lot_id": len(lots) + np.arange(len(plant)),
            "quantity": plant["quantity"],
            "holder": plant["plant"],
            "status": plant["status"],
            "sku": plant["sku"],
            "plant": plant["plant"],
            "receipt_age": plant["receipt_age"],
        }
    )
    parcels = pd.concat([parcels, plant_parcels], ignore_index=True)
    parcels = _identify(parcels, items)
    movements = _movements(parcels, items, rng)
    inventory = _inventory(parcels)
    return Custody(inventory, movements)


def _identify(parcels: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Number the lots and serials and date their expiry."""
    profile = items.set_index("sku")
    parcels = parcels.sort_values(
        ["lot_id", "holder", "market", "delivery_age"], na_position="last", kind="stable"
    )
    parcels = parcels.reset_index(drop=True)
    receipt = days_before_snapshot(parcels["receipt_age"].to_numpy())
    lot_number = pd.factorize(parcels["lot_id"])[0] + 1
    year = receipt.year % 100
    lot_code = [
        f"{_PLANT_LETTER[p]}{y:02d}{n:06d}"
        for p, y, n in zip(parcels["plant"], year, lot_number, strict=True)
    ]
    lot_controlled = parcels["sku"].map(profile["lot_controlled"]).astype(bool)
    parcels["lot"] = pd.Series(lot_code, index=parcels.index).where(lot_controlled)
    shelf = parcels["sku"].map(profile["shelf_life_days"]).astype("Float64")
    expiry = receipt.normalize() + pd.to_timedelta(shelf.fillna(0).to_numpy(dtype=float), unit="D")
    parcels["expiry_date"] = pd.Series(expiry, index=parcels.index).where(shelf.notna())

    serial = parcels["sku"].map(profile["serial_controlled"]).astype(bool).to_numpy()
    units = parcels.loc[parcels.index.repeat(np.where(serial, parcels["quantity"], 1))]
    units = units.reset_index(drop=True)
    is_unit = units["sku"].map(profile["serial_controlled"]).astype(bool).to_numpy()
    units["quantity"] = np.where(is_unit, 1, units["quantity"])
    line = units["sku"].map(profile["product_line"]).map(_LINE_LETTER)
    count = np.cumsum(is_unit)
    serial_code = [
        f"{a}{_PLANT_LETTER[p]}{n:08d}" for a, p, n in zip(line, units["plant"], count, strict=True)
    ]
    units["serial"] = pd.Series(serial_code, index=units.index).where(is_unit)
    return units


_LEG_ORDER = {
    "receipt": 0,
    "plant_shipment": 1,
    "hub_shipment": 2,
    "market_shipment": 3,
    "delivery": 4,
}


def _movements(parcels: pd.DataFrame, items: pd.DataFrame, rng) -> pd.DataFrame:
    """One movement per lot (or serial) and leg, in time order."""
    key = parcels["serial"].fillna("")
    parcels = parcels.assign(unit=key)
    legs = []

    columns = [
        "quantity",
        "sku",
        "lot",
        "serial",
        "expiry_date",
        "age",
        "from_site",
        "to_site",
        "lot_id",
    ]

    def leg(name, frame, by, age, from_site, to_site):
        frame = frame.assign(
            age=frame[age],
            from_site=frame[from_site] if from_site else None,
            to_site=frame[to_site] if to_site else None,
        )
        # A serialized unit is its own parcel: only lot quantities need adding up.
        units = frame["serial"].notna().to_numpy()
        grouped = (
            frame[~units]
            .groupby(by, sort=True, dropna=False)
            .agg(
                quantity=("quantity", "sum"),
                **{column: (column, "first") for column in columns[1:]},
            )
        )
        both = pd.concat(
            [grouped.reset_index(drop=True), frame.loc[units, columns]], ignore_index=True
        )
        legs.append(both.assign(leg=name))

    shipped = parcels[parcels["ship_age"].notna()].assign(
        first_stop=lambda f: f["hub"].fillna(f["first_site"])
    )
    leg("receipt", parcels, ["lot_id", "unit"], "receipt_age", None, "plant")
    leg("plant_shipment", shipped, ["lot_id", "unit"], "ship_age", "plant", "first_stop")
    via_hub = parcels[parcels["hub"].notna() & parcels["ship_age"].notna()]
    if len(via_hub):
        leg("hub_shipment", via_hub, ["lot_id", "unit"], "hub_ship_age", "hub", "first_site")
    onward = parcels[parcels["market"].notna()]
    leg(
        "market_shipment", onward, ["lot_id", "market", "unit"], "ship2_age", "first_site", "market"
    )
    delivered = parcels[parcels["delivery_age"].notna()].reset_index(drop=True)
    delivered = delivered.assign(parcel=np.arange(len(delivered)))
    leg("delivery", delivered, ["parcel"], "delivery_age", "delivered_from", None)

    moves = pd.concat(legs, ignore_index=True)
    moves["timestamp"] = days_before_snapshot(moves["age"].to_numpy())
    moves["leg_order"] = moves["leg"].map(_LEG_ORDER)
    moves = moves.sort_values(
        ["timestamp", "leg_order", "lot_id", "serial", "to_site"],
        na_position="first",
        kind="stable",
    ).reset_index(drop=True)
    moves["movement_id"] = [f"MV{n:08d}" for n in range(1, len(moves) + 1)]
    moves["document_id"] = _documents(moves)
    profile = items.set_index("sku")
    raw = rng.random(len(moves)) < RAW_UDI_SHARE
    moves["udi"] = udi_strings(
        moves["sku"].map(profile["gtin"]), moves["expiry_date"], moves["lot"], moves["serial"], raw
    )
    columns = ["movement_id", "timestamp", "udi", "sku", "lot", "serial", "from_site", "to_site",
               "quantity", "document_id"]  # fmt: skip
    return moves[columns]


def _documents(moves: pd.DataFrame) -> list[str]:
    """Number the documents: one production receipt per lot, one delivery note per
    shipment of a lot between two sites, one customer delivery per delivery."""
    prefix = moves["leg"].map(
        {
            "receipt": "PR",
            "plant_shipment": "DN",
            "hub_shipment": "DN",
            "market_shipment": "DN",
            "delivery": "SO",
        }
    )
    group = np.where(
        moves["leg"].eq("delivery"),
        moves["movement_id"],
        moves["leg"] + "|" + moves["lot_id"].astype(str) + "|" + moves["to_site"].fillna(""),
    )
    first_seen = pd.factorize(pd.Series(group))[0]
    numbers = pd.Series(first_seen).groupby(prefix.to_numpy()).rank(method="dense").astype(int)
    return [f"{p}{n:07d}" for p, n in zip(prefix, numbers, strict=True)]


def _inventory(parcels: pd.DataFrame) -> pd.DataFrame:
    """Sum what each site holds by sku, lot, serial and status."""
    held = parcels[parcels["holder"].notna()]
    keys = ["holder", "sku", "lot", "serial", "status"]
    stock = held.groupby(keys, dropna=False, sort=True).agg(
        quantity=("quantity", "sum"), expiry_date=("expiry_date", "first")
    )
    stock = stock.reset_index().rename(columns={"holder": "site_id"})
    stock.insert(0, "snapshot_date", SNAPSHOT_DATE)
    columns = [
        "snapshot_date",
        "site_id",
        "sku",
        "lot",
        "serial",
        "expiry_date",
        "quantity",
        "status",
    ]
    return stock[columns]
