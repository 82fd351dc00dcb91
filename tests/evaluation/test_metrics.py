"""Metrics against hand-computed values, the volcano-level count and the table layout."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.evaluation.metrics import METRIC_COLUMNS, metrics_table, patch_metrics, to_markdown


def test_metrics_match_a_hand_computed_example():
    # 10 patches over 3 frames. Threshold 0.5 -> predictions 1 1 0 0 | 1 0 0 | 1 0 0
    labels = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    probabilities = np.array([0.9, 0.6, 0.2, 0.1, 0.7, 0.3, 0.4, 0.8, 0.45, 0.05])
    frames = np.array(["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"])
    m = patch_metrics(labels, probabilities, frames)
    # TP = 3 (0.9, 0.6, 0.7), FN = 1 (0.2), FP = 1 (0.8), TN = 5
    assert (m["TP"], m["FN"], m["FP"], m["TN"]) == (3, 1, 1, 5)
    assert m["TPR"] == pytest.approx(75.0)
    assert m["FPR"] == pytest.approx(100 / 6)
    assert m["Accuracy"] == pytest.approx(80.0)
    assert m["Precision"] == pytest.approx(75.0)
    assert m["F1"] == pytest.approx(75.0)
    # AUC by counting: of 4 x 6 positive-negative pairs the positive scores higher in 6+5+5+2 = 18.
    assert m["AUC ROC"] == pytest.approx(100 * 18 / 24)
    # Frames a and b hold deformation and both have a true positive; frame c has only a FP.
    assert m["Volcanoes"] == "2/2"


def test_a_frame_with_only_false_positives_does_not_count_as_found():
    labels = np.array([1, 0, 1, 0])
    probabilities = np.array([0.2, 0.9, 0.8, 0.1])
    assert (
        patch_metrics(labels, probabilities, np.array(["a", "a", "b", "b"]))["Volcanoes"] == "1/2"
    )


def test_nothing_predicted_positive():
    m = patch_metrics(np.array([1, 0, 0]), np.array([0.1, 0.2, 0.3]), np.array(["a", "a", "a"]))
    assert (m["TPR"], m["FPR"], m["Precision"], m["F1"], m["Volcanoes"]) == (
        0.0,
        0.0,
        0.0,
        0.0,
        "0/1",
    )


def test_table_layout_follows_the_paper():
    m = patch_metrics(np.array([1, 0]), np.array([0.9, 0.2]), np.array(["a", "a"]))
    table = metrics_table([("Synthetic", m), ("FT1 [last]", m)], "Approach")
    assert list(table.columns) == ["Approach", *METRIC_COLUMNS]
    assert list(METRIC_COLUMNS) == [
        "TPR",
        "FPR",
        "AUC ROC",
        "Accuracy",
        "Precision",
        "F1",
        "Volcanoes",
    ]
    assert table.Approach.tolist() == ["Synthetic", "FT1 [last]"]
    markdown = to_markdown(table).splitlines()
    assert (
        markdown[0] == "| Approach | TPR | FPR | AUC ROC | Accuracy | Precision | F1 | Volcanoes |"
    )
    assert markdown[2].startswith("| Synthetic | 100.0 | 0.0 | 100.0 |")


def test_false_positive_breakdown_by_patch_content():
    import pandas as pd

    from volcdet.evaluation.metrics import false_positive_breakdown

    frame = pd.DataFrame(
        {
            "label": [0, 0, 0, 0, 0, 1],
            "footprint_fraction": [0.0, 0.0, 0.0, 0.4, 0.2, 1.0],
            "salt_lake_fraction": [0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
            "probability": [0.9, 0.8, 0.1, 0.7, 0.2, 0.9],
        }
    )
    row = false_positive_breakdown({"m": frame}).iloc[0]
    assert row["no deformation (n=3)"] == pytest.approx(100 * 2 / 3, abs=0.05)
    assert row["no deformation, salt lake (n=1)"] == 100.0
    assert row["no deformation, no salt lake (n=2)"] == 50.0
    assert row["partial footprint (n=2)"] == 50.0
