"""Background (slope-induced-signal) patches from outside the region of interest (paper 3.1).

Each track's velocity map is tiled without overlap; a tile is kept when it does not touch the
ROI, has less than the allowed share of missing values, does not touch a deforming volcano's
footprint and, optionally, is not dominated by a salt lake (``salt_lakes.geojson``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from volcdet.core.errors import RegionError
from volcdet.data.patches import salt_lake_mask
from volcdet.data.rasters import check_pixel_size, georef_columns, read_raster
from volcdet.data.region import Region, geometry_to_grid_crs, lonlat_to_grid_xy
from volcdet.data.stores import create_store, write_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackgroundSpec:
    """Tile size and the selection thresholds (paper: 256 px, < 30% missing)."""

    size_px: int = 256
    pixel_size_m: float = 200.0
    max_missing_fraction: float = 0.30
    max_salt_lake_fraction: float | None = None


def build_background_patches(
    region: Region, spec: BackgroundSpec, array_path: Path, table_path: Path
) -> pd.DataFrame:
    """Select background tiles on every track and write their store (cumulative LOS mm)."""
    if spec.max_salt_lake_fraction is not None and region.salt_lakes_lonlat is None:
        raise RegionError(
            f"{region.root / 'salt_lakes.geojson'}: file not found, but background.max_salt_lake_fraction is set"
        )
    kept: list[tuple[np.ndarray, dict]] = []
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
        for r0 in range(0, grid.shape[0] - size + 1, size):
            for c0 in range(0, grid.shape[1] - size + 1, size):
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
                if lake_mask is not None and lake_fraction > spec.max_salt_lake_fraction:
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
