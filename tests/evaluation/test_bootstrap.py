"""Frame bootstrap: whole frames resampled together, seeded, intervals around the estimate."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.evaluation.bootstrap import (
    auc_with_interval,
    frame_resample_weights,
    percentile_interval,
    weighted_auc,
)


def test_weighted_auc_counts_pairs_by_hand():
    # positives 0.9, 0.4; negatives 0.5, 0.4, 0.1. Pairs won: 0.9 beats all 3; 0.4 beats 0.1,
    # ties 0.4 (one half), loses to 0.5 -> (3 + 1.5) / 6.
    labels = np.array([1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.4, 0.5, 0.4, 0.1])
    assert weighted_auc(labels, scores, np.ones(5))[0] == pytest.approx(4.5 / 6)
    # Weight 2 on the first negative (0.5) = the pair table with that negative twice: 5.5 / 8.
    assert weighted_auc(labels, scores, np.array([1, 1, 2, 1, 1.0]))[0] == pytest.approx(5.5 / 8)
    # A row without negatives has no AUC.
    assert np.isnan(weighted_auc(labels, scores, np.array([1, 1, 0, 0, 0.0]))[0])


def test_weights_are_shared_by_every_patch_of_a_frame():
    frames = np.array(["b", "a", "b", "c", "a", "a", "d", "c"])
    weights = frame_resample_weights(frames, 200, seed=3)
    assert weights.shape == (200, 8)
    for frame in "abcd":
        columns = weights[:, frames == frame]
        assert (columns == columns[:, :1]).all()
    # Each resample draws as many frames as there are (4), counted once per frame.
    first_patch = [int(np.flatnonzero(frames == f)[0]) for f in "abcd"]
    assert (weights[:, first_patch].sum(axis=1) == 4).all()
    # Not all resamples are the identity: frames really are drawn with replacement.
    assert (weights[:, first_patch] != 1).any()


def test_resampling_is_seeded():
    frames = np.repeat(np.arange(10), 5)
    same = frame_resample_weights(frames, 50, seed=1), frame_resample_weights(frames, 50, seed=1)
    other = frame_resample_weights(frames, 50, seed=2)
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], other)


def test_frame_interval_is_wider_than_a_patch_interval_for_correlated_frames():
    """Ten frames of 25 identical patches: resampling frames sees 10 units, not 250."""
    rng = np.random.default_rng(0)
    frame_labels = np.array([1, 0] * 5)
    frame_scores = rng.normal(0.6 * frame_labels, 0.5)
    labels = np.repeat(frame_labels, 25)
    scores = np.repeat(frame_scores, 25)
    frames = np.repeat(np.arange(10), 25)
    point, low, high = auc_with_interval(labels, scores, frame_resample_weights(frames, 500, 0))
    _, p_low, p_high = auc_with_interval(
        labels, scores, frame_resample_weights(np.arange(250), 500, 0)
    )
    assert low <= point <= high
    assert high - low > 2 * (p_high - p_low)


def test_interval_contains_the_estimate_and_narrows_with_more_frames():
    rng = np.random.default_rng(5)

    def interval(n_frames):
        frames = np.repeat(np.arange(n_frames), 9)
        labels = rng.integers(0, 2, len(frames))
        scores = rng.normal(labels, 1.0)
        return auc_with_interval(labels, scores, frame_resample_weights(frames, 1000, 4))

    small, large = interval(20), interval(400)
    for point, low, high in (small, large):
        assert low < point < high
    assert large[2] - large[1] < small[2] - small[1]
    assert large[1] > 0.6 and large[2] < 0.9  # true AUC of N(1,1) vs N(0,1) is 0.76


def test_percentile_interval_ignores_undefined_resamples():
    assert percentile_interval(np.array([np.nan, 0.5, 0.5, 0.5])) == (0.5, 0.5)
    assert all(np.isnan(percentile_interval(np.array([np.nan, np.nan]))))
