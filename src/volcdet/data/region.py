"""The region data contract (DESIGN.md): loading and validation with one-line errors.

A region folder holds ``tracks.csv``, ``velocity/<track>.tif`` (LOS velocity, mm/yr),
``los/<track>.tif`` (3 bands: east, north, up of the ground-to-satellite unit vector),
``volcanoes.csv``, ``roi.geojson``, ``interferograms.csv`` + rasters, and optionally
``salt_lakes.geojson`` and ``dem.tif``. Paths inside the tables are relative to the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from volcdet.core.errors import RegionError
from volcdet.data.contract import (
    INTERFEROGRAM_COLUMNS,
    PASSES,
    TRACK_COLUMNS,
    VOLCANO_COLUMNS,
    period_yr_between,
    track_id_problem,
)
from volcdet.data.rasters import (
    Grid,
    check_pixel_size,
    check_same_grid,
    probe_raster,
    read_los_on_grid,
    read_raster,
)
from volcdet.data.tables import read_csv_table


@dataclass(frozen=True)
class Track:
    """One satellite track of the region: its velocity map, LOS raster and stack period."""

    track_id: str
    pass_direction: str
    velocity_path: Path
    los_path: Path
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def period_yr(self) -> float:
        """Length of the velocity stack in years (velocity x period = cumulative displacement)."""
        return period_yr_between(self.start, self.end)


@dataclass(frozen=True)
class Region:
    """A validated region: tracks, volcano catalogue, ROI and optional masks (all paths absolute)."""

    root: Path
    tracks: tuple[Track, ...]
    volcanoes: pd.DataFrame
    roi_lonlat: BaseGeometry
    interferograms: pd.DataFrame
    salt_lakes_lonlat: BaseGeometry | None

    def track(self, track_id: str) -> Track:
        """The track with this id (KeyError naming the id otherwise)."""
        for track in self.tracks:
            if track.track_id == track_id:
                return track
        raise KeyError(f"track {track_id!r} not in {self.root / 'tracks.csv'}")


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise RegionError(f"{path}: file not found")
    table = read_csv_table(path, columns, RegionError)
    if table.empty:
        raise RegionError(f"{path}: table has no rows")
    return table


def _parse_dates(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    try:
        return pd.to_datetime(table[column], format="ISO8601")
    except (ValueError, TypeError) as err:
        raise RegionError(
            f"{path}: column {column!r} holds a value that is not a date ({err})"
        ) from err


def _check_pass(values: pd.Series, path: Path) -> None:
    bad = sorted(set(values) - set(PASSES))
    if bad:
        raise RegionError(f"{path}: pass must be ascending|descending, got {bad}")


def read_geometry_lonlat(path: Path) -> BaseGeometry:
    """Union of the polygons of a GeoJSON file (lon/lat, RFC 7946)."""
    if not path.is_file():
        raise RegionError(f"{path}: file not found")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RegionError(f"{path}: not valid JSON ({err})") from err
    if doc.get("type") == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in doc.get("features", []) if f.get("geometry")]
    elif doc.get("type") == "Feature":
        geoms = [shape(doc["geometry"])]
    else:
        try:
            geoms = [shape(doc)]
        except (KeyError, ValueError, AttributeError) as err:
            raise RegionError(f"{path}: not a GeoJSON geometry ({err})") from err
    polygons = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise RegionError(f"{path}: holds no Polygon or MultiPolygon")
    merged = shapely.union_all(polygons)
    bounds = merged.bounds
    if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
        raise RegionError(f"{path}: coordinates are not lon/lat degrees (GeoJSON is EPSG:4326)")
    return merged


def _check_track_ids(table: pd.DataFrame, path: Path) -> None:
    """Track ids become folder and file names: only letters, digits, ``_`` and ``-``."""
    ids = table["track_id"].astype(str)
    problems = [track_id_problem(track_id) for track_id in ids]
    bad = [problem for problem in problems if problem]
    if bad:
        raise RegionError(f"{path}: {bad[0]}")
    if ids.duplicated().any():
        raise RegionError(f"{path}: duplicate track_id {list(ids[ids.duplicated()])}")


def _check_interferogram_passes(
    interferograms: pd.DataFrame, tracks: list[Track], path: Path
) -> None:
    """An interferogram listed under a track of the region must share that track's pass."""
    passes = {track.track_id: track.pass_direction for track in tracks}
    for row in interferograms.to_dict("records"):
        expected = passes.get(str(row["track_id"]))
        if expected is not None and row["pass"] != expected:
            raise RegionError(
                f"{path}: {row['path']} is listed as {row['pass']} but its track "
                f"{row['track_id']} is {expected} in tracks.csv"
            )


