"""Weekly demand series in the two shapes forecasting needs: long frames and a panel.

* A **history** is a long DataFrame ``series_id, date, quantity`` (plus optional
  ``site_id``, ``sku`` and exogenous columns), one row per series and week.
* A :class:`WeeklyPanel` is the same data as a 2-D array ``(n_series, n_weeks)`` on a
  common weekly calendar with an explicit frequency (``W-MON``: dates are the
  Monday a week starts). Series end on the panel's last week; a series that starts
  later has ``NaN`` before its first week. The vectorized methods of
  :mod:`toolkit.smoothing` and :mod:`toolkit.intermittent` work on this array.

A demand series is one market site and one sku; its id is ``"<site_id>|<sku>"``
(:func:`make_series_id`).

Missing weeks inside a series are zero demand: ERP extracts usually hold no row
for a week without orders. Dates that are not Mondays are moved to the Monday of
their week and summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit.schema import EVENT_TYPES, PRIMARY_SYSTEM

__all__ = [
    "WEEKLY_FREQ",
    "SERIES_SEPARATOR",
    "DEFAULT_EVENT_ENCODING",
    "WeeklyPanel",
    "make_series_id",
    "split_series_id",
    "week_start",
    "map_local_codes",
    "demand_history",
    "to_weekly_panel",
    "series_keys",
    "events_to_exog",
    "exog_array",
    "build_exog",
    "FIRM_EVENT_TYPES",
    "split_firm_events",
    "firm_event_volume",
]

#: pandas frequency of the weekly calendar: weeks labelled by their Monday.
WEEKLY_FREQ = "W-MON"
#: Separator between site and sku in a series id.
SERIES_SEPARATOR = "|"

#: How each event type becomes an exogenous column: ``quantity`` sums the events'
#: quantities in the week (a tender's awarded volume, a maintenance campaign's
#: units), ``indicator`` is 1 in a week with such an event, ``step`` is the running
#: sum of the events' quantities up to and including the week (a reimbursement
#: change of -0.12 shifts demand from its date on, it is not a pulse). A missing
#: quantity counts as 1.
DEFAULT_EVENT_ENCODING: dict[str, str] = {
    "tender": "quantity",
    "maintenance": "quantity",
    "promotion": "indicator",
    "reimbursement": "step",
}


def make_series_id(site_id: pd.Series | str, sku: pd.Series | str) -> pd.Series | str:
    """Return the series id ``"<site_id>|<sku>"`` of a site and sku (scalars or Series).

    Examples
    --------
    >>> make_series_id("M-DE-01", "CAT-100")
    'M-DE-01|CAT-100'
    """
    if isinstance(site_id, pd.Series) or isinstance(sku, pd.Series):
        return pd.Series(site_id, dtype="str") + SERIES_SEPARATOR + pd.Series(sku, dtype="str")
    return f"{site_id}{SERIES_SEPARATOR}{sku}"


def split_series_id(series_id: pd.Series) -> pd.DataFrame:
    """Split series ids into ``site_id`` and ``sku`` (``site_id`` empty when no separator)."""
    ids = pd.Series(series_id, dtype="str")
    parts = ids.str.split(SERIES_SEPARATOR, n=1, expand=True, regex=False)
    if parts.shape[1] == 1:
        return pd.DataFrame({"site_id": pd.NA, "sku": ids}, index=ids.index).astype("str")
    site = parts[0].where(parts[1].notna())
    sku = parts[1].fillna(parts[0])
    return pd.DataFrame({"site_id": site, "sku": sku}, index=ids.index)


def week_start(dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Return the Monday of each date's week (midnight), as ``datetime64``."""
    values = pd.to_datetime(pd.Series(dates)).dt.normalize()
    return values - pd.to_timedelta(values.dt.weekday, unit="D")


