"""Results users can read: probability no data where the input is, quick-look on lon/lat with
volcanoes and flags, flag polygons inside the input and split at the antimeridian, one line per
GDAL message; and ``volcdet predict`` on LiCSBAS folders and OPERA stacks with the reference
points in the run summary and the new options (--units both ways, --force, --nodata, --mask)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import torch
from affine import Affine
from product_fixtures import (
    GeoField,
    geo_field,
    mintpy_attributes,
    write_disp_s1_stack,
    write_licsbas_frame,
    write_mintpy_layer,
    write_mintpy_velocity,
    write_save_gdal_geotiff,
)
from pyproj import Transformer
from rasterio.crs import CRS

import volcdet
from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.api import load_model, predict
from volcdet.inference.cli import main
from volcdet.inference.outputs import write_prediction
from volcdet.inference.spec import ScanSpec
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

DATES = [20150105, 20160110, 20180320, 20200101]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=32, hidden_units=8, dropout=0.0)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    transform = InputTransform(pixel_size_m=200.0)
    save_atomic(build_checkpoint(VolcanoClassifier(spec).eval(), spec, transform, {}, 1, 0.1), path)
    return path


@pytest.fixture(scope="module")
def model(model_path):
    return load_model(model_path)


def _catalogue():
    return pd.DataFrame(
        {"name": ["Lascar", "Aguas Calientes"], "lon": [-68.62, -68.66], "lat": [-22.48, -22.42]}
    )


def test_probability_is_no_data_where_the_input_is(tmp_path, model):
    field = geo_field()  # NaN hole of 30 x 40 pixels
    from product_fixtures import write_licsbas_geotiff

    path = write_licsbas_geotiff(tmp_path / "vel.geo.tif", field)
    result = predict(path, model, period_yr=5.0, spec=ScanSpec(stride_px=16))
    write_prediction(result, tmp_path / "out")
    with rasterio.open(tmp_path / "out/probability.tif") as src:
        probability = src.read(1)
    hole = ~np.isfinite(field.velocity_mm_yr)
    assert hole.sum() == 1200 and np.isnan(probability[hole]).all()
    assert np.isfinite(probability[~hole]).mean() > 0.9
    with rasterio.open(tmp_path / "out/probability_utm.tif") as src:
        utm = src.read(1)
    assert np.isnan(utm[~np.isfinite(result.displacement_mm)]).all()


def test_quicklook_has_lonlat_ticks_volcanoes_flags_and_colour_bars(tmp_path, model):
    from volcdet.inference.quicklook import quicklook_figure

    field = geo_field()
    from product_fixtures import write_licsbas_geotiff

    path = write_licsbas_geotiff(tmp_path / "vel.geo.tif", field)
    result = predict(
        path,
        model,
        period_yr=5.0,
        spec=ScanSpec(stride_px=16, threshold=0.0),
        catalogue=_catalogue(),
    )
    fig = quicklook_figure(
        result.displacement_mm,
        result.probability_model_grid.to_numpy(),
        result.flags,
        result.threshold,
        "t",
        result.model_grid,
        result.catalogue,
    )
    image_axes = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(image_axes) == 2 and len(fig.axes) == 4  # two panels, two colour bars
    for ax in image_axes:
        xlabels = [t.get_text() for t in ax.get_xticklabels()]
        ylabels = [t.get_text() for t in ax.get_yticklabels()]
        assert xlabels and all(label.endswith("°W") for label in xlabels), xlabels
        assert ylabels and all(label.endswith("°S") for label in ylabels), ylabels
        names = {t.get_text() for t in ax.texts}
        assert {"Lascar", "Aguas Calientes"} <= names
        outlines = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
        assert len(outlines) == len(result.flags) > 0
    write_prediction(result, tmp_path / "out")
    assert (tmp_path / "out/quicklook.png").stat().st_size > 10_000


def test_flag_polygons_never_reach_beyond_the_input(tmp_path, model):
    """A small geographic map: the model grid's cells reach beyond its edges, its flags do not."""
    lat0, lon0, post = -22.40, -68.70, 0.001
    rows, cols = 57, 83
    velocity = np.random.default_rng(2).normal(0, 2, (rows, cols)).astype(np.float32)
    field = GeoField(velocity, lat0, lon0, -post, post)
    from product_fixtures import write_licsbas_cum

    path = write_licsbas_cum(tmp_path / "cum.h5", field, DATES)
    result = predict(path, model, spec=ScanSpec(threshold=0.0, stride_px=8))
    west, north = lon0 - post / 2, lat0 + post / 2
    east, south = west + cols * post, north - rows * post
    assert len(result.features) > 0
    for feature in result.features:
        ring = np.array(feature["geometry"]["coordinates"][0])
        assert ring[:, 0].min() >= west - 1e-6 and ring[:, 0].max() <= east + 1e-6
        assert ring[:, 1].min() >= south - 1e-6 and ring[:, 1].max() <= north + 1e-6


