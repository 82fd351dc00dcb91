"""Users' products as they come (LiCSBAS folders and raw rasters, MintPy masks, OPERA DISP-S1
stacks) and the checks every input passes (plausibility, units both ways, undeclared no-data
values, declared size, Git LFS pointers). Fixtures follow the writers: ``product_fixtures``."""

from __future__ import annotations

import logging

import h5py
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from product_fixtures import (
    geo_field,
    mintpy_attributes,
    write_disp_s1_product,
    write_disp_s1_stack,
    write_disp_s1_static_los,
    write_flt2geotiff,
    write_licsbas_frame,
    write_licsbas_geotiff,
    write_mintpy_layer,
    write_mintpy_velocity,
    write_save_gdal_geotiff,
)

from volcdet.core.errors import ProductError
from volcdet.core.los import los_unit_vector
from volcdet.data.products import attach_los, read_los, read_velocity

DATES = [20150105, 20160110, 20180320, 20200101]
PERIOD_YR = 1822 / 365.25  # 2015-01-05 to 2020-01-01
UTM11N = 32611


@pytest.fixture
def field():
    return geo_field(rows=60, cols=70, hole=True)


def _enu(shape, heading=-12.4):
    return np.moveaxis(los_unit_vector(np.full(shape, 39.0), heading), -1, 0).astype(np.float32)


def _mintpy_attrs(field, **extra):
    t = field.transform
    return mintpy_attributes(t.c, t.f, t.a, t.e, field.velocity_mm_yr.shape, extra)


# --- LiCSBAS as users have it -------------------------------------------------------------------


def test_licsbas_ts_folder_is_read_with_grid_dates_reference_and_los(tmp_path, field):
    enu = _enu(field.velocity_mm_yr.shape)
    ts = write_licsbas_frame(tmp_path / "021D_05266_252525", field, DATES, enu=enu)
    product = read_velocity(ts)
    assert product.kind == "licsbas-raw" and product.source.endswith("results/vel.filt.mskd")
    # EQA.dem_par corner = first pixel centre: the raster corner is half a post away.
    assert product.grid.crs.to_epsg() == 4326
    assert product.grid.transform.almost_equals(field.transform, precision=1e-12)
    expected = field.velocity_mm_yr.copy()
    expected[-10:] = np.nan  # vel.filt.mskd: masked by step 15
    np.testing.assert_array_equal(product.velocity_mm_yr, expected)
    assert product.period_yr == pytest.approx(PERIOD_YR)  # info/13used_image.txt
    assert (product.start, product.end) == ("2015-01-05", "2020-01-01")
    assert product.reference["source"].endswith("info/16ref.txt")  # vel.filt* -> 16ref
    assert product.reference["x"] == [10, 11] and product.reference["y"] == [12, 13]
    assert product.reference["lon"] == pytest.approx(field.corner_lon + 10 * field.post_lon)
    # LOS found beside: GEOCml10/E.geo, N.geo, U.geo (raw float32 on the same EQA.dem_par).
    assert product.los_source.endswith("GEOCml10/E.geo")
    valid = np.isfinite(product.velocity_mm_yr)
    np.testing.assert_allclose(product.los_unit_vector[:, valid], enu[:, valid], atol=1e-6)


def test_licsbas_results_rasters_and_cum_h5_without_enu(tmp_path, field):
    """Any results/<name>; a cum.h5 that stores no E/N/U (LiCSBAS before 1.5.2) gets them from
    the GEOCml folder beside it; .geo.tif LOS (after LiCSBAS_flt2geotiff.py) are found too."""
    enu = _enu(field.velocity_mm_yr.shape)
    ts = write_licsbas_frame(tmp_path / "f", field, DATES, enu=enu, los_as="tif")
    vel = read_velocity(ts / "results" / "vel")
    np.testing.assert_array_equal(vel.velocity_mm_yr, field.velocity_mm_yr)
    assert vel.reference["source"].endswith("info/12ref.txt")  # vel, vel.mskd -> 12ref
    assert vel.los_source.endswith("GEOCml10/E.geo.tif")
    (ts / "info" / "13used_image.txt").unlink()
    mskd = read_velocity(ts / "results" / "vel.mskd")
    assert mskd.period_yr == pytest.approx(PERIOD_YR)  # then from cum.h5 imdates
    cum = read_velocity(ts / "cum.h5")
    assert cum.los_unit_vector is not None and cum.los_source.endswith("E.geo.tif")
    assert cum.reference["source"] == "cum.h5:refarea"


