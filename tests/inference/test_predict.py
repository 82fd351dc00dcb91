"""Scoring users' products at the model's scale: every format gives the UTM map's probabilities,
100 m and 200 m maps give the same flags, small maps are located on their data, Python API."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import rasterio
import rioxarray
import torch
import xarray as xr
from affine import Affine
from product_fixtures import (
    GeoField,
    geo_field,
    mintpy_attributes,
    write_licsbas_cum,
    write_licsbas_geotiff,
    write_licsbas_netcdf,
    write_mintpy_velocity,
)
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject, transform_bounds

from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.api import load_model, predict
from volcdet.inference.spec import ScanSpec
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

DATES = [20150105, 20160110, 20180320, 20200101]
PERIOD_YR = 1822 / 365.25  # 2015-01-05 to 2020-01-01
UTM19S = CRS.from_epsg(32719)


def _model(path, input_px, downsample=1):
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=input_px, hidden_units=8, dropout=0.0)
    transform = InputTransform(downsample=downsample, pixel_size_m=200.0)
    save_atomic(build_checkpoint(VolcanoClassifier(spec).eval(), spec, transform, {}, 1, 0.1), path)
    return path


@pytest.fixture(scope="module")
def model32(tmp_path_factory):
    return load_model(_model(tmp_path_factory.mktemp("m") / "model32.pt", 32))


@pytest.fixture(scope="module")
def model256(tmp_path_factory):
    """A 256-px window at 200 m (64-px network input after 4 x 4 averaging), like the paper's."""
    return load_model(_model(tmp_path_factory.mktemp("m") / "model256.pt", 64, downsample=4))


def utm_reference(field: GeoField, path, pixel_m=200.0):
    """The same field brought to UTM 19S by hand: footprint box snapped to the pixel size,
    GDAL average of valid pixels, NaN where less than half of a pixel is valid."""
    rows, cols = field.velocity_mm_yr.shape
    left, top = field.transform * (0, 0)
    right, bottom = field.transform * (cols, rows)
    box = transform_bounds("EPSG:4326", UTM19S, left, bottom, right, top, densify_pts=21)
    x0, y0 = math.floor(box[0] / pixel_m) * pixel_m, math.ceil(box[3] / pixel_m) * pixel_m
    x1, y1 = math.ceil(box[2] / pixel_m) * pixel_m, math.floor(box[1] / pixel_m) * pixel_m
    transform = Affine(pixel_m, 0, x0, 0, -pixel_m, y0)
    shape = (round((y0 - y1) / pixel_m), round((x1 - x0) / pixel_m))
    mean, share = np.full(shape, np.nan, np.float32), np.zeros(shape, np.float32)
    common = {
        "src_transform": field.transform,
        "src_crs": "EPSG:4326",
        "dst_transform": transform,
        "dst_crs": UTM19S,
        "resampling": Resampling.average,
    }
    reproject(field.velocity_mm_yr, mean, src_nodata=np.nan, dst_nodata=np.nan, **common)
    reproject(np.isfinite(field.velocity_mm_yr).astype(np.float32), share, **common)
    mean[share < 0.5] = np.nan
    write_geotiff(path, mean, Grid(UTM19S, transform, shape), units="mm/yr")
    return path


