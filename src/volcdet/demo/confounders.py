"""Non-volcanic signals of the demo region: the negatives a detector must not flag.

Kinematic models with magnitudes from the literature (physics notes section 5):

* ``fault_creep``: shallow aseismic creep on a fault segment, the screw-dislocation profile
  u = (c / pi) arctan(D / x) of slip c from the surface to depth D (Savage & Burford 1973,
  JGR 78:832), along strike, with a vertical step w of the same profile; tapered to zero at the
  segment's tips.
* ``landslide``: a 2-4 km long slope body sliding parallel to the surface, down the DEM's
  steepest descent, at 20-60 mm/yr, with sharp edges (Cusicanqui et al. 2025, TC 19:2559:
  semiarid Andes landslides at cm/yr to m/yr).
* ``aquifer_subsidence``: a flat-bottomed bowl 10-30 km across sinking at 5-30 mm/yr with
  inward horizontal motion of a third of that on its flanks (groundwater extraction; Galloway &
  Burbey 2011, Hydrogeol. J. 19:1459).
* ``salt_lake``: star-shaped salars split into two units of +-(3-15) mm/yr vertical rate with a
  1.5 mm/yr texture and sharp edges (Ruch et al. 2012, EPSL 331:120).
* downslope creep of the whole landscape (not catalogued): up to 12 mm/yr parallel to slopes over
  4 deg above 3700-4300 m, in patches (physics notes 5.1 item 2; Villarroel et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from volcdet.demo.fields import fractal_field
from volcdet.demo.spec import DemoRegionSpec

#: Distance from a fault trace (km) at which its creep signal is tapered to zero.
FAULT_REACH_KM = 40.0


@dataclass(frozen=True)
class Confounder:
    """A catalogued non-volcanic signal: kind, fractional pixel centre, extent and parameters.

    ``radius_km`` bounds the signal (landslide: half its length; aquifer: semi-major axis;
    fault: half-length; salt lake: largest radius of its outline); ``rate_mm_yr`` is its
    characteristic rate (creep or vertical rate, signed where it has a sense).
    """

    name: str
    kind: str
    row: float
    col: float
    radius_km: float
    rate_mm_yr: float
    in_roi: bool
    params: dict[str, float] = field(default_factory=dict)


def draw_fault(rng: np.random.Generator, half_length_km: float) -> tuple[float, dict[str, float]]:
    """(creep rate, parameters) of a creeping fault segment: 3-6 mm/yr to 1-3 km, 1-3 mm/yr vertical."""
    creep = float(rng.uniform(3.0, 6.0)) * float(rng.choice([-1.0, 1.0]))
    params = {
        "strike_deg": float(rng.uniform(20.0, 160.0)),
        "creep_depth_km": float(rng.uniform(1.0, 3.0)),
        "vertical_mm_yr": float(rng.uniform(1.0, 3.0)) * float(rng.choice([-1.0, 1.0])),
        "half_length_km": half_length_km,
    }
    return creep, params


def draw_landslide(rng: np.random.Generator) -> tuple[float, dict[str, float]]:
    """(rate along the slope, parameters): 2-4 km long, 1-2 km wide, 20-60 mm/yr."""
    rate = float(rng.uniform(20.0, 60.0))
    return rate, {
        "length_km": float(rng.uniform(2.0, 4.0)),
        "width_km": float(rng.uniform(1.0, 2.0)),
    }


def draw_aquifer(rng: np.random.Generator) -> tuple[float, dict[str, float]]:
    """(vertical rate, parameters): -5..-30 mm/yr, aspect 1-1.6, any azimuth."""
    rate = -float(rng.uniform(5.0, 30.0))
    return rate, {"aspect": float(rng.uniform(1.0, 1.6)), "azimuth_deg": float(rng.uniform(0, 180))}


def draw_salt_lake(rng: np.random.Generator) -> tuple[float, dict[str, float]]:
    """(larger unit rate, parameters): outline harmonics, two units split by a line, rates."""
    params: dict[str, float] = {}
    for k in range(2, 6):
        params[f"a{k}"] = float(rng.uniform(0.03, 0.12) / (k - 1))
        params[f"p{k}"] = float(rng.uniform(0.0, 2.0 * np.pi))
    rate_a = float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 15.0))
    rate_b = float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 15.0))
    params |= {
        "rate_b_mm_yr": rate_b,
        "split_deg": float(rng.uniform(0.0, 180.0)),
        "split_offset": float(rng.uniform(-0.3, 0.3)),
    }
    return rate_a, params


def local_window_xy(
    spec: DemoRegionSpec, c: Confounder, half_km: float
) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """Window of the master grid around a confounder and east/north (m) relative to its centre."""
    half = int(np.ceil(half_km * 1000.0 / spec.pixel_size_m)) + 2
    r0, r1 = max(0, round(c.row) - half), min(spec.rows, round(c.row) + half + 1)
    c0, c1 = max(0, round(c.col) - half), min(spec.cols, round(c.col) + half + 1)
    east = (np.arange(c0, c1) - c.col) * spec.pixel_size_m
    north = -(np.arange(r0, r1) - c.row) * spec.pixel_size_m
    east_m, north_m = np.meshgrid(east, north)
    return slice(r0, r1), slice(c0, c1), east_m, north_m


def fault_creep_enu(east_m: np.ndarray, north_m: np.ndarray, c: Confounder) -> np.ndarray:
    """Creep on a fault segment (mm/yr, ENU): (c / pi) arctan(D / x) along strike, w likewise up.

    Savage & Burford (1973): slip c from the surface to depth D gives a step of c across the
    trace that decays over a few D. The along-strike taper (cosine over the outer 30% of the
    half-length) stands in for the slip dying out at the tips; the far field (< 3% of c beyond
    30 km from the trace) is tapered to zero at ``FAULT_REACH_KM``.
    """
    strike = np.deg2rad(c.params["strike_deg"])
    along = east_m * np.sin(strike) + north_m * np.cos(strike)
    across = east_m * np.cos(strike) - north_m * np.sin(strike)
    across = np.where(across == 0.0, 1e-3, across)
    profile = np.arctan(c.params["creep_depth_km"] * 1000.0 / across) / np.pi
    half = c.params["half_length_km"] * 1000.0
    ramp = np.clip((np.abs(along) / half - 0.7) / 0.3, 0.0, 1.0)
    reach = FAULT_REACH_KM * 1000.0
    far = np.clip((np.abs(across) - 0.75 * reach) / (0.25 * reach), 0.0, 1.0)
    profile = profile * 0.25 * (1.0 + np.cos(np.pi * ramp)) * (1.0 + np.cos(np.pi * far))
    horizontal = c.rate_mm_yr * profile
    return np.stack(
        [
            horizontal * np.sin(strike),
            horizontal * np.cos(strike),
            c.params["vertical_mm_yr"] * profile,
        ]
    )


def landslide_enu(
    east_m: np.ndarray,
    north_m: np.ndarray,
    c: Confounder,
    downslope_azimuth_rad: float,
    slope_rad: float,
) -> np.ndarray:
    """A slide body moving parallel to the surface down the slope (mm/yr, ENU), sharp-edged.

    Speed profile 1 - rho^4 over an ellipse elongated downslope (rho: normalised radius), so
    the body moves nearly as a block and stops at its edges.
    """
    along = east_m * np.sin(downslope_azimuth_rad) + north_m * np.cos(downslope_azimuth_rad)
    across = east_m * np.cos(downslope_azimuth_rad) - north_m * np.sin(downslope_azimuth_rad)
    rho = np.hypot(along / (500.0 * c.params["length_km"]), across / (500.0 * c.params["width_km"]))
    speed = c.rate_mm_yr * np.clip(1.0 - rho**4, 0.0, None)
    horizontal = speed * np.cos(slope_rad)
    return np.stack(
        [
            horizontal * np.sin(downslope_azimuth_rad),
            horizontal * np.cos(downslope_azimuth_rad),
            -speed * np.sin(slope_rad),
        ]
    )


def aquifer_profile(east_m: np.ndarray, north_m: np.ndarray, c: Confounder) -> np.ndarray:
    """Normalised bowl: 1 inside half the elliptical radius, cosine to 0 at the edge."""
    az = np.deg2rad(c.params["azimuth_deg"])
    along = east_m * np.sin(az) + north_m * np.cos(az)
    across = east_m * np.cos(az) - north_m * np.sin(az)
    semi = c.radius_km * 1000.0
    rho = np.hypot(along / semi, across * c.params["aspect"] / semi)
    return 0.5 * (1.0 + np.cos(np.pi * np.clip((rho - 0.5) / 0.5, 0.0, 1.0)))


def aquifer_enu(east_m: np.ndarray, north_m: np.ndarray, c: Confounder) -> np.ndarray:
    """Aquifer-compaction subsidence (mm/yr, ENU): the bowl times the rate, plus inward motion.

    Horizontal motion toward the centre, a third of the vertical rate at most, peaks on the
    bowl's flank where the subsidence gradient is largest (Galloway & Burbey 2011).
    """
    bowl = aquifer_profile(east_m, north_m, c)
    gy, gx = np.gradient(bowl)  # rows run south: d/dnorth = -gy
    gnorth = -gy
    slope = np.hypot(gx, gnorth)
    peak = slope.max() if slope.max() > 0 else 1.0
    inward = abs(c.rate_mm_yr) / 3.0 * slope / peak
    with np.errstate(invalid="ignore", divide="ignore"):
        ux = np.where(slope > 0, gx / slope, 0.0) * inward
        uy = np.where(slope > 0, gnorth / slope, 0.0) * inward
    return np.stack([ux, uy, c.rate_mm_yr * bowl])


def salt_lake_outline(east_m: np.ndarray, north_m: np.ndarray, c: Confounder) -> np.ndarray:
    """Inside of a star-shaped salar r < R (1 + sum_k a_k cos(k phi + p_k)), k = 2..5."""
    phi = np.arctan2(north_m, east_m)
    shape = np.ones_like(phi)
    for k in range(2, 6):
        shape += c.params[f"a{k}"] * np.cos(k * phi + c.params[f"p{k}"])
    base = c.radius_km * 1000.0 / (1.0 + sum(c.params[f"a{k}"] for k in range(2, 6)))
    return np.hypot(east_m, north_m) < base * shape


def salt_lake_masks(spec: DemoRegionSpec, confounders: list[Confounder]) -> list[np.ndarray]:
    """Boolean master-grid mask of every salt lake, in catalogue order."""
    masks = []
    for c in confounders:
        if c.kind != "salt_lake":
            continue
        rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km)
        mask = np.zeros(spec.shape, bool)
        mask[rows, cols] = salt_lake_outline(east_m, north_m, c)
        masks.append(mask)
    return masks


def salt_lake_uplift_mm_yr(
    spec: DemoRegionSpec, confounders: list[Confounder], rng: np.random.Generator
) -> np.ndarray:
    """Vertical salar deformation (mm/yr): two units split by a line, +1.5 mm/yr texture."""
    lakes = [c for c in confounders if c.kind == "salt_lake"]
    up = np.zeros(spec.shape, np.float32)
    if not lakes:
        return up
    texture = 1.5 * fractal_field(spec.shape, spec.pixel_size_m, 3.0, rng, outer_scale_m=5_000.0)
    for c, mask in zip(lakes, salt_lake_masks(spec, confounders), strict=True):
        rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km)
        split = np.deg2rad(c.params["split_deg"])
        side = east_m * np.cos(split) + north_m * np.sin(split) > c.params["split_offset"] * (
            c.radius_km * 1000.0
        )
        rates = np.where(side, c.rate_mm_yr, c.params["rate_b_mm_yr"])
        local = mask[rows, cols]
        up[rows, cols] += np.where(local, rates + texture[rows, cols], 0.0).astype(np.float32)
    return up


def slopes(dem: np.ndarray, pixel_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """dh/dx (east) and dh/dy (north), m/m; rows run southward."""
    d_row, d_col = (np.asarray(g) for g in np.gradient(dem.astype(np.float64), pixel_size_m))
    return d_col, -d_row


def downslope_creep_enu_mm_yr(
    spec: DemoRegionSpec, dem: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Gravity-driven downslope creep (solifluction, talus and rock-glacier creep), ENU mm/yr.

    Motion parallel to the surface, down the steepest descent, at up to 12 mm/yr on slopes over
    4 deg above 3700-4300 m, in patches (physics notes 5.1 item 2; Villarroel et al. 2018,
    Remote Sens. 10:1588). Its LOS sign then depends on aspect and pass.
    """
    gx, gy = slopes(dem, spec.pixel_size_m)
    slope = np.hypot(gx, gy)
    slope_deg = np.degrees(np.arctan(slope))
    activity = fractal_field(spec.shape, spec.pixel_size_m, 3.0, rng, outer_scale_m=6_000.0)
    patchy = np.clip(activity - 0.2, 0.0, 1.0)
    altitude = np.clip((dem - 3700.0) / 600.0, 0.0, 1.0)
    speed = 12.0 * np.clip((slope_deg - 4.0) / 12.0, 0.0, 1.0) * altitude * patchy
    cos_a, sin_a = 1.0 / np.sqrt(1.0 + slope**2), slope / np.sqrt(1.0 + slope**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = np.where(slope > 0, -gx / slope, 0.0), np.where(slope > 0, -gy / slope, 0.0)
    return np.stack([speed * cos_a * ux, speed * cos_a * uy, -speed * sin_a]).astype(np.float32)


def _downslope_at(spec: DemoRegionSpec, dem: np.ndarray, c: Confounder) -> tuple[float, float]:
    """(azimuth of steepest descent, slope angle) averaged over ~1 km around a point (radians)."""
    gx, gy = slopes(dem, spec.pixel_size_m)
    r, col = round(c.row), round(c.col)
    window = (slice(max(r - 3, 0), r + 4), slice(max(col - 3, 0), col + 4))
    mx, my = float(gx[window].mean()), float(gy[window].mean())
    return float(np.arctan2(-mx, -my)), float(np.arctan(np.hypot(mx, my)))


def confounder_rate_enu(
    spec: DemoRegionSpec, confounders: list[Confounder], dem: np.ndarray
) -> np.ndarray:
    """Sum of the catalogued fault, landslide and aquifer signals on the master grid (ENU mm/yr)."""
    total = np.zeros((3, *spec.shape), np.float32)
    for c in confounders:
        if c.kind == "fault_creep":
            rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km + FAULT_REACH_KM)
            total[:, rows, cols] += fault_creep_enu(east_m, north_m, c)
        elif c.kind == "landslide":
            rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km)
            azimuth, slope = _downslope_at(spec, dem, c)
            total[:, rows, cols] += landslide_enu(east_m, north_m, c, azimuth, slope)
        elif c.kind == "aquifer_subsidence":
            rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km)
            total[:, rows, cols] += aquifer_enu(east_m, north_m, c)
    return total