def test_licsbas_los_given_as_one_file_of_a_triplet(tmp_path, field):
    enu = _enu(field.velocity_mm_yr.shape, heading=-167.6)
    ts = write_licsbas_frame(tmp_path / "raw", field, DATES, enu=enu)
    los, grid = read_los(ts.parent / "GEOCml10" / "N.geo")  # any of the three raw files
    np.testing.assert_allclose(los[:, 5, 5], enu[:, 5, 5], atol=1e-6)
    assert grid.transform.almost_equals(field.transform, precision=1e-12)
    for letter in "ENU":
        write_flt2geotiff(tmp_path / f"{letter}.geo.tif", field, enu["ENU".index(letter)])
    product = read_velocity(write_licsbas_geotiff(tmp_path / "vel.geo.tif", field))
    with_los = attach_los(product, tmp_path / "U.geo.tif")
    np.testing.assert_allclose(with_los.los_unit_vector[:, 50, 50], enu[:, 50, 50], atol=1e-6)


def test_licsbas_raw_rasters_that_cannot_be_used(tmp_path, field):
    ts = write_licsbas_frame(tmp_path / "f", field, DATES)
    with pytest.raises(ProductError, match=r"results/hgt: LiCSBAS layer hgt is not a velocity"):
        read_velocity(ts / "results" / "hgt")
    (ts / "results" / "vel").write_bytes(b"\0" * 400)  # a truncated copy
    with pytest.raises(ProductError, match=r"vel: 400 bytes, but .*EQA\.dem_par declares 70 x 60"):
        read_velocity(ts / "results" / "vel")
    lone = tmp_path / "elsewhere" / "results"
    lone.mkdir(parents=True)
    (lone / "vel").write_bytes(b"\0" * 16)
    with pytest.raises(ProductError, match=r"a headerless raster without its EQA\.dem_par"):
        read_velocity(lone / "vel")
    with pytest.raises(
        ProductError, match=r"folder is neither a LiCSBAS TS_\* folder .* nor an OPERA"
    ):
        read_velocity(tmp_path / "elsewhere")


# --- MintPy no data ---------------------------------------------------------------------------


def _mintpy_with_unset_pixels(tmp_path, field, name="geo_velocity.h5"):
    velocity = field.velocity_mm_yr / 1000.0
    velocity = np.nan_to_num(velocity, nan=0.0)  # MintPy writes 0 where it did not invert
    velocity[:20, :25] = 0.0
    velocity[55, 5] = 0.0  # the reference pixel
    attrs = _mintpy_attrs(field, REF_Y=55, REF_X=5, REF_LAT=-22.455, REF_LON=-68.695)
    path = write_mintpy_velocity(tmp_path / name, velocity, attrs, "20150105", "20200101")
    return path, attrs


def test_mintpy_zeros_where_not_inverted_are_no_data(tmp_path, field, caplog):
    path, attrs = _mintpy_with_unset_pixels(tmp_path, field)
    with caplog.at_level(logging.INFO):
        product = read_velocity(path)
    v = product.velocity_mm_yr
    assert np.isnan(v[:20, :25]).all() and v[55, 5] == 0.0  # the reference point stays valid
    assert np.isnan(v[20:50, 30:70][~np.isfinite(field.velocity_mm_yr[20:50, 30:70])]).all()
    assert "pixel(s) of velocity 0 taken as no data" in caplog.text
    assert product.reference["REF_Y"] == 55 and product.reference["REF_LAT"] == pytest.approx(
        -22.455
    )
    # With temporalCoherence.h5 beside: zeros where the coherence is 0 only.
    coherence = np.full(field.velocity_mm_yr.shape, 0.9, np.float32)
    coherence[:20, :10] = 0.0
    write_mintpy_layer(tmp_path / "geo_temporalCoherence.h5", "temporalCoherence", coherence, attrs)
    v = read_velocity(path).velocity_mm_yr
    assert np.isnan(v[:20, :10]).all() and (v[:20, 10:25] == 0).all()


