"""Named demand scenarios applied on top of a baseline forecast, kept side by side.

A scenario is a name and one or more *adjustments*, each a dict::

    {"name": "tender_surge_emea", "region": "EMEA", "product_line": "implants",
     "multiplier": 1.2, "start": "2026-01-05", "end": "2026-03-30"}

Filters (all optional, combined with AND; a missing filter matches everything):
``region`` (str or list), ``sites`` / ``site_id`` (str or list), ``product_line``
(str or list), ``skus`` / ``sku`` (str or list), ``series`` (series ids),
``start`` and ``end`` (inclusive week dates). A filter that is ``None`` or an empty
list matches everything too, so :class:`toolkit.config.ScenarioSpec` entries
(``spec.model_dump()``) can be passed as they are. Effects: ``multiplier``
(default 1; a reimbursement loss is a multiplier below 1) and ``add`` (units per
series and week added after the multiplier). Several adjustments with the same
name make one scenario and apply in order. The forecast and every quantile column
are transformed alike: a multiplier scales the whole distribution and an addition
shifts it; results are clipped at zero. Rows a forecast marks ``phased_out``
(:func:`toolkit.lifecycle.phase_out`) stay at zero: a scenario does not bring a
retired item back.

:func:`scenario_totals` and :func:`scenario_weekly` sum the stacked table per
scenario (units and value at unit cost) for a side-by-side comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Sized

import numpy as np
import pandas as pd

from toolkit.demand_panel import split_series_id

__all__ = [
    "SCENARIO_KEYS",
    "series_attributes",
    "apply_scenarios",
    "scenario_totals",
    "scenario_weekly",
]

#: Keys a scenario adjustment may have.
SCENARIO_KEYS = frozenset(
    {
        "name",
        "region",
        "sites",
        "site_id",
        "product_line",
        "skus",
        "sku",
        "series",
        "start",
        "end",
        "multiplier",
        "add",
        "description",
    }
)


def series_attributes(
    series_ids: Iterable[str],
    *,
    sites: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return ``series_id, site_id, sku, region, product_line`` for series ids.

    ``region`` comes from ``sites`` and ``product_line`` from ``items`` (missing
    when those are not given).
    """
    ids = pd.Series(list(dict.fromkeys(map(str, series_ids))), dtype="str")
    out = pd.concat([ids.rename("series_id"), split_series_id(ids)], axis=1)
    out["region"] = (
        out["site_id"].map(sites.drop_duplicates("site_id").set_index("site_id")["region"])
        if sites is not None
        else pd.NA
    )
    out["product_line"] = (
        out["sku"].map(items.drop_duplicates("sku").set_index("sku")["product_line"])
        if items is not None
        else pd.NA
    )
    return out


