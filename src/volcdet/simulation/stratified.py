"""Stratified tropospheric delay that follows topography, on the region's own DEM.

The paper assumed weather-model corrections remove the stratified delay; its own conclusion and
Grad-CAM trace false positives to "slope-induced signal", and the follow-up work simulates it on
the topography. A velocity map keeps a residual proportional to elevation, v = k (h - h_ref)
(physics notes 5.1: k ~ N(0, ~1 mm/yr per km) after ERA5 correction and 5-year averaging;
Parker et al. 2015, RSE 170:102, and Fattahi & Amelung 2015, JGR 120, for its size), which over
a ~5-year stack is a cumulative k ~ N(0, 5 mm per km). Volcanoes are topographic highs, so the
term draws cone-shaped "uplift" or "subsidence" on every edifice. Each simulated sample gets the
delay on a random cut-out of the region's ``dem.tif`` (patch size, same pixel size), with
h_ref the cut-out's median and k drawn per sample from N(0, ``coefficient_mm_per_km``).
"""

from __future__ import annotations

import numpy as np


def random_dem_cutout(dem_m: np.ndarray, size_px: int, rng: np.random.Generator) -> np.ndarray:
    """A random size_px x size_px window of a DEM (m), NaN filled with the window's median."""
    rows, cols = dem_m.shape
    if rows < size_px or cols < size_px:
        raise ValueError(f"DEM of {rows} x {cols} px is smaller than a {size_px}-px patch")
    r0 = int(rng.integers(rows - size_px + 1))
    c0 = int(rng.integers(cols - size_px + 1))
    window = np.asarray(dem_m[r0 : r0 + size_px, c0 : c0 + size_px], np.float64)
    finite = np.isfinite(window)
    fill = float(np.median(window[finite])) if finite.any() else 0.0
    return np.where(finite, window, fill)


def stratified_delay_mm(dem_m: np.ndarray, coefficient_mm_per_km: float) -> np.ndarray:
    """k (h - median h) in mm for a DEM cut-out in m and k in mm per km of elevation."""
    dem = np.asarray(dem_m, np.float64)
    return (coefficient_mm_per_km * (dem - np.median(dem)) / 1000.0).astype(np.float32)


def draw_stratified_delay(
    dem_m: np.ndarray, size_px: int, rng: np.random.Generator, coefficient_std_mm_per_km: float
) -> tuple[np.ndarray, dict]:
    """Delay (mm) on a random DEM cut-out with k ~ N(0, std), and the draw (k, relief)."""
    cutout = random_dem_cutout(dem_m, size_px, rng)
    k = float(rng.normal(0.0, coefficient_std_mm_per_km))
    return stratified_delay_mm(cutout, k), {
        "coefficient_mm_per_km": k,
        "relief_m": float(np.ptp(cutout)),
    }