def test_mintpy_mask_beside_or_given(tmp_path, field, caplog):
    path, attrs = _mintpy_with_unset_pixels(tmp_path, field, "velocity.h5")
    mask = np.ones(field.velocity_mm_yr.shape, bool)
    mask[:, 60:] = False
    write_mintpy_layer(tmp_path / "maskTempCoh.h5", "mask", mask, attrs)
    with caplog.at_level(logging.INFO):
        product = read_velocity(path)
    assert np.isnan(product.velocity_mm_yr[:, 60:]).all()
    assert "outside maskTempCoh.h5 masked as no data" in caplog.text
    other = np.ones_like(mask)
    other[:5] = False
    given = write_mintpy_layer(tmp_path / "elsewhere_mask.h5", "mask", other, attrs)
    product = read_velocity(path, mask=given)
    assert np.isnan(product.velocity_mm_yr[:5]).all()
    assert np.isfinite(product.velocity_mm_yr[10:20, 60:]).all()  # the given mask, not beside
    wrong = write_mintpy_layer(tmp_path / "small_mask.h5", "mask", other[:10], attrs)
    with pytest.raises(ProductError, match=r"small_mask\.h5: mask is not on the velocity's grid"):
        read_velocity(path, mask=wrong)


# --- plausibility, units both ways, no-data sentinels, size, LFS -------------------------------


def test_units_m_yr_on_a_mm_yr_map_stops(tmp_path, field):
    path = write_save_gdal_geotiff(tmp_path / "v.tif", field.velocity_mm_yr, field.transform, 4326)
    with pytest.raises(
        ProductError, match=r"v\.tif: --units m/yr, but 99% of \|v\| reach .* looks like mm/yr"
    ):
        read_velocity(path, units="m/yr")
    fast = write_licsbas_geotiff(tmp_path / "fast.tif", field, field.velocity_mm_yr * 1000)
    with pytest.raises(
        ProductError, match=r"fast\.tif: 99% of \|v\| reach .* beyond the plausible 2,000 mm/yr"
    ):
        read_velocity(fast)
    assert np.nanmax(read_velocity(fast, force=True).velocity_mm_yr) > 2000


def test_units_mm_yr_on_a_m_yr_map_stops(tmp_path, field):
    path = write_save_gdal_geotiff(
        tmp_path / "v.tif", field.velocity_mm_yr / 1000, field.transform, 4326
    )
    with pytest.raises(
        ProductError, match=r"v\.tif: --units mm/yr, but 99% of \|v\| are below .* looks like m/yr"
    ):
        read_velocity(path, units="mm/yr")
    assert read_velocity(path, units="mm/yr", force=True).velocity_mm_yr is not None
    np.testing.assert_allclose(
        read_velocity(path, units="m/yr").velocity_mm_yr, field.velocity_mm_yr, rtol=1e-5, atol=1e-4
    )


def test_a_dem_is_not_a_velocity_map(tmp_path, field):
    heights = np.linspace(3200.0, 5900.0, field.velocity_mm_yr.size, dtype=np.float32)
    dem = write_licsbas_geotiff(
        tmp_path / "dem.tif", field, heights.reshape(field.velocity_mm_yr.shape)
    )
    with pytest.raises(
        ProductError, match=r"dem\.tif: every valid value is positive .* looks like a DEM"
    ):
        read_velocity(dem)
    low = write_licsbas_geotiff(
        tmp_path / "low.tif", field, heights.reshape(60, 70) / 10
    )  # 320-590
    with pytest.raises(ProductError, match="looks like a DEM"):
        read_velocity(low)


