"""Thresholds that mean the same for every model: a fixed false-alarm rate on held-out negatives.

At 0.5 the models of Tables 1-2 flag very different shares of negatives, so their TPR rows do
not compare. Here each model's threshold is the one at which it flags ``target_fpr`` of the
same calibration negatives: the raw background tiles (with their partial-coverage masks) that
fine-tuning holds out for early stopping (``volcdet.learning.finetune.holdout_split``: the same
ground cells in every fine-tuning set, never used to fit a head). Real-region negatives, not
the test set: the test labels are not used. Not in the paper.
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


def calibrated_thresholds(
    model_paths: dict[str, Path],
    features_path: Path,
    features_table: Path,
    target_fpr: float,
    holdout_fraction: float,
    seed: int,
) -> pd.DataFrame:
    """Per model: the threshold at ``target_fpr`` on the calibration negatives, and their count."""
    features = np.load(features_path)
    table = pd.read_parquet(features_table)
    expected = read_table_attrs(features_table).get("backbone_digest")
    negatives = calibration_negatives(table, holdout_fraction, seed)
    if not len(negatives):
        raise ValueError(f"{features_table}: no raw background negative in the hold-out")
    rows = []
    for model_id, path in model_paths.items():
        model, _, _ = model_from_checkpoint(path)
        if backbone_digest(model) != expected:
            raise ValueError(f"{features_path}: computed with another backbone than {path}")
        probabilities = head_probabilities(model, features[negatives])
        threshold = threshold_at_fpr(probabilities, target_fpr)
        rows.append(
            {
                "model": model_id,
                "target_fpr_percent": 100.0 * target_fpr,
                "threshold": threshold,
                "calibration_negatives": len(negatives),
                "calibration_fpr_percent": round(
                    100.0 * float((probabilities >= threshold).mean()), 3
                ),
            }
        )
    result = pd.DataFrame(rows)
    log.info(
        "thresholds at %.1f%% FPR on %d held-out background negatives:\n%s",
        100 * target_fpr,
        len(negatives),
        result,
    )
    return result
