"""A region's forecast from its dataset and params: the chain the reports share.

The forecasting report (``03_forecast``) and the safety-stock report
(``04_safety_stock``) start from the same forecast; this is that chain, written once::

    history   = demand_history(...)            # weekly per market and sku, aliases mapped
    history   = carry_over_history(history)    # a successor carries its predecessor's demand
    segments  = segment_demand(history, ...)   # ABC / XYZ / pattern, service targets
    run       = run_forecast(largest series)   # backtest selection, calibrated bands
    forecast  = phase_out(run.forecast)        # replaced items forecast at zero
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit.config import Params
from toolkit.dataset import Dataset
from toolkit.demand_panel import demand_history
from toolkit.forecast import ForecastRun, run_forecast
from toolkit.forecast_summary import largest_series
from toolkit.lifecycle import carry_over_history, phase_out
from toolkit.segment import segment_demand

__all__ = ["RegionForecast", "forecast_region"]


@dataclass(frozen=True)
class RegionForecast:
    """A region's demand history, segments and forecast.

    Attributes
    ----------
    history : DataFrame
        ``series_id, date, quantity`` (and ``site_id, sku``) of the series forecast:
        weekly, successors carrying their predecessors' demand, limited to the
        ``forecast.max_series`` most valuable series when that is set.
    segments : DataFrame
        :func:`toolkit.segment.segment_demand` over every series of the region.
    run : ForecastRun
        :func:`toolkit.forecast.run_forecast` over ``history``.
    forecast : DataFrame
        ``run.forecast`` after :func:`toolkit.lifecycle.phase_out`.
    """

    history: pd.DataFrame
    segments: pd.DataFrame
    run: ForecastRun
    forecast: pd.DataFrame


def forecast_region(data: Dataset, params: Params, *, progress: bool = False) -> RegionForecast:
    """Segment and forecast every market-sku series of a (regional) dataset.

    Parameters
    ----------
    data : Dataset
        Usually the region's clean dataset (``ctx.regional_clean``).
    params : Params
        Its ``segment`` and ``forecast`` sections are used.
    progress : bool
        Show a progress bar over the series.

    Returns
    -------
    RegionForecast
    """
    history = carry_over_history(
        demand_history(data.demand, data.items, aliases=data.aliases), data.items
    )
    segments = segment_demand(history, data.items, **params.segment.model_dump())
    history = largest_series(history, segments, params.forecast.max_series)
    run = run_forecast(
        history,
        events=data.events,
        sites=data.sites,
        segments=segments,
        progress=progress,
        **params.forecast.run_options(params.segment),
    )
    return RegionForecast(history, segments, run, phase_out(run.forecast, data.items))
