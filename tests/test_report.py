"""toolkit.report: the note an empty chart carries, and the charts that use it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from toolkit.network_plot import plot_imbalances
from toolkit.report import note_empty


@pytest.mark.parametrize("hide_axes", [True, False])
def test_note_empty_says_why(hide_axes: bool) -> None:
    fig, ax = plt.subplots()
    note_empty(ax, "no demand", hide_axes=hide_axes)
    assert [t.get_text() for t in ax.texts] == ["no demand"]
    assert ax.axison is not hide_axes
    plt.close(fig)


def test_empty_chart_carries_the_note() -> None:
    columns = ["site_id", "sku", "status", "value", "units"]
    fig = plot_imbalances(pd.DataFrame(columns=columns))
    assert [t.get_text() for t in fig.axes[0].texts] == ["no excess or shortage"]
    plt.close(fig)