@dataclass(frozen=True)
class WeeklyPanel:
    """Demand of many series on one weekly calendar.

    Attributes
    ----------
    series_ids : ndarray of str, shape (n_series,)
        Series ids, sorted.
    dates : DatetimeIndex
        The weeks (Mondays), frequency ``W-MON``; the last is the forecast origin's
        last observed week.
    values : ndarray, shape (n_series, n_weeks)
        Demand per week; ``NaN`` before a series' first week.
    """

    series_ids: np.ndarray
    dates: pd.DatetimeIndex
    values: np.ndarray

    @property
    def n_series(self) -> int:
        return len(self.series_ids)

    @property
    def start(self) -> np.ndarray:
        """Index of each series' first week."""
        valid = ~np.isnan(self.values)
        return np.where(valid.any(axis=1), valid.argmax(axis=1), self.values.shape[1])

    def future_dates(self, horizon: int) -> pd.DatetimeIndex:
        """The ``horizon`` weeks after the panel's last week."""
        return pd.date_range(
            self.dates[-1] + pd.Timedelta(weeks=1), periods=horizon, freq=WEEKLY_FREQ
        )

    def subset(self, rows: np.ndarray) -> WeeklyPanel:
        """Return the panel restricted to some rows (positions or a boolean mask)."""
        return WeeklyPanel(self.series_ids[rows], self.dates, self.values[rows])

    def to_frame(self) -> pd.DataFrame:
        """Return the panel as a long history (weeks before a series' start omitted)."""
        n_series, n_weeks = self.values.shape
        frame = pd.DataFrame(
            {
                "series_id": np.repeat(self.series_ids, n_weeks),
                "date": np.tile(self.dates.values, n_series),
                "quantity": self.values.ravel(),
            }
        )
        return frame.dropna(subset=["quantity"]).reset_index(drop=True)


def _check_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise KeyError(f"{what} has no column {', '.join(map(repr, missing))}")


