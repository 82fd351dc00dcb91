"""Seed summary: mean +- sd per metric over seed runs and the seed-mean AUC interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.evaluation.bootstrap import auc_with_interval, frame_resample_weights
from volcdet.evaluation.seeds import (
    SEED_METRICS,
    seed_mean_auc_interval,
    seeds_markdown,
    seeds_summary,
)

FRAMES = np.repeat(np.arange(12), 4)
LABELS = np.tile([1, 0, 0, 1], 12)


def predictions(shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "patch_id": [f"p{i}" for i in range(len(LABELS))],
            "frame_id": FRAMES,
            "label": LABELS,
            "footprint_fraction": np.where(LABELS == 1, 1.0, 0.0),
            "probability": rng.normal(shift * LABELS, 1.0),
        }
    )


def run(tpr: float, rate50: float, shift: float, seed: int) -> dict:
    metrics = dict.fromkeys(SEED_METRICS, 50.0)
    metrics["TPR"] = tpr
    return {
        "metrics": metrics,
        "predictions": predictions(shift, seed),
        "sensitivity": {"rate50_mm_yr": rate50, "rate90_mm_yr": float("nan")},
    }


def test_mean_and_sample_sd_over_seeds():
    runs = {
        1: {"m": run(80.0, 2.0, 1.0, 1)},
        2: {"m": run(90.0, 4.0, 1.0, 2)},
        3: {"m": run(100.0, float("nan"), 1.0, 3)},
    }
    row = seeds_summary({"m": "Model M"}, runs, n_resamples=100, bootstrap_seed=0).iloc[0]
    assert row["TPR mean"] == pytest.approx(90.0)
    assert row["TPR sd"] == pytest.approx(10.0)  # sample sd of 80, 90, 100
    # A rate never reached in one seed: mean and sd of the two that reach it, and the count.
    assert (row["rate50_mm_yr mean"], row["rate50_mm_yr reached"]) == (3.0, 2)
    assert row["rate90_mm_yr reached"] == 0
    assert row["AUC ROC low"] <= row["AUC ROC high"]
    markdown = seeds_markdown(seeds_summary({"m": "Model M"}, runs, 100, 0), 20.0)
    assert "90.0 ± 10.0" in markdown and "(1/3 >20)" in markdown and "| >20 |" in markdown


def test_one_seed_gives_the_single_model_interval():
    single = predictions(1.5, 4)
    point, low, high = seed_mean_auc_interval([single], 300, seed=2)
    expected = auc_with_interval(
        LABELS, single.probability.to_numpy(), frame_resample_weights(FRAMES, 300, 2)
    )
    assert (point, low, high) == pytest.approx(tuple(100 * v for v in expected))


def test_seed_mean_interval_is_narrower_than_a_single_noisy_seed():
    """Averaging the seeds' AUCs on the same frames cancels the seeds' own noise."""
    seeds = [predictions(1.0, s) for s in range(8)]
    _, low, high = seed_mean_auc_interval(seeds, 500, seed=1)
    widths = [np.subtract(*seed_mean_auc_interval([p], 500, seed=1)[:0:-1]) for p in seeds]
    assert high - low < np.mean(widths)


def test_runs_on_other_test_patches_are_refused():
    other = predictions(1.0, 1)
    other.loc[0, "patch_id"] = "elsewhere"
    with pytest.raises(ValueError, match="different test patches"):
        seed_mean_auc_interval([predictions(1.0, 0), other], 10, seed=0)
