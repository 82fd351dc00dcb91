"""Thresholds at a fixed false-alarm rate on the fine-tuning hold-out's background negatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.evaluation.calibration import threshold_at_fpr, untouched_tiles


@pytest.mark.parametrize("target", [0.0, 0.02, 0.1, 0.5])
def test_threshold_flags_at_most_the_target_share(target):
    scores = np.random.default_rng(0).uniform(size=200)
    threshold = threshold_at_fpr(scores, target)
    flagged = (scores >= threshold).mean()
    assert flagged <= target + 1e-12
    assert flagged >= target - 1 / len(scores)  # no lower threshold meets the target too


def test_calibration_negatives_are_the_untouched_full_window_tiles():
    injected = pd.DataFrame(
        {
            "rate_mm_yr": [0.0, 0.0, 0.0, 1.0, 5.0, 0.0],
            "window": ["full", "full", "clip 16 km", "full", "full", "clip 30 km"],
        }
    )
    np.testing.assert_array_equal(untouched_tiles(injected), [0, 1])
