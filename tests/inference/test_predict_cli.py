"""``volcdet predict`` as a user runs it: several inputs, run summary, all-or-nothing outputs,
--overwrite, --compare, and a one-line error (exit 2) for every bad input, checked before torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from affine import Affine
from conftest import REPO, UTM19S
from product_fixtures import geo_field, write_licsbas_cum, write_licsbas_geotiff

from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.cli import main
from volcdet.inference.outputs import OUTPUT_FILES
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

DATES = [20150105, 20160110, 20180320, 20200101]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A model, two maps (a LiCSBAS cum.h5 and a UTM GeoTIFF), a catalogue and a tracks table."""
    root = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=32, hidden_units=8, dropout=0.0)
    save_atomic(
        build_checkpoint(
            VolcanoClassifier(spec).eval(), spec, InputTransform(pixel_size_m=200.0), {}, 1, 0.1
        ),
        root / "model.pt",
    )
    write_licsbas_cum(root / "T1/cum.h5", geo_field(), DATES)
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (70, 80))
    velocity = np.random.default_rng(0).normal(0, 3, grid.shape)
    write_geotiff(root / "utm.tif", velocity, grid, units="mm/yr")
    pd.DataFrame({"name": ["A"], "lon": [-68.6], "lat": [-22.5]}).to_csv(
        root / "volcanoes.csv", index=False
    )
    pd.DataFrame(
        {
            "track_id": ["D1"],
            "velocity": ["utm.tif"],
            "start": ["2016-01-01"],
            "end": ["2021-01-01"],
        }
    ).to_csv(root / "tracks.csv", index=False)
    return root


def _args(ws, out, *extra):
    return [
        "predict",
        str(ws / "T1/cum.h5"),
        "--model",
        str(ws / "model.pt"),
        "--out",
        str(out),
        "--catalogue",
        str(ws / "volcanoes.csv"),
        "--stride",
        "16",
        *extra,
    ]


def test_several_inputs_one_folder_each_and_a_summary(workspace, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(
        _args(workspace, out, "--tracks", str(workspace / "tracks.csv"), "--threshold", "0")
    )
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        ".volcdet-written.json",
        "D1",
        "cum",
        "run_summary.json",
    ]
    for name in ("cum", "D1"):
        assert sorted(p.name for p in (out / name).iterdir()) == sorted(OUTPUT_FILES)
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["format"] == "volcdet-run/1" and summary["threshold"] == 0.0
    assert summary["model"]["id"].startswith("sha256:")
    entries = {e["name"]: e for e in summary["inputs"]}
    assert entries["cum"]["kind"] == "licsbas-cum" and entries["cum"]["period_yr"] == pytest.approx(
        1822 / 365.25
    )
    assert entries["D1"]["period_yr"] == pytest.approx(1827 / 365.25)  # from tracks.csv start/end
    assert (
        entries["cum"]["model_crs"] == "EPSG:32719" and entries["cum"]["input_crs"] == "EPSG:4326"
    )
    assert summary["flagged"] == sum(e["flagged"] for e in summary["inputs"]) > 0
    assert summary["run_time_s"] > 0
    flags = pd.read_csv(out / "cum/flagged.csv")
    assert (flags.model_id == summary["model"]["id"]).all() and (flags.input == "cum").all()


def test_existing_output_needs_overwrite(workspace, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(workspace, out)) == 0
    first = (out / "run_summary.json").read_text()
    assert main(_args(workspace, out)) == 2
    assert "run: output folder exists; use --overwrite to replace it" in capsys.readouterr().err
    assert main(_args(workspace, out, "--overwrite")) == 0
    assert (out / "run_summary.json").read_text() != first  # replaced (another run time)


def test_a_failing_input_leaves_no_half_run(workspace, tmp_path, capsys):
    bad = geo_field().velocity_mm_yr.copy()
    bad[1, 1] = np.inf
    write_licsbas_geotiff(tmp_path / "bad.tif", geo_field(), bad)
    out = tmp_path / "run"
    status = main(_args(workspace, out, str(tmp_path / "bad.tif"), "--period-yr", "5"))
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert (
        err
        == f"volcdet: error: {tmp_path / 'bad.tif'}: velocity holds +-inf at 1 pixel(s); mark missing values as NaN (or the raster's nodata value)"
    )
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.tif"]  # no staging folder left


def test_compare_lists_new_flags_and_exits_3(workspace, tmp_path, capsys):
    first, second, third = tmp_path / "r1", tmp_path / "r2", tmp_path / "r3"
    assert main(_args(workspace, first, "--threshold", "1.0")) == 0  # nothing flagged
    assert main(_args(workspace, second, "--threshold", "0", "--compare", str(first))) == 3
    printed = capsys.readouterr().out
    new = pd.read_csv(second / "new_flags.csv")
    assert len(new) > 0 and f"{len(new)} flag(s) new since" in printed
    assert json.loads((second / "run_summary.json").read_text())["new_flags"] == len(new)
    assert main(_args(workspace, third, "--threshold", "0", "--compare", str(second))) == 0
    assert pd.read_csv(third / "new_flags.csv").empty