def _as_set(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {str(v) for v in value}  # type: ignore[union-attr]


def _is_blank(value: object) -> bool:
    """A filter that matches everything: None or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, Sized) and len(value) == 0


def _matches(spec: Mapping, frame: pd.DataFrame) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for key, column in (
        ("region", "region"),
        ("sites", "site_id"),
        ("site_id", "site_id"),
        ("product_line", "product_line"),
        ("skus", "sku"),
        ("sku", "sku"),
        ("series", "series_id"),
    ):
        if key in spec and not _is_blank(spec[key]):
            if column not in frame.columns or frame[column].isna().all():
                raise KeyError(
                    f"scenario {spec.get('name')!r} filters on {key!r} but the series have "
                    f"no {column}: pass sites/items or an attributes frame"
                )
            mask &= frame[column].astype(str).isin(_as_set(spec[key])).to_numpy()
    dates = pd.to_datetime(frame["date"])
    if not _is_blank(spec.get("start")):
        mask &= (dates >= pd.Timestamp(spec["start"])).to_numpy()
    if not _is_blank(spec.get("end")):
        mask &= (dates <= pd.Timestamp(spec["end"])).to_numpy()
    return mask


def apply_scenarios(
    baseline: pd.DataFrame,
    scenarios: Sequence[Mapping] | Mapping[str, Mapping | Sequence[Mapping]],
    *,
    attributes: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    baseline_name: str = "baseline",
) -> pd.DataFrame:
    """Apply named scenarios to a baseline forecast and stack them with it.

    Parameters
    ----------
    baseline : DataFrame
        Forecast table (``series_id, date, forecast``, quantile columns ``q...``).
    scenarios : list of dict, or dict of name -> dict or list of dict
        The adjustments (see the module docstring). In the dict form the key is the
        scenario's name.
    attributes : DataFrame, optional
        ``series_id`` with ``site_id, sku, region, product_line`` for the filters;
        built from ``sites`` and ``items`` (:func:`series_attributes`) when omitted.
    sites, items : DataFrame, optional
        Site and item masters, to resolve regions and product lines.
    baseline_name : str
        Scenario name of the unchanged rows.

    Returns
    -------
    DataFrame
        The baseline rows and one copy per scenario, with a ``scenario`` column
        first; non-negative.

    Examples
    --------
    >>> base = pd.DataFrame({"series_id": ["M1|A", "M2|A"], "date": ["2026-01-05"] * 2,
    ...                      "forecast": [10.0, 20.0], "q0.95": [15.0, 30.0]})
    >>> out = apply_scenarios(base, [{"name": "loss", "sites": ["M1"], "multiplier": 0.5}])
    >>> out[["scenario", "series_id", "forecast", "q0.95"]]
       scenario series_id  forecast  q0.95
    0  baseline      M1|A      10.0   15.0
    1  baseline      M2|A      20.0   30.0
    2      loss      M1|A       5.0    7.5
    3      loss      M2|A      20.0   30.0
    """
    if isinstance(scenarios, Mapping):
        specs: list[dict] = []
        for name, value in scenarios.items():
            for item in [value] if isinstance(value, Mapping) else value:
                specs.append({**item, "name": name})
    else:
        specs = [dict(spec) for spec in scenarios]
    for spec in specs:
        unknown = set(spec) - SCENARIO_KEYS
        if unknown:
            raise KeyError(f"scenario {spec.get('name')!r} has unknown keys {sorted(unknown)}")
        if "name" not in spec:
            raise KeyError("every scenario needs a name")
        if float(spec.get("multiplier", 1.0)) < 0:
            raise ValueError(f"scenario {spec['name']!r} has a negative multiplier")
    if attributes is None:
        attributes = series_attributes(baseline["series_id"], sites=sites, items=items)
    drop = [c for c in attributes.columns if c != "series_id" and c in baseline.columns]
    frame = baseline.merge(attributes.drop(columns=drop), on="series_id", how="left")
    value_columns = ["forecast", *[c for c in baseline.columns if c.startswith("q")]]
    outputs = [baseline.assign(scenario=baseline_name)]
    retired = (
        frame["phased_out"].fillna(False).to_numpy(dtype=bool)
        if "phased_out" in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    for name in dict.fromkeys(spec["name"] for spec in specs):
        values = frame[value_columns].to_numpy(dtype=float).copy()
        for spec in (s for s in specs if s["name"] == name):
            mask = _matches(spec, frame) & ~retired
            values[mask] = values[mask] * float(spec.get("multiplier", 1.0)) + float(
                spec.get("add", 0.0)
            )
        scenario = baseline.copy()
        scenario[value_columns] = np.clip(values, 0.0, None)
        outputs.append(scenario.assign(scenario=name))
    out = pd.concat(outputs, ignore_index=True)
    return out[["scenario", *baseline.columns]]


def _valued(frame: pd.DataFrame, items: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with ``value = forecast * unit_cost`` (0 for skus without a cost)."""
    sku = split_series_id(frame["series_id"])["sku"].astype(str)
    if items is not None and "unit_cost" in items.columns:
        table = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku")
        cost = sku.map(table.set_index("sku")["unit_cost"].astype(float))
    else:
        cost = pd.Series(np.nan, index=frame.index)
    return frame.assign(
        value=frame["forecast"].to_numpy(dtype=float) * cost.fillna(0.0).to_numpy(dtype=float)
    )


def scenario_totals(
    scenarios: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    baseline_name: str = "baseline",
    descriptions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Sum each scenario's forecast over the horizon and compare it with the baseline.

    Parameters
    ----------
    scenarios : DataFrame
        :func:`apply_scenarios`' stacked table (``scenario, series_id, date,
        forecast``, ...).
    items : DataFrame, optional
        ``sku, unit_cost``: values the units at unit cost (without it values are 0).
    baseline_name : str
        The scenario every other is compared with.
    descriptions : dict, optional
        Scenario name -> a sentence, put in a ``description`` column.

    Returns
    -------
    DataFrame
        One row per scenario in the table's order, baseline first: ``scenario,
        description, units, value, units_change, value_change, value_change_share``
        (change against the baseline; the share is relative to the baseline's value),
        ``series_changed`` (series whose forecast differs from the baseline's) and
        ``first_week, last_week`` of the weeks it changes (empty when none).

    Examples
    --------
    >>> base = pd.DataFrame({"series_id": ["M1|A", "M1|A"], "date": ["2026-01-05", "2026-01-12"],
    ...                      "forecast": [10.0, 10.0]})
    >>> stacked = apply_scenarios(base, [{"name": "up", "multiplier": 1.5, "start": "2026-01-12"}])
    >>> items = pd.DataFrame({"sku": ["A"], "unit_cost": [2.0]})
    >>> scenario_totals(stacked, items)[["scenario", "units", "value", "value_change"]]
       scenario  units  value  value_change
    0  baseline   20.0   40.0           0.0
    1        up   25.0   50.0          10.0
    """
    frame = _valued(scenarios, items)
    frame = frame.assign(date=pd.to_datetime(frame["date"]))
    names = list(dict.fromkeys(frame["scenario"]))
    if baseline_name not in names:
        raise KeyError(f"no scenario {baseline_name!r} in the table")
    base = frame[frame["scenario"] == baseline_name].set_index(["series_id", "date"])["forecast"]
    rows = []
    for name in [baseline_name, *[n for n in names if n != baseline_name]]:
        part = frame[frame["scenario"] == name]
        aligned = part.set_index(["series_id", "date"])["forecast"]
        delta = aligned - base.reindex(aligned.index).fillna(0.0)
        changed = delta[np.abs(delta.to_numpy()) > 1e-9]
        weeks = changed.index.get_level_values("date")
        rows.append(
            {
                "scenario": name,
                "description": (descriptions or {}).get(name, ""),
                "units": float(part["forecast"].sum()),
                "value": float(part["value"].sum()),
                "series_changed": int(changed.index.get_level_values("series_id").nunique()),
                "first_week": weeks.min() if len(weeks) else pd.NaT,
                "last_week": weeks.max() if len(weeks) else pd.NaT,
            }
        )
    out = pd.DataFrame(rows)
    out["units_change"] = out["units"] - out["units"].iloc[0]
    out["value_change"] = out["value"] - out["value"].iloc[0]
    base_value = out["value"].iloc[0]
    out["value_change_share"] = out["value_change"] / base_value if base_value > 0 else np.nan
    columns = [
        "scenario",
        "description",
        "units",
        "value",
        "units_change",
        "value_change",
        "value_change_share",
        "series_changed",
        "first_week",
        "last_week",
    ]
    return out[columns]


def scenario_weekly(
    scenarios: pd.DataFrame, items: pd.DataFrame | None = None, *, measure: str = "value"
) -> pd.DataFrame:
    """Return each scenario's weekly total, one column per scenario (for a chart).

    Parameters
    ----------
    scenarios : DataFrame
        :func:`apply_scenarios`' stacked table.
    items : DataFrame, optional
        ``sku, unit_cost`` (needed for ``measure="value"``).
    measure : {"value", "forecast"}
        Sum the value at unit cost or the units.

    Returns
    -------
    DataFrame
        Indexed by week, columns in the table's scenario order.
    """
    if measure not in ("value", "forecast"):
        raise ValueError("measure must be 'value' or 'forecast'")
    frame = _valued(scenarios, items).assign(date=lambda f: pd.to_datetime(f["date"]))
    names = list(dict.fromkeys(frame["scenario"]))
    table = frame.pivot_table(index="date", columns="scenario", values=measure, aggfunc="sum")
    return table.reindex(columns=names).fillna(0.0).rename_axis(columns=None)
