"""Write the embedded demo region (a stand-in for real data) in the data contract.

It is an independent test of the method: nothing here calls the training simulator. Layout
(``layout``), terrain (``terrain``), deformation shapes (``shapes``, ``volcanoes``), confounders
(``confounders``), per-acquisition atmosphere (``atmosphere_series``) and the least-squares
velocity of each track's time series (``timeseries``) are the demo's own code; every component
and its numbers are in ``docs/demo_region.md``. Each component draws from its own seeded stream,
so the same spec gives byte-identical rasters and tables.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.core.los import project_enu_to_los
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.data.region import lonlat_to_grid_xy
from volcdet.demo.atmosphere_series import (
    STRATIFIED_DRIFT_MM_PER_KM_YR,
    TurbulenceScreens,
    draw_epoch_atmosphere,
)
from volcdet.demo.confounders import (
    confounder_rate_enu,
    downslope_creep_enu_mm_yr,
    salt_lake_masks,
    salt_lake_uplift_mm_yr,
)
from volcdet.demo.fields import fractal_field
from volcdet.demo.geometry import lagoon_mask, missing_mask, track_los
from volcdet.demo.layout import Layout, build_layout
from volcdet.demo.spec import DEMO_TRACKS, DemoRegionSpec, Stream
from volcdet.demo.terrain import synthetic_dem_m
from volcdet.demo.timeseries import (
    SeparableTerm,
    TrackSeries,
    acquisition_dates,
    years_since,
)

log = logging.getLogger(__name__)

#: Side of the reference window of each track (px): ~3 km, as a LiCSBAS reference area.
REFERENCE_PX = 15
#: Std of the decorrelation (phase) noise of one interferogram (mm): white, per pair, so it
#: belongs to the interferogram, not to the acquisitions (Zebker & Villasenor 1992).
DECORRELATION_NOISE_MM = 2.0


@dataclass(frozen=True)
class Scene:
    """Everything shared by the tracks: layout, DEM, ground motion (ENU mm/yr), open water."""

    layout: Layout
    dem_m: np.ndarray
    ground_enu_mm_yr: np.ndarray
    water: np.ndarray | None
    lakes: list[np.ndarray]


def build_scene(spec: DemoRegionSpec) -> Scene:
    """Place everything, build the DEM and sum every ground motion on the master grid."""
    layout = build_layout(spec)
    dem = synthetic_dem_m(spec, layout)
    ground = layout.volcanic_enu_mm_yr.copy()
    ground += confounder_rate_enu(spec, layout.confounders, dem)
    ground += downslope_creep_enu_mm_yr(spec, dem, spec.stream(Stream.CREEP))
    ground[2] += salt_lake_uplift_mm_yr(spec, layout.confounders, spec.stream(Stream.SALT_LAKES))
    lakes = salt_lake_masks(spec, layout.confounders)
    return Scene(layout, dem, ground, lagoon_mask(lakes), lakes)


def _track_period(rng: np.random.Generator) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Stack period: starts in the first months of Sentinel-1 (late 2014), lasts 4.6-5.4 yr."""
    start = pd.Timestamp("2014-10-01") + pd.Timedelta(days=int(rng.integers(0, 150)))
    return start, start + pd.Timedelta(days=int(rng.uniform(4.6, 5.4) * DAYS_PER_YEAR))


def _reference_window(valid: np.ndarray, rng: np.random.Generator) -> tuple[slice, slice]:
    """A REFERENCE_PX window with >= 90% valid pixels at a random place (LiCSBAS-style reference)."""
    rows, cols = valid.shape
    for _ in range(200):
        r, c = int(rng.integers(0, rows - REFERENCE_PX)), int(rng.integers(0, cols - REFERENCE_PX))
        window = (slice(r, r + REFERENCE_PX), slice(c, c + REFERENCE_PX))
        if valid[window].mean() >= 0.9:
            return window
    raise RuntimeError("no valid reference window found on a demo track")


