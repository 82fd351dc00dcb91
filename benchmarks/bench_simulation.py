"""Simulation throughput: one CDM on a 256 x 256 patch, and full samples per second
(library field + symmetry + LOS projection + atmosphere + float16 store), without and with the
realistic noise (ramps, stratified delay on a 1024 x 1024 DEM, speckle, holes from
a bank of 80 masks of ~1.4% missing each, like the demo's background tiles), with the projected
single-core time of the paper's scale (23,631 sources, 7 x 47,262 samples).

Run: .venv/bin/python benchmarks/bench_simulation.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from volcdet.simulation.atmosphere import AtmosphereParameters
from volcdet.simulation.noise import NoiseSpec, RegionNoiseInputs
from volcdet.simulation.random_fields import power_law_field
from volcdet.simulation.simulate import SimulationSpec, simulate_los_set
from volcdet.simulation.source_library import SourceLibrary, build_source_library

N_SOURCES, N_SAMPLES = 24, 512
PAPER_SOURCES, PAPER_SAMPLES = 23_631, 7 * 47_262


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        tmp = Path(tmp)
        args = (N_SOURCES, 0, 1, 256, 200.0, 0.25, (2000.0, 12000.0))
        start = time.perf_counter()
        build_source_library(*args, tmp / "exact.npy", tmp / "exact.parquet", step_px=1)
        exact = (time.perf_counter() - start) / N_SOURCES
        start = time.perf_counter()
        build_source_library(*args, tmp / "lib.npy", tmp / "lib.parquet", step_px=4)
        per_source = (time.perf_counter() - start) / N_SOURCES
        library = SourceLibrary([tmp / "lib.npy"], [tmp / "lib.parquet"])
        los = {
            "los_set": 0,
            "track_id": "D1",
            "pass": "descending",
            "los_east": 0.6,
            "los_north": -0.13,
            "los_up": 0.79,
        }
        atmosphere = AtmosphereParameters(
            "descending",
            (4.6025, 0.1719),
            [{"model": "exponential", "sill_mm2": 25.0, "range_m": 9000.0, "nugget_mm2": 1.0}],
        )
        rng = np.random.default_rng(0)
        holes = power_law_field((80 * 256, 256), rng, 3.0).reshape(80, 256, 256)
        inputs = RegionNoiseInputs(
            mask_bank=holes > np.quantile(holes, 1 - 0.014),
            dem_m=4000.0 + power_law_field((1024, 1024), rng, 3.4, 200.0, 600.0),
        )
        timings = {}
        for name, noise in (("off", NoiseSpec.off()), ("on", NoiseSpec())):
            start = time.perf_counter()
            simulate_los_set(
                los,
                library,
                atmosphere,
                SimulationSpec(
                    samples=N_SAMPLES,
                    pixel_size_m=200.0,
                    min_amplitude_mm=6.0,
                    seed=1,
                    noise=noise,
                ),
                tmp / f"set_{name}.npy",
                tmp / f"set_{name}.parquet",
                inputs,
            )
            timings[name] = (time.perf_counter() - start) / N_SAMPLES
        print(f"mask bank: {100 * inputs.mask_bank.mean():.2f}% missing on average")
        per_sample = timings["on"]
    library_h = PAPER_SOURCES * per_source / 3600
    sets_h = PAPER_SAMPLES * per_sample / 3600
    print(f"CDM source field, every pixel:      {exact:.3f} s ({1 / exact:.1f} sources/s)")
    print(
        f"CDM on an 800 m grid + splines:     {per_source:.3f} s ({1 / per_source:.1f} sources/s)"
    )
    for name, seconds in timings.items():
        print(
            f"full simulated sample, noise {name + ':':4s}  {1000 * seconds:.1f} ms "
            f"({1 / seconds:.0f} samples/s)"
        )
    print(
        f"paper scale on one core: library {library_h:.1f} h + 7 sets {sets_h:.1f} h = {library_h + sets_h:.1f} h"
    )
    print(
        f"  as jobs: 5 library chunks of 5,000 sources ~ {5000 * per_source / 60:.1f} min each, "
        f"7 set jobs ~ {47_262 * per_sample / 60:.0f} min each"
    )


if __name__ == "__main__":
    main()