def load_region(root: Path, check_rasters: bool = True) -> Region:
    """Load and validate a region folder; RegionError names the first broken file and why.

    Track ids must be safe names (``volcdet.core.names``) and interferograms share their
    track's pass. With ``check_rasters`` every velocity and LOS raster is read: CRS present and
    projected in metres, square pixels, velocity 1 band and not all NaN, LOS 3 bands on the
    velocity's grid with unit-norm vectors.
    """
    root = Path(root)
    if not root.is_dir():
        raise RegionError(f"{root}: region folder not found")
    tracks_csv = root / "tracks.csv"
    table = _read_table(tracks_csv, TRACK_COLUMNS)
    _check_pass(table["pass"], tracks_csv)
    _check_track_ids(table, tracks_csv)
    starts, ends = _parse_dates(table, "start", tracks_csv), _parse_dates(table, "end", tracks_csv)
    tracks = []
    for row, start, end in zip(table.to_dict("records"), starts, ends, strict=True):
        if end <= start:
            raise RegionError(
                f"{tracks_csv}: track {row['track_id']}: end {end.date()} is not after start"
            )
        track = Track(
            str(row["track_id"]),
            str(row["pass"]),
            root / str(row["velocity"]),
            root / str(row["los"]),
            start,
            end,
        )
        if check_rasters:
            check_track_rasters(track)
        else:
            for path in (track.velocity_path, track.los_path):
                if not path.is_file():
                    raise RegionError(f"{path}: file not found (listed in {tracks_csv})")
        tracks.append(track)

    volcanoes_csv = root / "volcanoes.csv"
    volcanoes = _read_table(volcanoes_csv, VOLCANO_COLUMNS)
    if not volcanoes["deforming"].isin([0, 1]).all():
        raise RegionError(f"{volcanoes_csv}: column 'deforming' must hold 0 or 1")
    for column, low, high in (("lon", -180, 180), ("lat", -90, 90)):
        values = pd.to_numeric(volcanoes[column], errors="coerce")
        if values.isna().any() or not values.between(low, high).all():
            raise RegionError(
                f"{volcanoes_csv}: column {column!r} must be degrees in [{low}, {high}]"
            )
    radius = pd.to_numeric(volcanoes["deformation_radius_km"], errors="coerce").fillna(0.0)
    if (radius < 0).any():
        raise RegionError(f"{volcanoes_csv}: deformation_radius_km must be >= 0")
    volcanoes = volcanoes.assign(
        deformation_radius_km=radius, deforming=volcanoes.deforming.astype(int)
    )

    ifg_csv = root / "interferograms.csv"
    interferograms = _read_table(ifg_csv, INTERFEROGRAM_COLUMNS)
    _check_pass(interferograms["pass"], ifg_csv)
    _check_interferogram_passes(interferograms, tracks, ifg_csv)
    for rel in interferograms["path"]:
        if not (root / str(rel)).is_file():
            raise RegionError(f"{root / str(rel)}: file not found (listed in {ifg_csv})")

    salt_path = root / "salt_lakes.geojson"
    return Region(
        root=root,
        tracks=tuple(tracks),
        volcanoes=volcanoes,
        roi_lonlat=read_geometry_lonlat(root / "roi.geojson"),
        interferograms=interferograms,
        salt_lakes_lonlat=read_geometry_lonlat(salt_path) if salt_path.is_file() else None,
    )


def check_projected_grid(grid: Grid, path: Path) -> None:
    """RegionError unless a grid is in a projected CRS with square north-up pixels."""
    if not grid.crs.is_projected:
        raise RegionError(
            f"{path}: CRS {grid.crs.to_string()} is geographic; reproject the region to a "
            "projected CRS in metres (e.g. UTM) at pixel_size_m, or bring it in with "
            "`volcdet region import`"
        )
    if (
        not np.isclose(abs(grid.transform.a), abs(grid.transform.e), rtol=1e-6)
        or grid.transform.b
        or grid.transform.d
    ):
        raise RegionError(f"{path}: pixels must be square and north-up")


def check_unit_vectors(los: np.ndarray, path: Path) -> None:
    """RegionError unless every finite LOS vector (bands first) has norm 1 within 1%."""
    norm = np.sqrt(np.nansum(los**2, axis=0))[np.isfinite(los).all(axis=0)]
    if norm.size and np.abs(norm - 1.0).max() > 1e-2:
        raise RegionError(
            f"{path}: LOS vectors are not unit vectors (|e| from {norm.min():.3f} to "
            f"{norm.max():.3f})"
        )


def check_track_rasters(
    track: Track, pixel_size_m: float | None = None, sample_only: bool = False
) -> Grid:
    """Validate a track's velocity and LOS rasters against each other; return their grid.

    ``sample_only`` reads headers and two small windows (``probe_raster``) instead of every pixel.
    """
    if sample_only:
        grid, _ = probe_raster(track.velocity_path, expected_bands=1)
    else:
        _, grid = read_raster(track.velocity_path, expected_bands=1)
    check_projected_grid(grid, track.velocity_path)
    if pixel_size_m is not None:
        check_pixel_size(grid, pixel_size_m, track.velocity_path)
    if sample_only:
        los_grid, los = probe_raster(track.los_path, expected_bands=3)
        check_same_grid(track.los_path, los_grid, grid, track.velocity_path)
    else:
        los = read_los_on_grid(track.los_path, grid, track.velocity_path)
    check_unit_vectors(los, track.los_path)
    return grid


def check_region_before_run(root: Path, pixel_size_m: float) -> Region:
    """The checks a workflow makes before any job: the tables (``load_region``), then every
    raster's header (CRS, grid, bands, pixel size) and two small windows of its pixels (a file
    cut short, LOS norms), without reading whole rasters (all-NaN maps are found by the jobs)."""
    region = load_region(root, check_rasters=False)
    for track in region.tracks:
        check_track_rasters(track, pixel_size_m, sample_only=True)
    for rel in region.interferograms["path"]:
        path = region.root / str(rel)
        check_projected_grid(probe_raster(path)[0], path)
    return region


def lonlat_to_grid_xy(
    grid: Grid, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat degrees to the grid's CRS."""
    transformer = Transformer.from_crs("EPSG:4326", grid.crs.to_wkt(), always_xy=True)
    x, y = transformer.transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x), np.asarray(y)


def geometry_to_grid_crs(grid: Grid, geometry_lonlat: BaseGeometry) -> BaseGeometry:
    """Reproject a lon/lat geometry into the grid's CRS (vertex-wise)."""
    transformer = Transformer.from_crs("EPSG:4326", grid.crs.to_wkt(), always_xy=True)
    return shapely.transform(
        geometry_lonlat, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )
