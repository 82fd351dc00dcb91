"""Atmosphere fields per second on one core, 256 x 256 at 200 m, vs. a plain FFT floor (issue 3).

The floor is one float32 rfft2 + irfft2 (scipy.fft) of a white-noise grid of the same padded
size: the least any spectral synthesis must do, without drawing the noise. Run: .venv/bin/python benchmarks/bench_atmosphere.py
"""

from __future__ import annotations

import time

import numpy as np
import scipy.fft
from threadpoolctl import threadpool_limits

from volcdet.atmosphere import AtmosphereParameters, simulate_atmosphere
from volcdet.random_fields import _padded_shape


def rate(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return repeats / (time.perf_counter() - start)


def main() -> None:
    shape, pixel = (256, 256), 200.0
    rng = np.random.default_rng(0)
    print(f"{'case':44s} {'fields/s':>9s}")
    with threadpool_limits(1):
        for range_m in (3_000.0, 10_000.0, 30_000.0):
            params = AtmosphereParameters(
                "descending",
                (4.6025, 0.1719),
                [{"model": "exponential", "sill_mm2": 9.0, "range_m": range_m, "nugget_mm2": 0.5}],
            )
            padded = _padded_shape(shape, range_m * 1.2, pixel, 2.0)
            white = rng.standard_normal(padded, dtype=np.float32)
            floor = rate(
                lambda white=white, padded=padded: scipy.fft.irfft2(
                    scipy.fft.rfft2(white), s=padded
                ),
                30,
            )
            full = rate(lambda params=params: simulate_atmosphere(params, 1, shape, pixel, rng), 30)
            print(
                f"{f'exponential, range {range_m / 1000:.0f} km, padded {padded[0]}x{padded[1]}':44s} {full:9.1f}"
            )
            print(f"{'  plain FFT floor (f32 rfft2 + irfft2, same grid)':44s} {floor:9.1f}")


if __name__ == "__main__":
    main()
