"""Thresholds at a fixed false-alarm rate on the fine-tuning hold-out's background negatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.evaluation.calibration import calibration_negatives, threshold_at_fpr


@pytest.mark.parametrize("target", [0.0, 0.02, 0.1, 0.5])
def test_threshold_flags_at_most_the_target_share(target):
    scores = np.random.default_rng(0).uniform(size=200)
    threshold = threshold_at_fpr(scores, target)
    flagged = (scores >= threshold).mean()
    assert flagged <= target + 1e-12
    assert flagged >= target - 1 / len(scores)  # no lower threshold meets the target too


def test_calibration_negatives_are_raw_background_tiles_of_the_hold_out():
    table = pd.DataFrame(
        {
            "label": [0, 1, 0, 0, 1, 0, 0, 1],
            "origin": ["background"] * 4 + ["simulated"] * 2 + ["background+median20"] * 2,
            "group": ["g1", "g1", "g2", "g3", "simulated", "simulated", "g1", "g2"],
        }
    )
    negatives = calibration_negatives(table, 0.5, seed=3)
    rows = table.iloc[negatives]
    assert (rows.label == 0).all() and (rows.origin == "background").all()
    assert len(negatives) >= 1