def test_undeclared_nodata_values_become_no_data(tmp_path, field, caplog):
    for sentinel in (-9999.0, -32768.0, 9.96921e36):
        values = np.nan_to_num(field.velocity_mm_yr, nan=0.0)
        values[:8, :10] = sentinel  # 80 pixels, no nodata tag
        path = write_save_gdal_geotiff(tmp_path / "v.tif", values, field.transform, 4326)
        with caplog.at_level(logging.INFO):
            product = read_velocity(path, units="mm/yr")
        assert np.isnan(product.velocity_mm_yr[:8, :10]).all(), sentinel
        assert np.isfinite(product.velocity_mm_yr[8:]).all()
        assert f"80 pixel(s) equal to {sentinel:g} taken as no data" in caplog.text
    values = np.nan_to_num(field.velocity_mm_yr, nan=0.0)
    values[:8, :10] = -1.5
    path = write_save_gdal_geotiff(tmp_path / "w.tif", values, field.transform, 4326)
    assert np.isnan(read_velocity(path, units="mm/yr", nodata=-1.5).velocity_mm_yr[:8, :10]).all()
    assert np.isfinite(read_velocity(path, units="mm/yr").velocity_mm_yr).all()
    values[:8, :10] = -9999.0
    path = write_save_gdal_geotiff(tmp_path / "x.tif", values, field.transform, 4326)
    kept = read_velocity(path, units="mm/yr", nodata="none", force=True)
    assert (kept.velocity_mm_yr[:8, :10] == -9999.0).all()  # --nodata none keeps them


def test_a_raster_declaring_a_huge_size_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.tif"
    profile = {"driver": "GTiff", "height": 40_000, "width": 40_000, "count": 1, "dtype": "float32",
               "crs": "EPSG:32719", "transform": Affine(30, 0, 500_000, 0, -30, 7_500_000),
               "tiled": True, "compress": "deflate", "sparse_ok": True}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(
            np.ones((1, 256, 256), np.float32), window=rasterio.windows.Window(0, 0, 256, 256)
        )
    assert path.stat().st_size < 200_000
    with pytest.raises(
        ProductError, match=r"huge\.tif: raster declares 40000 x 40000 pixels .* clip"
    ):
        read_velocity(path, units="mm/yr")


def test_git_lfs_pointers_are_named(tmp_path, field):
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 52428800\n"
    )
    for name in ("velocity.tif", "cum.h5", "los.tif"):
        (tmp_path / name).write_text(pointer)
    for name in ("velocity.tif", "cum.h5"):
        with pytest.raises(
            ProductError,
            match=rf"{name}: a Git LFS pointer, not the file itself of 52,428,800 bytes; .*git lfs pull",
        ):
            read_velocity(tmp_path / name)
    with pytest.raises(ProductError, match=r"los\.tif: a Git LFS pointer"):
        read_los(tmp_path / "los.tif")


# --- OPERA DISP-S1 ------------------------------------------------------------------------------


TRANSFORM_30M = Affine(30.0, 0.0, 405_000.0, 0.0, -30.0, 3_778_020.0)


def _velocity_m_yr(rows=48, cols=64):
    r, c = np.mgrid[0:rows, 0:cols]
    return (0.02 * np.exp(-((r - 24) ** 2 + (c - 30) ** 2) / 200.0) - 0.003 + 1e-4 * c).astype(
        np.float32
    )


def test_opera_stack_becomes_a_velocity_map(tmp_path):
    velocity = _velocity_m_yr()
    mask = np.ones(velocity.shape, np.uint8)
    mask[:6, :8] = 0  # recommended_mask: bad pixels in every product
    paths, dates = write_disp_s1_stack(
        tmp_path / "F08882", velocity, UTM11N, TRANSFORM_30M, recommended_mask=mask
    )
    for source in (tmp_path / "F08882", tmp_path / "F08882" / "OPERA_L3_DISP-S1_*.nc"):
        product = read_velocity(source)
        assert product.kind == "opera-disp-s1"
        assert product.grid.crs.to_epsg() == UTM11N and product.grid.transform == TRANSFORM_30M
        expected = velocity * 1000.0
        expected[:6, :8] = np.nan
        # Two ministacks (reference date moves at the 5th date): rates of the chained series.
        np.testing.assert_allclose(product.velocity_mm_yr, expected, atol=0.02)
        assert product.period_yr == pytest.approx((dates[-1] - dates[0]).days / 365.25, rel=1e-4)
        assert product.start == "2020-01-05" and product.reference["date"] == "2020-01-05"
        assert product.reference["row"] == 10 and product.reference["lon"] == pytest.approx(-117.2)
    with pytest.raises(
        ProductError, match=r"one OPERA DISP-S1 product is the displacement of one interval"
    ):
        read_velocity(paths[0])
    paths[4].unlink()  # the product whose secondary date is the 2nd ministack's reference
    with pytest.raises(
        ProductError, match=r"its reference date 2020-03-05 is neither the stack's first date"
    ):
        read_velocity(tmp_path / "F08882")