def test_flag_polygons_are_split_at_the_antimeridian(tmp_path, model):
    """A UTM 1S map across 180 deg (Fiji): no polygon jumps from +179.9 to -179.9."""
    crs = CRS.from_epsg(32701)
    x180, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(180.0, -17.0)
    x0, y0 = round(x180 / 200) * 200 - 10_000, round(y / 200) * 200 + 10_000
    grid = Grid(crs, Affine(200.0, 0, x0, 0, -200.0, y0), (100, 100))
    velocity = np.random.default_rng(3).normal(0, 2, grid.shape)
    write_geotiff(tmp_path / "fiji.tif", velocity, grid, units="mm/yr")
    result = predict(
        tmp_path / "fiji.tif", model, period_yr=5.0, spec=ScanSpec(threshold=0.0, stride_px=16)
    )
    kinds = {f["geometry"]["type"] for f in result.features}
    assert "MultiPolygon" in kinds  # windows across the antimeridian
    for feature in result.features:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            lon = np.array(polygon[0])[:, 0]
            assert lon.min() >= -180 and lon.max() <= 180
            assert np.ptp(lon) < 1.0, lon  # each part stays on its side (RFC 7946, 3.1.9)
    assert ((result.flags.lon > -180) & (result.flags.lon <= 180)).all()


def test_gdal_messages_reach_the_terminal_as_one_line(tmp_path, model_path):
    (tmp_path / "notes.tif").write_text("field notes, not a raster\n")
    src = Path(volcdet.__file__).resolve().parents[1]  # the volcdet under test
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "volcdet.inference.cli", "predict", "notes.tif", "--model",
         str(model_path), "--out", "o", "--period-yr", "3"],
        check=False, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert lines == [
        f"volcdet: error: notes.tif: not a readable raster ({lines[0].split('(', 1)[1]}"
    ]
    assert "INFO" not in result.stderr


def _run(args, capsys):
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines()


