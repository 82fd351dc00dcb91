"""Slope-induced signal on the region's DEM, often centred on an edifice (not in the paper).

Beker et al. traced their false positives to "slope-induced signal" (Grad-CAM), and volcanoes
are topographic highs: a signal that follows a cone's topography sits exactly where a source
would. Two terms, both on DEM cut-outs that are, with probability ``peak_share``, centred (within
``PEAK_JITTER_PX``) on a summit of the DEM (``dem_peaks``) instead of placed at random:

* downslope creep (solifluction, talus and rock-glacier creep, small landslides; physics notes
  5.1 item 2): motion parallel to the surface down the steepest descent, u = s (cos(b) d_h,
  -sin(b)) with b the slope angle and d_h the horizontal downslope direction, in patches of
  steep high ground (slope above ``min_slope_deg``, elevation above a random quantile of the
  cut-out, inside a thresholded smooth random field), projected on the set's LOS. Its sign
  flips between slopes facing towards and away from the satellite, so on a cone it draws an
  east-west dipole. Soil creep moves mm to cm per year (Villarroel et al. 2018, Remote Sens.
  10:1588; Cusicanqui et al. 2025, TC 19:2559): ``magnitude_mm`` of cumulative motion.
* stratified delay on a summit: ``volcdet.simulation.stratified`` draws k (h - median h) on the
  cut-outs chosen here, so cone-shaped "uplift" or "subsidence" centred on an edifice enters
  training as a negative (and under sources as background).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter, uniform_filter

from volcdet.simulation.coverage import smooth_field
from volcdet.simulation.stratified import random_dem_cutout

#: Half-width (px) of the neighbourhood in which a summit is the highest point, and its least
#: prominence (m) over that neighbourhood's mean.
PEAK_WINDOW_PX = 25
PEAK_PROMINENCE_M = 300.0
#: Largest offset (px) of a summit from the cut-out centre.
PEAK_JITTER_PX = 12


@dataclass(frozen=True)
class SlopeCreepSpec:
    """Share of samples with downslope creep, its cumulative magnitude (mm), the least slope
    (deg) that creeps, and the share of cut-outs centred on a summit."""

    probability: float = 0.0
    magnitude_mm: tuple[float, float] = (2.0, 60.0)
    min_slope_deg: float = 4.0
    peak_share: float = 0.7


def dem_peaks(dem_m: np.ndarray, size_px: int) -> np.ndarray:
    """(row, col) of the DEM's summits far enough from its edges for a centred cut-out: local
    maxima over a (2 x PEAK_WINDOW_PX + 1)-px window, at least PEAK_PROMINENCE_M above that
    window's mean."""
    dem = np.where(np.isfinite(dem_m), dem_m, np.nanmedian(dem_m)).astype(np.float64)
    width = 2 * PEAK_WINDOW_PX + 1
    top = maximum_filter(dem, size=width, mode="nearest")
    mean = uniform_filter(dem, size=width, mode="nearest")
    rows, cols = np.nonzero((dem >= top) & (dem - mean >= PEAK_PROMINENCE_M))
    half = size_px // 2 + PEAK_JITTER_PX
    keep = (
        (rows >= half)
        & (cols >= half)
        & (rows < dem.shape[0] - half)
        & (cols < dem.shape[1] - half)
    )
    return np.column_stack([rows[keep], cols[keep]])


def dem_cutout(
    dem_m: np.ndarray,
    size_px: int,
    rng: np.random.Generator,
    peaks: np.ndarray | None,
    peak_share: float,
) -> np.ndarray:
    """A size_px cut-out of the DEM (m): centred near a random summit with ``peak_share``
    (when there are summits), else at a random place; NaN filled with the median."""
    if peaks is not None and len(peaks) and rng.random() < peak_share:
        row, col = peaks[int(rng.integers(len(peaks)))]
        row += int(rng.integers(-PEAK_JITTER_PX, PEAK_JITTER_PX + 1))
        col += int(rng.integers(-PEAK_JITTER_PX, PEAK_JITTER_PX + 1))
        r0, c0 = row - size_px // 2, col - size_px // 2
        window = np.asarray(dem_m[r0 : r0 + size_px, c0 : c0 + size_px], np.float64)
        finite = np.isfinite(window)
        return np.where(finite, window, np.median(window[finite]) if finite.any() else 0.0)
    return random_dem_cutout(dem_m, size_px, rng)


def downslope_creep_mm(
    dem_m: np.ndarray,
    pixel_size_m: float,
    los_enu: np.ndarray,
    rng: np.random.Generator,
    spec: SlopeCreepSpec,
) -> tuple[np.ndarray, dict]:
    """LOS displacement (float32 mm) of creep in patches of steep high ground of a DEM cut-out,
    and the draw (magnitude, creeping share)."""
    dem = np.asarray(dem_m, np.float64)
    size = dem.shape[0]
    gy, gx = np.gradient(dem, pixel_size_m)  # rows run south: north gradient = -gy
    grad_east, grad_north = gx, -gy
    steepness = np.hypot(grad_east, grad_north)
    slope = np.arctan(steepness)
    high = dem > np.quantile(dem, rng.uniform(0.3, 0.8))
    patches = smooth_field(size, rng.uniform(3.0, 12.0), rng) > rng.uniform(-0.5, 0.8)
    creeping = high & patches & (np.degrees(slope) > spec.min_slope_deg)
    magnitude = float(np.exp(rng.uniform(*np.log(spec.magnitude_mm))))
    with np.errstate(invalid="ignore", divide="ignore"):
        down_east = np.where(steepness > 0, -grad_east / steepness, 0.0)
        down_north = np.where(steepness > 0, -grad_north / steepness, 0.0)
    east = magnitude * np.cos(slope) * down_east
    north = magnitude * np.cos(slope) * down_north
    up = -magnitude * np.sin(slope)
    los = los_enu[0] * east + los_enu[1] * north + los_enu[2] * up
    field = np.where(creeping, los, 0.0).astype(np.float32)
    return field, {"magnitude_mm": magnitude, "creeping_share": float(creeping.mean())}
