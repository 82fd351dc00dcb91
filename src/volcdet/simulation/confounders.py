"""Signals that are not volcanic deformation, added to both classes of the training sets (not in
the paper): sharp-edged flat basins and unwrapping-error steps (docs/invariance.md, section 5).

* **Flat basins** (salt flats, lakes, reservoirs, irrigated or compacting sediment basins): a
  flat floor with sharp edges that follow the basin outline, moving at a uniform or gently
  varying rate. Atacama salars move at -1.4 to +1.5 cm/yr in LOS, confined to the salar surface
  and roughly constant in space (Ruch et al. 2012, EPSL 331-332:120); brine pumping subsides the
  Salar de Atacama by 1-2 cm/yr (Delgado et al. 2024, physics notes 5.2). The basin is an
  irregular blob (a disk of diameter drawn log-uniformly in ``size_km`` whose edge is warped by a
  smooth random field) anywhere in the window; on the region's DEM, where a random cut-out has
  enough flat ground (slope below ``flat_slope_deg``), the basin keeps only its flat part. Its
  cumulative displacement is signed, log-uniform in ``magnitude_mm``, with a linear tilt of up
  to ``max_tilt_share`` of it across the basin. A share ``centre_share`` of the basins sits in
  the central fifth of the window, where a source would.
* **Unwrapping-error steps**: an unwrapping error shifts an area bounded by decorrelated ground
  by a whole cycle (27.73 mm of LOS for Sentinel-1) in the interferograms that hold it (Yunjun,
  Fattahi & Amelung 2019, Comput. Geosci. 133:104331). In the time series the area then steps by
  one cycle at the error's epoch; the least-squares rate over a uniformly sampled stack of a
  step Delta at the fraction tau of the period is 6 tau (1 - tau) Delta / T (our derivation: the
  covariance of a step with time over the variance of time), so the cumulative velocity x
  period is 6 tau (1 - tau) Delta, with tau uniform. The area is one side of a straight line
  across the window or a blob, as above, with sharp edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from volcdet.core.constants import FRINGE_MM
from volcdet.simulation.coverage import smooth_field
from volcdet.simulation.stratified import random_dem_cutout


@dataclass(frozen=True)
class FlatBasinSpec:
    """Share of samples with flat basins, cumulative magnitude (mm) and diameter (km) ranges."""

    probability: float = 0.0
    magnitude_mm: tuple[float, float] = (1.0, 40.0)
    size_km: tuple[float, float] = (1.0, 30.0)
    max_tilt_share: float = 0.3
    flat_slope_deg: float = 2.0
    max_basins: int = 2
    centre_share: float = 0.0


@dataclass(frozen=True)
class UnwrappingStepSpec:
    """Share of samples with an unwrapping-error step (one cycle at a random epoch)."""

    probability: float = 0.0


def blob_mask(
    size_px: int,
    pixel_size_m: float,
    rng: np.random.Generator,
    diameter_km: tuple[float, float],
    central: bool = False,
) -> np.ndarray:
    """An irregular blob with sharp edges: a disk (diameter log-uniform in ``diameter_km``,
    centre anywhere in the window, or in its central fifth when ``central``) whose edge a
    smooth random field warps by up to ~40%."""
    diameter_px = np.exp(rng.uniform(*np.log(diameter_km))) * 1000.0 / pixel_size_m
    radius = max(diameter_px / 2.0, 1.0)
    low, high = (0.4, 0.6) if central else (0.0, 1.0)
    cy, cx = rng.uniform(low * size_px, high * size_px, 2)
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    warp = smooth_field(size_px, max(radius / 2.0, 1.0), rng)
    return np.hypot(y - cy, x - cx) / radius + rng.uniform(0.1, 0.4) * warp < 1.0


def flat_ground(dem_m: np.ndarray, pixel_size_m: float, max_slope_deg: float) -> np.ndarray:
    """Pixels of a DEM cut-out whose slope (central differences) is below ``max_slope_deg``."""
    gy, gx = np.gradient(np.asarray(dem_m, np.float64), pixel_size_m)
    return np.degrees(np.arctan(np.hypot(gx, gy))) < max_slope_deg


def flat_basins_mm(
    shape: tuple[int, int],
    pixel_size_m: float,
    rng: np.random.Generator,
    spec: FlatBasinSpec,
    dem_m: np.ndarray | None,
) -> tuple[np.ndarray, dict]:
    """One or more flat basins (float32 mm) and the draw (count, largest |magnitude| in mm)."""
    size = shape[0]
    out = np.zeros(shape, np.float32)
    count = int(rng.integers(1, spec.max_basins + 1))
    largest, on_flat = 0.0, 0
    axis = np.linspace(-1.0, 1.0, size)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    for _ in range(count):
        central = bool(rng.random() < spec.centre_share)
        basin = blob_mask(size, pixel_size_m, rng, spec.size_km, central)
        if dem_m is not None and min(dem_m.shape) >= size:
            flat = flat_ground(
                random_dem_cutout(dem_m, size, rng), pixel_size_m, spec.flat_slope_deg
            )
            if (basin & flat).sum() >= 0.5 * basin.sum():
                basin &= flat
                on_flat += 1
        if not basin.any():
            continue
        magnitude = float(np.exp(rng.uniform(*np.log(spec.magnitude_mm))))
        magnitude *= -1.0 if rng.random() < 0.5 else 1.0
        angle = rng.uniform(0.0, 2.0 * np.pi)
        tilt = rng.uniform(0.0, spec.max_tilt_share) * (np.cos(angle) * x + np.sin(angle) * y)
        floor = magnitude * (1.0 + tilt[basin])
        out[basin] = floor.astype(np.float32)
        largest = max(largest, abs(magnitude))
    return out, {"basins": count, "largest_mm": largest, "on_flat_ground": on_flat}


def unwrapping_step_mm(
    shape: tuple[int, int], pixel_size_m: float, rng: np.random.Generator
) -> tuple[np.ndarray, dict]:
    """An area shifted by the cumulative trace of a one-cycle step (float32 mm) and its size."""
    size = shape[0]
    if rng.random() < 0.5:
        axis = np.arange(size, dtype=np.float64) - size / 2.0
        y, x = np.meshgrid(axis, axis, indexing="ij")
        angle = rng.uniform(0.0, 2.0 * np.pi)
        distance = rng.uniform(-0.4, 0.4) * size
        area = np.cos(angle) * x + np.sin(angle) * y > distance
    else:
        area = blob_mask(size, pixel_size_m, rng, (5.0, 30.0))
    tau = rng.uniform(0.0, 1.0)
    step = 6.0 * tau * (1.0 - tau) * FRINGE_MM * (-1.0 if rng.random() < 0.5 else 1.0)
    return np.where(area, np.float32(step), np.float32(0.0)), {"step_mm": float(step)}