def test_predict_on_a_licsbas_folder_and_an_opera_stack_records_references(
    tmp_path, model_path, capsys
):
    field = geo_field(rows=90, cols=100, hole=False)
    enu = np.moveaxis(los_unit_vector(np.full((90, 100), 39.0), -12.4), -1, 0)
    ts = write_licsbas_frame(tmp_path / "021D_05266_252525", field, DATES, enu=enu)
    r, c = np.mgrid[0:120, 0:140]
    velocity_m_yr = (0.01 * np.sin(r / 9.0) * np.cos(c / 11.0)).astype(np.float32)
    transform = Affine(30.0, 0, 405_000.0, 0, -30.0, 3_778_020.0)
    write_disp_s1_stack(
        tmp_path / "F08882", velocity_m_yr, 32611, transform, n_dates=7, ministack=3
    )
    t = field.transform
    attrs = mintpy_attributes(t.c, t.f, t.a, t.e, (90, 100), {"REF_Y": 40, "REF_X": 50})
    write_mintpy_velocity(
        tmp_path / "geo_velocity.h5", field.velocity_mm_yr / 1e3, attrs, "20150105", "20200101"
    )
    out = tmp_path / "run"
    status, err = _run(
        ["predict", str(ts), str(tmp_path / "F08882"), str(tmp_path / "geo_velocity.h5"),
         "--model", str(model_path), "--out", str(out), "--stride", "16"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    entries = {e["kind"]: e for e in json.loads((out / "run_summary.json").read_text())["inputs"]}
    licsbas = entries["licsbas-raw"]
    assert licsbas["reference"]["source"] == "TS_GEOCml10/info/16ref.txt"
    assert licsbas["los"].endswith("GEOCml10/E.geo") and licsbas["period_yr"] == pytest.approx(
        1822 / 365.25
    )
    opera = entries["opera-disp-s1"]
    assert opera["reference"]["date"] == "2020-01-05" and opera["reference"]["row"] == 10
    assert opera["input_crs"] == "EPSG:32611" and opera["period_yr"] == pytest.approx(
        72 / 365.25, rel=1e-3
    )
    assert entries["mintpy"]["reference"]["REF_Y"] == 40
    assert (out / "F08882" / "probability.tif").is_file()


def test_units_force_nodata_and_mask_options(tmp_path, model_path, capsys):
    field = geo_field(rows=90, cols=100, hole=False)
    base = ["--model", str(model_path), "--period-yr", "5", "--stride", "32"]
    metres = write_save_gdal_geotiff(
        tmp_path / "m.tif", field.velocity_mm_yr / 1e3, field.transform, 4326
    )
    status, err = _run(
        ["predict", str(metres), "--units", "mm/yr", "--out", str(tmp_path / "a"), *base], capsys
    )
    assert status == 2 and len(err) == 1 and "--units mm/yr, but 99% of |v| are below" in err[0]
    assert not (tmp_path / "a").exists()
    status, err = _run(
        [
            "predict",
            str(metres),
            "--units",
            "mm/yr",
            "--force",
            "--out",
            str(tmp_path / "b"),
            *base,
        ],
        capsys,
    )
    assert status == 0, err
    mm = write_save_gdal_geotiff(tmp_path / "mm.tif", field.velocity_mm_yr, field.transform, 4326)
    status, err = _run(
        ["predict", str(mm), "--units", "m/yr", "--out", str(tmp_path / "c"), *base], capsys
    )
    assert status == 2 and len(err) == 1 and "looks like mm/yr" in err[0]
    holes = field.velocity_mm_yr.copy()
    holes[:30, :40] = -9999.0
    sentinel = write_save_gdal_geotiff(tmp_path / "s.tif", holes, field.transform, 4326)
    status, _ = _run(
        ["predict", str(sentinel), "--units", "mm/yr", "--out", str(tmp_path / "d"), *base], capsys
    )
    assert status == 0
    with rasterio.open(tmp_path / "d/s/probability.tif") as src:
        assert np.isnan(src.read(1)[:30, :40]).all()  # -9999 taken as no data
    status, err = _run(
        [
            "predict",
            str(sentinel),
            "--units",
            "mm/yr",
            "--nodata",
            "none",
            "--out",
            str(tmp_path / "e"),
            *base,
        ],
        capsys,
    )
    assert status == 2 and "beyond the plausible 2,000 mm/yr" in err[0]
    t = field.transform
    attrs = mintpy_attributes(t.c, t.f, t.a, t.e, (90, 100))
    velocity = write_mintpy_velocity(
        tmp_path / "v.h5", field.velocity_mm_yr / 1e3, attrs, "20150105", "20200101"
    )
    mask = np.ones((90, 100), bool)
    mask[:, :50] = False
    mask_path = write_mintpy_layer(tmp_path / "my_mask.h5", "mask", mask, attrs)
    status, err = _run(
        [
            "predict",
            str(velocity),
            "--mask",
            str(mask_path),
            "--out",
            str(tmp_path / "f"),
            *base[:2],
            "--stride",
            "32",
        ],
        capsys,
    )
    assert status == 0, err
    with rasterio.open(tmp_path / "f/v/probability.tif") as src:
        assert np.isnan(src.read(1)[:, :50]).all()
    status, err = _run(
        [
            "predict",
            str(mm),
            "--units",
            "mm/yr",
            "--mask",
            str(mask_path),
            "--out",
            str(tmp_path / "g"),
            *base,
        ],
        capsys,
    )
    assert status == 2 and "--mask is for MintPy velocity files" in err[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--nodata", "abc"], "argument --nodata: must be a number or 'none', got 'abc'"),
        (["--mask", "a.h5", "--mask", "b.h5"], "--mask: given 2 time(s) for 1 input(s)"),
        (["--mask", "missing.h5"], "missing.h5: file not found (--mask)"),
    ],
)
def test_new_options_are_checked_before_anything_is_read(
    tmp_path, model_path, capsys, extra, message
):
    for name in ("a.h5", "b.h5", "v.tif"):
        (tmp_path / name).write_text("x")
    args = [
        "predict",
        str(tmp_path / "v.tif"),
        "--model",
        str(model_path),
        "--out",
        str(tmp_path / "o"),
    ]
    status, err = _run(
        [*args, *[str(tmp_path / e) if e.endswith(".h5") else e for e in extra]], capsys
    )
    assert status == 2 and len(err) == 1 and message in err[0], err
    status, err = _run(["predict", str(tmp_path / "none" / "OPERA_*.nc"), *args[2:]], capsys)
    assert status == 2 and "OPERA_*.nc: file not found (input)" in err[0]
