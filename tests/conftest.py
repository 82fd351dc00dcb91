"""Shared fixtures: small GeoTIFF regions written with rasterio in a temp dir."""

from __future__ import annotations

import json
import subprocess
import sys
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


def snakemake(workdir: Path, *args: str, timeout_s: int = 900) -> subprocess.CompletedProcess:
    """The real Snakemake on this repo's Snakefile in ``workdir`` with its config.yaml, 2 cores."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        "2",
        "--workflow-profile",
        "none",
        *args,
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout_s)


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


def tiny_deformation_patches(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Half the patches hold a Gaussian uplift of 1.5-4 fringes, all carry smooth noise and holes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    patches = rng.normal(0, 2.0, (n, size, size)).astype(np.float32)
    labels = np.arange(n) % 2
    for i in range(n):
        tilt = rng.normal(0, 0.1, 2)
        patches[i] += tilt[0] * yy + tilt[1] * xx
        if labels[i]:
            cy, cx = rng.uniform(0.3 * size, 0.7 * size, 2)
            amplitude = rng.uniform(40.0, 110.0)
            patches[i] += amplitude * np.exp(
                -((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (size / 8) ** 2)
            )
        patches[i][rng.random((size, size)) < 0.01] = np.nan
    return patches, labels


@pytest.fixture(scope="session")
def trained_model_file(tmp_path_factory) -> Path:
    """A small classifier trained for a few seconds (test_resnet, 64 px, referenced input)."""
    from volcdet.data.stores import write_store
    from volcdet.learning.model import ModelSpec
    from volcdet.learning.training import TrainConfig, fit
    from volcdet.learning.transforms import InputTransform

    folder = tmp_path_factory.mktemp("trained")
    patches, labels = tiny_deformation_patches(192, 64, seed=11)
    write_store(folder / "s.npy", folder / "s.parquet", patches, pd.DataFrame({"label": labels}))
    fit(
        [(folder / "s.npy", folder / "s.parquet")],
        ModelSpec(backbone="test_resnet", input_size_px=64, hidden_units=16, dropout=0.1),
        InputTransform(channels=3, pixel_size_m=200.0),
        TrainConfig(max_epochs=4, batch_size=16, learning_rate=3e-3, seed=5, device="cpu"),
        folder / "run",
    )
    return folder / "run/best.pt"
