"""Weekly demand per market and sku, and the events that drive it.

Each (market, sku) pair that sells gets a demand *recipe* aimed at one of the
Syntetos-Boylan classes: ``smooth`` and ``erratic`` series are Poisson draws around a
gamma-distributed level (a small gamma shape makes sizes erratic); ``intermittent``
and ``lumpy`` series are Bernoulli occurrences with sizes of one plus a Poisson
(lumpy sizes get a gamma-mixed, over-dispersed Poisson). The level moves with the
sku's lifecycle curve, yearly seasonality and hospital budget cycles, promotions and
reimbursement changes; tenders and maintenance campaigns add their units on top.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from toolkit.synth.catalog import lifecycle_curves
from toolkit.synth.timeline import SNAPSHOT_DATE, week_starts

__all__ = ["DemandHistory", "PATTERNS", "RECENT_WEEKS", "generate_demand"]

PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
_PATTERN_WEIGHTS = {
    "consumables": (0.70, 0.25, 0.05, 0.0),
    "implants": (0.30, 0.35, 0.20, 0.15),
    "capital_equipment": (0.0, 0.0, 0.30, 0.70),
    "spare_parts": (0.0, 0.15, 0.60, 0.25),
}
_LINES = tuple(_PATTERN_WEIGHTS)
_LINE_REACH = {
    "consumables": 1.0,
    "implants": 0.9,
    "capital_equipment": 0.8,
    "spare_parts": 0.85,
}
# Smallest tender that is worth a public procurement (units).
_MIN_TENDER = {"consumables": 40, "implants": 8, "capital_equipment": 3}
_CHUNK_PAIRS = 20_000
#: Spans (weeks) of the recent average demand reported per pair (``recent_<weeks>``).
RECENT_WEEKS = (13, 26)


class DemandHistory(NamedTuple):
    """What :func:`generate_demand` returns.

    Attributes
    ----------
    demand : DataFrame
        ``date, site_id, sku, quantity`` (global skus).
    events : DataFrame
        ``date, site_id, region, sku, event_type, quantity``.
    pairs : DataFrame
        One row per selling (market, sku) pair with its recipe (``site_id, sku,
        product_line, pattern, mean_weekly, first_week, last_week``) and its average
        weekly demand over the last 13 and 26 weeks (``recent_13, recent_26``).
    """

    demand: pd.DataFrame
    events: pd.DataFrame
    pairs: pd.DataFrame


def _selling_pairs(items: pd.DataFrame, markets: pd.DataFrame, rng) -> np.ndarray:
    """Return the (sku x market) mask of where each sku is sold.

    Big markets carry more of the catalogue; a successor sells where its predecessor
    did, and a spare part where its equipment is installed.
    """
    reach = np.clip(0.3 + 0.12 * np.log1p(markets["weight"].to_numpy()), 0.3, 0.75)
    line_reach = items["product_line"].map(_LINE_REACH).to_numpy()
    sold = rng.random((len(items), len(markets))) < line_reach[:, None] * reach[None, :]
    index = {sku: i for i, sku in enumerate(items["sku"])}
    # Successors follow their predecessors in chain order (gen 1 -> gen 2 -> gen 3).
    successors = items.dropna(subset=["successor_sku"])
    for _ in range(3):
        for old, new in zip(successors["sku"], successors["successor_sku"], strict=True):
            sold[index[new]] = sold[index[old]]
    spares = items.dropna(subset=["parent_sku"])
    for spare, parent in zip(spares["sku"], spares["parent_sku"], strict=True):
        sold[index[spare]] = sold[index[parent]] & (rng.random(len(markets)) < 0.85)
    nowhere = ~sold.any(axis=1)
    sold[nowhere, int(np.argmax(markets["weight"].to_numpy()))] = True
    return sold


def _recipes(pairs: pd.DataFrame, rng) -> pd.DataFrame:
    """Choose each pair's pattern and the parameters that produce it."""
    n = len(pairs)
    mu = pairs["mean_weekly"].to_numpy()
    target = np.empty(n, dtype=object)
    for line, weights in _PATTERN_WEIGHTS.items():
        on_line = pairs["product_line"].to_numpy() == line
        target[on_line] = rng.choice(PATTERNS, size=int(on_line.sum()), p=weights)
    # What a level can produce: a steady series needs a few units a week, an
    # intermittent one (sizes near one) at most about two.
    target = np.where((target == "smooth") & (mu < 3), "intermittent", target)
    target = np.where((target == "erratic") & (mu < 6), "lumpy", target)
    target = np.where((target == "intermittent") & (mu > 2), "smooth", target)
    continuous = np.isin(target, ("smooth", "erratic"))
    gamma_shape = np.where(target == "smooth", rng.uniform(6, 25, n), rng.uniform(0.7, 1.3, n))
    # Sporadic series: occurrence probability and the mean size of an occurrence.
    lumpy = target == "lumpy"
    size_mean = np.where(lumpy, rng.uniform(3, 8, n), 1.0)
    occurrence = np.where(lumpy, mu / size_mean, rng.uniform(0.1, 0.55, n))
    occurrence = np.clip(occurrence, 0.01, 0.6)
    size_mean = np.maximum(1.0, mu / occurrence)
    size_shape = np.where(lumpy, rng.uniform(0.5, 1.0, n), 50.0)
    return pairs.assign(
        pattern=target,
        continuous=continuous,
        gamma_shape=gamma_shape,
        occurrence=occurrence,
        size_mean=size_mean,
        size_shape=size_shape,
    )


