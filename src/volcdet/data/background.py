"""Background (slope-induced-signal) patches from outside the region of interest (paper 3.1).

Each track's velocity map is tiled at ``stride_px`` (the tile size by default: no overlap, as in
the paper; a smaller stride, not in the paper, gives more tiles from a small region); a tile is
kept when it does not touch the ROI, has less than the allowed share of missing values, does not
touch a deforming volcano's footprint and, optionally, is not dominated by a salt lake
(``salt_lakes.geojson``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point, box

from volcdet.core.errors import RegionError, VolcdetError
from volcdet.core.random import Purpose, stream
from volcdet.data.patches import salt_lake_mask
from volcdet.data.rasters import check_pixel_size, georef_columns, georef_from_row, read_raster
from volcdet.data.region import Region, geometry_to_grid_crs, lonlat_to_grid_xy
from volcdet.data.stores import create_store, write_table

log = logging.getLogger(__name__)

#: The fine-tuning ``group`` of simulated samples; background samples carry their tile's ground
#: cell (``tile_ground_cells``), so a split by group keeps the same ground on one side.
SIMULATED_GROUP = "simulated"


@dataclass(frozen=True)
class BackgroundSpec:
    """Tile size and the selection thresholds (paper: 256 px, < 30% missing); the pixel size is
    required, by keyword."""

    size_px: int = 256
    pixel_size_m: float = field(kw_only=True)
    max_missing_fraction: float = 0.30
    max_salt_lake_fraction: float | None = None
    stride_px: int | None = None


def build_background_patches(
    region: Region, spec: BackgroundSpec, array_path: Path, table_path: Path
) -> pd.DataFrame:
    """Select background tiles on every track and write their store (cumulative LOS mm)."""
    if spec.max_salt_lake_fraction is not None and region.salt_lakes_lonlat is None:
        raise RegionError(
            f"{region.root / 'salt_lakes.geojson'}: file not found, but background.max_salt_lake_fraction is set"
        )
    kept: list[tuple[np.ndarray, dict[str, object]]] = []
    size = spec.size_px
    for track in region.tracks:
        velocity, grid = read_raster(track.velocity_path, expected_bands=1)
        check_pixel_size(grid, spec.pixel_size_m, track.velocity_path)
        roi = geometry_to_grid_crs(grid, region.roi_lonlat)
        deforming = region.volcanoes[region.volcanoes.deforming == 1]
        vx, vy = lonlat_to_grid_xy(grid, deforming.lon.to_numpy(), deforming.lat.to_numpy())
        footprints = [
            Point(x, y).buffer(r * 1000.0)
            for x, y, r in zip(vx, vy, deforming.deformation_radius_km, strict=True)
            if r > 0
        ]
        lake_mask = (
            salt_lake_mask(region, grid) if spec.max_salt_lake_fraction is not None else None
        )
        step = spec.stride_px or size
        for r0 in range(0, grid.shape[0] - size + 1, step):
            for c0 in range(0, grid.shape[1] - size + 1, step):
                transform = grid.window_transform(r0, c0)
                left, top = transform @ (0, 0)
                right, bottom = transform @ (size, size)
                tile = box(min(left, right), min(top, bottom), max(left, right), max(top, bottom))
                if tile.intersects(roi) or any(tile.intersects(fp) for fp in footprints):
                    continue
                window = velocity[0, r0 : r0 + size, c0 : c0 + size]
                missing = float(np.isnan(window).mean())
                if missing >= spec.max_missing_fraction:
                    continue
                lake_fraction = (
                    float(lake_mask[r0 : r0 + size, c0 : c0 + size].mean())
                    if lake_mask is not None
                    else float("nan")
                )
                limit = spec.max_salt_lake_fraction
                if lake_mask is not None and limit is not None and lake_fraction > limit:
                    continue
                meta = {
                    "patch_id": f"{track.track_id}_r{r0:05d}c{c0:05d}",
                    "track_id": track.track_id,
                    "pass": track.pass_direction,
                    "row0": r0,
                    "col0": c0,
                    "period_yr": track.period_yr,
                    "missing_fraction": missing,
                    "salt_lake_fraction": lake_fraction,
                    **georef_columns(grid.crs, transform),
                }
                kept.append((window * track.period_yr, meta))
    if not kept:
        raise RegionError(
            f"{region.root}: no background tile outside roi.geojson passes the missing-value limit"
        )
    with create_store(array_path, len(kept), (size, size)) as out:
        for i, (window, _) in enumerate(kept):
            out[i] = window
    table = pd.DataFrame([meta for _, meta in kept])
    write_table(table_path, table, {"kind": "background_patches", "units": "mm"})
    log.info("%d background patches on %d tracks", len(table), table.track_id.nunique())
    return table


def tile_centres_m(table: pd.DataFrame, size_px: int) -> tuple[np.ndarray, float]:
    """Tile centres (n, 2) on an equirectangular plane (m) and the tile side (m).

    Equirectangular: x = R lon cos(mean lat), y = R lat with R = 6,371 km (Snyder 1987, p. 90),
    so tiles of different tracks and CRSs compare on one plane.
    """
    lonlat = np.zeros((len(table), 2))
    transformers: dict[str, Transformer] = {}
    for i, row in enumerate(table.to_dict("records")):
        crs, transform = georef_from_row(row)
        centre_x, centre_y = transform @ (size_px / 2, size_px / 2)
        if row["crs"] not in transformers:
            transformers[row["crs"]] = Transformer.from_crs(
                crs.to_wkt(), "EPSG:4326", always_xy=True
            )
        lonlat[i] = transformers[row["crs"]].transform(centre_x, centre_y)
    side_m = size_px * abs(float(table.transform_a.iloc[0])) if len(table) else 1.0
    radius_m = 6_371_000.0
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    x = radius_m * lon * np.cos(lat.mean() if len(lat) else 0.0)
    y = radius_m * lat
    return np.column_stack([x, y]), side_m


#: Side of a ground cell in tiles: overlapping tiles (``stride_px`` < size) mostly fall inside
#: one cell, so few are lost to the guard of ``fine_tuning_tiles``.
CELL_TILES = 2


def tile_ground_cells(
    table: pd.DataFrame, size_px: int, cell_tiles: int = CELL_TILES
) -> np.ndarray:
    """A ground-cell key per tile: its centre on an equirectangular grid of ``cell_tiles`` tile
    sides.

    Tiles of different tracks over the same ground share a key (the tracks overlap), so a split
    by cell keeps the same ground on one side.
    """
    centres, side_m = tile_centres_m(table, size_px)
    cells = np.floor(centres / (cell_tiles * side_m)).astype(np.int64)
    return np.array([f"{cx}_{cy}" for cx, cy in cells])


def overlaps(table: pd.DataFrame, chosen: np.ndarray, size_px: int) -> np.ndarray:
    """True for the tiles whose ground overlaps that of a chosen tile by more than a tenth of a
    side (any track; with overlapping tiles, ``background.stride_px`` < size, neighbours share
    ground; the tenth absorbs the projection's distortion between tracks)."""
    centres, side_m = tile_centres_m(table, size_px)
    out = np.zeros(len(table), bool)
    for centre in centres[chosen]:
        out |= (np.abs(centres - centre) < 0.9 * side_m).all(axis=1)
    return out


def fine_tuning_tiles(
    table: pd.DataFrame, holdout_fraction: float, seed: int, size_px: int
) -> np.ndarray:
    """True for the background tiles fine-tuning may use: not held out for the sensitivity
    test and sharing no ground with a held-out tile."""
    held = sensitivity_holdout(table, holdout_fraction, seed, size_px)
    return ~overlaps(table, held, size_px)


def sensitivity_holdout(
    table: pd.DataFrame, holdout_fraction: float, seed: int, size_px: int
) -> np.ndarray:
    """True for the background tiles held out for the sensitivity test, never fine-tuned on.

    Ground cells (``tile_ground_cells``) are taken in a seeded random order (stream
    (seed, 1401)) until the held-out tiles reach ``holdout_fraction`` of the store.
    """
    if not 0 < holdout_fraction < 1:
        raise VolcdetError(
            f"sensitivity.holdout_fraction = {holdout_fraction}: must lie strictly between 0 and 1"
        )
    cells = tile_ground_cells(table, size_px)
    unique = np.unique(cells)
    target = max(1, round(holdout_fraction * len(table)))
    held = np.zeros(len(table), bool)
    for cell in stream(seed, Purpose.BACKGROUND_HOLDOUT).permutation(unique):
        if held.sum() >= target:
            break
        held |= cells == cell
    if held.all():
        raise VolcdetError(
            f"sensitivity.holdout_fraction = {holdout_fraction} holds out every one of the "
            f"{len(table)} background tiles; none is left for fine-tuning"
        )
    return held