def track_series(
    spec: DemoRegionSpec, scene: Scene, index: int, pass_direction: str, col0: int
) -> tuple[TrackSeries, np.ndarray, dict[str, Any], pd.DatetimeIndex]:
    """(time series, LOS vectors, tracks.csv extras, acquisition dates) of one track."""
    rng = spec.stream(Stream.TRACK, index)
    shape = (spec.rows, spec.track_width_px)
    cols = slice(col0, col0 + spec.track_width_px)
    los, heading = track_los(pass_direction, shape, rng)
    start, end = _track_period(rng)
    dates = acquisition_dates(start, end, spec.epochs_per_track, rng)
    times = years_since(dates, dates[0])
    east, north, up = scene.ground_enu_mm_yr[:, :, cols]
    ground = project_enu_to_los(east, north, up, np.moveaxis(los, 0, -1))

    atmosphere_rng = spec.stream(Stream.ATMOSPHERE_TRACK, index)
    params = draw_epoch_atmosphere(dates, times, pass_direction, atmosphere_rng)
    dem = scene.dem_m[:, cols]
    relief_km = (dem - np.float32(np.median(dem))) / np.float32(1000.0)
    drift = STRATIFIED_DRIFT_MM_PER_KM_YR * fractal_field(
        shape, spec.pixel_size_m, 4.0, atmosphere_rng, outer_scale_m=60_000.0
    )
    east, north = spec.east_north_m(cols=cols)
    east_100km = np.broadcast_to((east - east.mean()) / 1e5, shape).astype(np.float32)
    north_100km = np.broadcast_to((north - north.mean()) / 1e5, shape).astype(np.float32)
    terms = (
        SeparableTerm("ground", ground.astype(np.float32), times),
        SeparableTerm("stratified", relief_km, params.stratified_mm_per_km),
        SeparableTerm(
            "stratified_trend",
            ((params.stratified_trend_mm_per_km_yr + drift) * relief_km).astype(np.float32),
            times - times.mean(),
        ),
        SeparableTerm("ramp_east", east_100km, params.ramp_east_mm_per_100km),
        SeparableTerm("ramp_north", north_100km, params.ramp_north_mm_per_100km),
    )
    water = None if scene.water is None else scene.water[:, cols]
    valid = ~missing_mask(dem, los, water, spec.pixel_size_m, spec.stream(Stream.MISSING, index))
    reference = _reference_window(valid, rng)
    screens = TurbulenceScreens(
        shape,
        spec.pixel_size_m,
        params,
        spec.seed,
        index,
    )
    series = TrackSeries(times, terms, screens, valid, reference)
    extras = {
        "start": dates[0].date().isoformat(),
        "end": dates[-1].date().isoformat(),
        "heading_deg": round(heading, 3),
        "acquisitions": len(dates),
        "missing_fraction": round(float(1.0 - valid.mean()), 4),
        "reference_row": reference[0].start + REFERENCE_PX // 2,
        "reference_col": reference[1].start + REFERENCE_PX // 2,
    }
    return series, los, extras, dates


def generate_demo_region(root: Path, spec: DemoRegionSpec) -> None:
    """Write the complete demo region into ``root`` (data contract of docs/data_contract.md)."""
    root = Path(root)
    grid = spec.grid
    log.info(
        "demo region: %d x %d px at %.0f m, seed %d, %d acquisitions per track -> %s",
        *grid.shape,
        spec.pixel_size_m,
        spec.seed,
        spec.epochs_per_track,
        root,
    )
    scene = build_scene(spec)
    layout = scene.layout
    log.info(
        "%d deforming volcanoes (lattice spacing %d px), %d quiet, %d confounders",
        sum(v.deforming for v in layout.volcanoes),
        layout.lattice.spacing_px,
        sum(not v.deforming for v in layout.volcanoes),
        len(layout.confounders),
    )
    write_geotiff(root / "dem.tif", scene.dem_m, grid, ["elevation_m"], units="m")
    track_rows, ifg_rows = [], []
    for index, ((track_id, pass_direction), col0) in enumerate(
        zip(DEMO_TRACKS, spec.track_offsets_px(), strict=True)
    ):
        track_grid = Grid(
            grid.crs, grid.window_transform(0, col0), (spec.rows, spec.track_width_px)
        )
        series, los, extras, dates = track_series(spec, scene, index, pass_direction, col0)
        velocity = series.velocity()
        los[:, ~series.valid] = np.nan
        write_geotiff(
            root / "velocity" / f"{track_id}.tif",
            velocity,
            track_grid,
            ["los_velocity_mm_yr"],
            "mm/yr",
        )
        write_geotiff(
            root / "los" / f"{track_id}.tif",
            los,
            track_grid,
            ["east", "north", "up"],
            "unit vector",
        )
        track_rows.append(
            {
                "track_id": track_id,
                "pass": pass_direction,
                "velocity": f"velocity/{track_id}.tif",
                "los": f"los/{track_id}.tif",
                **extras,
            }
        )
        ifg_rows += _write_interferograms(
            root, spec, index, track_id, pass_direction, track_grid, series, dates
        )
        log.info(
            "track %s (%s): %d acquisitions, %.1f%% missing",
            track_id,
            pass_direction,
            len(dates),
            100 * extras["missing_fraction"],
        )
    pd.DataFrame(track_rows).to_csv(root / "tracks.csv", index=False)
    pd.DataFrame(ifg_rows).to_csv(root / "interferograms.csv", index=False)
    _write_catalogue(root, grid, layout)
    _write_confounders(root, grid, layout)
    _write_polygons(root, grid, layout, scene.lakes)