def _budget_rush(dates: pd.DatetimeIndex, fiscal_year_end: int) -> np.ndarray:
    """Return True for weeks in the last eight before a fiscal year ends."""
    year_end = pd.to_datetime(
        {"year": dates.year, "month": fiscal_year_end, "day": 1}
    ) + pd.offsets.MonthEnd(0)
    year_end = year_end.where(year_end >= dates, year_end + pd.offsets.DateOffset(years=1))
    return ((year_end - dates).dt.days < 56).to_numpy()


def _seasonality(markets: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """Return the seasonal factor per (product line, market, week)."""
    week = dates.isocalendar().week.to_numpy().astype(float)
    holidays = (week >= 52) | (week == 1)
    season = np.ones((len(_LINES), len(markets), len(dates)))
    for m, market in enumerate(markets.itertuples()):
        # Consumables peak in the local winter (respiratory season, more admissions).
        peak = 29 if market.southern else 3
        consumables = 1 + 0.10 * np.cos(2 * np.pi * (week - peak) / 52)
        season[_LINES.index("consumables"), m] = consumables * np.where(holidays, 0.8, 1.0)
        # Elective surgery stops over the holidays and the local summer break.
        implants = np.where(holidays, 0.7, 1.0)
        if market.region == "EMEA":
            implants = implants * np.where((week >= 31) & (week <= 34), 0.75, 1.0)
        if market.southern:
            implants = implants * np.where((week >= 2) & (week <= 5), 0.8, 1.0)
        if market.region == "CHINA":
            implants = implants * np.where((week >= 5) & (week <= 6), 0.6, 1.0)
        season[_LINES.index("implants"), m] = implants
        # Hospitals spend what is left of their capital budget before the year ends.
        rush = _budget_rush(dates, int(market.fiscal_year_end))
        season[_LINES.index("capital_equipment"), m] = np.where(rush, 2.5, 0.85)
        season[_LINES.index("spare_parts"), m] = np.where(rush, 1.4, 0.95)
    return season


class _EventPlan(NamedTuple):
    rows: pd.DataFrame  # the events table
    multiplier: np.ndarray  # pairs x weeks, promotions and reimbursement
    extra_pair: np.ndarray  # tender / maintenance units added after sampling
    extra_week: np.ndarray
    extra_units: np.ndarray


def _active_week(
    pairs: pd.DataFrame, curves: np.ndarray, candidates: np.ndarray, rng, min_level=0.3
):
    """Pick one week per candidate pair where its lifecycle level is at least ``min_level``."""
    weeks = np.full(len(candidates), -1)
    for k, p in enumerate(candidates):
        level = curves[pairs["sku_index"].iat[p]]
        usable = np.flatnonzero(level >= min_level)
        usable = usable[usable >= pairs["first_week"].iat[p] + 2]
        if len(usable):
            weeks[k] = usable[int(rng.integers(len(usable)))]
    return weeks


def _plan_events(
    pairs: pd.DataFrame,
    markets: pd.DataFrame,
    curves: np.ndarray,
    dates: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> _EventPlan:
    n_pairs, n_weeks = len(pairs), len(dates)
    multiplier = np.ones((n_pairs, n_weeks), dtype=np.float32)
    rows: list[dict] = []
    extras: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    line = pairs["product_line"].to_numpy()
    region = pairs["site_id"].map(markets.set_index("site_id")["region"]).to_numpy()
    typical = np.maximum(pairs["mean_weekly"].to_numpy(), pairs["size_mean"].to_numpy())
    future_dates = SNAPSHOT_DATE + pd.to_timedelta(7 * np.arange(13), unit="D")

    def spikes(candidates: np.ndarray, count: int, event_type: str, low: float, high: float):
        if not len(candidates):
            return
        chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
        weeks = _active_week(pairs, curves, chosen, rng)
        chosen, weeks = chosen[weeks >= 0], weeks[weeks >= 0]
        minimum = np.array([_MIN_TENDER.get(x, 2) for x in line[chosen]])
        units = np.maximum(minimum, np.round(rng.uniform(low, high, len(chosen)) * typical[chosen]))
        extras.append((chosen, weeks, units))
        rows.extend(
            {
                "date": dates[w],
                "site_id": pairs["site_id"].iat[p],
                "sku": pairs["sku"].iat[p],
                "event_type": event_type,
                "quantity": float(u),
            }
            for p, w, u in zip(chosen, weeks, units, strict=True)
        )
        # A few more are already known for the coming quarter (awarded, not delivered).
        selling_now = candidates[curves[pairs["sku_index"].to_numpy()[candidates], -1] >= 0.3]
        if len(selling_now):
            ahead = rng.choice(
                selling_now, size=min(max(1, count // 6), len(selling_now)), replace=False
            )
            when = rng.choice(future_dates, size=len(ahead))
            units = np.maximum(1, np.round(rng.uniform(low, high, len(ahead)) * typical[ahead]))
            rows.extend(
                {
                    "date": d,
                    "site_id": pairs["site_id"].iat[p],
                    "sku": pairs["sku"].iat[p],
                    "event_type": event_type,
                    "quantity": float(u),
                }
                for p, d, u in zip(ahead, when, units, strict=True)
            )

    tenderable = np.flatnonzero(np.isin(line, tuple(_MIN_TENDER)))
    spikes(tenderable, max(3, round(0.04 * len(tenderable))), "tender", 4, 10)
    spares = np.flatnonzero(line == "spare_parts")
    spikes(spares, max(3, round(0.12 * len(spares))), "maintenance", 3, 8)

    # Promotions: a few weeks of bundle pricing on some consumables in one market.
    consumables = pairs[line == "consumables"]
    by_market = consumables.groupby("site_id").size()
    for _ in range(2):
        eligible = by_market[by_market >= 2].index
        if not len(eligible) or n_weeks < 20:
            break
        market = eligible[int(rng.integers(len(eligible)))]
        by_market = by_market.drop(market)  # one promotion per market
        start = int(rng.integers(8, n_weeks - 6))
        weeks = np.arange(start, start + 4)
        in_market = consumables.index[consumables["site_id"].eq(market)].to_numpy()
        chosen = rng.choice(
            in_market, size=min(len(in_market), int(rng.integers(2, 4))), replace=False
        )
        uplift = round(float(rng.uniform(0.2, 0.5)), 2)
        for p in chosen:
            multiplier[p, weeks] *= 1 + uplift
            rows.extend(
                {"date": dates[w], "site_id": market, "sku": pairs["sku"].iat[p],
                 "event_type": "promotion", "quantity": uplift}
                for w in weeks
            )  # fmt: skip

    # Reimbursement changes, region-wide and lasting: China's volume-based procurement
    # of implants lifts volumes; a LATAM cut in reimbursement lowers all demand.
    for region_code, product_line, week, change in (
        ("CHINA", "implants", round(0.62 * n_weeks), 0.30),
        ("LATAM", None, round(0.45 * n_weeks), -0.12),
    ):
        hit = region == region_code
        if product_line:
            hit &= line == product_line
        if not hit.any():
            continue
        multiplier[np.flatnonzero(hit), week:] *= 1 + change
        selling = curves[pairs["sku_index"].to_numpy(), week] > 0
        skus = sorted(pairs.loc[hit & selling, "sku"].unique()) if product_line else [None]
        rows.extend(
            {"date": dates[week], "region": region_code, "sku": sku,
             "event_type": "reimbursement", "quantity": change}
            for sku in skus
        )  # fmt: skip

    events = pd.DataFrame(
        rows, columns=["date", "site_id", "region", "sku", "event_type", "quantity"]
    )
    events = events.sort_values(
        ["date", "event_type", "site_id", "region", "sku"], na_position="first"
    )
    extra_pair, extra_week, extra_units = (
        np.concatenate(parts) if extras else np.array([], dtype=int)
        for parts in zip(*extras, strict=True)
    )
    return _EventPlan(
        events.reset_index(drop=True), multiplier, extra_pair, extra_week, extra_units
    )


def _sample(pairs: pd.DataFrame, level: np.ndarray, rng) -> np.ndarray:
    """Draw weekly quantities for a block of pairs given their level (pairs x weeks)."""
    quantity = np.zeros(level.shape)
    continuous = pairs["continuous"].to_numpy()
    if continuous.any():
        rows = np.flatnonzero(continuous)
        shape = pairs["gamma_shape"].to_numpy()[rows, None]
        noise = rng.gamma(shape, 1.0 / shape, size=(len(rows), level.shape[1]))
        mean = pairs["mean_weekly"].to_numpy()[rows, None] * level[rows] * noise
        quantity[rows] = rng.poisson(mean)
    if (~continuous).any():
        rows = np.flatnonzero(~continuous)
        chance = np.clip(pairs["occurrence"].to_numpy()[rows, None] * level[rows], 0, 0.95)
        occurs = rng.random(chance.shape) < chance
        shape = pairs["size_shape"].to_numpy()[rows, None]
        spread = rng.gamma(shape, 1.0 / shape, size=chance.shape)
        size = 1 + rng.poisson((pairs["size_mean"].to_numpy()[rows, None] - 1) * spread)
        quantity[rows] = occurs * size
    return quantity


def generate_demand(
    items: pd.DataFrame, sites: pd.DataFrame, n_weeks: int, rng: np.random.Generator
) -> DemandHistory:
    """Return weekly demand, its events and the selling pairs.

    Parameters
    ----------
    items : DataFrame
        Item master with profile columns (see :func:`toolkit.synth.catalog.build_items`).
    sites : DataFrame
        Sites with profile columns (see :func:`toolkit.synth.geography.build_sites`).
    n_weeks : int
        Weeks of history before the snapshot.
    rng : numpy.random.Generator

    Returns
    -------
    DemandHistory
        Every pair has one row per week from its first to its last active week,
        zero weeks included, so intermittency is visible.
    """
    markets = sites[sites["site_type"].eq("market")].reset_index(drop=True)
    dates = week_starts(n_weeks)
    curves = lifecycle_curves(items, n_weeks)
    sold = _selling_pairs(items, markets, rng)
    # Pairs in market, then sku order, so the demand rows come out sorted.
    market_index, sku_index = np.nonzero(sold.T)
    weight = markets["weight"].to_numpy()
    pairs = pd.DataFrame(
        {
            "site_id": markets["site_id"].to_numpy()[market_index],
            "sku": items["sku"].to_numpy()[sku_index],
            "sku_index": sku_index,
            "market_index": market_index,
            "product_line": items["product_line"].to_numpy()[sku_index],
            "mean_weekly": items["base_weekly"].to_numpy()[sku_index]
            * weight[market_index]
            / weight.sum(),
            "first_week": np.maximum(0, items["launch_week"].to_numpy()[sku_index]),
            "last_week": np.minimum(n_weeks - 1, items["phaseout_end"].to_numpy()[sku_index]),
        }
    )
    pairs = _recipes(pairs, rng)
    season = _seasonality(markets, dates)
    plan = _plan_events(pairs, markets, curves, dates, rng)
    line_index = pairs["product_line"].map({x: i for i, x in enumerate(_LINES)}).to_numpy()

    blocks = []
    recent = {weeks: np.zeros(len(pairs)) for weeks in RECENT_WEEKS}
    week = np.arange(n_weeks)[None, :]
    for start in range(0, len(pairs), _CHUNK_PAIRS):
        block = slice(start, min(start + _CHUNK_PAIRS, len(pairs)))
        chunk = pairs.iloc[block]
        level = (
            curves[chunk["sku_index"].to_numpy()]
            * season[line_index[block], chunk["market_index"].to_numpy()]
            * plan.multiplier[block]
        )
        quantity = _sample(chunk, level, rng)
        in_block = (plan.extra_pair >= block.start) & (plan.extra_pair < block.stop)
        np.add.at(
            quantity,
            (plan.extra_pair[in_block] - block.start, plan.extra_week[in_block]),
            plan.extra_units[in_block],
        )
        active = (week >= chunk["first_week"].to_numpy()[:, None]) & (
            week <= chunk["last_week"].to_numpy()[:, None]
        )
        pair_at, week_at = np.nonzero(active)
        blocks.append((pair_at + block.start, week_at, quantity[pair_at, week_at]))
        for weeks, rate in recent.items():
            rate[block] = quantity[:, -weeks:].sum(axis=1) / weeks

    pair_at, week_at, quantity = (np.concatenate(parts) for parts in zip(*blocks, strict=True))
    site_ids = markets["site_id"].to_numpy(dtype=object)
    skus = items["sku"].to_numpy(dtype=object)
    demand = pd.DataFrame(
        {
            "date": dates[week_at],
            "site_id": site_ids[pairs["market_index"].to_numpy()[pair_at]],
            "sku": skus[pairs["sku_index"].to_numpy()[pair_at]],
            "quantity": quantity,
        }
    )
    for weeks, rate in recent.items():
        pairs[f"recent_{weeks}"] = rate
    return DemandHistory(demand, plan.rows, pairs)
