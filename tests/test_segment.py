"""ABC, XYZ and demand-pattern classes on hand examples, cut-offs at and across the line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weekly_demand import weekly_dates

from toolkit.segment import (
    abc_classes,
    classify_demand_pattern,
    pattern_metrics,
    segment_demand,
    segment_matrix,
    segment_panel_patterns,
    xyz_classes,
)


def _series_with(n_weeks: int, sizes: list[float]) -> np.ndarray:
    """``n_weeks`` weeks whose demands are ``sizes``, spread evenly, zeros elsewhere."""
    values = np.zeros(n_weeks)
    values[np.linspace(0, n_weeks - 1, len(sizes)).round().astype(int)] = sizes
    return values


def test_adi_exactly_at_and_just_below_the_cutoff() -> None:
    # 33 weeks with 25 demands: ADI = 33 / 25 = 1.32 exactly -> intermittent (upper class).
    at = _series_with(33, [4.0] * 25)
    # 33 weeks with 26 demands: ADI = 1.269 -> smooth.
    below = _series_with(33, [4.0] * 26)
    metrics = pattern_metrics(np.vstack([at, below]), window_weeks=None)
    assert metrics["adi"].tolist() == pytest.approx([1.32, 33 / 26])
    assert metrics["cv2"].tolist() == [0.0, 0.0]
    assert classify_demand_pattern(metrics["adi"], metrics["cv2"]).tolist() == [
        "intermittent",
        "smooth",
    ]


def test_cv2_exactly_at_and_just_below_the_cutoff() -> None:
    # Sizes 3 and 17: mean 10, population sd 7, CV^2 = 0.7^2 = 0.49 -> erratic
    # (computed as 0.48999999999999994 in floating point; the rounding keeps it at 0.49).
    at = np.array([3.0, 17.0] * 10)
    # Sizes 3.1 and 16.9: sd 6.9, CV^2 = 0.4761 -> smooth.
    below = np.array([3.1, 16.9] * 10)
    metrics = pattern_metrics(np.vstack([at, below]), window_weeks=None)
    assert metrics["cv2"].tolist() == pytest.approx([0.49, 0.4761])
    assert metrics["adi"].tolist() == [1.0, 1.0]
    classes = classify_demand_pattern(metrics["adi"], metrics["cv2"])
    assert classes.tolist() == ["erratic", "smooth"]


def test_the_four_quadrants_and_custom_cutoffs() -> None:
    adi = [1.0, 1.0, 2.0, 2.0]
    cv2 = [0.1, 0.8, 0.1, 0.8]
    assert classify_demand_pattern(adi, cv2).tolist() == [
        "smooth",
        "erratic",
        "intermittent",
        "lumpy",
    ]
    # With the ADI cut-off raised to 2.5 every series counts as frequent.
    assert classify_demand_pattern(adi, cv2, adi_cutoff=2.5).tolist() == [
        "smooth",
        "erratic",
        "smooth",
        "erratic",
    ]
    assert classify_demand_pattern([np.nan], [np.nan]).tolist() == ["inactive"]


def test_abc_hand_example() -> None:
    # Values 500, 300, 100, 60, 40 (total 1000). Shares held by the items ranked above:
    # 0, 0.5, 0.8, 0.9, 0.96 -> A, A (0.5 < 0.8), B (0.8 < 0.95), B (0.9), C (0.96).
    value = [100.0, 500.0, 40.0, 300.0, 60.0]
    assert abc_classes(value).tolist() == ["B", "A", "C", "A", "B"]
    # Cut-offs are arguments: with 0.5 / 0.9 the 300 item is B and the 60 item C.
    assert abc_classes(value, (0.5, 0.9)).tolist() == ["B", "A", "C", "B", "C"]
    assert abc_classes([0.0, 0.0]).tolist() == ["C", "C"]


def test_xyz_hand_example() -> None:
    assert xyz_classes([0.1, 0.5, 0.99, 1.0, 3.0, np.nan]).tolist() == [
        "X",
        "Y",
        "Y",
        "Z",
        "Z",
        "Z",
    ]
    assert xyz_classes([0.3, 0.6], (0.25, 0.5)).tolist() == ["Y", "Z"]


def _demand(rows: dict[str, list[float]], n_weeks: int) -> pd.DataFrame:
    frames = []
    dates = weekly_dates(n_weeks)
    for sku, values in rows.items():
        values = np.asarray(values, dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "site_id": "M1",
                    "sku": sku,
                    "date": dates[n_weeks - len(values) :],
                    "quantity": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_segment_demand_hand_example_with_targets() -> None:
    n = 52
    # Weekly demand constant (CV 0 -> X) or alternating (CV 1 -> Z).
    demand = _demand(
        {
            "BIG": [10.0] * n,  # 520 units x 10 = 5200 a year
            "MID": [4.0, 0.0] * (n // 2),  # 104 units x 10 = 1040, CV 1, ADI 2, CV2 0
            "CRIT": [1.0] * n,  # 52 x 5 = 260
            "EOL": [1.0] * n,  # 52 x 1 = 52
            "NEW": [2.0] * 6,  # 6 weeks of history: new; annualized 104 x 1 = 104
            "DEAD": [0.0] * n,  # no demand: inactive
        },
        n,
    )
    items = pd.DataFrame(
        {
            "sku": ["BIG", "MID", "CRIT", "EOL", "NEW", "DEAD"],
            "unit_cost": [10.0, 10.0, 5.0, 1.0, 1.0, 3.0],
            "lifecycle": ["mature", "mature", "mature", "end_of_life", "launch", "mature"],
            "criticality": ["standard", None, "Critical", "standard", "standard", "standard"],
            "product_line": "lines",
        }
    )
    seg = segment_demand(demand, items).set_index("sku")
    assert seg.loc["BIG", "annual_value"] == pytest.approx(5200.0)
    assert seg.loc["MID", "annual_value"] == pytest.approx(1040.0)
    # Total 5200 + 1040 + 260 + 104 + 52 + 0 = 6656; BIG alone holds 78 % < 80 %,
    # so MID (share above it 0.78) is A too; CRIT (above: 0.938) is B; the rest C.
    assert seg["abc"].to_dict() == {
        "BIG": "A",
        "MID": "A",
        "CRIT": "B",
        "NEW": "C",
        "EOL": "C",
        "DEAD": "C",
    }
    assert seg.loc["BIG", "xyz"] == "X"
    assert seg.loc["MID", "cv"] == pytest.approx(1.0)
    assert seg.loc["MID", "xyz"] == "Z"
    assert seg.loc["MID", "pattern"] == "intermittent"
    assert seg.loc["NEW", "pattern"] == "new"
    assert seg.loc["DEAD", "pattern"] == "inactive"
    # Targets: matrix, critical override, launch for new, lower for end of life.
    assert seg.loc["BIG", "service_level"] == 0.99
    assert seg.loc["BIG", "target_source"] == "matrix"
    assert seg.loc["MID", "service_level"] == 0.97
    assert seg.loc["CRIT", "service_level"] == 0.995
    assert seg.loc["CRIT", "target_source"] == "critical"
    assert seg.loc["NEW", "service_level"] == 0.97
    assert seg.loc["NEW", "target_source"] == "launch"
    assert seg.loc["EOL", "service_level"] == 0.90
    assert seg.loc["EOL", "target_source"] == "end_of_life"
    assert seg["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_segment_demand_custom_matrix_and_targets() -> None:
    demand = _demand({"A1": [5.0] * 30, "C1": [1.0, 0.0, 0.0] * 10}, 30)
    items = pd.DataFrame({"sku": ["A1", "C1"], "unit_cost": [100.0, 1.0]})
    matrix = {"A": {"X": 0.95, "Y": 0.9, "Z": 0.85}, "B": {"X": 0.9}, "C": {"Z": 0.8}}
    seg = segment_demand(demand, items, service_levels=matrix, abc_cutoffs=(0.5, 0.9))
    seg = seg.set_index("sku")
    assert seg.loc["A1", "service_level"] == 0.95
    assert seg.loc["C1", ["abc", "xyz"]].tolist() == ["C", "Z"]
    assert seg.loc["C1", "service_level"] == 0.8


def test_segment_accepts_series_ids_and_unknown_skus() -> None:
    demand = pd.DataFrame(
        {"series_id": ["M1|A", "M1|X"], "date": ["2024-01-01"] * 2, "quantity": [3.0, 1.0]}
    )
    items = pd.DataFrame({"sku": ["A"], "unit_cost": [2.0]})
    seg = segment_demand(demand, items, min_history=1).set_index("sku")
    assert seg.loc["A", "site_id"] == "M1"
    # An unmapped code has no value: C.
    assert seg.loc["X", "annual_value"] == 0.0
    assert seg.loc["X", "abc"] == "C"


def test_panel_patterns_and_matrix() -> None:
    panel = np.array(
        [
            [5.0] * 20,
            [np.nan] * 15 + [2.0] * 5,  # 5 weeks old: new
            [0.0] * 20,
        ]
    )
    assert segment_panel_patterns(panel).tolist() == ["smooth", "new", "inactive"]
    seg = pd.DataFrame({"abc": ["A", "A", "B"], "xyz": ["X", "Z", "X"], "annual_value": [5, 2, 1]})
    counts = segment_matrix(seg)
    assert counts.loc["A", "X"] == 1
    assert counts.loc["total", "total"] == 3
    value = segment_matrix(seg, value="annual_value")
    assert value.loc["total", "X"] == 6
