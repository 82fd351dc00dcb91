"""Frame bootstrap: confidence intervals that resample whole test frames, not single patches.

The 25 patches of a 512 px frame overlap by 75% and share one volcano, one track and one
atmosphere, so they are not independent samples. A resample draws as many frames as the test
set holds, with replacement, and every patch of a drawn frame enters with the frame's
multiplicity as its weight (the cluster bootstrap, Davison & Hinkley 1997, section 3.8). The
interval is the percentile interval of the statistic over the resamples.
"""

from __future__ import annotations

import numpy as np

from volcdet.core.random import Purpose, stream

LEVEL = 0.95


def frame_resample_weights(frame_ids: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Patch weights (n_resamples, n_patches): how often each patch's frame was drawn.

    Every resample draws ``n_frames`` frames with replacement from the stream (seed, 14); all
    patches of one frame share its count, so a frame enters or leaves a resample as a whole.
    """
    codes, n_frames = _frame_codes(frame_ids)
    rng = stream(seed, Purpose.BOOTSTRAP)
    drawn = rng.integers(n_frames, size=(n_resamples, n_frames))
    counts = np.zeros((n_resamples, n_frames), np.float64)
    np.add.at(counts, (np.arange(n_resamples)[:, None], drawn), 1.0)
    return counts[:, codes]


def _frame_codes(frame_ids: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(np.asarray(frame_ids), return_inverse=True)
    return codes.ravel(), len(uniques)


def weighted_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Area under the ROC curve for each row of sample weights (ties count one half).

    AUC = sum over positive-negative pairs of w_p w_n ([s_p > s_n] + [s_p = s_n] / 2) divided by
    (sum w_p)(sum w_n), the Mann-Whitney form (Hanley & McNeil 1982); with unit weights it equals
    scikit-learn's ``roc_auc_score``. NaN where a row has no positive or no negative weight.
    """
    weights = np.atleast_2d(np.asarray(weights, np.float64))
    labels = np.asarray(labels).astype(bool)
    order = np.argsort(np.asarray(scores), kind="stable")
    sorted_scores = np.asarray(scores)[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    w = weights[:, order]
    positive = np.add.reduceat(w * labels[order], starts, axis=1)
    negative = np.add.reduceat(w * ~labels[order], starts, axis=1)
    below = np.cumsum(negative, axis=1) - negative
    numerator = (positive * (below + 0.5 * negative)).sum(axis=1)
    denominator = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap replicates (NaN ones ignored)."""
    samples = np.asarray(samples, np.float64)
    if not np.isfinite(samples).any():
        return float("nan"), float("nan")
    low, high = np.nanpercentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def auc_with_interval(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, level: float = LEVEL
) -> tuple[float, float, float]:
    """(AUC, low, high) in [0, 1]: the AUC and its percentile interval over the resample weights
    (rows of ``frame_resample_weights``)."""
    point = float(weighted_auc(labels, scores, np.ones(len(labels)))[0])
    return (point, *percentile_interval(weighted_auc(labels, scores, weights), level))
