"""Atmosphere fields per second on one core, 256 x 256 at 200 m, vs. a plain FFT floor.

For each range the atmosphere is drawn three ways: ``simulate_atmosphere`` with n = 1 per call
(no batching), with n = 64 per call (the simulation stage's batch: fields sharing a snapped
range are synthesised in one FFT call), and n = 64 from a realistic pass (20 fitted rows,
exponential and spherical, ranges 0.6-1.7 x the nominal one, +-20% jitter, so few fields share
a spectrum). The floor is one float32 rfft2 + irfft2 (scipy.fft) of a white-noise grid of the
same padded size, without drawing the noise: the least any circulant-embedding synthesis must
do; "floor+draw" adds drawing that grid's float32 normal deviates. BLAS/OpenMP pools are limited to one thread (threadpoolctl) and scipy.fft runs with
workers=1.

Run: .venv/bin/python benchmarks/bench_atmosphere.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.fft
from threadpoolctl import threadpool_limits

from volcdet.simulation.atmosphere import AtmosphereParameters, simulate_atmosphere
from volcdet.simulation.random_fields import _padded_shape

SHAPE = (256, 256)
PIXEL_M = 200.0
NOISE_MM = (4.6025, 0.1719)


def fields_per_second(fn: Callable[[], object], fields_per_call: int, seconds: float) -> float:
    """Best of a few timed rounds after one warm-up call (spectra cached)."""
    fn()
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        calls = 0
        while time.perf_counter() - start < seconds / 4:
            fn()
            calls += 1
        best = max(best, calls * fields_per_call / (time.perf_counter() - start))
    return best


def single_fit(range_m: float) -> AtmosphereParameters:
    fit = {"model": "exponential", "sill_mm2": 9.0, "range_m": range_m, "nugget_mm2": 0.5}
    return AtmosphereParameters("descending", NOISE_MM, [fit])


def realistic_pass(range_m: float, rng: np.random.Generator) -> AtmosphereParameters:
    fits = [
        {
            "model": str(rng.choice(["exponential", "spherical"])),
            "sill_mm2": float(rng.uniform(2.0, 20.0)),
            "range_m": float(range_m * rng.uniform(0.6, 1.7)),
            "nugget_mm2": float(rng.uniform(0.0, 1.0)),
        }
        for _ in range(20)
    ]
    return AtmosphereParameters("descending", NOISE_MM, fits)


def main(seconds: float = 2.0) -> None:
    rng = np.random.default_rng(0)
    header = (
        f"{'range':>6s} {'padded':>9s} {'n=1':>8s} {'n=64':>8s} {'n=64 mix':>9s}"
        f" {'floor':>8s} {'floor+draw':>10s}"
    )
    print("fields/s, one core, 256 x 256 at 200 m (floor: f32 rfft2 + irfft2 of the padded grid)")
    print(header)
    with threadpool_limits(1):
        for range_m in (3_000.0, 10_000.0, 30_000.0):
            one = single_fit(range_m)
            mix = realistic_pass(range_m, rng)
            padded = _padded_shape(SHAPE, range_m, PIXEL_M, 2.0)
            white = rng.standard_normal(padded, dtype=np.float32)
            floor = fields_per_second(
                lambda white=white, padded=padded: scipy.fft.irfft2(
                    scipy.fft.rfft2(white, workers=1), s=padded, workers=1
                ),
                1,
                seconds,
            )
            floor_draw = fields_per_second(
                lambda padded=padded: scipy.fft.irfft2(
                    scipy.fft.rfft2(rng.standard_normal(padded, dtype=np.float32), workers=1),
                    s=padded,
                    workers=1,
                ),
                1,
                seconds,
            )
            rates = [
                fields_per_second(
                    lambda p=p, n=n: simulate_atmosphere(p, n, SHAPE, PIXEL_M, rng), n, seconds
                )
                for p, n in ((one, 1), (one, 64), (mix, 64))
            ]
            print(
                f"{range_m / 1e3:4.0f}km {padded[0]:4d}x{padded[1]:<4d}"
                f" {rates[0]:8.1f} {rates[1]:8.1f} {rates[2]:9.1f} {floor:8.1f} {floor_draw:10.1f}"
            )


if __name__ == "__main__":
    main()
