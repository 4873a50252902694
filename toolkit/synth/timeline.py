"""The fixed calendar of the synthetic extract.

Nothing here depends on today's date: the history always ends at
:data:`SNAPSHOT_DATE`, so the same seed gives the same files on any day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SNAPSHOT_DATE", "week_starts", "days_before_snapshot"]

#: The extract's snapshot: a Monday. Demand history covers the weeks before it,
#: inventory is counted at its start (00:00), movements all happen before it.
SNAPSHOT_DATE = pd.Timestamp("2026-11-02")


def week_starts(n_weeks: int) -> pd.DatetimeIndex:
    """Return the Monday period starts of the ``n_weeks`` weeks before the snapshot.

    Parameters
    ----------
    n_weeks : int
        Length of the demand history in weeks.

    Returns
    -------
    DatetimeIndex
        Mondays, oldest first; the last one is a week before :data:`SNAPSHOT_DATE`.

    Examples
    --------
    >>> week_starts(2).strftime("%Y-%m-%d").tolist()
    ['2026-10-19', '2026-10-26']
    """
    return pd.date_range(end=SNAPSHOT_DATE - pd.Timedelta(days=7), periods=n_weeks, freq="7D")


def days_before_snapshot(days: np.ndarray) -> pd.DatetimeIndex:
    """Return the timestamps ``days`` (fractional) before the snapshot, to the minute."""
    minutes = np.round(np.asarray(days, dtype=float) * 24 * 60).astype("int64")
    return pd.DatetimeIndex(SNAPSHOT_DATE - pd.to_timedelta(minutes, unit="min"))