def _write_interferograms(
    root: Path,
    spec: DemoRegionSpec,
    index: int,
    track_id: str,
    pass_direction: str,
    grid: Grid,
    series: TrackSeries,
    dates: pd.DatetimeIndex,
) -> list[dict[str, str]]:
    """Interferograms of consecutive acquisitions of the track's own series, cropped windows.

    Each is epoch(i + 1) - epoch(i) of the series plus its own white decorrelation noise.
    """
    rng = spec.stream(Stream.INTERFEROGRAMS, index)
    size = spec.interferogram_size_px
    rows = []
    pairs = rng.choice(
        len(dates) - 1, size=min(spec.interferograms_per_track, len(dates) - 1), replace=False
    )
    for i in sorted(int(p) for p in pairs):
        window = None
        for _ in range(50):
            r0 = int(rng.integers(0, grid.shape[0] - size + 1))
            c0 = int(rng.integers(0, grid.shape[1] - size + 1))
            candidate = (slice(r0, r0 + size), slice(c0, c0 + size))
            if series.valid[candidate].mean() >= 0.8:
                window = candidate
                break
        if window is None:
            continue
        ifg = series.interferogram(i, i + 1)[window]
        ifg += rng.normal(0.0, DECORRELATION_NOISE_MM, ifg.shape).astype(np.float32)
        date1, date2 = dates[i], dates[i + 1]
        rel = f"interferograms/{track_id}_{date1:%Y%m%d}_{date2:%Y%m%d}.tif"
        write_geotiff(
            root / rel,
            ifg,
            Grid(grid.crs, grid.window_transform(window[0].start, window[1].start), (size, size)),
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
                "epoch1": i,
                "epoch2": i + 1,
                "row0": window[0].start,
                "col0": window[1].start,
            }
        )
    return rows


def rowcol_to_lonlat(
    grid: Grid, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of fractional pixel positions (pixel centres at integer positions)."""
    from pyproj import Transformer

    x, y = grid.transform @ (  # type: ignore[operator]  # Affine maps arrays element-wise
        np.asarray(cols, np.float64) + 0.5,
        np.asarray(rows, np.float64) + 0.5,
    )
    transformer = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _in_roi(layout: Layout, row: float, col: float) -> bool:
    row0, row1, col0, col1 = layout.roi_px
    return bool(row0 <= row < row1 and col0 <= col < col1)


def _write_catalogue(root: Path, grid: Grid, layout: Layout) -> None:
    volcanoes = layout.volcanoes
    rows = np.array([v.row for v in volcanoes])
    cols = np.array([v.col for v in volcanoes])
    lon, lat = rowcol_to_lonlat(grid, rows, cols)
    table = pd.DataFrame(
        {
            "name": [v.name for v in volcanoes],
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "deforming": [int(v.deforming) for v in volcanoes],
            "deformation_radius_km": [
                round(layout.footprints_km.get(v.name, 0.0), 2) for v in volcanoes
            ],
            "shape": [v.source.shape if v.source else "" for v in volcanoes],
            "sense": [v.source.sense_name if v.source else "" for v in volcanoes],
            "peak_rate_mm_yr": [v.source.peak_rate_mm_yr if v.source else 0.0 for v in volcanoes],
            "source_depth_km": [v.source.depth_m / 1000 if v.source else 0.0 for v in volcanoes],
            "in_roi": [int(_in_roi(layout, v.row, v.col)) for v in volcanoes],
        }
    )
    table.to_csv(root / "volcanoes.csv", index=False)
    x, y = lonlat_to_grid_xy(grid, table.lon.to_numpy(), table.lat.to_numpy())
    back_col, back_row = ~grid.transform @ (x, y)
    if not np.allclose([back_row, back_col], [rows + 0.5, cols + 0.5], atol=0.01):
        raise RuntimeError("volcano catalogue does not round-trip through lon/lat")


def _write_confounders(root: Path, grid: Grid, layout: Layout) -> None:
    confounders = layout.confounders
    lon, lat = rowcol_to_lonlat(
        grid, np.array([c.row for c in confounders]), np.array([c.col for c in confounders])
    )
    pd.DataFrame(
        {
            "name": [c.name for c in confounders],
            "kind": [c.kind for c in confounders],
            "lon": np.round(lon, 5),
            "lat": np.round(lat, 5),
            "radius_km": [c.radius_km for c in confounders],
            "rate_mm_yr": [c.rate_mm_yr for c in confounders],
            "in_roi": [int(c.in_roi) for c in confounders],
        }
    ).to_csv(root / "confounders.csv", index=False)


def _polygon_lonlat(grid: Grid, ring_rows: np.ndarray, ring_cols: np.ndarray) -> list[list[float]]:
    lon, lat = rowcol_to_lonlat(grid, ring_rows, ring_cols)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def _write_polygons(root: Path, grid: Grid, layout: Layout, lakes: list[np.ndarray]) -> None:
    import rasterio.features

    row0, row1, col0, col1 = layout.roi_px
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
    # Pixel-corner coordinates: shift by -0.5 because rowcol_to_lonlat adds half a pixel.
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
    names = [c.name for c in layout.confounders if c.kind == "salt_lake"]
    for name, lake in zip(names, lakes, strict=True):
        for geom, _ in rasterio.features.shapes(
            lake.astype(np.uint8), mask=lake, transform=Affine.identity()
        ):
            ring = np.asarray(geom["coordinates"][0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": name},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [_polygon_lonlat(grid, ring[:, 1] - 0.5, ring[:, 0] - 0.5)],
                    },
                }
            )
    (root / "salt_lakes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
