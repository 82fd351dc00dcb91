"""Metrics that separate models, on hand-made labels and probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.evaluation.separation import (
    clean_mask,
    footprint_sweep,
    frame_scores,
    model_metrics,
    paired_clean_auc_difference,
    relabel,
)


def predictions(probabilities, labels, fractions, frames) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patch_id": [f"p{i}" for i in range(len(labels))],
            "frame_id": frames,
            "label": labels,
            "footprint_fraction": fractions,
            "probability": probabilities,
        }
    )


# Frame a: deforming (one full footprint, one partial); b: deforming; c: no deformation.
TABLE = predictions(
    probabilities=[0.9, 0.8, 0.3, 0.6, 0.2, 0.7, 0.4, 0.1],
    labels=[1, 0, 0, 1, 0, 0, 0, 0],
    fractions=[1.0, 0.6, 0.0, 0.95, 0.3, 0.0, 0.0, 0.0],
    frames=["a", "a", "a", "b", "b", "c", "c", "c"],
)


def test_clean_mask_drops_only_partial_footprint_negatives():
    keep = clean_mask(TABLE.label, TABLE.footprint_fraction)
    assert keep.tolist() == [True, False, True, True, False, True, True, True]


def test_relabel_follows_the_containment_threshold():
    assert relabel(TABLE.footprint_fraction, 0.9).tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    assert relabel(TABLE.footprint_fraction, 0.5).tolist() == [1, 1, 0, 1, 0, 0, 0, 0]
    assert relabel(TABLE.footprint_fraction, 1.0).tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_footprint_sweep_aucs_by_hand():
    sweep = footprint_sweep({"m": TABLE}, [0.5, 0.9]).set_index("min_footprint_fraction")
    # t = 0.9: positives 0.9, 0.6; negatives 0.8, 0.3, 0.2, 0.7, 0.4, 0.1.
    # 0.9 beats 6, 0.6 beats 4 (0.3, 0.2, 0.4, 0.1) -> 10 / 12.
    assert sweep.loc[0.9, "AUC"] == pytest.approx(100 * 10 / 12, abs=1e-3)
    # t = 0.5: 0.8 becomes positive; negatives 0.3, 0.2, 0.7, 0.4, 0.1. 0.9 and 0.8 beat all 5,
    # 0.6 beats 4 -> 14 / 15.
    assert sweep.loc[0.5, "AUC"] == pytest.approx(100 * 14 / 15, abs=1e-3)
    assert (sweep.loc[0.5, "positives"], sweep.loc[0.5, "negatives"]) == (3, 5)


def test_frame_scores_take_the_largest_probability():
    frames = frame_scores(TABLE.frame_id, TABLE.label, TABLE.probability)
    assert frames.frame_id.tolist() == ["a", "b", "c"]
    assert frames.positive.tolist() == [True, True, False]
    assert frames.score.tolist() == [0.9, 0.6, 0.7]


def test_model_metrics_clean_and_per_frame():
    m = model_metrics(TABLE, n_resamples=200, seed=0)
    # Clean: drop 0.8 and 0.2 -> positives 0.9, 0.6 vs negatives 0.3, 0.7, 0.4, 0.1:
    # 0.9 beats 4, 0.6 beats 3 -> 7 / 8.
    assert m["AUC clean"] == pytest.approx(100 * 7 / 8)
    # Clean negatives at 0.5: only 0.7 is flagged -> 1 / 4.
    assert m["FPR clean"] == pytest.approx(25.0)
    assert m["clean negatives"] == 4
    # Frames: a (0.9, +), b (0.6, +), c (0.7, -): AUC = 1 / 2 (0.9 > 0.7, 0.6 < 0.7).
    assert m["Frame AUC"] == pytest.approx(50.0)
    assert (m["Frame TPR"], m["Frame FPR"]) == (100.0, 100.0)
    assert m["Frames"] == "2+/1-"
    low, high = m["AUC ROC 95% CI"]
    assert low <= m["AUC ROC"] <= high


def test_a_better_model_gains_clean_auc_with_an_interval_above_zero():
    rng = np.random.default_rng(2)
    frames = np.repeat(np.arange(60), 10)
    labels = (rng.random(600) < 0.4).astype(int)
    fractions = np.where(labels == 1, 1.0, np.where(rng.random(600) < 0.3, 0.5, 0.0))
    weak = rng.normal(0.3 * labels, 1.0)
    strong = rng.normal(2.0 * labels, 1.0)
    baseline = predictions(weak, labels, fractions, frames)
    better = predictions(strong, labels, fractions, frames)
    gain, low, high = paired_clean_auc_difference(baseline, better, 500, seed=1)
    assert low > 0 and low <= gain <= high
    same, s_low, s_high = paired_clean_auc_difference(baseline, baseline, 100, seed=1)
    assert same == s_low == s_high == 0.0
