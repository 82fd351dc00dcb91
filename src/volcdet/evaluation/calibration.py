"""Thresholds that mean the same for every model: a fixed false-alarm rate on held-out negatives.

At 0.5 the models of Tables 1-2 flag very different shares of negatives, so their TPR rows do
not compare. Here each model's threshold is the one at which it flags ``target_fpr`` of the
same calibration negatives, real-region tiles that no head was fitted on: the raw background
tiles (with their partial-coverage masks) that fine-tuning holds out for early stopping
(``volcdet.learning.finetune.holdout_split``: the same ground cells in every fine-tuning set)
and the background tiles held out for the sensitivity test, untouched. Not the test set: the
test labels are not used. Not in the paper.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.data.stores import read_table_attrs
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.finetune import backbone_digest, head_probabilities, holdout_split

log = logging.getLogger(__name__)


def calibration_negatives(table: pd.DataFrame, holdout_fraction: float, seed: int) -> np.ndarray:
    """Indices of the raw background negatives in the fine-tuning hold-out of a set's table."""
    _, held = holdout_split(table, holdout_fraction, seed)
    rows = table.iloc[held]
    keep = (rows.label == 0) & (rows.origin == "background")
    return held[keep.to_numpy()]


def threshold_at_fpr(probabilities: np.ndarray, target_fpr: float) -> float:
    """The smallest threshold at which at most ``target_fpr`` of the negatives reach it (a
    patch is flagged at p >= threshold)."""
    scores = np.sort(np.asarray(probabilities, np.float64))[::-1]
    allowed = int(np.floor(target_fpr * len(scores)))
    if allowed >= len(scores):
        return 0.0
    # Flag the `allowed` highest scores: the threshold sits just above the next one.
    return float(np.nextafter(scores[allowed], np.inf))


def untouched_tiles(injected: pd.DataFrame) -> np.ndarray:
    """Indices of the sensitivity store's held-out tiles entered untouched in full windows."""
    full = injected.window == "full" if "window" in injected else True
    return np.flatnonzero(((injected.rate_mm_yr == 0) & full).to_numpy())


def calibrated_thresholds(
    model_paths: dict[str, Path],
    features: tuple[Path, Path],
    sensitivity: tuple[Path, Path, Path],
    target_fpr: float,
    holdout_fraction: float,
    seed: int,
) -> pd.DataFrame:
    """Per model: the threshold at ``target_fpr`` on the calibration negatives, and their count.

    ``features`` are a fine-tuning set's cached features and table (FT3 holds every raw
    background tile); ``sensitivity`` the sensitivity store's features, their table and the
    injected table."""
    features_path, features_table = features
    table = pd.read_parquet(features_table)
    expected = read_table_attrs(features_table).get("backbone_digest")
    held = calibration_negatives(table, holdout_fraction, seed)
    if read_table_attrs(sensitivity[1]).get("backbone_digest") != expected:
        raise ValueError(f"{sensitivity[0]}: computed with another backbone than {features_path}")
    untouched = untouched_tiles(pd.read_parquet(sensitivity[2]))
    pool = np.concatenate([np.load(features_path)[held], np.load(sensitivity[0])[untouched]])
    if not len(pool):
        raise ValueError(f"{features_table}: no held-out background tile to calibrate on")
    rows = []
    for model_id, path in model_paths.items():
        model, _, _ = model_from_checkpoint(path)
        if backbone_digest(model) != expected:
            raise ValueError(f"{features_path}: computed with another backbone than {path}")
        probabilities = head_probabilities(model, pool)
        threshold = threshold_at_fpr(probabilities, target_fpr)
        rows.append(
            {
                "model": model_id,
                "target_fpr_percent": 100.0 * target_fpr,
                "threshold": threshold,
                "calibration_negatives": len(pool),
                "from_finetune_holdout": len(held),
                "from_sensitivity_holdout": len(untouched),
                "calibration_fpr_percent": round(
                    100.0 * float((probabilities >= threshold).mean()), 3
                ),
            }
        )
    result = pd.DataFrame(rows)
    log.info(
        "thresholds at %.1f%% FPR on %d held-out background negatives:\n%s",
        100 * target_fpr,
        len(pool),
        result,
    )
    return result