def _cli(args, cwd):
    """Run the CLI in a fresh interpreter; report whether torch / rasterio got imported."""
    code = (
        "import sys; from volcdet.inference.cli import main; rc = main(sys.argv[1:]); "
        "print('HEAVY', sorted(m for m in ('torch', 'rasterio', 'h5py') if m in sys.modules)); "
        "sys.exit(rc)"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


BAD_ARGUMENTS = [
    (["missing.tif"], "missing.tif: file not found (input)"),
    (["--model", "nomodel.pt"], "nomodel.pt: file not found (--model)"),
    (["--out", "afile.txt"], "afile.txt: --out is a file, not a folder"),
    (["--out", "afile.txt/sub"], "afile.txt/sub: --out is not writable"),
    (["--out", "existing"], "existing: output folder exists; use --overwrite to replace it"),
    (["--stride", "0"], "--stride: must be a whole number of pixels >= 1, got 0"),
    (["--stride=-64"], "--stride: must be a whole number of pixels >= 1, got -64"),
    (["--batch-size", "0"], "--batch-size: must be a whole number >= 1, got 0"),
    (
        ["--period-yr", "0"],
        "argument --period-yr: must be a positive, finite number of years, got 0",
    ),
    (
        ["--period-yr=-2"],
        "argument --period-yr: must be a positive, finite number of years, got -2",
    ),
    (
        ["--period-yr", "inf"],
        "argument --period-yr: must be a positive, finite number of years, got inf",
    ),
    (
        ["--period-yr", "nan"],
        "argument --period-yr: must be a positive, finite number of years, got nan",
    ),
    (["--max-missing", "1.5"], "--max-missing: must be a fraction in [0, 1], got 1.5"),
    (["--threshold", "2"], "--threshold: must be a probability in [0, 1], got 2.0"),
    (["--catalogue", "nolonlat.csv"], "nolonlat.csv: --catalogue lacks column(s) lon, lat"),
    (["--units", "km/yr"], "argument --units: invalid choice: 'km/yr'"),
    (["--los", "los1.tif", "--los", "los2.tif"], "--los: given 2 time(s) for 1 input(s)"),
    (["--compare", "existing"], "existing: --compare is not a volcdet predict run"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_ARGUMENTS, ids=[m for _, m in BAD_ARGUMENTS])
def test_bad_arguments_fail_in_one_line_before_torch(workspace, tmp_path, extra, message):
    (tmp_path / "afile.txt").write_text("x")
    (tmp_path / "existing").mkdir()
    (tmp_path / "los1.tif").write_text("x")
    (tmp_path / "los2.tif").write_text("x")
    pd.DataFrame({"name": ["A"], "latitude": [1.0]}).to_csv(tmp_path / "nolonlat.csv", index=False)
    args = [
        "predict",
        str(workspace / "T1/cum.h5"),
        "--model",
        str(workspace / "model.pt"),
        "--out",
        "new",
    ]
    # Later options override earlier ones; a positional replaces the input.
    if extra[0].endswith(".tif") and not extra[0].startswith("-"):
        args[1] = extra[0]
        extra = extra[1:]
    result = _cli(args + extra, tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("volcdet: error: ") and message in lines[0], (
        lines
    )
    assert "HEAVY []" in result.stdout  # answered before torch, rasterio or h5py were imported
    assert not (tmp_path / "new").exists()


def test_cli_module_imports_nothing_heavy():
    code = "import sys, volcdet.inference.cli; print(sorted(m for m in ('torch', 'rasterio', 'pandas', 'numpy', 'h5py') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src")},
    )
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((20, 20), np.int16), "bad.tif: raster is stored as int16, not floating point"),
        (
            geo_field().velocity_mm_yr / 1000.0,
            "bad.tif: no velocity unit in the file and 99% of |v| are below",
        ),
    ],
    ids=["int16", "m/yr"],
)
def test_bad_maps_fail_in_one_line(tmp_path, workspace, capsys, values, message):
    write_licsbas_geotiff(tmp_path / "bad.tif", geo_field(), values)
    status = main(
        [
            "predict",
            str(tmp_path / "bad.tif"),
            "--model",
            str(workspace / "model.pt"),
            "--out",
            str(tmp_path / "o"),
            "--period-yr",
            "5",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()


def test_plain_geotiff_needs_a_period(tmp_path, workspace, capsys):
    write_licsbas_geotiff(tmp_path / "v.tif", geo_field())
    status = main(
        [
            "predict",
            str(tmp_path / "v.tif"),
            "--model",
            str(workspace / "model.pt"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert status == 2
    assert (
        "v.tif: the file records no stack dates; give the stack period with --period-yr"
        in capsys.readouterr().err
    )


def test_no_input_and_bad_tracks_tables(workspace, tmp_path, capsys):
    base = ["predict", "--model", str(workspace / "model.pt"), "--out", str(tmp_path / "o")]
    assert main(base) == 2
    assert "predict: give at least one input map or --tracks" in capsys.readouterr().err
    pd.DataFrame({"track_id": ["T1"], "vel": ["utm.tif"]}).to_csv(tmp_path / "t.csv", index=False)
    assert main([*base, "--tracks", str(tmp_path / "t.csv")]) == 2
    assert "t.csv: --tracks table lacks column(s) velocity" in capsys.readouterr().err
    pd.DataFrame({"track_id": ["../up"], "velocity": ["x.tif"]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    assert main([*base, "--tracks", str(tmp_path / "t.csv")]) == 2
    assert "track_id '../up' may only hold letters, digits, _ and -" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_los_that_is_not_unit_vectors(workspace, tmp_path, capsys):
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (70, 80))
    write_geotiff(tmp_path / "los.tif", np.full((3, 70, 80), 0.5), grid)
    status = main(
        [
            "predict",
            str(workspace / "utm.tif"),
            "--los",
            str(tmp_path / "los.tif"),
            "--period-yr",
            "5",
            "--model",
            str(workspace / "model.pt"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert status == 2
    assert "los.tif: LOS components are not unit vectors" in capsys.readouterr().err