def test_every_format_scores_like_the_utm_geotiff(tmp_path, model32):
    field = geo_field()
    spec = ScanSpec(stride_px=16)
    reference = predict(
        utm_reference(field, tmp_path / "utm.tif"), model32, period_yr=PERIOD_YR, spec=spec
    )
    t = field.transform
    attrs = mintpy_attributes(t.c, t.f, t.a, t.e, field.velocity_mm_yr.shape)
    products = {
        "cum.h5": (write_licsbas_cum(tmp_path / "cum.h5", field, DATES), None),
        "nc": (write_licsbas_netcdf(tmp_path / "out.nc", field, DATES), None),
        "licsbas tif": (write_licsbas_geotiff(tmp_path / "vel.geo.tif", field), PERIOD_YR),
        "mintpy": (
            write_mintpy_velocity(
                tmp_path / "geo_velocity.h5",
                field.velocity_mm_yr / 1e3,
                attrs,
                "20150105",
                "20200101",
            ),
            None,
        ),
    }
    expected = reference.probability_model_grid.to_numpy()
    assert np.isfinite(expected).sum() > 1000
    for name, (path, period) in products.items():
        result = predict(path, model32, period_yr=period, spec=spec)
        assert result.model_grid == reference.model_grid, name
        assert result.period_yr == pytest.approx(PERIOD_YR), name
        np.testing.assert_allclose(
            result.probability_model_grid.to_numpy(), expected, atol=1e-5, err_msg=name
        )
        # ... and back on the input's geographic grid.
        assert result.probability.rio.crs.to_epsg() == 4326
        assert result.probability.shape == field.velocity_mm_yr.shape


def _bump_field(pixel_m, rows, cols, x0=500_000.0, y0=7_520_000.0):
    """Uplift (period x 30 mm/yr peak, 4 km wide) and a ramp, evaluated at pixel centres."""
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    xm, ym = x0 + (x + 0.5) * pixel_m, y0 - (y + 0.5) * pixel_m
    cx, cy = x0 + 9_000.0, y0 - 7_000.0
    v = 30.0 * np.exp(-((xm - cx) ** 2 + (ym - cy) ** 2) / (2 * 4_000.0**2)) + 1e-4 * (xm - x0)
    grid = Grid(UTM19S, Affine(pixel_m, 0, x0, 0, -pixel_m, y0), (rows, cols))
    return v.astype(np.float32), grid


def test_100_m_and_200_m_maps_give_the_same_flags(tmp_path, model32):
    v200, g200 = _bump_field(200.0, 100, 120)
    v100, g100 = _bump_field(100.0, 200, 240)
    write_geotiff(tmp_path / "v200.tif", v200, g200, units="mm/yr")
    write_geotiff(tmp_path / "v100.tif", v100, g100, units="mm/yr")
    spec = ScanSpec(stride_px=8)
    coarse = predict(tmp_path / "v200.tif", model32, period_yr=5.0, spec=spec)
    fine = predict(tmp_path / "v100.tif", model32, period_yr=5.0, spec=spec)
    assert fine.model_grid == coarse.model_grid  # 100 m map averaged onto the same 200 m grid
    p_coarse = coarse.probability_model_grid.to_numpy()
    np.testing.assert_allclose(fine.probability_model_grid.to_numpy(), p_coarse, atol=2e-3)
    # A threshold in the middle of the widest gap between window probabilities.
    window_p = np.sort(np.unique(p_coarse[np.isfinite(p_coarse)]))
    gap = int(np.argmax(np.diff(window_p)))
    threshold = float(window_p[gap : gap + 2].mean())
    spec = ScanSpec(stride_px=8, threshold=threshold)
    flags_coarse = predict(tmp_path / "v200.tif", model32, period_yr=5.0, spec=spec).flags
    flags_fine = predict(tmp_path / "v100.tif", model32, period_yr=5.0, spec=spec).flags
    assert 0 < len(flags_coarse) < coarse.n_windows
    columns = ["row0", "col0", "lon", "lat"]
    pd.testing.assert_frame_equal(
        flags_fine[columns].sort_values(columns).reset_index(drop=True),
        flags_coarse[columns].sort_values(columns).reset_index(drop=True),
    )
    # The probability on the 100 m input grid repeats each 200 m pixel over its 2 x 2 block.
    back = fine.probability.to_numpy()
    np.testing.assert_array_equal(back[::2, ::2], fine.probability_model_grid.to_numpy())


