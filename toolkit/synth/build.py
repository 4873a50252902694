"""Putting the extract together: :func:`generate` runs every part in order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.dataset import dtype_for
from toolkit.schema import TABLES
from toolkit.synth.catalog import build_aliases, build_items, build_sourcing
from toolkit.synth.custody import build_custody, stock_targets
from toolkit.synth.defects import DEFECT_KINDS, Defect, DefectCounts, inject_defects
from toolkit.synth.demand import generate_demand
from toolkit.synth.geography import SECOND_ERP_SYSTEM, build_lanes, build_sites, lane_times
from toolkit.synth.policies import baseline_policies
from toolkit.synth.timeline import SNAPSHOT_DATE

__all__ = ["GENERATOR_VERSION", "ExtractManifest", "generate"]

#: Bumped whenever the same seed would give different files.
GENERATOR_VERSION = "1.0.0"

# Weeks of history behind the "recent" demand rates that set stock and policies.
_STOCK_WEEKS = 13
_POLICY_WEEKS = 26


@dataclass(frozen=True)
class ExtractManifest:
    """What was generated, from which seed, and every defect injected into it."""

    seed: int
    n_skus: int
    n_markets: int
    n_weeks: int
    defects: tuple[Defect, ...] = ()
    generator_version: str = GENERATOR_VERSION
    snapshot_date: str = SNAPSHOT_DATE.strftime("%Y-%m-%d")

    def counts(self) -> dict[str, int]:
        """Return the number of manifest entries (defective cells) per kind."""
        counts = dict.fromkeys(DEFECT_KINDS, 0)
        for defect in self.defects:
            counts[defect.kind] += 1
        return counts

    def injections(self) -> dict[str, int]:
        """Return the number of injections per kind (see :class:`DefectCounts`)."""
        groups = {kind: set() for kind in DEFECT_KINDS}
        for defect in self.defects:
            groups[defect.kind].add(defect.injection)
        return {kind: len(ids) for kind, ids in groups.items()}

    def to_dict(self) -> dict:
        return {
            "generator": "toolkit.synth",
            "generator_version": self.generator_version,
            "seed": self.seed,
            "parameters": {
                "n_skus": self.n_skus,
                "n_markets": self.n_markets,
                "n_weeks": self.n_weeks,
            },
            "snapshot_date": self.snapshot_date,
            "counts": self.counts(),
            "injections": self.injections(),
            "defects": [d.to_dict() for d in self.defects],
        }


def _canonical(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Keep the table's schema columns (in schema order) with their canonical dtypes."""
    spec = TABLES[table]
    columns = [c for c in spec.columns if c.name in frame.columns]
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        raise AssertionError(f"{table} lacks required columns {missing}")
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column.name]
        if column.kind in ("code", "text"):
            # Plain Python strings with None for empty, as the loader holds codes.
            values = values.astype(object, copy=False)
            if values.isna().any():
                values = values.where(values.notna(), None)
        else:
            values = values.astype(dtype_for(column.kind, column.nullable), copy=False)
        out[column.name] = values
    return out if isinstance(out.index, pd.RangeIndex) else out.reset_index(drop=True)


