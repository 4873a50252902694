"""Named demand scenarios applied on top of a baseline forecast, kept side by side.

A scenario is a name and one or more *adjustments*, each a dict::

    {"name": "tender_surge_emea", "region": "EMEA", "product_line": "implants",
     "multiplier": 1.2, "start": "2026-01-05", "end": "2026-03-30"}

Filters (all optional, combined with AND; a missing filter matches everything):
``region`` (str or list), ``sites`` / ``site_id`` (str or list), ``product_line``
(str or list), ``skus`` / ``sku`` (str or list), ``series`` (series ids),
``start`` and ``end`` (inclusive week dates). Effects: ``multiplier`` (default 1;
a reimbursement loss is a multiplier below 1) and ``add`` (units per week added
after the multiplier). Several adjustments with the same name make one scenario
and apply in order. The forecast and every quantile column are transformed alike:
a multiplier scales the whole distribution and an addition shifts it; results are
clipped at zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit.demand_panel import split_series_id

__all__ = ["SCENARIO_KEYS", "series_attributes", "apply_scenarios"]

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
        if key in spec and spec[key] is not None:
            if column not in frame.columns or frame[column].isna().all():
                raise KeyError(
                    f"scenario {spec.get('name')!r} filters on {key!r} but the series have "
                    f"no {column}: pass sites/items or an attributes frame"
                )
            mask &= frame[column].astype(str).isin(_as_set(spec[key])).to_numpy()
    dates = pd.to_datetime(frame["date"])
    if spec.get("start") is not None:
        mask &= (dates >= pd.Timestamp(spec["start"])).to_numpy()
    if spec.get("end") is not None:
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
    for name in dict.fromkeys(spec["name"] for spec in specs):
        values = frame[value_columns].to_numpy(dtype=float).copy()
        for spec in (s for s in specs if s["name"] == name):
            mask = _matches(spec, frame)
            values[mask] = values[mask] * float(spec.get("multiplier", 1.0)) + float(
                spec.get("add", 0.0)
            )
        scenario = baseline.copy()
        scenario[value_columns] = np.clip(values, 0.0, None)
        outputs.append(scenario.assign(scenario=name))
    out = pd.concat(outputs, ignore_index=True)
    return out[["scenario", *baseline.columns]]
