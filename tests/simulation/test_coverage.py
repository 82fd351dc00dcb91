"""Partial-coverage windows and the confounders of the training noise."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.core.constants import FRINGE_MM
from volcdet.simulation.confounders import (
    FlatBasinSpec,
    flat_basins_mm,
    flat_ground,
    unwrapping_step_mm,
)
from volcdet.simulation.coverage import (
    CoverageSpec,
    clip_mask,
    coast_mask,
    draw_coverage_mask,
    edge_mask,
)
from volcdet.simulation.noise import NoiseSpec, RegionNoiseInputs, add_realistic_noise

SIZE, PIXEL = 128, 400.0


@pytest.mark.parametrize("kind", ["clip", "coast", "edge"])
def test_every_kind_keeps_the_centre_valid(kind):
    spec = CoverageSpec(
        probability=1.0,
        clip_weight=float(kind == "clip"),
        coast_weight=float(kind == "coast"),
        edge_weight=float(kind == "edge"),
    )
    rng = np.random.default_rng(0)
    shares = []
    for _ in range(60):
        mask, drawn = draw_coverage_mask(SIZE, PIXEL, rng, spec)
        assert drawn == kind and mask.shape == (SIZE, SIZE)
        assert not mask[SIZE // 2, SIZE // 2]
        shares.append(mask.mean())
    assert max(shares) > 0.3  # large no-data areas, not pinholes


def test_clip_is_one_rectangle_of_the_drawn_sides():
    rng = np.random.default_rng(1)
    for _ in range(30):
        valid = ~clip_mask(SIZE, PIXEL, rng, (10.0, 51.2))
        rows, cols = np.flatnonzero(valid.any(1)), np.flatnonzero(valid.any(0))
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert valid.sum() == height * width  # a filled rectangle
        for side in (height, width):
            side_km = side * PIXEL / 1000.0
            assert side_km + 0.5 >= 10.0 and side_km <= 51.2 + 0.5


def test_coast_reaches_the_drawn_sea_share():
    rng = np.random.default_rng(2)
    for _ in range(20):
        mask = coast_mask(SIZE, PIXEL, rng, (0.6, 0.6), (5.0, 25.0))
        assert mask.mean() == pytest.approx(0.6, abs=0.03)


def test_edge_cuts_whole_sides():
    mask = edge_mask(SIZE, np.random.default_rng(3), (0.2, 0.2))
    cut_rows = mask.all(axis=1)
    cut_cols = mask.all(axis=0)
    assert cut_rows.any() or cut_cols.any()
    assert mask.sum() == pytest.approx(
        (cut_rows.sum() * SIZE + cut_cols.sum() * SIZE - cut_rows.sum() * cut_cols.sum()), abs=0
    )


def test_coverage_off_by_default_and_same_for_both_classes():
    assert draw_coverage_mask(SIZE, PIXEL, np.random.default_rng(0), CoverageSpec())[0] is None
    spec = NoiseSpec.from_config({"coverage": {"probability": 1.0}})
    flat = np.zeros((SIZE, SIZE), np.float32)
    bowl = flat + 20.0 * np.exp(-np.hypot(*np.mgrid[-64:64, -64:64]) / 10.0).astype(np.float32)
    masks = []
    for patch in (flat, bowl):
        out, meta = add_realistic_noise(
            patch, np.random.default_rng(7), spec, RegionNoiseInputs(), PIXEL
        )
        masks.append(np.isnan(out))
        assert meta["noise_coverage"] in ("clip", "coast", "edge")
    # The mask comes from the sample's stream, not from its content.
    np.testing.assert_array_equal(masks[0], masks[1])


def test_old_noise_models_draw_the_same_with_the_new_ones_added():
    """The new models take spawned children after the first four, so enabling them leaves the
    ramp, stratified, speckle and hole draws of a sample unchanged."""
    patch = np.zeros((SIZE, SIZE), np.float32)
    base = NoiseSpec.from_config({"missing_data": {"probability": 0.0}})
    extra = NoiseSpec.from_config(
        {"missing_data": {"probability": 0.0}, "flat_basin": {"probability": 0.0}}
    )
    a, meta_a = add_realistic_noise(
        patch, np.random.default_rng(5), base, RegionNoiseInputs(), PIXEL
    )
    b, meta_b = add_realistic_noise(
        patch, np.random.default_rng(5), extra, RegionNoiseInputs(), PIXEL
    )
    np.testing.assert_array_equal(a, b)
    assert meta_a["noise_ramp_mm"] == meta_b["noise_ramp_mm"]


def test_flat_basins_are_flat_with_sharp_edges():
    rng = np.random.default_rng(4)
    spec = FlatBasinSpec(probability=1.0, magnitude_mm=(10.0, 10.0), max_tilt_share=0.0)
    field, info = flat_basins_mm((SIZE, SIZE), PIXEL, rng, spec, None)
    inside = field != 0
    assert inside.any() and info["largest_mm"] == pytest.approx(10.0)
    assert set(np.unique(np.abs(field[inside]))) <= {np.float32(10.0), np.float32(20.0)}


def test_basins_keep_to_flat_ground_of_the_dem():
    rng = np.random.default_rng(5)
    _, x = np.mgrid[0:SIZE, 0:SIZE]
    dem = np.where(x < SIZE // 2, 3000.0, 3000.0 + (x - SIZE // 2) * 200.0)  # flat west, steep east
    assert flat_ground(dem, PIXEL, 2.0)[:, : SIZE // 2 - 1].all()
    spec = FlatBasinSpec(probability=1.0, size_km=(20.0, 30.0), max_basins=1)
    kept = 0
    for _ in range(40):
        field, info = flat_basins_mm((SIZE, SIZE), PIXEL, rng, spec, dem)
        if info["on_flat_ground"]:
            kept += 1
            assert (field[:, SIZE // 2 + 1 :] == 0).all()
    assert kept > 5


def test_unwrapping_step_is_the_least_squares_trace_of_one_cycle():
    steps = []
    rng = np.random.default_rng(6)
    for _ in range(200):
        field, info = unwrapping_step_mm((SIZE, SIZE), PIXEL, rng)
        values = np.unique(field)
        assert len(values) == 2 and 0.0 in values
        steps.append(abs(info["step_mm"]))
    # 6 tau (1 - tau) Delta: at most 1.5 cycles, mean Delta (tau uniform).
    assert max(steps) <= 1.5 * FRINGE_MM + 1e-6
    assert np.mean(steps) == pytest.approx(FRINGE_MM, rel=0.1)


def test_least_squares_rate_of_a_step():
    """The formula the step model rests on, checked against numpy's fit."""
    t = np.linspace(0.0, 5.0, 131)
    for tau in (0.1, 0.5, 0.8):
        series = np.where(t >= tau * 5.0, FRINGE_MM, 0.0)
        rate = np.polyfit(t, series, 1)[0]
        assert rate * 5.0 == pytest.approx(6 * tau * (1 - tau) * FRINGE_MM, rel=0.03)
