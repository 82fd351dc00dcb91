"""Patch indexing round trip and the partial-footprint label rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from conftest import UTM19S, small_grid

from volcdet.data.patches import (
    PatchSpec,
    footprint_overlap_fraction,
    label_patches,
    patch_offsets,
    touched_kinds,
)
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


def test_touched_kinds_uses_disk_rectangle_distance():
    bounds = (0.0, 0.0, 1000.0, 1000.0)
    x = np.array([500.0, 1500.0, 1600.0, 5000.0])
    y = np.array([500.0, 500.0, 1600.0, 5000.0])
    radii = np.array([10.0, 600.0, 600.0, 100.0])
    kinds = np.array(["landslide", "salt_lake", "fault_creep", "aquifer_subsidence"])
    # landslide inside; salt lake 500 m from the right edge (radius 600); fault 849 m from the corner
    assert touched_kinds(bounds, (x, y), radii, kinds) == "landslide;salt_lake"
    assert touched_kinds(bounds, (x[2:], y[2:]), radii[2:], kinds[2:]) == ""


def _frames_table(grid: Grid) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "frame_id": "T1_v1",
                "volcano": "V1",
                "track_id": "T1",
                "pass": "ascending",
                **georef_columns(grid.crs, grid.window_transform(0, 0)),
            }
        ]
    )


def test_patches_name_the_confounders_they_touch(small_region):
    from pyproj import Transformer

    from volcdet.data.region import load_region

    grid = small_grid()
    to_lonlat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    # A landslide in the upper-left 32 px patch, an aquifer basin reaching the lower-right one.
    (lx, ly), (ax, ay) = grid.transform @ (10, 10), grid.transform @ (80, 70)
    (llon, alon), (llat, alat) = to_lonlat.transform([lx, ax], [ly, ay])
    pd.DataFrame(
        {
            "name": ["L", "A"],
            "kind": ["landslide", "aquifer_subsidence"],
            "lon": [llon, alon],
            "lat": [llat, alat],
            "radius_km": [1.0, 4.0],
        }
    ).to_csv(small_region / "confounders.csv", index=False)
    region = load_region(small_region)
    table = label_patches(_frames_table(grid), region, PatchSpec(32, 32, 0.9), 64)
    by_offset = table.set_index(["row_in_frame", "col_in_frame"]).confounders
    assert by_offset[(0, 0)] == "landslide"
    assert by_offset[(32, 32)] == "aquifer_subsidence"
    assert by_offset[(0, 32)] == ""
    (small_region / "confounders.csv").unlink()
    assert set(
        label_patches(_frames_table(grid), region, PatchSpec(32, 32, 0.9), 64).confounders
    ) == {""}


def test_malformed_confounders_file_fails_with_one_line(small_region):
    from volcdet.core.errors import RegionError
    from volcdet.data.region import load_region

    pd.DataFrame({"name": ["L"], "kind": ["landslide"], "lon": [-69.0]}).to_csv(
        small_region / "confounders.csv", index=False
    )
    with pytest.raises(RegionError, match=r"confounders.csv: missing column\(s\) lat, radius_km"):
        label_patches(_frames_table(small_grid()), load_region(small_region), PatchSpec(32, 32), 64)
