"""False alarms per 1,000 km2 on a hand-made scan: a 100 x 120 px map at 200 m, one deforming
volcano with a 1.99 km (9.95 px) footprint centred on pixel (50, 30), the top 20 rows unscanned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from volcdet.data.rasters import Grid
from volcdet.evaluation.false_alarms import (
    false_alarm_windows,
    footprint_disks,
    track_false_alarms,
    with_rates,
)

CRS_UTM = CRS.from_epsg(32719)
GRID = Grid(CRS_UTM, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (100, 120))
PIXEL_KM2 = 0.04
# Pixel centres inside the footprint = lattice points with x^2 + y^2 <= 99.0025: N(10) = 317
# (Gauss circle problem) less the 12 points at exactly 10; 99 is not a sum of two squares.
FOOTPRINT_PX = 305


def volcano_at_pixel(row: int, col: int, radius_km: float, deforming: int = 1) -> dict:
    x, y = GRID.transform @ (col + 0.5, row + 0.5)
    lon, lat = Transformer.from_crs(CRS_UTM, "EPSG:4326", always_xy=True).transform(x, y)
    return {
        "name": "v",
        "lon": lon,
        "lat": lat,
        "deforming": deforming,
        "deformation_radius_km": radius_km,
    }


VOLCANOES = pd.DataFrame(
    [volcano_at_pixel(50, 30, 1.99), volcano_at_pixel(80, 100, 3.0, deforming=0)]
)
# (row0, col0): A covers the volcano; F's left edge (col 40) is 9.5 px from the centre
# (touches); E's left edge (col 41) is 10.5 px away (does not, radius 9.95 px); B and C overlap (one cluster);
# D is alone; B/C lie on the non-deforming volcano, which does not excuse them.
WINDOWS = {
    "A": (40, 20),
    "F": (30, 40),
    "E": (30, 41),
    "B": (60, 80),
    "C": (70, 90),
    "D": (20, 100),
}
FLAGGED = pd.DataFrame(
    [{"row0": r, "col0": c, "size_px": 20, "probability": 0.9} for r, c in WINDOWS.values()]
)


def probability_map() -> np.ndarray:
    probability = np.full(GRID.shape, 0.1, np.float32)
    probability[:20] = np.nan
    return probability


def test_windows_touching_a_deforming_footprint_are_not_alarms():
    alarms = false_alarm_windows(FLAGGED, GRID, footprint_disks(GRID, VOLCANOES))
    expected = [WINDOWS[k] for k in "EBCD"]
    assert list(zip(alarms.row0, alarms.col0, strict=True)) == expected


def test_counts_areas_and_rates_by_hand():
    roi = np.zeros(GRID.shape, bool)
    roi[:, :60] = True
    rows = track_false_alarms(
        probability_map(),
        GRID,
        FLAGGED,
        VOLCANOES,
        {"whole map": np.ones(GRID.shape, bool), "roi": roi},
    )
    table = with_rates(pd.DataFrame(rows)).set_index("zone")
    whole = table.loc["whole map"]
    scanned_px = 80 * 120 - FOOTPRINT_PX
    assert whole.scanned_km2 == pytest.approx(round(scanned_px * PIXEL_KM2, 1))
    assert (whole.alarm_windows, whole.alarm_clusters) == (4, 3)
    # E 400 + B 400 + C 400 - B/C overlap 100 + D 400 = 1500 px.
    assert whole.alarm_km2 == pytest.approx(1500 * PIXEL_KM2)
    assert whole.alarm_windows_per_1000_km2 == pytest.approx(
        4 / (scanned_px * PIXEL_KM2) * 1000, abs=1e-3
    )
    assert whole.alarm_area_percent == pytest.approx(100 * 1500 / scanned_px, abs=1e-3)
    inside = table.loc["roi"]
    # Only E's centre (col 51) is in the ROI (cols < 60); 20 x 19 of its pixels are.
    assert inside.scanned_km2 == pytest.approx(round((80 * 60 - FOOTPRINT_PX) * PIXEL_KM2, 1))
    assert (inside.alarm_windows, inside.alarm_clusters) == (1, 1)
    assert inside.alarm_km2 == pytest.approx(380 * PIXEL_KM2)


def test_no_flags_no_alarms():
    rows = track_false_alarms(
        probability_map(),
        GRID,
        FLAGGED.iloc[:0],
        VOLCANOES,
        {"whole map": np.ones(GRID.shape, bool)},
    )
    assert (rows[0]["alarm_windows"], rows[0]["alarm_clusters"], rows[0]["alarm_km2"]) == (
        0,
        0,
        0.0,
    )
