"""Readers of users' products (fixtures that follow LiCSBAS, MintPy and LiCSAR layouts) and the
NaN-aware reprojection to the model grid."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import UTM19S
from product_fixtures import (
    geo_field,
    mintpy_attributes,
    write_licsar_enu,
    write_licsbas_cum,
    write_licsbas_geotiff,
    write_licsbas_netcdf,
    write_mintpy_geometry,
    write_mintpy_velocity,
    write_save_gdal_geotiff,
)

from volcdet.core.errors import ProductError
from volcdet.core.los import los_unit_vector
from volcdet.data.products import attach_los, read_los, read_velocity
from volcdet.data.products.reproject import model_grid, reproject_average, utm_crs_at
from volcdet.data.rasters import Grid, write_geotiff

DATES = [20150105, 20160110, 20180320, 20200101]
PERIOD_YR = (np.datetime64("2020-01-01") - np.datetime64("2015-01-05")).astype(int) / 365.25


@pytest.fixture
def field():
    return geo_field()


def _mintpy_attrs(field, **extra):
    t = field.transform
    return mintpy_attributes(t.c, t.f, t.a, t.e, field.velocity_mm_yr.shape, extra)


def test_licsbas_cum_h5(tmp_path, field):
    enu = np.moveaxis(los_unit_vector(np.full(field.velocity_mm_yr.shape, 39.0), -12.4), -1, 0)
    product = read_velocity(write_licsbas_cum(tmp_path / "cum.h5", field, DATES, enu=enu))
    assert product.kind == "licsbas-cum" and product.units_found == "mm/yr"
    # corner_lat/lon are the first pixel's centre: the raster's corner is half a post away.
    assert product.grid.transform.almost_equals(Affine(0.001, 0, -68.7005, 0, -0.001, -22.3995))
    assert product.grid.crs.to_epsg() == 4326
    np.testing.assert_array_equal(product.velocity_mm_yr, field.velocity_mm_yr)
    assert product.period_yr == pytest.approx(PERIOD_YR)
    assert (product.start, product.end) == ("2015-01-05", "2020-01-01")
    np.testing.assert_allclose(product.los_unit_vector, enu, atol=1e-6)


def test_licsbas_geotiff_and_netcdf_match_cum_h5(tmp_path, field):
    cum = read_velocity(write_licsbas_cum(tmp_path / "cum.h5", field, DATES))
    tif = read_velocity(write_licsbas_geotiff(tmp_path / "vel.geo.tif", field))
    nc = read_velocity(write_licsbas_netcdf(tmp_path / "out.nc", field, DATES))
    for product in (tif, nc):
        assert product.grid.shape == cum.grid.shape
        assert product.grid.transform.almost_equals(cum.grid.transform, precision=1e-9)
        np.testing.assert_array_equal(product.velocity_mm_yr, cum.velocity_mm_yr)
    assert tif.period_yr is None  # a GeoTIFF records no dates
    assert nc.period_yr == pytest.approx(PERIOD_YR) and nc.kind == "licsbas-netcdf"


def test_mintpy_velocity_in_metres_per_year(tmp_path, field):
    path = write_mintpy_velocity(
        tmp_path / "geo_velocity.h5",
        field.velocity_mm_yr / 1000.0,
        _mintpy_attrs(field),
        "20150105",
        "20200101",
    )
    product = read_velocity(path)
    assert product.kind == "mintpy" and product.units_found == "m/year"
    # X_FIRST/Y_FIRST are the upper-left corner: the same grid as the LiCSBAS fixture.
    assert (
        product.grid.transform.almost_equals(field.transform) and product.grid.crs.to_epsg() == 4326
    )
    np.testing.assert_allclose(product.velocity_mm_yr, field.velocity_mm_yr, rtol=1e-6, atol=1e-6)
    assert product.period_yr == pytest.approx(PERIOD_YR)


def test_mintpy_utm_zone_and_epsg(tmp_path, field):
    values = np.ones((30, 40), np.float32) * 0.01
    attrs = mintpy_attributes(
        400_000.0, 7_500_000.0, 100.0, -100.0, values.shape, {"X_UNIT": "meters", "UTM_ZONE": "19S"}
    )
    product = read_velocity(
        write_mintpy_velocity(tmp_path / "a.h5", values, attrs, "20170101", "20190101")
    )
    assert product.grid.crs.to_epsg() == 32719
    assert product.grid.transform == Affine(100.0, 0, 400_000.0, 0, -100.0, 7_500_000.0)
    attrs["EPSG"] = "32619"
    product = read_velocity(
        write_mintpy_velocity(tmp_path / "b.h5", values, attrs, "20170101", "20190101")
    )
    assert product.grid.crs.to_epsg() == 32619


def test_mintpy_geometry_gives_the_los_unit_vector(tmp_path, field):
    shape = field.velocity_mm_yr.shape
    incidence = np.full(shape, 39.0)
    heading = -167.6  # descending
    azimuth = np.full(shape, 90.0 - heading)  # MintPy: LOS azimuth = 90 - heading
    incidence[:5] = 0.0  # no data
    los, grid = read_los(
        write_mintpy_geometry(tmp_path / "geometryGeo.h5", incidence, azimuth, _mintpy_attrs(field))
    )
    expected = np.moveaxis(los_unit_vector(39.0 * np.ones(shape), heading), -1, 0)
    np.testing.assert_allclose(los[:, 5:], expected[:, 5:], atol=1e-6)
    assert np.isnan(los[:, :5]).all()
    assert los[0, 10, 10] > 0  # descending: the satellite is east of the ground
    assert grid.transform.almost_equals(field.transform)


def test_licsar_enu_triplet_zero_is_nodata(tmp_path, field):
    shape = field.velocity_mm_yr.shape
    enu = np.moveaxis(los_unit_vector(np.full(shape, 35.0), -12.4), -1, 0).astype(np.float32)
    enu[:, 25:45, 35:65] = 0.0  # inside the velocity's NaN hole
    e_path = write_licsar_enu(tmp_path / "meta", "021D_05266_252525", enu, field.transform)
    los, _grid = read_los(e_path.with_name("021D_05266_252525.geo.U.tif"))  # any of the three
    assert np.isnan(los[:, 30, 40]).all()
    np.testing.assert_allclose(los[:, 0, 0], enu[:, 0, 0], atol=1e-6)
    velocity = read_velocity(write_licsbas_geotiff(tmp_path / "vel.geo.tif", field), units="mm/yr")
    with_los = attach_los(velocity, e_path)
    np.testing.assert_allclose(with_los.los_unit_vector[:, 100, 100], enu[:, 100, 100], atol=1e-6)


def test_los_that_does_not_cover_the_map(tmp_path, field):
    shape = field.velocity_mm_yr.shape
    enu = np.moveaxis(los_unit_vector(np.full(shape, 35.0), -12.4), -1, 0).astype(np.float32)
    enu[:, 100:] = 0.0
    e_path = write_licsar_enu(tmp_path / "meta", "124A_05257_252525", enu, field.transform)
    velocity = read_velocity(write_licsbas_geotiff(tmp_path / "vel.geo.tif", field))
    with pytest.raises(ProductError, match=r"E\.tif: LOS covers only .*% of the valid pixels"):
        attach_los(velocity, e_path)


def test_map_in_metres_per_year_without_units_stops(tmp_path, field):
    path = write_save_gdal_geotiff(
        tmp_path / "velocity.tif", field.velocity_mm_yr / 1000.0, field.transform, 4326
    )
    with pytest.raises(ProductError, match=r"velocity\.tif: no velocity unit .* looks like m/yr"):
        read_velocity(path)
    product = read_velocity(path, units="m/yr")
    np.testing.assert_allclose(product.velocity_mm_yr, field.velocity_mm_yr, rtol=1e-6, atol=1e-5)


def test_units_that_contradict_the_file(tmp_path, field):
    path = write_mintpy_velocity(
        tmp_path / "v.h5", field.velocity_mm_yr / 1e3, _mintpy_attrs(field), "20150105", "20200101"
    )
    with pytest.raises(
        ProductError, match=r"v\.h5: the file says its velocity is in m/year, --units says mm/yr"
    ):
        read_velocity(path, units="mm/yr")


def test_integer_and_infinite_maps_are_refused(tmp_path, field):
    ints = write_licsbas_geotiff(tmp_path / "int.tif", field, np.zeros((10, 10), np.int16))
    with pytest.raises(
        ProductError, match=r"int\.tif: raster is stored as int16, not floating point"
    ):
        read_velocity(ints)
    values = field.velocity_mm_yr.copy()
    values[3, 4], values[5, 6] = np.inf, -np.inf
    inf = write_licsbas_geotiff(tmp_path / "inf.tif", field, values)
    with pytest.raises(ProductError, match=r"inf\.tif: velocity holds \+-inf at 2 pixel"):
        read_velocity(inf)
    cum = write_licsbas_cum(tmp_path / "cum.h5", field, DATES)
    with h5py.File(cum, "r+") as f:
        f["vel"][3, 4] = np.inf
    with pytest.raises(ProductError, match=r"cum\.h5: velocity holds \+-inf"):
        read_velocity(cum)


def test_files_that_are_not_products(tmp_path, field):
    with pytest.raises(ProductError, match="file not found"):
        read_velocity(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("data", data=np.zeros(3))
    with pytest.raises(ProductError, match=r"other\.h5: HDF5 file is neither a LiCSBAS"):
        read_velocity(tmp_path / "other.h5")
    with h5py.File(tmp_path / "radar.h5", "w") as f:
        f.create_dataset("velocity", data=np.ones((4, 4), np.float32))
        f.attrs["UNIT"] = "m/year"
    with pytest.raises(ProductError, match=r"radar\.h5: no X_FIRST.*radar coordinates; geocode"):
        read_velocity(tmp_path / "radar.h5")
    cum = write_licsbas_cum(tmp_path / "cum.h5", field, DATES)
    with h5py.File(cum, "r+") as f:
        del f["corner_lat"]
    with pytest.raises(
        ProductError, match=r"cum\.h5: cum\.h5 has no corner_lat.*radar coordinates"
    ):
        read_velocity(cum)
    (tmp_path / "text.tif").write_text("not a raster")
    with pytest.raises(ProductError, match=r"text\.tif: not a readable raster"):
        read_velocity(tmp_path / "text.tif")
    e_path = write_licsar_enu(
        tmp_path, "021D_05266_252525", np.ones((3, 4, 4)) / np.sqrt(3), field.transform
    )
    with pytest.raises(ProductError, match="a LiCSAR LOS component"):
        read_velocity(e_path)


def test_truncated_geotiff_names_the_file(tmp_path):
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (512, 512))
    path = tmp_path / "truncated.tif"
    write_geotiff(path, np.random.default_rng(0).normal(0, 5, (512, 512)), grid, units="mm/yr")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProductError, match=r"truncated\.tif: not a readable raster"):
        read_velocity(path)


def test_nan_holes_do_not_bleed_when_averaging():
    """100 m -> 200 m: each target pixel is the mean of its valid 2 x 2 block, NaN below half."""
    rng = np.random.default_rng(3)
    values = rng.normal(0, 10, (40, 60)).astype(np.float32)
    values[rng.random(values.shape) < 0.35] = np.nan
    values[10:20, 10:30] = np.nan
    src = Grid(UTM19S, Affine(100.0, 0, 500_000.0, 0, -100.0, 7_500_000.0), (40, 60))
    dst = model_grid(src, 200.0)
    assert dst.shape == (20, 30) and dst.transform == Affine(
        200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0
    )
    blocks = values.reshape(20, 2, 30, 2)
    count = np.isfinite(blocks).sum(axis=(1, 3))
    with np.errstate(invalid="ignore"):
        expected = np.nansum(blocks, axis=(1, 3)) / count
    expected[count < 2] = np.nan
    np.testing.assert_allclose(reproject_average(values, src, dst), expected, rtol=1e-5, atol=1e-5)


def test_model_grid_of_a_geographic_map_is_local_utm(field):
    grid = Grid(rasterio.crs.CRS.from_epsg(4326), field.transform, field.velocity_mm_yr.shape)
    target = model_grid(grid, 200.0)
    assert target.crs.to_epsg() == 32719  # -68.6 E, -22.5 N
    assert (
        target.transform.a == 200.0
        and target.transform.c % 200 == 0
        and target.transform.f % 200 == 0
    )
    assert utm_crs_at(14.14, 40.83).to_epsg() == 32633
    same = Grid(UTM19S, Affine(200.0, 0, 500_010.0, 0, -200.0, 7_500_000.0), (10, 10))
    assert model_grid(same, 200.0) is same  # already at the model's scale: no resampling
