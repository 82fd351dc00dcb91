"""Scanning velocity maps with a trained model: outputs, georeferencing, bad input, export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
import torch
from affine import Affine
from conftest import small_grid

from volcdet.core.errors import ProductError
from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.cli import main
from volcdet.inference.export import export_torchscript
from volcdet.inference.outputs import OUTPUT_FILES
from volcdet.inference.runs import scan_velocity_map
from volcdet.inference.scan import padded_to_window, plan_windows, score_windows, window_origins
from volcdet.inference.spec import ScanSpec
from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

WINDOW = 32


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.pt"
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=WINDOW, hidden_units=8, dropout=0.0)
    save_atomic(
        build_checkpoint(
            VolcanoClassifier(spec).eval(), spec, InputTransform(pixel_size_m=200.0), {}, 1, 0.1
        ),
        path,
    )
    return path


def _map(tmp_path, rows, cols, hole=False, name="v"):
    grid = small_grid(rows, cols)
    velocity = np.random.default_rng(rows * cols).normal(0, 3, (rows, cols)).astype(np.float32)
    if hole:
        velocity[5:35, 40:72] = np.nan
    los = np.moveaxis(los_unit_vector(np.full((rows, cols), 39.0), -167.6), -1, 0)
    write_geotiff(tmp_path / f"{name}.tif", velocity, grid, units="mm/yr")
    write_geotiff(tmp_path / f"{name}_los.tif", los, grid, ["east", "north", "up"])
    return tmp_path / f"{name}.tif", tmp_path / f"{name}_los.tif"


def test_window_origins_cover_the_map():
    assert window_origins(100, 32, 16) == [0, 16, 32, 48, 64, 68]
    assert window_origins(20, 32, 16) == [-6]  # a small map is centred in its window
    assert window_origins(32, 32, 16) == [0]


def _window_probability(model_file, displacement, origin):
    from volcdet.inference.api import load_model

    loaded = load_model(model_file)
    spec = ScanSpec(stride_px=8, max_missing_fraction=1.0, device="cpu")
    padded = padded_to_window(displacement, loaded.window_px)
    windows = plan_windows(padded, displacement.shape, loaded.window_px, spec)
    scores = score_windows(loaded.model, loaded.transform, padded, windows, spec)
    return dict(zip(windows.origins, scores, strict=True))[origin]


@pytest.mark.parametrize("fixture", ["model_file", "trained_model_file"])
def test_small_clip_scores_as_the_same_clip_centred_in_a_larger_map(fixture, request):
    """A 20 x 24 px clip scanned alone is centred in its window, as training places its valid
    data (around the window centre): it scores as the same pixels centred in a window of a
    larger map that is no data elsewhere (tolerance 1e-5); top-left padding would not."""
    model = request.getfixturevalue(fixture)
    window = 32 if fixture == "model_file" else 64
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[-10:10, -12:12]
    clip = (25.0 * np.exp(-(yy**2 + xx**2) / 30.0) + rng.normal(0, 1, yy.shape)).astype(np.float32)
    alone = _window_probability(model, clip, (-(window - 20) // 2, -(window - 24) // 2))
    large = np.full((4 * window, 4 * window), np.nan, np.float32)
    r0, c0 = window + (window - 20) // 2, window + (window - 24) // 2
    large[r0 : r0 + 20, c0 : c0 + 24] = clip
    inside = _window_probability(model, large, (window, window))
    assert alone == pytest.approx(inside, abs=1e-5)
    top_left = np.full((window, window), np.nan, np.float32)
    top_left[:20, :24] = clip
    corner = _window_probability(model, top_left, (0, 0))
    if fixture == "trained_model_file":
        assert abs(corner - inside) > 1e-5


def test_scan_writes_a_georeferenced_map_and_flags(tmp_path, model_file):
    velocity, los = _map(tmp_path, 80, 100, hole=True)
    catalogue = tmp_path / "volcanoes.csv"
    pd.DataFrame({"name": ["A", "B"], "lon": [-69.0, -68.0], "lat": [-22.6, -22.0]}).to_csv(
        catalogue, index=False
    )
    flagged = scan_velocity_map(
        velocity,
        los,
        model_file,
        tmp_path / "out",
        ScanSpec(stride_px=16, threshold=0.0, max_missing_fraction=0.5),
        catalogue,
        period_yr=5.0,
    )
    with rasterio.open(tmp_path / "out/probability.tif") as src, rasterio.open(velocity) as ref:
        probability = src.read(1)
        assert (src.crs, src.transform, src.shape) == (ref.crs, ref.transform, ref.shape)
    # Threshold 0 flags every scored window: of the 5 x 6 origins at stride 16 on 80 x 100, those
    # with more than half of their pixels in the NaN hole are skipped.
    with rasterio.open(velocity) as src:
        holes = np.isnan(src.read(1))
    origins = [
        (r, c) for r in window_origins(80, WINDOW, 16) for c in window_origins(100, WINDOW, 16)
    ]
    scored = [(r, c) for r, c in origins if holes[r : r + WINDOW, c : c + WINDOW].mean() <= 0.5]
    assert 0 < len(scored) < len(origins)
    assert sorted(zip(flagged.row0, flagged.col0, strict=True)) == sorted(scored)
    covered = np.zeros((80, 100), bool)
    for r, c in scored:
        covered[r : r + WINDOW, c : c + WINDOW] = True
    # NaN where no window scored and where the input has no data.
    np.testing.assert_array_equal(np.isfinite(probability), covered & ~holes)
    assert np.nanmin(probability) >= 0 and np.nanmax(probability) <= 1
    assert set(flagged.nearest_volcano) <= {"A", "B"}
    # The probability map is the maximum over the windows containing each pixel.
    top = flagged.iloc[0]
    window = probability[
        int(top.row0) : int(top.row0) + WINDOW, int(top.col0) : int(top.col0) + WINDOW
    ]
    assert np.isclose(window.max(), top.probability, atol=1e-6)
    geojson = json.loads((tmp_path / "out/flagged.geojson").read_text())
    assert len(geojson["features"]) == len(flagged)
    lon, lat = np.array(geojson["features"][0]["geometry"]["coordinates"][0]).T
    assert (lon > -70).all() and (lon < -68).all() and (lat > -23).all() and (lat < -22).all()
    assert (tmp_path / "out/quicklook.png").stat().st_size > 5_000


def test_map_smaller_than_a_window(tmp_path, model_file):
    velocity, los = _map(tmp_path, 20, 24)
    flagged = scan_velocity_map(
        velocity, los, model_file, tmp_path / "out", ScanSpec(threshold=0.0), period_yr=5.0
    )
    with rasterio.open(tmp_path / "out/probability.tif") as src:
        assert src.shape == (20, 24)
        assert np.isfinite(src.read(1)).all()
    assert len(flagged) == 1


def _assert_no_outputs(out_dir):
    assert not any((out_dir / name).exists() for name in OUTPUT_FILES)


def test_raster_without_crs(tmp_path, model_file):
    velocity, los = _map(tmp_path, 40, 40)
    profile = {"driver": "GTiff", "height": 40, "width": 40, "count": 1, "dtype": "float32"}
    with rasterio.open(velocity, "w", **profile) as dst:  # no CRS, no transform
        dst.write(np.ones((1, 40, 40), np.float32))
    with pytest.raises(ProductError, match=r"v\.tif: raster has no CRS"):
        scan_velocity_map(velocity, los, model_file, tmp_path / "out", ScanSpec(), period_yr=5.0)
    _assert_no_outputs(tmp_path / "out")


def test_los_elsewhere(tmp_path, model_file):
    velocity, _ = _map(tmp_path, 40, 40)
    grid = small_grid(40, 40)
    elsewhere = Grid(grid.crs, grid.transform @ Affine.translation(100, 0), grid.shape)
    los = np.moveaxis(los_unit_vector(np.full((40, 40), 39.0), -167.6), -1, 0)
    write_geotiff(tmp_path / "w_los.tif", los, elsewhere, ["east", "north", "up"])
    with pytest.raises(
        ProductError, match=r"w_los\.tif: LOS covers only 0\.0% of the valid pixels"
    ):
        scan_velocity_map(
            velocity,
            tmp_path / "w_los.tif",
            model_file,
            tmp_path / "out",
            ScanSpec(),
            period_yr=5.0,
        )
    _assert_no_outputs(tmp_path / "out")


def test_all_nan_input(tmp_path, model_file):
    velocity, los = _map(tmp_path, 40, 40)
    write_geotiff(velocity, np.full((40, 40), np.nan), small_grid(40, 40))
    with pytest.raises(ProductError, match="all NaN"):
        scan_velocity_map(velocity, los, model_file, tmp_path / "out", ScanSpec(), period_yr=5.0)
    _assert_no_outputs(tmp_path / "out")


def test_model_file_of_another_version_via_cli(tmp_path, capsys):
    velocity, los = _map(tmp_path, 40, 40)
    torch.save({"format": "volcdet-model/0", "state_dict": {}}, tmp_path / "old.pt")
    status = main(
        [
            "predict",
            str(velocity),
            "--los",
            str(los),
            "--model",
            str(tmp_path / "old.pt"),
            "--out",
            str(tmp_path / "out"),
            "--period-yr",
            "5",
        ]
    )
    assert status == 2
    assert (
        "old.pt: not a volcdet-model/1 model file (found volcdet-model/0)"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_torchscript_export_gives_the_same_probabilities(tmp_path, model_file):
    path = export_torchscript(model_file, tmp_path / "model.ts")
    traced = torch.jit.load(str(path))
    model, transform, _ = model_from_checkpoint(model_file)
    patches = torch.randn(5, WINDOW, WINDOW) * 25.0
    patches[0, :4, :4] = float("nan")
    with torch.no_grad():
        expected = torch.sigmoid(model(transform(patches)))
        np.testing.assert_allclose(traced(patches).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        # The exported module carries the referenced transform: a constant changes nothing.
        np.testing.assert_allclose(
            traced(patches + 9.3).numpy(), traced(patches).numpy(), rtol=0, atol=1e-4
        )
    extra = {"volcdet.json": ""}
    torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(extra["volcdet.json"])["patch_size_px"] == WINDOW


def test_shifting_the_map_by_a_constant_flags_the_same_windows(tmp_path, trained_model_file):
    """A map + 1, 2, 3 mm/yr (another reference point) flags the same windows."""
    from conftest import tiny_deformation_patches

    rows, cols = 160, 192
    grid = small_grid(rows, cols)
    patches, _ = tiny_deformation_patches(30, 32, seed=21)
    velocity = np.block([[patches[5 * r + c] for c in range(6)] for r in range(5)]) / 5.0
    los = np.moveaxis(los_unit_vector(np.full((rows, cols), 39.0), -167.6), -1, 0)
    write_geotiff(tmp_path / "los.tif", los, grid, ["east", "north", "up"])
    spec = ScanSpec(stride_px=16, threshold=0.0)
    flags = {}
    for shift in (0.0, 1.0, 2.0, 3.0):
        write_geotiff(tmp_path / f"v{shift:g}.tif", velocity + shift, grid)
        flagged = scan_velocity_map(
            tmp_path / f"v{shift:g}.tif",
            tmp_path / "los.tif",
            trained_model_file,
            tmp_path / f"out{shift:g}",
            spec,
            period_yr=5.0,
            units="mm/yr",
        )
        flags[shift] = flagged.set_index(["row0", "col0"]).probability
    n_windows = len(flags[0.0])
    threshold = float(flags[0.0].median())  # a threshold that splits the windows
    assert 0 < int((flags[0.0] >= threshold).sum()) < n_windows
    for shift in (1.0, 2.0, 3.0):
        pd.testing.assert_index_equal(flags[shift].index, flags[0.0].index)
        differ = ((flags[shift] >= threshold) != (flags[0.0] >= threshold)).sum()
        assert differ <= 0.02 * n_windows, (shift, differ)
        np.testing.assert_allclose(flags[shift].to_numpy(), flags[0.0].to_numpy(), atol=1e-4)
