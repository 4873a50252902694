"""Seeded synthetic weekly demand for the forecasting tests (not a test module).

Small and fast on purpose: a handful of series of each demand pattern, 104 to 156
weeks, on Mondays. Each function is deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = "2023-01-02"  # a Monday


def weekly_dates(n_weeks: int, start: str = START) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n_weeks, freq="W-MON")


def series_frame(series_id: str, quantity, start: str = START) -> pd.DataFrame:
    quantity = np.asarray(quantity, dtype=float)
    return pd.DataFrame(
        {"series_id": series_id, "date": weekly_dates(len(quantity), start), "quantity": quantity}
    )


def smooth(rng: np.random.Generator, n_weeks: int, level: float = 40.0, season: float = 0.0):
    t = np.arange(n_weeks)
    rate = level * (1 + season * np.sin(2 * np.pi * t / 52))
    return rng.poisson(rate).astype(float)


def intermittent(rng: np.random.Generator, n_weeks: int, p: float = 0.3, size: float = 2.0):
    return ((rng.random(n_weeks) < p) * (1 + rng.poisson(size, n_weeks))).astype(float)


def lumpy(rng: np.random.Generator, n_weeks: int, p: float = 0.15, size: float = 20.0):
    occurs = rng.random(n_weeks) < p
    return np.round(occurs * rng.lognormal(np.log(size), 1.0, n_weeks))


def mixed_history(seed: int = 0, n_each: int = 2, n_weeks: int = 130) -> pd.DataFrame:
    """``n_each`` smooth, intermittent and lumpy series at site ``M1``, skus ``S..``."""
    rng = np.random.default_rng(seed)
    frames = []
    makers = [("SM", smooth), ("IN", intermittent), ("LU", lumpy)]
    for prefix, make in makers:
        for k in range(n_each):
            frames.append(series_frame(f"M1|{prefix}{k}", make(rng, n_weeks)))
    return pd.concat(frames, ignore_index=True)
