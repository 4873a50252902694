"""Demand segmentation: ABC, XYZ and demand-pattern classes, and service-level targets.

One row per demand series (a market site and a sku) with the metrics and classes
that decide how it is forecast and what service it is promised:

ABC (value)
    Series ranked by annual consumption value (annualized quantity of the last
    ``annual_weeks`` weeks times unit cost). **A** is the smallest set of
    top-ranked series that reaches the first cut-off share of total value (default
    80 %), **B** the next ones up to the second cut-off (95 %), **C** the rest.
    Precisely: a series is A when the series ranked *above* it hold less than 80 %
    of the value, so the series that crosses 80 % is still A.
XYZ (variability)
    Coefficient of variation of weekly demand (zeros included, population standard
    deviation): **X** below 0.5, **Y** from 0.5 to below 1.0, **Z** from 1.0 (and
    series without demand).
Demand pattern (Syntetos, Boylan and Croston 2005)
    ADI, the average demand interval (weeks in the window / weeks with demand), and
    CV², the squared coefficient of variation of the non-zero demand sizes
    (population standard deviation; a single demand gives 0). **smooth**: ADI <
    1.32 and CV² < 0.49; **erratic**: ADI < 1.32, CV² >= 0.49; **intermittent**:
    ADI >= 1.32, CV² < 0.49; **lumpy**: both at or above. Two more classes are
    explicit fallbacks: **new** (fewer than ``min_history`` weeks since the first
    demand: launches and new listings, too short to classify) and **inactive** (no
    demand in the window).

A value exactly at a cut-off belongs to the upper class. Metrics are rounded to 10
decimals before the comparison so floating-point noise (``0.7**2`` is
``0.48999999999999994``) cannot move a series across.

Service-level targets, first rule that applies:

1. critical items (``criticality`` in ``critical_levels`` or ``True``): ``critical_target``;
2. class **new**: ``launch_target`` (a launch must not stock out while the market
   adopts it);
3. lifecycle ``end_of_life``: ``end_of_life_target`` (lower: stock left at phase-out
   becomes obsolete);
4. otherwise the ABC x XYZ matrix ``service_levels[abc][xyz]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit.demand_panel import WeeklyPanel, series_keys, to_weekly_panel

__all__ = [
    "DEFAULT_SERVICE_LEVELS",
    "PATTERNS",
    "pattern_metrics",
    "classify_demand_pattern",
    "abc_classes",
    "xyz_classes",
    "segment_demand",
    "segment_panel_patterns",
    "segment_matrix",
]

#: Target cycle service level per ABC class and XYZ class.
DEFAULT_SERVICE_LEVELS: dict[str, dict[str, float]] = {
    "A": {"X": 0.99, "Y": 0.98, "Z": 0.97},
    "B": {"X": 0.97, "Y": 0.96, "Z": 0.95},
    "C": {"X": 0.95, "Y": 0.93, "Z": 0.90},
}

#: Every demand-pattern class, the four of Syntetos-Boylan-Croston and two fallbacks.
PATTERNS: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy", "new", "inactive")

_DECIMALS = 10


def pattern_metrics(panel: np.ndarray, *, window_weeks: int | None = 104) -> pd.DataFrame:
    """Compute the demand metrics of each series of a panel.

    Parameters
    ----------
    panel : ndarray, shape (n_series, n_weeks)
        Weekly demand, ``NaN`` before a series' start (see
        :class:`toolkit.demand_panel.WeeklyPanel`).
    window_weeks : int, optional
        Only the last ``window_weeks`` weeks enter the metrics (all when None).

    Returns
    -------
    DataFrame
        One row per series: ``n_weeks`` (observed weeks in the window), ``n_demands``
        (weeks with demand), ``weeks_since_first_demand`` (whole history), ``mean``,
        ``std``, ``cv``, ``adi``, ``cv2``. Undefined values are ``NaN``.
    """
    values = np.asarray(panel, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    n_total = values.shape[1]
    demand_any = np.nan_to_num(values) > 0
    has_demand = demand_any.any(axis=1)
    first_demand = np.where(has_demand, demand_any.argmax(axis=1), n_total)
    weeks_since_first = np.where(has_demand, n_total - first_demand, 0)
    if window_weeks is not None:
        values = values[:, -window_weeks:]
    observed = ~np.isnan(values)
    filled = np.where(observed, values, 0.0)
    n_weeks = observed.sum(axis=1)
    demand = filled > 0
    n_demands = demand.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_weeks > 0, filled.sum(axis=1) / n_weeks, np.nan)
        deviation = np.where(observed, values - mean[:, None], 0.0)
        std = np.sqrt((deviation**2).sum(axis=1) / n_weeks)
        cv = np.where(mean > 0, std / mean, np.nan)
        adi = np.where(n_demands > 0, n_weeks / n_demands, np.nan)
        size_mean = np.where(n_demands > 0, filled.sum(axis=1) / n_demands, np.nan)
        size_dev = np.where(demand, filled - size_mean[:, None], 0.0)
        size_std = np.sqrt((size_dev**2).sum(axis=1) / n_demands)
        cv2 = np.where(n_demands > 0, (size_std / size_mean) ** 2, np.nan)
    return pd.DataFrame(
        {
            "n_weeks": n_weeks,
            "n_demands": n_demands,
            "weeks_since_first_demand": weeks_since_first,
            "mean": mean,
            "std": std,
            "cv": cv,
            "adi": adi,
            "cv2": cv2,
        }
    )


def classify_demand_pattern(
    adi: np.ndarray | Sequence[float],
    cv2: np.ndarray | Sequence[float],
    *,
    adi_cutoff: float = 1.32,
    cv2_cutoff: float = 0.49,
) -> np.ndarray:
    """Return the Syntetos-Boylan-Croston class of each (ADI, CV²) pair.

    ``NaN`` ADI (no demand) gives ``"inactive"``. A value at a cut-off is in the
    upper class.

    Examples
    --------
    >>> classify_demand_pattern([1.0, 1.0, 1.32, 2.0], [0.2, 0.49, 0.2, 0.6]).tolist()
    ['smooth', 'erratic', 'intermittent', 'lumpy']
    """
    adi = np.round(np.asarray(adi, dtype=float), _DECIMALS)
    cv2 = np.round(np.nan_to_num(np.asarray(cv2, dtype=float)), _DECIMALS)
    frequent = adi < adi_cutoff
    stable = cv2 < cv2_cutoff
    classes = np.select(
        [frequent & stable, frequent, stable],
        ["smooth", "erratic", "intermittent"],
        default="lumpy",
    ).astype(object)
    classes[np.isnan(adi)] = "inactive"
    return classes


def abc_classes(
    value: np.ndarray | Sequence[float], cutoffs: Sequence[float] = (0.8, 0.95)
) -> np.ndarray:
    """Return the ABC class of each item from its consumption value.

    An item is A while the items ranked above it hold less than ``cutoffs[0]`` of
    the total value, B while they hold less than ``cutoffs[1]``, C otherwise. Ties
    keep input order. With no value at all every item is C.

    Examples
    --------
    Values 50, 30, 15, 5 (shares 0.5, 0.3, 0.15, 0.05): above the second item lies
    0.5 < 0.8 (A), above the third 0.8 (B, < 0.95), above the fourth 0.95 (C):

    >>> abc_classes([15.0, 50.0, 5.0, 30.0]).tolist()
    ['B', 'A', 'C', 'A']
    """
    value = np.nan_to_num(np.asarray(value, dtype=float))
    total = value.sum()
    classes = np.full(len(value), "C", dtype=object)
    if total <= 0:
        return classes
    order = np.argsort(-value, kind="stable")
    share_above = np.round(np.concatenate([[0.0], np.cumsum(value[order])[:-1]]) / total, 12)
    ranked = np.select([share_above < cutoffs[0], share_above < cutoffs[1]], ["A", "B"], "C")
    classes[order] = ranked
    classes[value <= 0] = "C"
    return classes


def xyz_classes(
    cv: np.ndarray | Sequence[float], cutoffs: Sequence[float] = (0.5, 1.0)
) -> np.ndarray:
    """Return the XYZ class of each coefficient of variation (``NaN`` is Z).

    Examples
    --------
    >>> xyz_classes([0.2, 0.5, 0.99, 1.0, float("nan")]).tolist()
    ['X', 'Y', 'Y', 'Z', 'Z']
    """
    cv = np.round(np.asarray(cv, dtype=float), _DECIMALS)
    with np.errstate(invalid="ignore"):
        classes = np.select([cv < cutoffs[0], cv < cutoffs[1]], ["X", "Y"], "Z").astype(object)
    classes[np.isnan(cv)] = "Z"
    return classes


def segment_panel_patterns(
    panel: WeeklyPanel | np.ndarray,
    *,
    adi_cutoff: float = 1.32,
    cv2_cutoff: float = 0.49,
    min_history: int = 13,
    window_weeks: int | None = 104,
) -> np.ndarray:
    """Return the demand pattern of every series of a panel (with ``new`` and ``inactive``).

    This is the classification :func:`toolkit.forecast.forecast` uses when it is
    not given segments: a series with fewer than ``min_history`` weeks since its
    first demand is ``new``, one without demand in the window ``inactive``.
    """
    values = panel.values if isinstance(panel, WeeklyPanel) else np.asarray(panel, dtype=float)
    metrics = pattern_metrics(values, window_weeks=window_weeks)
    classes = classify_demand_pattern(
        metrics["adi"], metrics["cv2"], adi_cutoff=adi_cutoff, cv2_cutoff=cv2_cutoff
    )
    young = (metrics["weeks_since_first_demand"] < min_history).to_numpy() & (classes != "inactive")
    classes[young] = "new"
    return classes


def _is_critical(criticality: pd.Series, critical_levels: Sequence[str]) -> np.ndarray:
    levels = {str(level).strip().lower() for level in critical_levels}
    text = criticality.astype("string").str.strip().str.lower()
    flagged = text.isin(levels | {"true"}).fillna(False)
    return flagged.to_numpy(dtype=bool)


def segment_demand(
    demand: pd.DataFrame,
    items: pd.DataFrame,
    *,
    abc_cutoffs: Sequence[float] = (0.8, 0.95),
    xyz_cutoffs: Sequence[float] = (0.5, 1.0),
    adi_cutoff: float = 1.32,
    cv2_cutoff: float = 0.49,
    service_levels: Mapping[str, Mapping[str, float]] | None = None,
    critical_target: float = 0.995,
    critical_levels: Sequence[str] = ("critical",),
    launch_target: float = 0.97,
    end_of_life_target: float = 0.90,
    min_history: int = 13,
    window_weeks: int | None = 104,
    annual_weeks: int = 52,
    end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Segment demand series by value, variability and pattern, with a service target each.

    Parameters
    ----------
    demand : DataFrame
        Long weekly demand: ``date, quantity`` and ``series_id`` or ``site_id, sku``.
        Weeks without a row are zero demand (see :func:`toolkit.demand_panel.demand_history`
        for filling from the extract's start).
    items : DataFrame
        Item master with ``sku, unit_cost`` and optionally ``lifecycle``,
        ``criticality``, ``product_line``. Series whose sku is not in it (e.g. local
        codes not yet mapped to global skus) have no value and are classed C.
    abc_cutoffs : (float, float)
        Cumulative value shares closing A and B.
    xyz_cutoffs : (float, float)
        Coefficients of variation closing X and Y.
    adi_cutoff, cv2_cutoff : float
        Syntetos-Boylan-Croston cut-offs.
    service_levels : dict, optional
        ``{abc: {xyz: target}}``; defaults to :data:`DEFAULT_SERVICE_LEVELS`.
    critical_target : float
        Target of critical items (overrides everything else).
    critical_levels : sequence of str
        ``criticality`` values that mark an item critical (case-insensitive);
        boolean ``True`` also does.
    launch_target, end_of_life_target : float
        Targets of series classed ``new`` and of items at ``end_of_life``.
    min_history : int
        Weeks since first demand below which a series is ``new``.
    window_weeks : int, optional
        Weeks (most recent) the variability and pattern metrics use; None for all.
    annual_weeks : int
        Weeks (most recent) whose mean demand, times 52, is the annual quantity.
    end : date, optional
        Last week of the analysis (default: the demand's last week).

    Returns
    -------
    DataFrame
        One row per series: ``series_id, site_id, sku, product_line, lifecycle,
        criticality, is_critical, unit_cost``; the metrics ``n_weeks, n_demands,
        weeks_since_first_demand, mean, std, cv, adi, cv2``; ``annual_quantity,
        annual_value, value_share, cumulative_share``; the classes ``abc, xyz,
        pattern``; ``service_level`` and ``target_source`` (``critical``,
        ``launch``, ``end_of_life`` or ``matrix``). Sorted by annual value, largest
        first.
    """
    matrix = service_levels if service_levels is not None else DEFAULT_SERVICE_LEVELS
    panel = to_weekly_panel(demand, end=end)
    metrics = pattern_metrics(panel.values, window_weeks=window_weeks)
    recent = panel.values[:, -annual_weeks:]
    with np.errstate(invalid="ignore"):
        observed = (~np.isnan(recent)).sum(axis=1)
        annual_quantity = np.where(
            observed > 0, np.nansum(recent, axis=1) / np.maximum(observed, 1) * 52.0, 0.0
        )
    keys = series_keys(demand, series_ids=panel.series_ids)
    out = pd.concat([keys[["series_id", "site_id", "sku"]], metrics], axis=1)
    item_cols = [
        c for c in ("sku", "product_line", "unit_cost", "lifecycle", "criticality") if c in items
    ]
    item_table = items[item_cols].drop_duplicates("sku").copy()
    item_table["sku"] = item_table["sku"].astype(str)
    out["sku"] = out["sku"].astype(str)
    out = out.merge(item_table, on="sku", how="left")
    for col in ("product_line", "lifecycle", "criticality"):
        if col not in out.columns:
            out[col] = pd.NA
    if "unit_cost" not in out.columns:
        raise KeyError("items has no column 'unit_cost'")
    out["annual_quantity"] = annual_quantity
    # A sku missing from items (e.g. an unmapped local code) has no known value: C.
    out["annual_value"] = np.nan_to_num(annual_quantity * out["unit_cost"].to_numpy(dtype=float))
    total = out["annual_value"].sum()
    out["abc"] = abc_classes(out["annual_value"].to_numpy(), abc_cutoffs)
    out["xyz"] = xyz_classes(out["cv"].to_numpy(), xyz_cutoffs)
    pattern = classify_demand_pattern(
        out["adi"], out["cv2"], adi_cutoff=adi_cutoff, cv2_cutoff=cv2_cutoff
    )
    young = (out["weeks_since_first_demand"] < min_history).to_numpy() & (pattern != "inactive")
    pattern[young] = "new"
    out["pattern"] = pattern
    out["is_critical"] = _is_critical(out["criticality"], critical_levels)
    matrix_target = [
        float(matrix[a][x]) if a in matrix and x in matrix[a] else np.nan
        for a, x in zip(out["abc"], out["xyz"], strict=True)
    ]
    end_of_life = (out["lifecycle"].astype("string") == "end_of_life").fillna(False).to_numpy()
    conditions = [out["is_critical"].to_numpy(), pattern == "new", end_of_life]
    out["service_level"] = np.select(
        conditions, [critical_target, launch_target, end_of_life_target], matrix_target
    )
    out["target_source"] = np.select(
        conditions, ["critical", "launch", "end_of_life"], "matrix"
    ).astype(object)
    out = out.sort_values("annual_value", ascending=False, kind="stable", ignore_index=True)
    out["value_share"] = out["annual_value"] / total if total > 0 else 0.0
    out["cumulative_share"] = out["value_share"].cumsum()
    columns = [
        "series_id",
        "site_id",
        "sku",
        "product_line",
        "lifecycle",
        "criticality",
        "is_critical",
        "unit_cost",
        "n_weeks",
        "n_demands",
        "weeks_since_first_demand",
        "mean",
        "std",
        "cv",
        "adi",
        "cv2",
        "annual_quantity",
        "annual_value",
        "value_share",
        "cumulative_share",
        "abc",
        "xyz",
        "pattern",
        "service_level",
        "target_source",
    ]
    return out[columns]


def segment_matrix(
    segments: pd.DataFrame,
    *,
    rows: str = "abc",
    columns: str = "xyz",
    value: str | None = None,
) -> pd.DataFrame:
    """Cross-tabulate segments, e.g. ABC x XYZ (counts) or ABC x pattern (value).

    Parameters
    ----------
    segments : DataFrame
        The output of :func:`segment_demand`.
    rows, columns : str
        Class columns to cross.
    value : str, optional
        Column to sum (e.g. ``annual_value``); counts series when None.

    Returns
    -------
    DataFrame
        The matrix with totals in a last row and column named ``total``.
    """
    if value is None:
        table = pd.crosstab(segments[rows], segments[columns])
    else:
        table = pd.crosstab(
            segments[rows], segments[columns], values=segments[value], aggfunc="sum"
        )
        table = table.fillna(0.0)
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    return table
