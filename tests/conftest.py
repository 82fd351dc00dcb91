"""Shared fixtures: small GeoTIFF regions written with rasterio in a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff

REPO = Path(__file__).resolve().parents[1]
UTM19S = CRS.from_epsg(32719)


def small_grid(rows: int = 64, cols: int = 80, crs: CRS = UTM19S) -> Grid:
    return Grid(crs, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (rows, cols))


def write_small_region(root: Path, rows: int = 64, cols: int = 80) -> Path:
    """A minimal valid region: one track, a LOS raster, catalogue, ROI, one interferogram."""
    grid = small_grid(rows, cols)
    rng = np.random.default_rng(0)
    write_geotiff(root / "velocity/T1.tif", rng.normal(0, 1, (rows, cols)), grid)
    los = np.moveaxis(los_unit_vector(np.full((rows, cols), 39.0), -12.4), -1, 0)
    write_geotiff(root / "los/T1.tif", los, grid, ["east", "north", "up"])
    write_geotiff(root / "interferograms/T1_a.tif", rng.normal(0, 5, (rows, cols)), grid)
    pd.DataFrame(
        [
            {
                "track_id": "T1",
                "pass": "ascending",
                "velocity": "velocity/T1.tif",
                "los": "los/T1.tif",
                "start": "2015-01-01",
                "end": "2020-01-01",
            }
        ]
    ).to_csv(root / "tracks.csv", index=False)
    pd.DataFrame(
        [{"name": "V1", "lon": -69.0, "lat": -22.6, "deforming": 1, "deformation_radius_km": 5.0}]
    ).to_csv(root / "volcanoes.csv", index=False)
    pd.DataFrame(
        [
            {
                "path": "interferograms/T1_a.tif",
                "track_id": "T1",
                "pass": "ascending",
                "date1": "2016-01-01",
                "date2": "2016-01-13",
            }
        ]
    ).to_csv(root / "interferograms.csv", index=False)
    roi = {
        "type": "Polygon",
        "coordinates": [
            [[-69.1, -22.7], [-68.9, -22.7], [-68.9, -22.5], [-69.1, -22.5], [-69.1, -22.7]]
        ],
    }
    (root / "roi.geojson").write_text(json.dumps(roi))
    return root


@pytest.fixture
def small_region(tmp_path: Path) -> Path:
    return write_small_region(tmp_path / "region")
