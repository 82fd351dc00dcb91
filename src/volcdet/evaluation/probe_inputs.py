"""The shortcut probes' own inputs: atmosphere-only negatives and the perturbations of real maps.

Everything here is drawn from its own seed streams and written without the simulator's code (the
architecture test forbids the import): the negatives' atmosphere is a Kolmogorov power-law field
(P(k) ~ k^-8/3, Hanssen 2001 sect. 4.7; wavelengths over 50 km removed as in SyInterferoPy's FFT
method, physics notes 1.1), not the simulator's variogram-fitted covariance fields, and the
ramps, holes, plateaus, stratified delay, clips and coasts are separate implementations, so a
model cannot pass a probe because the probe reproduces its training noise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Turbulence spectrum exponent (2-D Kolmogorov, Hanssen 2001) and the longest kept wavelength.
TURBULENCE_BETA = 8.0 / 3.0
LONGEST_WAVELENGTH_M = 50_000.0
OFFSETS_FRINGE = tuple(k / 8 for k in range(8))
RAMPS_FRINGE = (0.5, 1.0)
STRATIFIED_MM_PER_KM = (5.0, 10.0)
HOLE_FRACTIONS = (0.05, 0.20)
PLATEAUS_MM = (5.0, 15.0, 40.0)
#: Side (km) of the square clips around the window centre: maps smaller than a window.
CLIP_SIDES_KM = (16.0, 30.0)
#: Sea share of the coast probes (the window centre stays on land).
COAST_FRACTIONS = (0.5, 0.8)

Perturbation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def turbulence_mm(
    size_px: int,
    pixel_size_m: float,
    rng: np.random.Generator,
    level_mm: float,
    statistic: str,
) -> np.ndarray:
    """A Kolmogorov power-law field (float32 mm, zero mean) scaled to ``level_mm`` as its peak
    |value| (``statistic`` "peak") or standard deviation ("std").

    Synthesised on a grid of twice the size and cropped, so it is not periodic over the patch.
    """
    n = 2 * size_px
    freq = np.fft.fftfreq(n, d=pixel_size_m)
    k = np.hypot(freq[:, None], freq[None, :])
    with np.errstate(divide="ignore"):
        amplitude = np.where(k >= 1.0 / LONGEST_WAVELENGTH_M, k ** (-TURBULENCE_BETA / 2), 0.0)
    white = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    field = np.fft.ifft2(white * amplitude).real[:size_px, :size_px]
    field -= field.mean()
    current = np.abs(field).max() if statistic == "peak" else field.std()
    return (field * (level_mm / max(current, 1e-12))).astype(np.float32)


def planar_ramp_mm(size_px: int, rng: np.random.Generator, peak_to_peak_mm: float) -> np.ndarray:
    """A plane in a random direction whose values span ``peak_to_peak_mm`` across the patch."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    angle = rng.uniform(0.0, 2.0 * np.pi)
    plane = np.cos(angle) * x + np.sin(angle) * y
    plane = (plane - plane.min()) / max(np.ptp(plane), 1e-12)
    return (peak_to_peak_mm * (plane - 0.5)).astype(np.float32)


