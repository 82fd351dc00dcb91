"""``volcdet region import --overwrite`` replaces only a region folder volcdet imported, and
never one that holds an input or anything else (docs/reliability.md)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from conftest import UTM19S

from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.cli import main

MARKER = ".volcdet-written.json"
ROI = {
    "type": "Polygon",
    "coordinates": [
        [[-68.95, -22.75], [-68.8, -22.75], [-68.8, -22.6], [-68.95, -22.6], [-68.95, -22.75]]
    ],
}


def _inputs(folder):
    """One UTM track (velocity, LOS, two interferograms), a catalogue and an ROI in ``folder``."""
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (60, 70))
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    write_geotiff(folder / "v.tif", rng.normal(0, 2, grid.shape), grid, units="mm/yr")
    los = np.moveaxis(los_unit_vector(np.full(grid.shape, 38.0), -12.4), -1, 0)
    write_geotiff(folder / "los.tif", los, grid)
    for pair in ("20170105_20170117", "20180105_20180117"):
        write_geotiff(folder / f"ifg_{pair}.tif", rng.normal(0, 3, grid.shape), grid)
    pd.DataFrame({"name": ["V1"], "lon": [-68.9], "lat": [-22.7]}).to_csv(
        folder / "volcanoes.csv", index=False
    )
    (folder / "roi.geojson").write_text(json.dumps(ROI))


def _args(source, out, *extra):
    track = (
        f"T1={source / 'v.tif'},los={source / 'los.tif'},ifgs={source}/ifg_*.tif,ifg_units=mm,"
        "start=2016-01-01,end=2021-01-01"
    )
    return [
        "region",
        "import",
        str(out),
        "--track",
        track,
        "--volcanoes",
        str(source / "volcanoes.csv"),
        "--roi",
        str(source / "roi.geojson"),
        *extra,
    ]


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _error(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volcdet: error: "), lines
    return lines[0]


def test_overwrite_never_deletes_the_inputs_or_a_thesis(tmp_path, capsys):
    folder = tmp_path / "D"
    _inputs(folder)
    (folder / "thesis.tex").write_text("\\chapter{Lazufre}")
    before = _files(folder)
    assert main(_args(folder, folder, "--overwrite")) == 2
    assert f"{folder}: region folder holds an input of this run (" in _error(capsys)
    assert _files(folder) == before


def test_overwrite_refuses_a_folder_volcdet_did_not_import(tmp_path, capsys):
    _inputs(tmp_path / "in")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("\\chapter{Uturuncu}")
    assert main(_args(tmp_path / "in", mine, "--overwrite")) == 2
    assert _error(capsys) == (
        f"volcdet: error: {mine}: region folder exists and volcdet did not write it (no "
        f"{MARKER}), so --overwrite will not replace it; move it away or name a new folder"
    )
    assert (mine / "thesis.tex").read_text() == "\\chapter{Uturuncu}"


def test_overwrite_replaces_an_imported_region_until_something_is_added(tmp_path, capsys):
    _inputs(tmp_path / "in")
    region = tmp_path / "region"
    assert main(_args(tmp_path / "in", region)) == 0
    assert MARKER in _files(region) and (region / "tracks.csv").is_file()
    assert main(_args(tmp_path / "in", region)) == 2
    assert "output folder exists; use --overwrite to replace it" in _error(capsys)
    assert main(_args(tmp_path / "in", region, "--overwrite")) == 0
    shutil.copy(tmp_path / "in/v.tif", region / "dem.tif")
    assert main(_args(tmp_path / "in", region, "--overwrite")) == 2
    assert "it holds dem.tif, which volcdet did not write" in _error(capsys)
    assert (region / "dem.tif").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "region"]  # no staging left


@pytest.mark.parametrize("out", [".", ".."])
def test_the_current_folder_or_one_above_is_refused(tmp_path, capsys, monkeypatch, out):
    _inputs(tmp_path / "in")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _files(tmp_path)
    assert main(_args(tmp_path / "in", out, "--overwrite")) == 2
    assert f"{out}: region folder is the current folder or a folder above it" in _error(capsys)
    assert _files(tmp_path) == before
