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


def _set_track_id(region, track_id: str) -> None:
    table = pd.read_csv(region / "tracks.csv").assign(track_id=track_id)
    table.to_csv(region / "tracks.csv", index=False)


@pytest.mark.parametrize("track_id", ["../../../x", "a/b", ".hidden", "T 1", "Tü"])
def test_track_id_that_is_not_a_safe_name_is_refused(small_region, track_id):
    _set_track_id(small_region, track_id)
    with pytest.raises(RegionError) as err:
        load_region(small_region, check_rasters=False)
    message = str(err.value)
    assert message.startswith(f"{small_region / 'tracks.csv'}: track_id {track_id!r} may only")
    assert "\n" not in message


def test_interferogram_pass_must_match_its_track(small_region):
    table = pd.read_csv(small_region / "interferograms.csv").assign(**{"pass": "descending"})
    table.to_csv(small_region / "interferograms.csv", index=False)
    with pytest.raises(
        RegionError,
        match=r"interferograms\.csv: interferograms/T1_a\.tif is listed as descending but its "
        r"track T1 is ascending",
    ):
        load_region(small_region, check_rasters=False)


def _truncate(path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def _big_velocity(region) -> None:
    """A 600 x 600 velocity map (several 256-px tiles, so a cut file still opens) and its LOS."""
    from volcdet.core.los import los_unit_vector

    grid = small_grid(600, 600)
    velocity = np.random.default_rng(1).normal(0, 1, (600, 600))
    write_geotiff(region / "velocity/T1.tif", velocity, grid)
    los = np.moveaxis(los_unit_vector(np.full((600, 600), 39.0), -12.4), -1, 0)
    write_geotiff(region / "los/T1.tif", los, grid)


def test_truncated_raster_data_name_the_file(small_region):
    """The header opens but the tiles are cut short: one line naming the file, at read time."""
    from volcdet.data.rasters import read_raster

    _big_velocity(small_region)
    path = small_region / "velocity/T1.tif"
    _truncate(path, 0.6)
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: raster data truncated or corrupt"):
        read_raster(path)
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: raster data truncated or corrupt"):
        load_region(small_region)


def test_truncated_interferogram_names_the_file(small_region):
    from volcdet.simulation.variogram import variogram_table

    path = small_region / "interferograms/T1_big.tif"
    write_geotiff(path, np.random.default_rng(2).normal(0, 5, (600, 600)), small_grid(600, 600))
    _truncate(path, 0.5)
    table = pd.DataFrame(
        [
            {
                "path": "interferograms/T1_big.tif",
                "track_id": "T1",
                "pass": "ascending",
                "date1": "2016-01-01",
                "date2": "2016-01-13",
            }
        ]
    )
    with pytest.raises(
        RegionError, match=r"interferograms/T1_big\.tif: raster data truncated or corrupt"
    ):
        variogram_table(table, small_region, 20_000.0, 10)


def test_truncated_velocity_in_the_frames_job_names_the_file(small_region):
    from volcdet.data.frames import FrameSpec, build_frames

    _big_velocity(small_region)
    _truncate(small_region / "velocity/T1.tif", 0.6)
    region = load_region(small_region, check_rasters=False)
    with pytest.raises(RegionError, match=r"velocity/T1\.tif: raster data truncated or corrupt"):
        build_frames(
            region,
            FrameSpec(size_px=64, pixel_size_m=200.0),
            small_region / "f.npy",
            small_region / "f.pq",
        )


# What the workflow checks before any job (check_region_before_run), one case per problem.


def _geographic(region):
    from affine import Affine

    from volcdet.data.rasters import Grid

    grid = Grid(CRS.from_epsg(4326), Affine(0.002, 0, -69.0, 0, -0.002, -22.0), (64, 80))
    write_geotiff(region / "velocity/T1.tif", np.ones((64, 80)), grid)


def _hundred_metre_pixels(region):
    from affine import Affine

    from volcdet.data.rasters import Grid

    grid = Grid(small_grid().crs, Affine(100.0, 0, 500_000.0, 0, -100.0, 7_500_000.0), (64, 80))
    write_geotiff(region / "velocity/T1.tif", np.ones((64, 80)), grid)
    los = np.zeros((3, 64, 80))
    los[2] = 1.0
    write_geotiff(region / "los/T1.tif", los, grid)


def _los_not_unit(region):
    write_geotiff(region / "los/T1.tif", np.full((3, 64, 80), 0.9), small_grid())


def _los_other_crs(region):
    los = np.zeros((3, 64, 80))
    los[2] = 1.0
    write_geotiff(region / "los/T1.tif", los, small_grid(crs=CRS.from_epsg(32720)))


def _two_band_los(region):
    write_geotiff(region / "los/T1.tif", np.ones((2, 64, 80)), small_grid())


def _header_cut(region):
    path = region / "velocity/T1.tif"
    path.write_bytes(path.read_bytes()[:100])


def _tiles_cut(region):
    _big_velocity(region)
    _truncate(region / "velocity/T1.tif", 0.6)


def _interferogram_cut(region):
    path = region / "interferograms/T1_a.tif"
    write_geotiff(path, np.random.default_rng(2).normal(0, 5, (600, 600)), small_grid(600, 600))
    _truncate(path, 0.5)


PREFLIGHT_CASES = {
    "geographic CRS": (
        _geographic,
        r"velocity/T1\.tif: CRS EPSG:4326 is geographic; reproject .* `volcdet region import`",
    ),
    "100 m pixels": (
        _hundred_metre_pixels,
        r"velocity/T1\.tif: pixel size 100 m differs from pixel_size_m 200 m",
    ),
    "LOS not unit vectors": (_los_not_unit, r"los/T1\.tif: LOS vectors are not unit vectors"),
    "LOS in another CRS": (_los_other_crs, r"los/T1\.tif: CRS EPSG:32720 differs"),
    "wrong band count": (_two_band_los, r"los/T1\.tif: has 2 band\(s\), expected 3"),
    "truncated header": (_header_cut, r"velocity/T1\.tif: not a readable raster"),
    "truncated tiles": (_tiles_cut, r"velocity/T1\.tif: raster data truncated or corrupt"),
    "truncated interferogram": (
        _interferogram_cut,
        r"interferograms/T1_a\.tif: raster data truncated or corrupt",
    ),
}


@pytest.mark.parametrize("case", list(PREFLIGHT_CASES))
def test_raster_problems_are_found_before_any_job(small_region, case):
    from volcdet.data.region import check_region_before_run

    check_region_before_run(small_region, 200.0)  # the untouched region passes
    damage, message = PREFLIGHT_CASES[case]
    damage(small_region)
    with pytest.raises(RegionError, match=message) as err:
        check_region_before_run(small_region, 200.0)
    assert "\n" not in str(err.value)