def test_small_map_is_flagged_where_its_data_are(tmp_path, model256):
    """A 16 x 14 km LiCSBAS map of Campi Flegrei, smaller than one 51.2 km window."""
    lat0, lon0, post = 40.891, 14.044, 0.001
    rows, cols = 126, 190
    rng = np.random.default_rng(1)
    velocity = rng.normal(0, 2, (rows, cols)).astype(np.float32)
    field = GeoField(velocity, lat0, lon0, -post, post)
    path = write_licsbas_cum(tmp_path / "cum.h5", field, DATES)
    catalogue = pd.DataFrame(
        {"name": ["Campi Flegrei", "Vesuvius"], "lon": [14.139, 14.426], "lat": [40.827, 40.821]}
    )
    result = predict(path, model256, catalogue=catalogue, spec=ScanSpec(threshold=0.0))
    assert result.model_grid.crs.to_epsg() == 32633
    assert len(result.flags) == 1
    flag = result.flags.iloc[0]
    centre_lon, centre_lat = lon0 + post * (cols - 1) / 2, lat0 - post * (rows - 1) / 2
    assert abs(flag.lon - centre_lon) < 0.01 and abs(flag.lat - centre_lat) < 0.01
    assert flag.nearest_volcano == "Campi Flegrei" and flag.nearest_volcano_km < 2.0
    ring = np.array(result.features[0]["geometry"]["coordinates"][0])
    assert ring[:, 0].min() > lon0 - 0.01 and ring[:, 0].max() < lon0 + post * cols + 0.01
    assert ring[:, 1].min() > lat0 - post * rows - 0.01 and ring[:, 1].max() < lat0 + 0.01


def test_python_api_takes_a_dataarray(tmp_path, model32):
    v, grid = _bump_field(200.0, 80, 90)
    write_geotiff(tmp_path / "v.tif", v, grid, units="mm/yr")
    from_path = predict(tmp_path / "v.tif", model32, period_yr=5.0, spec=ScanSpec(stride_px=16))
    array = rioxarray.open_rasterio(tmp_path / "v.tif").squeeze("band", drop=True)
    assert array.attrs["units"] == "mm/yr"
    result = predict(array, model32, period_yr=5.0, spec=ScanSpec(stride_px=16))
    xr.testing.assert_allclose(result.probability, from_path.probability)
    assert result.probability.rio.crs == grid.crs
    assert result.probability.rio.transform() == grid.transform
    assert list(result.flags.columns) == list(from_path.flags.columns)
    # Same map in m/yr stated through attrs; and one flipped south-up.
    metres = (array / 1000.0).assign_attrs(units="m/yr").rio.write_crs(grid.crs)
    np.testing.assert_allclose(
        predict(metres, model32, period_yr=5.0, spec=ScanSpec(stride_px=16)).probability,
        from_path.probability,
        atol=1e-5,
    )
    flipped = array.isel(y=slice(None, None, -1))
    again = predict(flipped, model32, period_yr=5.0, spec=ScanSpec(stride_px=16))
    np.testing.assert_allclose(
        again.probability_model_grid, from_path.probability_model_grid, atol=1e-6
    )


def test_probability_rasters_are_cogs_with_tags(tmp_path, model32):
    from volcdet.inference.outputs import write_prediction

    v, grid = _bump_field(200.0, 80, 90)
    write_geotiff(tmp_path / "v.tif", v, grid, units="mm/yr")
    result = predict(
        tmp_path / "v.tif", model32, period_yr=5.2, spec=ScanSpec(stride_px=16, threshold=0.0)
    )
    write_prediction(result, tmp_path / "out")
    for name in ("probability.tif", "probability_utm.tif"):
        with rasterio.open(tmp_path / "out" / name) as src:
            tags = src.tags()
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert tags["model_id"] == model32.model_id and tags["model_id"].startswith("sha256:")
            assert float(tags["threshold"]) == 0.0 and float(tags["period_yr"]) == pytest.approx(
                5.2
            )
    import json

    geojson = json.loads((tmp_path / "out/flagged.geojson").read_text())
    properties = geojson["features"][0]["properties"]
    assert properties["model_id"] == model32.model_id and properties["period_yr"] == pytest.approx(
        5.2
    )
    assert properties["threshold"] == 0.0