def _with_series_id(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if "series_id" in frame.columns:
        return frame
    _check_columns(frame, ["site_id", "sku"], what)
    out = frame.copy()
    out["series_id"] = make_series_id(out["site_id"], out["sku"]).to_numpy()
    return out


def map_local_codes(demand: pd.DataFrame, aliases: pd.DataFrame) -> pd.DataFrame:
    """Replace local item codes of a second ERP system by global skus.

    Rows whose ``source_system`` is set and not :data:`toolkit.schema.PRIMARY_SYSTEM`
    carry a local code in ``sku``; the ``aliases`` table (``system, local_code,
    sku``) maps it. Unmapped codes stay as they are.
    """
    if "source_system" not in demand.columns or aliases is None or aliases.empty:
        return demand
    system = demand["source_system"].astype("string")
    local = (system.notna() & (system.str.strip() != "") & (system != PRIMARY_SYSTEM)).to_numpy()
    table = aliases.dropna(subset=["sku"]).drop_duplicates(["system", "local_code"])
    lookup = dict(
        zip(
            zip(table["system"].astype(str), table["local_code"].astype(str), strict=True),
            table["sku"].astype(str),
            strict=True,
        )
    )
    keys = zip(system.fillna("").astype(str), demand["sku"].astype(str), strict=True)
    mapped = np.array([lookup.get(key) for key in keys], dtype=object)
    use = local & pd.notna(mapped)
    out = demand.copy()
    out["sku"] = np.where(use, mapped, out["sku"].astype(str))
    return out


def demand_history(
    demand: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    fill_from: str = "lifecycle",
    end: pd.Timestamp | str | None = None,
    aliases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Turn the canonical demand table into a complete weekly history per series.

    Parameters
    ----------
    demand : DataFrame
        Canonical demand (``date, site_id, sku, quantity``) or a frame that already
        has ``series_id``.
    items : DataFrame, optional
        Item master (``sku, lifecycle``), used by ``fill_from="lifecycle"``.
    fill_from : {"lifecycle", "extract_start", "first_demand"}
        Where each series' zero-filled history begins. ``extract_start``: the first
        week of the whole extract (an item without orders in its first weeks had
        zero demand then); ``first_demand``: the series' first week with a row;
        ``lifecycle`` (default): ``first_demand`` for items in ``launch`` (they did
        not exist before) and ``extract_start`` for all others.
    end : date, optional
        Last week of the history (default: the extract's last week).
    aliases : DataFrame, optional
        The ``aliases`` table: local codes of a second ERP system become global
        skus first (:func:`map_local_codes`), so a sku sold on both systems is one
        series per site.

    Returns
    -------
    DataFrame
        ``series_id, site_id, sku, date, quantity``: one row per series and week,
        zeros where the extract had no row, sorted by series and date.
    """
    if aliases is not None:
        demand = map_local_codes(demand, aliases)
    frame = _with_series_id(demand, "demand")
    _check_columns(frame, ["date", "quantity"], "demand")
    frame = frame.copy()
    frame["date"] = week_start(frame["date"]).to_numpy()
    if "site_id" not in frame.columns or "sku" not in frame.columns:
        keys = split_series_id(frame["series_id"])
        for col in ("site_id", "sku"):
            if col not in frame.columns:
                frame[col] = keys[col].to_numpy()
    weekly = frame.groupby(["series_id", "site_id", "sku", "date"], as_index=False)[
        "quantity"
    ].sum()
    extract_start = weekly["date"].min()
    last = week_start(pd.Series([pd.Timestamp(end)])).iloc[0] if end else weekly["date"].max()
    first_row = weekly.groupby("series_id")["date"].transform("min")
    if fill_from == "first_demand":
        begin = first_row
    elif fill_from == "extract_start":
        begin = pd.Series(extract_start, index=weekly.index)
    elif fill_from == "lifecycle":
        launch = pd.Series(False, index=weekly.index)
        if items is not None and "lifecycle" in items.columns:
            launch_skus = set(items.loc[items["lifecycle"] == "launch", "sku"].astype(str))
            launch = weekly["sku"].astype(str).isin(launch_skus)
        begin = first_row.where(launch, extract_start)
    else:
        raise ValueError(
            f"fill_from must be 'lifecycle', 'extract_start' or 'first_demand', not {fill_from!r}"
        )
    starts = (
        weekly.assign(begin=begin)
        .groupby(["series_id", "site_id", "sku"], as_index=False)["begin"]
        .min()
    )
    n_weeks = ((last - starts["begin"]) // pd.Timedelta(weeks=1)).astype(int) + 1
    n_weeks = n_weeks.clip(lower=0)
    grid = starts.loc[starts.index.repeat(n_weeks)].reset_index(drop=True)
    offsets = np.concatenate([np.arange(n) for n in n_weeks]) if len(n_weeks) else []
    grid["date"] = grid["begin"] + pd.to_timedelta(np.asarray(offsets, dtype=int) * 7, unit="D")
    grid = grid.drop(columns="begin")
    out = grid.merge(
        weekly[["series_id", "date", "quantity"]], on=["series_id", "date"], how="left"
    )
    out["quantity"] = out["quantity"].fillna(0.0).astype(float)
    return out.sort_values(["series_id", "date"], ignore_index=True)


def to_weekly_panel(
    history: pd.DataFrame,
    *,
    end: pd.Timestamp | str | None = None,
    value: str = "quantity",
) -> WeeklyPanel:
    """Pivot a long history into a :class:`WeeklyPanel`.

    Parameters
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (or ``site_id, sku`` instead of ``series_id``).
        Dates are moved to their week's Monday; several rows of a week are summed.
        Missing quantities count as zero; negative ones (returns) are set to zero,
        since demand is what customers took.
    end : date, optional
        Last week of the panel (default: the history's last week). Rows after it
        are ignored; series whose rows stop earlier are zero-filled up to it.
    value : str
        Column holding the demand.

    Returns
    -------
    WeeklyPanel
        Series sorted by id; each starts at its first row.
    """
    frame = _with_series_id(history, "history")
    _check_columns(frame, ["date", value], "history")
    dates = week_start(frame["date"])
    last = week_start(pd.Series([pd.Timestamp(end)])).iloc[0] if end is not None else dates.max()
    keep = (dates <= last).to_numpy()
    if not keep.any():
        return WeeklyPanel(
            np.array([], dtype=object),
            pd.date_range(end=last, periods=1, freq=WEEKLY_FREQ),
            np.empty((0, 1)),
        )
    dates = dates[keep]
    ids = frame["series_id"].astype(str).to_numpy()[keep]
    quantity = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)[keep]
    quantity = np.clip(np.nan_to_num(quantity, nan=0.0), 0.0, None)
    first = dates.min()
    calendar = pd.date_range(first, last, freq=WEEKLY_FREQ)
    week = ((dates - first) // pd.Timedelta(weeks=1)).to_numpy(dtype=int)
    series_ids, row = np.unique(ids, return_inverse=True)
    n_series, n_weeks = len(series_ids), len(calendar)
    values = np.zeros(n_series * n_weeks)
    np.add.at(values, row * n_weeks + week, quantity)
    values = values.reshape(n_series, n_weeks)
    start = np.full(n_series, n_weeks)
    np.minimum.at(start, row, week)
    values[np.arange(n_weeks)[None, :] < start[:, None]] = np.nan
    return WeeklyPanel(series_ids.astype(object), calendar, values)


def series_keys(
    history: pd.DataFrame,
    sites: pd.DataFrame | None = None,
    series_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return one row per series with ``series_id, site_id, sku`` and ``region`` if known.

    ``site_id`` and ``sku`` come from the history's columns when present, otherwise
    from the series id; ``region`` from the history or from ``sites``.
    """
    frame = _with_series_id(history, "history")
    cols = [c for c in ("series_id", "site_id", "sku", "region") if c in frame.columns]
    keys = frame[cols].drop_duplicates("series_id").reset_index(drop=True)
    keys["series_id"] = keys["series_id"].astype(str)
    if "site_id" not in keys.columns or "sku" not in keys.columns:
        split = split_series_id(keys["series_id"])
        for col in ("site_id", "sku"):
            if col not in keys.columns:
                keys[col] = split[col].to_numpy()
    if "region" not in keys.columns and sites is not None and "region" in sites.columns:
        region = sites.drop_duplicates("site_id").set_index("site_id")["region"]
        keys["region"] = keys["site_id"].map(region)
    if series_ids is not None:
        keys = keys.set_index("series_id").reindex(list(series_ids)).reset_index()
    return keys


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype("string")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool)


def exog_array(
    events: pd.DataFrame,
    keys: pd.DataFrame,
    dates: pd.DatetimeIndex,
    *,
    encoding: Mapping[str, str] | None = None,
    event_types: Iterable[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Turn events into an exogenous array ``(n_series, n_dates, n_event_types)``.

    See :func:`events_to_exog` for the rules; this is its array form, in the row
    order of ``keys`` and the column order of the returned names.
    """
    encoding = {**DEFAULT_EVENT_ENCODING, **(encoding or {})}
    _check_columns(events, ["date", "event_type"], "events")
    types = (
        list(event_types)
        if event_types is not None
        else [t for t in EVENT_TYPES if t in set(events["event_type"])]
        + sorted(set(events["event_type"]) - set(EVENT_TYPES))
    )
    names = [f"event_{t}" for t in types]
    n_series, n_dates = len(keys), len(dates)
    out = np.zeros((n_series, n_dates, len(types)))
    if len(events) == 0 or n_series == 0 or not types:
        return out, names
    frame = events.reset_index(drop=True)
    week = week_start(frame["date"])
    position = dates.get_indexer(pd.DatetimeIndex(week))
    site = keys["site_id"].astype(str).to_numpy()
    sku = keys["sku"].astype(str).to_numpy()
    region = keys["region"].astype(str).to_numpy() if "region" in keys.columns else None
    no_site = _blank(frame["site_id"]) if "site_id" in frame.columns else np.ones(len(frame), bool)
    no_region = _blank(frame["region"]) if "region" in frame.columns else np.ones(len(frame), bool)
    no_sku = _blank(frame["sku"]) if "sku" in frame.columns else np.ones(len(frame), bool)
    if region is None and not no_region.all():
        raise KeyError("events name regions: pass sites (site_id, region) or a region column")
    quantity = (
        pd.to_numeric(frame["quantity"], errors="coerce").to_numpy(dtype=float)
        if "quantity" in frame.columns
        else np.full(len(frame), np.nan)
    )
    for k, event_type in enumerate(types):
        mode = encoding.get(event_type, "indicator")
        if mode not in ("quantity", "indicator", "step"):
            raise ValueError(f"unknown encoding {mode!r} for event type {event_type!r}")
        pulses = np.zeros((n_series, n_dates))
        for i in np.flatnonzero((frame["event_type"] == event_type).to_numpy()):
            # An event outside the calendar is either history before the panel
            # (still a step for step-encoded types) or beyond the horizon.
            pos = position[i]
            if pos < 0:
                if mode != "step" or week.iloc[i] > dates[-1]:
                    continue
                pos = 0
            match = np.ones(n_series, dtype=bool)
            if not no_site[i]:
                match &= site == str(frame.at[i, "site_id"])
            if not no_region[i]:
                match &= region == str(frame.at[i, "region"])
            if not no_sku[i]:
                match &= sku == str(frame.at[i, "sku"])
            amount = 1.0
            if mode in ("quantity", "step") and np.isfinite(quantity[i]):
                amount = quantity[i]
            pulses[match, pos] += amount
        if mode == "step":
            pulses = np.cumsum(pulses, axis=1)
        elif mode == "indicator":
            pulses = (pulses > 0).astype(float)
        out[:, :, k] = pulses
    return out, names


def events_to_exog(
    events: pd.DataFrame,
    series: pd.DataFrame,
    dates: pd.DatetimeIndex | Iterable,
    *,
    sites: pd.DataFrame | None = None,
    encoding: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Turn known events into per-series weekly exogenous columns.

    Parameters
    ----------
    events : DataFrame
        Canonical events: ``date, site_id or region, sku, event_type, quantity``.
        An empty ``sku`` means every sku; an empty ``site_id`` and ``region`` means
        every site. Future events (known tenders, planned promotions) belong here
        too: they become the exogenous values over the forecast horizon.
    series : DataFrame
        One row per series: ``series_id, site_id, sku`` and ``region`` when events
        name regions (or pass ``sites``). A history frame also works.
    dates : DatetimeIndex or iterable of dates
        The weeks to cover (history and horizon); moved to Mondays.
    sites : DataFrame, optional
        ``site_id, region``, to match region-level events.
    encoding : dict, optional
        Event type to ``"quantity"``, ``"indicator"`` or ``"step"``, overriding
        :data:`DEFAULT_EVENT_ENCODING`. Unknown types default to ``indicator``.

    Returns
    -------
    DataFrame
        ``series_id, date`` and one column ``event_<type>`` per event type in
        ``events``, for every series and week.

    Examples
    --------
    >>> events = pd.DataFrame({"date": ["2024-01-10"], "site_id": ["M1"], "sku": [None],
    ...                        "event_type": ["tender"], "quantity": [40.0]})
    >>> series = pd.DataFrame({"series_id": ["M1|A", "M2|A"], "site_id": ["M1", "M2"],
    ...                        "sku": ["A", "A"]})
    >>> events_to_exog(events, series, pd.date_range("2024-01-01", periods=2, freq="W-MON"))
      series_id       date  event_tender
    0      M1|A 2024-01-01           0.0
    1      M1|A 2024-01-08          40.0
    2      M2|A 2024-01-01           0.0
    3      M2|A 2024-01-08           0.0
    """
    keys = series_keys(series, sites)
    calendar = pd.DatetimeIndex(week_start(pd.Series(list(dates))).unique())
    calendar = pd.DatetimeIndex(calendar.sort_values(), freq=None)
    values, names = exog_array(events, keys, calendar, encoding=encoding)
    n_series, n_dates = len(keys), len(calendar)
    frame = pd.DataFrame(
        {
            "series_id": np.repeat(keys["series_id"].to_numpy(), n_dates),
            "date": np.tile(calendar.values, n_series),
        }
    )
    for k, name in enumerate(names):
        frame[name] = values[:, :, k].ravel()
    return frame


#: Columns of a history that are never exogenous regressors (keys, demand, and the
#: bookkeeping column of :func:`toolkit.lifecycle.carry_over_history`).
_RESERVED = {
    "series_id",
    "date",
    "quantity",
    "site_id",
    "sku",
    "region",
    "source_system",
    "carried_over",
}


def _pivot_columns(
    frame: pd.DataFrame, columns: list[str], series_ids: np.ndarray, dates: pd.DatetimeIndex
) -> np.ndarray:
    """Place long rows' ``columns`` on the ``(series, dates)`` grid (zeros elsewhere)."""
    out = np.zeros((len(series_ids), len(dates), len(columns)))
    if frame.empty:
        return out
    row = pd.Index(series_ids).get_indexer(frame["series_id"].astype(str))
    col = dates.get_indexer(pd.DatetimeIndex(week_start(frame["date"])))
    keep = (row >= 0) & (col >= 0)
    values = frame[columns].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    for k in range(len(columns)):
        np.add.at(out[:, :, k], (row[keep], col[keep]), values[keep, k])
    return out


def build_exog(
    history: pd.DataFrame,
    panel: WeeklyPanel,
    *,
    horizon: int,
    events: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    future_exog: pd.DataFrame | None = None,
    encoding: Mapping[str, str] | None = None,
) -> tuple[np.ndarray | None, list[str]]:
    """Assemble the exogenous regressors of a panel over its weeks and the horizon.

    Two sources are combined: numeric columns of ``history`` other than the
    demand and key columns (their future values from ``future_exog``, a frame
    ``series_id, date, <columns>``; missing future values are 0), and ``events``
    encoded by :func:`exog_array`.

    Returns
    -------
    (array, names)
        ``array`` has shape ``(n_series, n_weeks + horizon, n_exog)`` in the panel's
        row order, or is None when there are no regressors.
    """
    calendar = panel.dates.append(panel.future_dates(horizon)) if horizon else panel.dates
    history = _with_series_id(history, "history")
    extra = [
        c
        for c in history.columns
        if c not in _RESERVED and pd.api.types.is_numeric_dtype(history[c])
    ]
    parts: list[np.ndarray] = []
    names: list[str] = []
    if extra:
        rows = history[["series_id", "date", *extra]]
        if future_exog is not None:
            future = _with_series_id(future_exog, "future_exog")
            missing = [c for c in extra if c not in future.columns]
            if missing:
                raise KeyError(f"future_exog has no column {', '.join(map(repr, missing))}")
            rows = pd.concat([rows, future[["series_id", "date", *extra]]], ignore_index=True)
        parts.append(_pivot_columns(rows, extra, panel.series_ids, calendar))
        names.extend(extra)
    if events is not None and len(events) > 0:
        keys = series_keys(history, sites, series_ids=panel.series_ids)
        array, event_names = exog_array(events, keys, calendar, encoding=encoding)
        parts.append(array)
        names.extend(event_names)
    if not parts:
        return None, []
    return np.concatenate(parts, axis=2), names


#: Event types whose quantity is a firm order on top of the usual demand in the
#: event's week (an awarded tender, a planned maintenance campaign).
FIRM_EVENT_TYPES: tuple[str, ...] = ("tender", "maintenance")


def split_firm_events(
    events: pd.DataFrame | None, firm_types: Iterable[str] = FIRM_EVENT_TYPES
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Split events into firm orders and the rest.

    Firm orders are events of ``firm_types`` that name one site and one sku and have
    a quantity: their units are known demand, not a driver to estimate. Events of
    those types that name a region or every sku stay regressors.

    Returns
    -------
    (firm, regressors)
        Either may be None when empty.
    """
    if events is None or len(events) == 0:
        return None, events
    firm_types = set(firm_types)
    named_site = ~_blank(events["site_id"]) if "site_id" in events.columns else False
    named_sku = ~_blank(events["sku"]) if "sku" in events.columns else False
    quantity = (
        pd.to_numeric(events["quantity"], errors="coerce")
        if "quantity" in events.columns
        else pd.Series(np.nan, index=events.index)
    )
    firm = (
        events["event_type"].isin(firm_types).to_numpy()
        & np.asarray(named_site)
        & np.asarray(named_sku)
        & quantity.gt(0).to_numpy()
    )
    firm_events = events[firm]
    rest = events[~firm]
    return (firm_events if len(firm_events) else None), (rest if len(rest) else None)


def firm_event_volume(
    events: pd.DataFrame | None, keys: pd.DataFrame, dates: pd.DatetimeIndex
) -> np.ndarray:
    """Return the firm-order units per series and week, shape ``(n_series, n_dates)``.

    ``events`` are firm orders (see :func:`split_firm_events`); ``keys`` has
    ``series_id, site_id, sku`` in panel order.
    """
    if events is None or len(events) == 0:
        return np.zeros((len(keys), len(dates)))
    merged = events.assign(event_type="firm")
    volume, _ = exog_array(merged, keys, dates, encoding={"firm": "quantity"})
    return volume[:, :, 0]