def test_opera_products_without_recommended_mask_use_their_own_masks(tmp_path):
    velocity = _velocity_m_yr()
    conncomp = np.ones(velocity.shape, np.uint16)
    conncomp[40:, :] = 0  # unwrapping failed
    water = np.ones(velocity.shape, np.uint8)
    water[:, 60:] = 0  # water
    write_disp_s1_stack(
        tmp_path / "old", velocity, UTM11N, TRANSFORM_30M, n_dates=5, version="0.4",
        with_recommended_mask=False, conncomp=conncomp, water_mask=water,
    )  # fmt: skip
    v = read_velocity(tmp_path / "old").velocity_mm_yr
    assert np.isnan(v[40:]).all() and np.isnan(v[:, 60:]).all()
    np.testing.assert_allclose(v[:40, :60], velocity[:40, :60] * 1000, atol=0.02)


def test_opera_los_from_static_layers(tmp_path):
    velocity = _velocity_m_yr()
    write_disp_s1_stack(tmp_path / "s", velocity, UTM11N, TRANSFORM_30M, n_dates=4)
    enu = _enu(velocity.shape, heading=-167.6)
    name = "OPERA_L3_DISP-S1-STATIC_F08882_20140403_S1A_v1.0_line_of_sight_enu.tif"
    static = write_disp_s1_static_los(tmp_path / "s" / name, enu[0], enu[1], UTM11N, TRANSFORM_30M)
    product = read_velocity(tmp_path / "s")  # found beside the stack
    assert product.los_source == str(static)
    np.testing.assert_allclose(product.los_unit_vector[:, 5, 5], enu[:, 5, 5], atol=3e-3)
    enu[:, :3, :] = np.nan  # outside the frame: 0 = no data in the static layer
    partial = write_disp_s1_static_los(tmp_path / name, enu[0], enu[1], UTM11N, TRANSFORM_30M)
    los, _ = read_los(partial)
    np.testing.assert_allclose(los[:, 3:], enu[:, 3:], atol=3e-3)  # 9-bit mantissas
    assert np.isnan(los[:, :3]).all()
    pair = write_disp_s1_static_los(
        tmp_path / "pair" / "x.tif", enu[0], enu[1], UTM11N, TRANSFORM_30M, pair=True
    )
    for given in (pair, pair.with_name("los_north.tif")):
        los, _ = read_los(given)
        np.testing.assert_allclose(los[:, 3:], enu[:, 3:], atol=1e-5)  # up = sqrt(1 - e^2 - n^2)


def test_single_band_los_file_gets_advice(tmp_path, field):
    path = write_save_gdal_geotiff(
        tmp_path / "incidence.tif", np.ones((60, 70)), field.transform, 4326
    )
    with pytest.raises(
        ProductError, match=r"has 1 band\(s\), expected 3 \(east, north, up\); .*los_east"
    ):
        read_los(path)


def test_disp_s1_fixture_follows_the_writer(tmp_path):
    """The fixture's layout is what disp-s1 product.py writes (names, dims, attributes)."""
    path = write_disp_s1_product(
        tmp_path, _velocity_m_yr() * 0.1, UTM11N, TRANSFORM_30M,
        pd.Timestamp("2020-01-05 14:07:55"), pd.Timestamp("2020-01-17 14:07:56"),
    )  # fmt: skip
    assert path.name.startswith(
        "OPERA_L3_DISP-S1_IW_F08882_VV_20200105T140755Z_20200117T140756Z_v1.0_"
    )
    with h5py.File(path) as f:
        assert f["displacement"].attrs["units"] in (b"meters", "meters")
        assert f["displacement"].dims[0][0].name == "/y"
        assert f["recommended_mask"].dtype == np.uint8 and f["recommended_mask"].fillvalue == 255
        assert "crs_wkt" in f["spatial_ref"].attrs and "GeoTransform" in f["spatial_ref"].attrs
        assert f["identification/reference_datetime"][()] == b"2020-01-05 14:07:55.000000"
        assert list(f["corrections/reference_point"].attrs["rows"]) == [10]