def _local_codes(demand: pd.DataFrame, aliases: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Give the second ERP's markets their local item codes and ``source_system``."""
    second = sites.loc[sites["erp_system"].eq(SECOND_ERP_SYSTEM), "site_id"]
    local = demand["site_id"].isin(second).to_numpy()
    sku = demand["sku"].to_numpy(dtype=object)
    sku[local] = pd.Series(sku[local]).map(aliases.set_index("sku")["local_code"]).to_numpy()
    system = np.full(len(demand), None, dtype=object)
    system[local] = SECOND_ERP_SYSTEM
    demand["sku"] = sku
    demand["source_system"] = system
    return demand


def generate(
    seed: int = 7,
    n_skus: int = 90,
    n_markets: int = 12,
    n_weeks: int = 156,
    defects: bool | DefectCounts = False,
) -> tuple[dict[str, pd.DataFrame], ExtractManifest]:
    """Generate a synthetic ERP extract of a multinational medical-device maker.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed and sizes give the same
        tables (and byte-identical files).
    n_skus : int
        Number of skus (at least 20).
    n_markets : int
        Number of markets, 5 to 72 (one per country).
    n_weeks : int
        Weeks of demand history before the snapshot (at least 26).
    defects : bool or DefectCounts
        ``False`` for a clean extract, ``True`` for the default
        :class:`DefectCounts`, or explicit counts.

    Returns
    -------
    tables : dict of str to DataFrame
        Every canonical table, typed as :class:`toolkit.dataset.Dataset` holds them.
    manifest : ExtractManifest
        Seed, sizes and the injected defects.

    Examples
    --------
    >>> tables, manifest = generate(seed=1, n_skus=20, n_markets=5, n_weeks=52)
    >>> sorted(tables) == sorted(TABLES)
    True
    """
    if n_weeks < 26:
        raise ValueError(f"n_weeks must be at least 26, got {n_weeks}")
    counts = DefectCounts() if defects is True else (defects or DefectCounts.none())
    streams = np.random.default_rng(seed).spawn(8)
    items = build_items(n_skus, n_weeks, streams[0])
    sites = build_sites(n_markets)
    lanes = build_lanes(sites, streams[1])
    sourcing = build_sourcing(items, streams[2])
    history = generate_demand(items, sites, n_weeks, streams[3])
    times = lane_times(lanes)

    pairs = history.pairs
    still_selling = pairs[pairs["last_week"].eq(n_weeks - 1)]
    policy_rate = still_selling[["site_id", "sku", f"recent_{_POLICY_WEEKS}"]]
    policies = baseline_policies(
        policy_rate.set_axis(["site_id", "sku", "average_weekly"], axis=1),
        items,
        sites,
        sourcing,
        times,
    )
    # Today's stock follows today's policies; recent demand sets recent deliveries.
    targets = stock_targets(policies, streams[7])
    rates = pairs[["site_id", "sku", f"recent_{_STOCK_WEEKS}"]]
    custody = build_custody(
        items,
        sourcing,
        sites,
        times,
        rates.set_axis(["site_id", "sku", "recent_weekly"], axis=1),
        targets,
        streams[4],
    )
    second_erp = sites.loc[sites["erp_system"].eq(SECOND_ERP_SYSTEM), "site_id"]
    sold_there = pd.Index(
        history.pairs.loc[history.pairs["site_id"].isin(second_erp), "sku"].unique()
    )
    aliases = build_aliases(items, sold_there, SECOND_ERP_SYSTEM, streams[5])
    demand = _local_codes(history.demand, aliases, sites)

    raw = {
        "sites": sites,
        "items": items,
        "sourcing": sourcing,
        "lanes": lanes,
        "demand": demand,
        "events": history.events,
        "inventory": custody.inventory,
        "movements": custody.movements,
        "policies": policies,
        "aliases": aliases,
    }
    tables = {name: _canonical(frame, name) for name, frame in raw.items()}
    tables, injected = inject_defects(tables, counts, SECOND_ERP_SYSTEM, streams[6])
    tables = {name: _tidy(frame, name) for name, frame in tables.items()}
    manifest = ExtractManifest(seed, n_skus, n_markets, n_weeks, injected)
    return tables, manifest


# Small tables are sorted into a readable order once defects are in (the big ones are
# generated in order and defect rows are inserted in place).
_ROW_ORDER = {
    "inventory": ["site_id", "sku", "lot", "serial", "status"],
    "aliases": ["system", "local_code", "sku"],
}


def _tidy(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Sort rows into a readable order (extra defect rows land among their peers)."""
    order = _ROW_ORDER.get(table)
    if order:
        frame = frame.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    return frame
