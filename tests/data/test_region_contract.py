"""Data-contract validation: each broken input gives one clear error naming the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_grid
from rasterio.crs import CRS

from volcdet.core.errors import RegionError
from volcdet.data.rasters import write_geotiff
from volcdet.data.region import load_region


def test_valid_region_loads(small_region):
    region = load_region(small_region)
    assert [t.track_id for t in region.tracks] == ["T1"]
    assert region.tracks[0].period_yr == pytest.approx(5.0, abs=0.01)
    assert region.volcanoes.deforming.tolist() == [1]


def test_missing_velocity_file_is_named(small_region):
    (small_region / "velocity/T1.tif").unlink()
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: file not found"):
        load_region(small_region)


def test_missing_table_is_named(small_region):
    (small_region / "volcanoes.csv").unlink()
    with pytest.raises(RegionError, match=r"volcanoes\.csv: file not found"):
        load_region(small_region)


def test_crs_mismatch_between_velocity_and_los(small_region):
    los = np.zeros((3, 64, 80), np.float32)
    los[2] = 1.0
    write_geotiff(small_region / "los/T1.tif", los, small_grid(crs=CRS.from_epsg(32720)))
    with pytest.raises(
        RegionError, match=r"los/T1\.tif: CRS EPSG:32720 differs from the velocity map's EPSG:32719"
    ):
        load_region(small_region)


def test_all_nan_velocity(small_region):
    write_geotiff(small_region / "velocity/T1.tif", np.full((64, 80), np.nan), small_grid())
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: raster is all NaN"):
        load_region(small_region)


def test_wrong_band_count_of_los(small_region):
    write_geotiff(small_region / "los/T1.tif", np.ones((2, 64, 80)), small_grid())
    with pytest.raises(RegionError, match=r"los/T1\.tif: has 2 band\(s\), expected 3"):
        load_region(small_region)


def test_los_on_another_grid(small_region):
    los = np.zeros((3, 32, 80), np.float32)
    los[2] = 1.0
    write_geotiff(small_region / "los/T1.tif", los, small_grid(rows=32))
    with pytest.raises(RegionError, match=r"los/T1\.tif: not on the velocity map's grid"):
        load_region(small_region)


def test_non_unit_los_vectors(small_region):
    write_geotiff(small_region / "los/T1.tif", np.full((3, 64, 80), 0.9), small_grid())
    with pytest.raises(RegionError, match=r"los/T1\.tif: LOS vectors are not unit vectors"):
        load_region(small_region)


def test_geographic_crs_is_refused(small_region):
    from affine import Affine

    from volcdet.data.rasters import Grid

    grid = Grid(CRS.from_epsg(4326), Affine(0.002, 0, -69.0, 0, -0.002, -22.0), (64, 80))
    write_geotiff(small_region / "velocity/T1.tif", np.ones((64, 80)), grid)
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: CRS EPSG:4326 is geographic"):
        load_region(small_region)


def test_bad_pass_value(small_region):
    table = pd.read_csv(small_region / "tracks.csv").assign(**{"pass": "asc"})
    table.to_csv(small_region / "tracks.csv", index=False)
    with pytest.raises(RegionError, match=r"tracks\.csv: pass must be ascending\|descending"):
        load_region(small_region)


def test_missing_column(small_region):
    table = pd.read_csv(small_region / "volcanoes.csv").drop(columns="deforming")
    table.to_csv(small_region / "volcanoes.csv", index=False)
    with pytest.raises(RegionError, match=r"volcanoes\.csv: missing column\(s\) deforming"):
        load_region(small_region)


def test_roi_not_polygon(small_region):
    (small_region / "roi.geojson").write_text('{"type": "Point", "coordinates": [-69, -22]}')
    with pytest.raises(RegionError, match=r"roi\.geojson: holds no Polygon"):
        load_region(small_region)


def test_listed_interferogram_missing(small_region):
    (small_region / "interferograms/T1_a.tif").unlink()
    with pytest.raises(
        RegionError, match=r"T1_a\.tif: file not found \(listed in .*interferograms\.csv\)"
    ):
        load_region(small_region, check_rasters=False)
