"""Patch indexing round trip and the partial-footprint label rule."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from conftest import UTM19S

from volcdet.data.patches import footprint_overlap_fraction, patch_offsets
from volcdet.data.rasters import Grid, georef_columns, georef_from_row


def test_paper_patching_gives_25_patches_per_frame():
    offsets = patch_offsets(512, 256, 64)
    assert len(offsets) == 25
    assert offsets[0] == (0, 0) and offsets[-1] == (256, 256)


def test_patch_indexing_round_trip():
    """Patches cut at the offsets reassemble the frame exactly, and their georeferencing agrees."""
    rng = np.random.default_rng(3)
    frame = rng.normal(size=(512, 512))
    grid = Grid(UTM19S, Affine(200, 0, 600_000, 0, -200, 7_400_000), (512, 512))
    rebuilt = np.full_like(frame, np.nan)
    for r0, c0 in patch_offsets(512, 256, 64):
        patch = frame[r0 : r0 + 256, c0 : c0 + 256]
        rebuilt[r0 : r0 + 256, c0 : c0 + 256] = patch
        crs, transform = georef_from_row(georef_columns(grid.crs, grid.window_transform(r0, c0)))
        # The patch's upper-left corner maps back to the frame's pixel (r0, c0).
        col, row = ~grid.transform @ (transform @ (0, 0))
        assert (round(row), round(col)) == (r0, c0) and crs == grid.crs
    np.testing.assert_array_equal(rebuilt, frame)


def _patch_centres(size=256, pixel=200.0):
    cols, rows = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    return cols * pixel, -rows * pixel


def test_small_footprint_inside_patch_counts_fully():
    x, y = _patch_centres()
    fraction = footprint_overlap_fraction(x, y, (25_600, -25_600), 5_000, 200.0)
    assert fraction == pytest.approx(1.0, abs=0.01)


def test_footprint_half_outside_the_patch():
    x, y = _patch_centres()
    # Centre on the left edge: half of the disk lies inside.
    fraction = footprint_overlap_fraction(x, y, (0.0, -25_600), 5_000, 200.0)
    assert fraction == pytest.approx(0.5, abs=0.02)


def test_footprint_larger_than_patch_uses_patch_area():
    x, y = _patch_centres()
    fraction = footprint_overlap_fraction(x, y, (25_600, -25_600), 60_000, 200.0)
    assert fraction == pytest.approx(1.0)


def test_footprint_outside_patch_and_zero_radius():
    x, y = _patch_centres()
    assert footprint_overlap_fraction(x, y, (200_000, 0), 5_000, 200.0) == 0.0
    assert footprint_overlap_fraction(x, y, (25_600, -25_600), 0.0, 200.0) == 0.0
