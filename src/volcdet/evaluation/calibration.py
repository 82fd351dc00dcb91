"""Thresholds that mean the same for every model: a fixed false-alarm rate on held-out negatives.

At 0.5 the models of Tables 1-2 flag very different shares of negatives, so their TPR rows do
not compare. Here each model's threshold is the one at which it flags ``target_fpr`` of the
same calibration negatives: the background tiles held out from fine-tuning for the sensitivity
test, entered untouched (real-region tiles outside the ROI that no head was fitted on, and whose
ground no fine-tuning tile shares: ``volcdet.data.background.fine_tuning_tiles``). Not the test
set: the test labels are not used. Not in the paper.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.data.stores import read_table_attrs
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.finetune import backbone_digest, head_probabilities

log = logging.getLogger(__name__)


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
    sensitivity: tuple[Path, Path, Path],
    target_fpr: float,
) -> pd.DataFrame:
    """Per model: the threshold at ``target_fpr`` on the calibration negatives, and their count.

    ``sensitivity`` is the sensitivity store's cached features, their table and the injected
    table (whose untouched, full-window rows are the calibration negatives)."""
    features_path, features_table, injected_table = sensitivity
    expected = read_table_attrs(features_table).get("backbone_digest")
    untouched = untouched_tiles(pd.read_parquet(injected_table))
    if not len(untouched):
        raise ValueError(f"{injected_table}: no untouched held-out tile to calibrate on")
    pool = np.load(features_path)[untouched]
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
                "calibration_fpr_percent": round(
                    100.0 * float((probabilities >= threshold).mean()), 3
                ),
            }
        )
    result = pd.DataFrame(rows)
    log.info(
        "thresholds at %.1f%% FPR on %d held-out background tiles:\n%s",
        100 * target_fpr,
        len(pool),
        result,
    )
    return result


def write_calibrated_model(
    model_path: Path,
    sensitivity: tuple[Path, Path, Path],
    target_fpr: float,
    out_path: Path,
    card: dict,
) -> dict:
    """A copy of a model file whose threshold flags ``target_fpr`` of the calibration
    negatives (``calibrated_thresholds``), with ``card`` (what it is, how it was chosen) in its
    run info; the calibration record is returned."""
    from volcdet.learning.checkpoints import build_checkpoint, save_atomic

    record = calibrated_thresholds({"model": model_path}, sensitivity, target_fpr).iloc[0]
    model, transform, checkpoint = model_from_checkpoint(model_path)
    calibration = {
        "target_fpr_percent": float(record.target_fpr_percent),
        "calibration_negatives": int(record.calibration_negatives),
        "calibration_fpr_percent": float(record.calibration_fpr_percent),
        "threshold": float(record.threshold),
    }
    run_info = {**checkpoint["run_info"], "model_card": {**card, "calibration": calibration}}
    calibrated = build_checkpoint(
        model, model.spec, transform, run_info, checkpoint["epoch"], checkpoint["val_loss"]
    )
    calibrated["threshold"] = float(record.threshold)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    save_atomic(calibrated, Path(out_path))
    log.info("%s: threshold %.4f (%s)", out_path, record.threshold, calibration)
    return calibration
