"""Scanning a 2,000 x 2,000 px velocity map on the CPU: windows of 256 px at stride 64.

Uses the demo's fine-tuned model if `make demo` has run (resnet10t, 128 px input after 2 x 2
averaging) and an inception_resnet_v2 with the paper's 256 px input (weights untrained: only the
speed matters here). Run: .venv/bin/python benchmarks/bench_scan.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.runs import scan_velocity_map
from volcdet.inference.spec import ScanSpec
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform
from volcdet.simulation.random_fields import gaussian_random_field

SIZE = 2000
DEMO_MODEL = Path("results/finetune/FT4/last/model.pt")


def main() -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grid = Grid(
            CRS.from_epsg(32719), Affine(200.0, 0, 400_000.0, 0, -200.0, 7_600_000.0), (SIZE, SIZE)
        )
        rng = np.random.default_rng(0)
        velocity = gaussian_random_field((SIZE, SIZE), 200.0, "exponential", 1.0, 10_000.0, rng)
        velocity[300:500, 900:1300] = np.nan
        write_geotiff(tmp / "v.tif", velocity, grid)
        write_geotiff(
            tmp / "los.tif",
            np.moveaxis(los_unit_vector(np.full((SIZE, SIZE), 39.0), -167.6), -1, 0),
            grid,
        )
        models = []
        if DEMO_MODEL.is_file():
            models.append(("demo FT4_last (resnet10t, 128 px input)", DEMO_MODEL))
        spec = ModelSpec("inception_resnet_v2", input_size_px=256)
        save_atomic(
            build_checkpoint(
                VolcanoClassifier(spec).eval(), spec, InputTransform(pixel_size_m=200.0), {}, 0, 0.0
            ),
            tmp / "irv2.pt",
        )
        models.append(("inception_resnet_v2, 256 px input", tmp / "irv2.pt"))
        for name, path in models:
            start = time.perf_counter()
            scan_velocity_map(
                tmp / "v.tif",
                tmp / "los.tif",
                path,
                tmp / "out",
                ScanSpec(stride_px=64, device="cpu"),
                period_yr=5.0,
                units="mm/yr",
            )
            print(
                f"{name:45s} {SIZE} x {SIZE} px, stride 64 (841 windows): {time.perf_counter() - start:6.1f} s"
            )


if __name__ == "__main__":
    main()