def blob_holes(size_px: int, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """A mask with about ``fraction`` of the pixels missing, in random elliptical blobs."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    mask = np.zeros((size_px, size_px), bool)
    while mask.mean() < fraction:
        cy, cx = rng.uniform(0, size_px, 2)
        ry, rx = rng.uniform(0.02, 0.12, 2) * size_px
        angle = rng.uniform(0, np.pi)
        u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
        v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        mask |= (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    return mask


def plateau_mask(size_px: int, rng: np.random.Generator) -> np.ndarray:
    """A salt-lake-like flat basin: an irregular star-shaped polygon with sharp edges covering
    about 5-25% of the patch (salars fill flat basins with edges that follow their outline,
    physics notes 5.2)."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    cy, cx = rng.uniform(0.3, 0.7, 2) * size_px
    mean_radius = np.sqrt(rng.uniform(0.05, 0.25) * size_px**2 / np.pi)
    harmonics = rng.normal(0.0, 0.15, (4, 2))
    theta = np.arctan2(y - cy, x - cx)
    radius = mean_radius * (
        1.0
        + sum(
            a * np.cos((m + 2) * theta) + b * np.sin((m + 2) * theta)
            for m, (a, b) in enumerate(harmonics)
        )
    )
    return np.hypot(y - cy, x - cx) <= radius


def dem_cutout_m(dem_m: np.ndarray, size_px: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of the DEM (m), NaN set to the window's median."""
    r0 = int(rng.integers(dem_m.shape[0] - size_px + 1))
    c0 = int(rng.integers(dem_m.shape[1] - size_px + 1))
    window = np.asarray(dem_m[r0 : r0 + size_px, c0 : c0 + size_px], np.float64)
    return np.where(np.isfinite(window), window, np.nanmedian(window))


def centred_clip(size_px: int, pixel_size_m: float, side_km: float) -> np.ndarray:
    """Missing outside a square of ``side_km`` centred in the window: a small map as the scan
    places it (``volcdet.inference.scan``)."""
    side = min(size_px, max(1, int(side_km * 1000.0 / pixel_size_m + 0.5)))
    start = (size_px - side) // 2
    mask = np.ones((size_px, size_px), bool)
    mask[start : start + side, start : start + side] = False
    return mask


def coast(size_px: int, rng: np.random.Generator, sea_fraction: float) -> np.ndarray:
    """Missing at sea with ``sea_fraction`` of the window at sea and the centre on land: up to
    half at sea, beyond a wavy coastline in a random direction through the window; more, around
    an island centred in the window with a wavy shore. The waves are sums of sinusoids with
    random phases and amplitudes falling as 1 / wavenumber."""
    axis = np.arange(size_px, dtype=np.float64) - (size_px - 1) / 2.0
    y, x = np.meshgrid(axis, axis, indexing="ij")
    if sea_fraction <= 0.5:
        angle = rng.uniform(0.0, 2.0 * np.pi)
        across = np.cos(angle) * x + np.sin(angle) * y
        along = -np.sin(angle) * x + np.cos(angle) * y
        wave = sum(
            (size_px / (16.0 * k))
            * np.sin(2.0 * np.pi * k * along / size_px + rng.uniform(0, 2 * np.pi))
            for k in range(1, 9)
        )
        distance = across + wave
    else:
        theta = np.arctan2(y, x)
        radius = np.hypot(y, x)
        wave = sum((0.15 / k) * np.sin(k * theta + rng.uniform(0, 2 * np.pi)) for k in range(2, 9))
        distance = radius * (1.0 + wave)
    level = np.quantile(distance, 1.0 - sea_fraction)
    centre = distance[size_px // 2, size_px // 2]
    # Move the coastline just past the centre if the waves left it at sea.
    return distance > max(level, centre + 1.0)


def make_offset(mm: float) -> Perturbation:
    return lambda patch, rng: patch + np.float32(mm)


def make_ramp(size: int, mm: float) -> Perturbation:
    return lambda patch, rng: patch + planar_ramp_mm(size, rng, mm)


def make_stratified(dem_m: np.ndarray, size: int, k_mm_per_km: float) -> Perturbation:
    def perturb(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h = dem_cutout_m(dem_m, size, rng)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return patch + (sign * k_mm_per_km * (h - np.median(h)) / 1000.0).astype(np.float32)

    return perturb


def make_holes(size: int, fraction: float) -> Perturbation:
    return lambda patch, rng: np.where(blob_holes(size, rng, fraction), np.nan, patch)


def make_plateau(size: int, mm: float) -> Perturbation:
    def perturb(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return patch + np.where(plateau_mask(size, rng), np.float32(sign * mm), np.float32(0))

    return perturb


def make_clip(size: int, pixel_size_m: float, side_km: float) -> Perturbation:
    mask = centred_clip(size, pixel_size_m, side_km)
    return lambda patch, rng: np.where(mask, np.nan, patch)


def make_coast(size: int, fraction: float) -> Perturbation:
    return lambda patch, rng: np.where(coast(size, rng, fraction), np.nan, patch)
