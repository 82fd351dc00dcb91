"""predict on a 2,000 x 2,000 px EPSG:4326 map (reprojection included) vs the same field in UTM.

Model: timm resnet10t at the demo's 64 px input after 4 x 4 averaging (256 px windows at 200
m), untrained weights (only the speed matters). The geographic map is a LiCSBAS-style GeoTIFF at
0.002 deg (about 206 x 222 m at 22 S) with a NaN hole; the UTM map is the same field brought to
200 m in UTM 19S once beforehand, so it is scored without resampling. Stride 64, CPU, 2 threads.
Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_predict_products.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import torch
from affine import Affine

from volcdet.data.products import read_velocity
from volcdet.data.products.reproject import model_grid, product_on_grid
from volcdet.data.rasters import write_geotiff
from volcdet.inference.api import load_model, predict
from volcdet.inference.outputs import write_prediction
from volcdet.inference.spec import ScanSpec
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform
from volcdet.simulation.random_fields import gaussian_random_field

SIZE = 2000
POST_DEG = 0.002
REPEATS = 2


def _geographic_map(path: Path) -> None:
    rng = np.random.default_rng(0)
    velocity = gaussian_random_field((SIZE, SIZE), 200.0, "exponential", 1.0, 10_000.0, rng)
    velocity[300:500, 900:1300] = np.nan
    transform = Affine(POST_DEG, 0, -71.0, 0, -POST_DEG, -20.0)
    profile = {
        "driver": "GTiff",
        "height": SIZE,
        "width": SIZE,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": float("nan"),
        "compress": "deflate",
        "tiled": True,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(velocity.astype(np.float32)[None])
        dst.update_tags(units="mm/yr")


def _timed(label: str, func) -> object:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    print(f"{label:62s} " + "  ".join(f"{t:6.1f} s" for t in times))
    return result


def main() -> None:
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _geographic_map(tmp / "geo.tif")
        product = read_velocity(tmp / "geo.tif")
        utm = product_on_grid(product, model_grid(product.grid, 200.0))
        write_geotiff(tmp / "utm.tif", utm.velocity_mm_yr, utm.grid, units="mm/yr")
        print(
            f"EPSG:4326 map {SIZE} x {SIZE} px at {POST_DEG} deg -> "
            f"{utm.grid.crs.to_string()} {utm.grid.shape[0]} x {utm.grid.shape[1]} px at 200 m"
        )
        torch.manual_seed(0)
        spec = ModelSpec("resnet10t", input_size_px=64)
        save_atomic(
            build_checkpoint(
                VolcanoClassifier(spec).eval(),
                spec,
                InputTransform(downsample=4, pixel_size_m=200.0),
                {},
                0,
                0.0,
            ),
            tmp / "model.pt",
        )
        model = load_model(tmp / "model.pt")
        scan = ScanSpec(stride_px=64, device="cpu")

        def reproject_only():
            source = read_velocity(tmp / "geo.tif")
            return product_on_grid(source, model_grid(source.grid, 200.0))

        def run(name: str) -> None:
            prediction = predict(tmp / name, model, period_yr=5.0, spec=scan)
            write_prediction(prediction, tmp / f"out_{name}")
            return prediction

        _timed("read + reproject EPSG:4326 -> UTM 200 m (NaN-aware average)", reproject_only)
        geo = _timed(
            "predict EPSG:4326 map (read, reproject, score, write all)", lambda: run("geo.tif")
        )
        flat = _timed("predict UTM map (read, score, write all)", lambda: run("utm.tif"))
        print(f"windows scored: EPSG:4326 {geo.n_windows}, UTM {flat.n_windows}")
        same = np.allclose(
            geo.probability_model_grid.to_numpy(),
            flat.probability_model_grid.to_numpy(),
            atol=1e-5,
            equal_nan=True,
        )
        print(f"same probability map on the model grid (1e-5): {same}")


if __name__ == "__main__":
    main()
