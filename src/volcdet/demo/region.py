"""The embedded synthetic stand-in region: a seeded central-Andes-like region in the data contract.

It imitates the paper's *real* velocity maps (section 2.1, Figure 1), not the training simulations:
a DEM with a volcanic ridge and cones, slope-induced signal, salt lakes, weak residual turbulence,
missing data, seven Sentinel-1 tracks and a volcano catalogue with a few deforming volcanoes.
Every component, its formula source and its magnitude is listed in ``docs/demo_region.md``.
Each component draws from its own seeded stream, so changing one leaves the others identical.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.los import los_unit_vector, project_enu_to_los
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.data.region import lonlat_to_grid_xy
from volcdet.simulation.random_fields import gaussian_random_field, power_law_field
from volcdet.simulation.sources import point_cdm_displacement

log = logging.getLogger(__name__)

#: UTM zone 19S, the zone of the central Andes between 72 and 66 deg W.
DEMO_CRS = "EPSG:32719"
#: Upper-left corner of the demo grid (about 22.1 S, 69.8 W).
DEMO_ORIGIN_XY_M = (420_000.0, 7_560_000.0)
#: Seven tracks as in the paper (2 ascending, 5 descending), named after CVZ Sentinel-1 tracks.
DEMO_TRACKS = (
    ("A076", "ascending", 0),
    ("A149", "ascending", 256),
    ("D083", "descending", 0),
    ("D156", "descending", 64),
    ("D054", "descending", 128),
    ("D025", "descending", 192),
    ("D127", "descending", 256),
)
#: Sentinel-1 headings over the CVZ (physics notes section 3), degrees clockwise from north.
HEADING_DEG = {"ascending": -12.4, "descending": -167.6}
#: Incidence of the IW swath (physics notes section 3): each track covers a 12.5 deg part of it
#: starting between these two near-range values, so the 7 mean LOS vectors differ.
INCIDENCE_NEAR_RANGE_DEG = (29.2, 33.4)
INCIDENCE_SPAN_DEG = 12.5
#: Poisson's ratio of the elastic half-space used for the volcanic sources.
POISSON_RATIO = 0.25


@dataclass(frozen=True)
class DemoRegionSpec:
    """Size and seed of the demo region; magnitudes are fixed and documented in the module."""

    seed: int = 20231
    rows: int = 1280
    cols: int = 1536
    track_width_px: int = 1280
    pixel_size_m: float = 200.0
    interferograms_per_track: int = 6
    interferogram_size_px: int = 384

    @property
    def grid(self) -> Grid:
        """The master grid that every track raster is a column window of."""
        x0, y0 = DEMO_ORIGIN_XY_M
        transform = Affine(self.pixel_size_m, 0.0, x0, 0.0, -self.pixel_size_m, y0)
        return Grid(CRS.from_string(DEMO_CRS), transform, (self.rows, self.cols))


@dataclass(frozen=True)
class Volcano:
    """A catalogued volcano of the demo with its (possibly zero) deformation source."""

    name: str
    row: float
    col: float
    cone_height_m: float
    cone_radius_km: float
    deforming: bool
    source_type: str = "none"
    rate_mm_yr: float = 0.0
    depth_km: float = 0.0
    offset_km: tuple[float, float] = (0.0, 0.0)


def _stream(spec: DemoRegionSpec, component: int) -> np.random.Generator:
    """An independent random stream per component, derived from the one config seed."""
    return np.random.default_rng([spec.seed, component])


def _roi_bounds_px(spec: DemoRegionSpec) -> tuple[int, int, int, int]:
    """ROI as (row0, row1, col0, col1): an 83 km wide band along the volcanic ridge."""
    ridge = spec.cols // 2
    half = round(41_600 / spec.pixel_size_m)
    return 64, spec.rows - 64, ridge - half, ridge + half


def place_volcanoes(spec: DemoRegionSpec) -> list[Volcano]:
    """Volcano list: 12 cones on the ridge inside the ROI (5 deforming, north) and 6 quiet outside.

    Deforming sources follow the CVZ catalogue (physics notes section 6): 2-20 mm/yr, depths
    3-6 km, plus one deep (20 km) Uturuncu-like source whose footprint exceeds a 51.2 km patch.
    """
    rng = _stream(spec, 1)
    row0, row1, col0, col1 = _roi_bounds_px(spec)
    ridge = spec.cols // 2
    volcanoes: list[Volcano] = []
    rows_on_ridge = np.linspace(row0 + 220, row1 - 220, 12)
    # Deforming volcanoes cluster in the north (as Lazufre/Socompa/El Condor do), so the
    # southern frames show the background alone: (kind, peak rate mm/yr, source depth km).
    sources = {
        0: ("sill", 16.0, 5.0),
        1: ("mogi", 6.0, 4.0),
        3: ("deep_mogi", 4.0, 20.0),
        4: ("pipe", 10.0, 3.0),
        6: ("mogi", 2.5, 6.0),
    }
    for i, row in enumerate(rows_on_ridge):
        col = ridge + rng.uniform(-90, 90)
        kind, rate, depth = sources.get(i, ("none", 0.0, 0.0))
        volcanoes.append(
            Volcano(
                name=f"Cerro Demo {i + 1:02d}",
                row=float(row + rng.uniform(-15, 15)),
                col=float(col),
                cone_height_m=float(rng.uniform(900, 2000)),
                cone_radius_km=float(rng.uniform(5.0, 9.0)),
                deforming=kind != "none",
                source_type=kind,
                rate_mm_yr=rate,
                depth_km=depth,
                offset_km=(float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2))),
            )
        )
    for j in range(6):
        side_col = (
            rng.uniform(80, col0 - 120) if j % 2 == 0 else rng.uniform(col1 + 120, spec.cols - 80)
        )
        volcanoes.append(
            Volcano(
                name=f"Nevado Demo {j + 1:02d}",
                row=float(rng.uniform(150, spec.rows - 150)),
                col=float(side_col),
                cone_height_m=float(rng.uniform(700, 1600)),
                cone_radius_km=float(rng.uniform(4.0, 8.0)),
                deforming=False,
            )
        )
    return volcanoes


def _pixel_xy_m(spec: DemoRegionSpec) -> tuple[np.ndarray, np.ndarray]:
    """Local east/north coordinates (m) of pixel centres, origin at the upper-left corner."""
    east = (np.arange(spec.cols) + 0.5) * spec.pixel_size_m
    north = -(np.arange(spec.rows) + 0.5) * spec.pixel_size_m
    return east[None, :], north[:, None]


def salt_lake_masks(spec: DemoRegionSpec) -> list[np.ndarray]:
    """Boolean masks of salt lakes (salars): irregular flat basins 12-70 km across.

    Shapes are star-shaped polygons r(phi) = R (1 + sum_k a_k cos(k phi + p_k)); most lie off the
    ridge, one inside the ROI, as on Figure 1 of the paper (Ruch et al. 2012 for the extents).
    """
    rng = _stream(spec, 2)
    _, _, col0, col1 = _roi_bounds_px(spec)
    rr, cc = np.mgrid[0 : spec.rows, 0 : spec.cols]
    scale = spec.pixel_size_m / 1000.0 * min(spec.rows, spec.cols) / 256.0
    west, east = max(col0 - 60, 1), max(spec.cols - col1 - 60, 1)
    centres_radii = [  # (row, col, radius_km) as fractions of the grid and of the side strips
        (0.27, 0.55 * west, 30.0),
        (0.72, col1 + 0.5 * east, 23.0),
        (0.80, 0.45 * west, 11.0),
        (0.35, col1 + 0.6 * east, 8.0),
        (0.50, col0 + 40, 7.5),
    ]
    centres_radii = [
        (
            frac_row * spec.rows + rng.uniform(-40, 40),
            col + rng.uniform(-20, 20),
            radius * min(scale, 1.0) * rng.uniform(0.8, 1.2),
        )
        for frac_row, col, radius in centres_radii
    ]
    masks = []
    for row, col, radius_km in centres_radii:
        radius_px = radius_km * 1000 / spec.pixel_size_m
        phi = np.arctan2(rr - row, cc - col)
        shape = np.ones_like(phi)
        for k in range(2, 6):
            shape += rng.uniform(0.03, 0.12) / (k - 1) * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
        mask = np.hypot(rr - row, cc - col) < radius_px * shape
        if mask.sum() > 100:
            masks.append(mask)
    return masks


def synthetic_dem_m(
    spec: DemoRegionSpec, volcanoes: list[Volcano], lakes: list[np.ndarray]
) -> np.ndarray:
    """Elevation (m): Altiplano plateau, a N-S volcanic ridge, fractal relief, cones, flat salars.

    Relief follows a k^-3.4 power spectrum (Huang & Turcotte 1989 report beta ~ 2-4 for DEMs);
    cones have concave profiles h (1 - r/R)^1.6; salar floors are flattened to their rim minimum.
    """
    rng = _stream(spec, 3)
    east, north = _pixel_xy_m(spec)
    ridge_east = (spec.cols // 2 + 0.5) * spec.pixel_size_m
    dem = 3900.0 + 900.0 * np.exp(-(((east - ridge_east) / 45_000.0) ** 2)) + 0.0 * north
    shape = (spec.rows, spec.cols)
    dem = dem + power_law_field(shape, rng, beta=3.4, pixel_size_m=spec.pixel_size_m, std=280.0)
    # Valleys and ridges at km scale, stronger on the high ridge (dissected volcanic terrain).
    rough = np.abs(power_law_field(shape, rng, beta=3.0, pixel_size_m=spec.pixel_size_m, std=1.0))
    dem = dem + (160.0 + 0.2 * (dem - 3900.0).clip(0)) * rough
    rr, cc = np.mgrid[0 : spec.rows, 0 : spec.cols]
    for volcano in volcanoes:
        r_km = np.hypot(rr - volcano.row, cc - volcano.col) * spec.pixel_size_m / 1000.0
        dem += (
            volcano.cone_height_m * np.clip(1.0 - r_km / volcano.cone_radius_km, 0.0, None) ** 1.6
        )
    for mask in lakes:
        floor = np.percentile(dem[mask], 5)
        dem[mask] = floor + rng.normal(0.0, 0.5, mask.sum())
    return dem.astype(np.float32)


def _slopes(dem: np.ndarray, pixel_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """dh/dx (east) and dh/dy (north), m/m; rows run southward."""
    d_row, d_col = np.gradient(dem.astype(np.float64), pixel_size_m)
    return d_col, -d_row


def downslope_creep_enu_mm_yr(spec: DemoRegionSpec, dem: np.ndarray) -> np.ndarray:
    """Gravity-driven downslope creep (solifluction, talus and rock-glacier creep), ENU mm/yr.

    Motion parallel to the surface, down the steepest descent, at up to 12 mm/yr on slopes over
    4 deg above 3700-4300 m, in patches (physics notes section 5.1, item 2; Villarroel et al. 2018).
    Its LOS sign then depends on aspect and pass.
    """
    rng = _stream(spec, 4)
    gx, gy = _slopes(dem, spec.pixel_size_m)
    slope = np.hypot(gx, gy)
    slope_deg = np.degrees(np.arctan(slope))
    activity = gaussian_random_field(
        (spec.rows, spec.cols), spec.pixel_size_m, "exponential", 1.0, 6000.0, rng
    )
    patchy = np.clip(activity - 0.2, 0.0, 1.0)
    altitude = np.clip((dem - 3700.0) / 600.0, 0.0, 1.0)
    speed = 12.0 * np.clip((slope_deg - 4.0) / 12.0, 0.0, 1.0) * altitude * patchy
    cos_a, sin_a = 1.0 / np.sqrt(1.0 + slope**2), slope / np.sqrt(1.0 + slope**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = np.where(slope > 0, -gx / slope, 0.0), np.where(slope > 0, -gy / slope, 0.0)
    return np.stack([speed * cos_a * ux, speed * cos_a * uy, -speed * sin_a]).astype(np.float32)


def salt_lake_uplift_mm_yr(spec: DemoRegionSpec, lakes: list[np.ndarray]) -> np.ndarray:
    """Vertical salar deformation (mm/yr): sharp-edged uplift or subsidence of -15..+15 mm/yr.

    Each salar has two units split by a random line (clay vs. halite), rates of opposite or equal
    sign between 3 and 15 mm/yr, and a smooth internal variation (Ruch et al. 2012 EPSL 331:120).
    """
    rng = _stream(spec, 5)
    rr, cc = np.mgrid[0 : spec.rows, 0 : spec.cols]
    up = np.zeros((spec.rows, spec.cols), np.float32)
    texture = gaussian_random_field(
        (spec.rows, spec.cols), spec.pixel_size_m, "exponential", 1.5**2, 5000.0, rng
    )
    for mask in lakes:
        sign = rng.choice([-1.0, 1.0])
        rate_a = sign * rng.uniform(3.0, 15.0)
        rate_b = rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 15.0)
        rows, cols = np.nonzero(mask)
        angle = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.3, 0.3) * (cols.max() - cols.min())
        side = (cc - cols.mean()) * np.cos(angle) + (rr - rows.mean()) * np.sin(angle) > offset
        up += np.where(mask, np.where(side, rate_a, rate_b) + texture, 0.0).astype(np.float32)
    return up


def volcanic_enu_mm_yr(
    spec: DemoRegionSpec, volcanoes: list[Volcano]
) -> tuple[np.ndarray, dict[str, float]]:
    """Sum of volcanic sources (ENU, mm/yr) and each deforming volcano's footprint radius (km).

    Sources are point compound dislocation models (Nikkhoo et al. 2017): isotropic ('mogi'),
    horizontal ('sill') and vertical-pipe potencies, scaled so the peak vertical
    rate equals the volcano's rate. The footprint radius is the largest distance from the source
    centre at which |u_up| still reaches 20% of its peak.
    """
    east, north = _pixel_xy_m(spec)
    east_m = np.broadcast_to(east, (spec.rows, spec.cols))
    north_m = np.broadcast_to(north, (spec.rows, spec.cols))
    total = np.zeros((3, spec.rows, spec.cols), np.float64)
    radii: dict[str, float] = {}
    potencies = {
        "mogi": (1.0, 1.0, 1.0),
        "deep_mogi": (1.0, 1.0, 1.0),
        "sill": (0.0, 0.0, 1.0),
        "pipe": (1.0, 1.0, 0.0),
    }
    for volcano in volcanoes:
        if not volcano.deforming:
            continue
        x0 = (volcano.col + 0.5) * spec.pixel_size_m + volcano.offset_km[0] * 1000
        y0 = -(volcano.row + 0.5) * spec.pixel_size_m + volcano.offset_km[1] * 1000
        ue, un, uv = point_cdm_displacement(
            east_m,
            north_m,
            x0,
            y0,
            volcano.depth_km * 1000.0,
            (0.0, 0.0, 0.0),
            potencies[volcano.source_type],
            POISSON_RATIO,
        )
        scale = volcano.rate_mm_yr / np.abs(uv).max()
        total += scale * np.stack([ue, un, uv])
        strong = np.abs(uv) >= 0.2 * np.abs(uv).max()
        radii[volcano.name] = float(
            np.hypot(east_m[strong] - x0, north_m[strong] - y0).max() / 1000.0
        )
    return total.astype(np.float32), radii


def track_incidence_deg(pass_direction: str, width_px: int, near_deg: float) -> np.ndarray:
    """Incidence per column: near range is west for ascending (looking east), east for descending."""
    near, far = near_deg, near_deg + INCIDENCE_SPAN_DEG
    ramp = np.linspace(near, far, width_px)
    return ramp if pass_direction == "ascending" else ramp[::-1]


def lagoon_mask(spec: DemoRegionSpec, lakes: list[np.ndarray]) -> np.ndarray:
    """Open water in the centre of the two largest salars (a lobed pool of ~0.3 of their radius)."""
    rr, cc = np.ogrid[0 : spec.rows, 0 : spec.cols]
    water = np.zeros((spec.rows, spec.cols), bool)
    for lake in lakes[:2]:
        rows, cols = np.nonzero(lake)
        radius = (
            0.3
            * np.sqrt(lake.sum() / np.pi)
            * (1.0 + 0.35 * np.cos(3 * np.arctan2(rr - rows.mean(), cc - cols.mean())))
        )
        water |= lake & (np.hypot(rr - rows.mean(), cc - cols.mean()) < radius)
    return water


def missing_mask(
    spec: DemoRegionSpec,
    dem: np.ndarray,
    los_enu: np.ndarray,
    water: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """No-data pixels of one track: foreshortening/layover and shadow, lagoons, decorrelation.

    Local incidence = incidence - slope toward the sensor; below 12 deg (strong foreshortening,
    layover-like decorrelation) or above 78 deg (grazing, shadow-like) is masked (physics notes
    section 5.1, item 4). Part of the larger salars is open water. About 1% of the remaining
    area decorrelates in patches.
    """
    gx, gy = _slopes(dem, spec.pixel_size_m)
    horizontal = los_enu[:2] / np.linalg.norm(los_enu[:2], axis=0, keepdims=True)
    slope_to_sensor = np.degrees(np.arctan(gx * horizontal[0] + gy * horizontal[1]))
    incidence = np.degrees(np.arccos(np.clip(los_enu[2], -1, 1)))
    local = incidence - slope_to_sensor
    mask = (local < 12.0) | (local > 78.0)
    mask |= water
    patches = gaussian_random_field(dem.shape, spec.pixel_size_m, "exponential", 1.0, 1500.0, rng)
    mask |= patches > 2.4
    return mask


def _track_dates(rng: np.random.Generator) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp("2014-10-01") + pd.Timedelta(days=int(rng.integers(0, 150)))
    return start, start + pd.Timedelta(days=int(rng.uniform(4.6, 5.4) * 365.25))


def generate_demo_region(root: Path, spec: DemoRegionSpec) -> None:
    """Write the complete synthetic stand-in region into ``root`` (data contract of DESIGN.md)."""
    root = Path(root)
    grid = spec.grid
    log.info(
        "demo region: %d x %d px at %.0f m, seed %d -> %s",
        *grid.shape,
        spec.pixel_size_m,
        spec.seed,
        root,
    )
    volcanoes = place_volcanoes(spec)
    lakes = salt_lake_masks(spec)
    dem = synthetic_dem_m(spec, volcanoes, lakes)
    creep = downslope_creep_enu_mm_yr(spec, dem)
    lake_up = salt_lake_uplift_mm_yr(spec, lakes)
    volcanic, radii = volcanic_enu_mm_yr(spec, volcanoes)
    water = lagoon_mask(spec, lakes)
    ground_enu = volcanic + creep
    ground_enu[2] += lake_up
    write_geotiff(root / "dem.tif", dem, grid, ["elevation_m"], units="m")

    track_rows, ifg_rows = [], []
    for index, (track_id, pass_direction, col0) in enumerate(DEMO_TRACKS):
        rng = _stream(spec, 100 + index)
        cols = slice(col0, col0 + spec.track_width_px)
        track_grid = Grid(
            grid.crs, grid.window_transform(0, col0), (spec.rows, spec.track_width_px)
        )
        heading = HEADING_DEG[pass_direction] + rng.normal(0.0, 0.3)
        incidence = np.broadcast_to(
            track_incidence_deg(
                pass_direction, spec.track_width_px, rng.uniform(*INCIDENCE_NEAR_RANGE_DEG)
            ),
            track_grid.shape,
        )
        los_enu = np.moveaxis(los_unit_vector(incidence, heading), -1, 0).astype(np.float32)
        sub_dem = dem[:, cols]
        deformation = project_enu_to_los(*ground_enu[:, :, cols], np.moveaxis(los_enu, 0, -1))
        # Residual stratified troposphere: k (h - h_ref), k ~ N(0, 1 mm/yr/km) with smooth drift.
        gradient = rng.normal(0.0, 1.0) + gaussian_random_field(
            track_grid.shape, spec.pixel_size_m, "gaussian", 0.3**2, 60_000.0, rng
        )
        stratified = gradient * (sub_dem - np.median(sub_dem)) / 1000.0
        turbulence_std = 0.8 if pass_direction == "ascending" else 0.5
        turbulence = gaussian_random_field(
            track_grid.shape,
            spec.pixel_size_m,
            "exponential",
            turbulence_std**2,
            rng.uniform(8e3, 2e4),
            rng,
        )
        velocity = (deformation + stratified + turbulence).astype(np.float32)
        nodata = missing_mask(spec, sub_dem, los_enu, water[:, cols], rng)
        velocity[nodata] = np.nan
        los_enu[:, nodata] = np.nan
        write_geotiff(
            root / "velocity" / f"{track_id}.tif",
            velocity,
            track_grid,
            ["los_velocity_mm_yr"],
            "mm/yr",
        )
        write_geotiff(
            root / "los" / f"{track_id}.tif",
            los_enu,
            track_grid,
            ["east", "north", "up"],
            "unit vector",
        )
        start, end = _track_dates(rng)
        track_rows.append(
            {
                "track_id": track_id,
                "pass": pass_direction,
                "velocity": f"velocity/{track_id}.tif",
                "los": f"los/{track_id}.tif",
                "start": start.date().isoformat(),
                "end": end.date().isoformat(),
                "heading_deg": round(heading, 3),
                "missing_fraction": round(float(nodata.mean()), 4),
            }
        )
        ifg_rows += _write_interferograms(
            root, spec, track_id, pass_direction, track_grid, sub_dem, nodata, start, end, rng
        )
        log.info("track %s (%s): %.1f%% missing", track_id, pass_direction, 100 * nodata.mean())

    pd.DataFrame(track_rows).to_csv(root / "tracks.csv", index=False)
    pd.DataFrame(ifg_rows).to_csv(root / "interferograms.csv", index=False)
    _write_catalogue(root, spec, grid, volcanoes, radii)
    _write_polygons(root, spec, grid, lakes)


def _write_interferograms(
    root: Path,
    spec: DemoRegionSpec,
    track_id: str,
    pass_direction: str,
    grid: Grid,
    dem: np.ndarray,
    nodata: np.ndarray,
    start: pd.Timestamp,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> list[dict[str, str]]:
    """Unwrapped 12-day interferograms (mm) of a track: turbulent APS + stratified term + noise.

    Turbulence: exponential covariance, range 2-12 km, std 6-14 mm ascending and 3-7 mm
    descending (single S1 interferograms, physics notes section 1); stratified delay
    k (h - mean h) with k ~ N(0, 4 mm/km) (Parker et al. 2015); 1 mm white noise.
    """
    size = spec.interferogram_size_px
    rows = []
    low, high = (6.0, 14.0) if pass_direction == "ascending" else (3.0, 7.0)
    for i in range(spec.interferograms_per_track):
        r0 = int(rng.integers(0, grid.shape[0] - size))
        c0 = int(rng.integers(0, grid.shape[1] - size))
        window = (slice(r0, r0 + size), slice(c0, c0 + size))
        model = "exponential" if i % 3 else "spherical"
        range_m = rng.uniform(2e3, 12e3) * (1.0 if model == "exponential" else 2.5)
        aps = gaussian_random_field(
            (size, size), spec.pixel_size_m, model, rng.uniform(low, high) ** 2, range_m, rng
        )
        dem_w = dem[window]
        ifg = (
            aps
            + rng.normal(0.0, 4.0) * (dem_w - dem_w.mean()) / 1000.0
            + rng.normal(0.0, 1.0, aps.shape)
        )
        ifg[nodata[window]] = np.nan
        date1 = start + pd.Timedelta(days=12 * int(rng.integers(0, 100)))
        date2 = date1 + pd.Timedelta(days=12)
        rel = f"interferograms/{track_id}_{date1:%Y%m%d}_{date2:%Y%m%d}.tif"
        write_geotiff(
            root / rel,
            ifg,
            Grid(grid.crs, grid.window_transform(r0, c0), (size, size)),
            ["unwrapped_mm"],
            "mm",
        )
        rows.append(
            {
                "path": rel,
                "track_id": track_id,
                "pass": pass_direction,
                "date1": date1.date().isoformat(),
                "date2": date2.date().isoformat(),
            }
        )
    return rows


def _rowcol_to_lonlat(
    grid: Grid, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    x, y = grid.transform @ (np.asarray(cols, np.float64) + 0.5, np.asarray(rows, np.float64) + 0.5)
    transformer = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _write_catalogue(
    root: Path, spec: DemoRegionSpec, grid: Grid, volcanoes: list[Volcano], radii: dict[str, float]
) -> None:
    rows = np.array([v.row for v in volcanoes])
    cols = np.array([v.col for v in volcanoes])
    lon, lat = _rowcol_to_lonlat(grid, rows, cols)
    table = pd.DataFrame(
        {
            "name": [v.name for v in volcanoes],
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "deforming": [int(v.deforming) for v in volcanoes],
            "deformation_radius_km": [round(radii.get(v.name, 0.0), 2) for v in volcanoes],
            "rate_mm_yr": [v.rate_mm_yr for v in volcanoes],
            "source_type": [v.source_type for v in volcanoes],
            "source_depth_km": [v.depth_km for v in volcanoes],
        }
    )
    # Footprints are centred on the volcano; sources sit up to 2 km off the summit, so widen by that.
    table.loc[table.deforming == 1, "deformation_radius_km"] += 2.0
    table.to_csv(root / "volcanoes.csv", index=False)
    x, y = lonlat_to_grid_xy(grid, lon, lat)
    assert np.allclose(~grid.transform @ (x, y), (cols + 0.5, rows + 0.5), atol=1e-3)


def _polygon_lonlat(grid: Grid, ring_rows: np.ndarray, ring_cols: np.ndarray) -> list[list[float]]:
    lon, lat = _rowcol_to_lonlat(grid, ring_rows, ring_cols)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def _write_polygons(root: Path, spec: DemoRegionSpec, grid: Grid, lakes: list[np.ndarray]) -> None:
    import rasterio.features

    row0, row1, col0, col1 = _roi_bounds_px(spec)
    edge = np.linspace(0.0, 1.0, 33)
    ring_rows = np.concatenate(
        [
            np.full(33, row0),
            row0 + (row1 - row0) * edge,
            np.full(33, row1),
            row1 - (row1 - row0) * edge,
        ]
    )
    ring_cols = np.concatenate(
        [
            col0 + (col1 - col0) * edge,
            np.full(33, col1),
            col1 - (col1 - col0) * edge,
            np.full(33, col0),
        ]
    )
    # Pixel-corner coordinates: shift by -0.5 because _rowcol_to_lonlat adds half a pixel.
    roi = {
        "type": "Feature",
        "properties": {"name": "demo region of interest"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [_polygon_lonlat(grid, ring_rows - 0.5, ring_cols - 0.5)],
        },
    }
    (root / "roi.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [roi]}))
    features = []
    for i, lake in enumerate(lakes):
        for geom, _ in rasterio.features.shapes(
            lake.astype(np.uint8), mask=lake, transform=Affine.identity()
        ):
            ring = np.asarray(geom["coordinates"][0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": f"Salar Demo {i + 1}"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [_polygon_lonlat(grid, ring[:, 1] - 0.5, ring[:, 0] - 0.5)],
                    },
                }
            )
    (root / "salt_lakes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
