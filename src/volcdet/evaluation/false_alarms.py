"""False alarms per 1,000 km2 of scanned map outside the catalogued deforming volcanoes.

Reads the outputs of the ``scan`` rule (``probability.tif`` and ``flagged.csv`` per track). A
flagged window is a false alarm when its square does not touch the footprint of any deforming
volcano of the catalogue (the disk of ``deformation_radius_km``, as for the test labels). The
area is the scanned part of the map (pixels that some scored window covers, i.e. finite in
``probability.tif``) outside those footprints. Three rates per 1,000 km2: flagged windows,
clusters (8-connected unions of false-alarm windows, what a user sees as separate alarms)
and the share of that area inside a false-alarm window. Reported for the whole map and for
the part inside the ROI (outside it lie the background tiles used for fine-tuning).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from volcdet.data.rasters import Grid, read_raster
from volcdet.data.region import geometry_to_grid_crs, load_region, lonlat_to_grid_xy
from volcdet.evaluation.metrics import to_markdown

log = logging.getLogger(__name__)

ZONES = ("whole map", "inside ROI")


def footprint_disks(grid: Grid, volcanoes: pd.DataFrame) -> list[BaseGeometry]:
    """Footprint disks (grid CRS) of the deforming volcanoes with a positive radius."""
    deforming = volcanoes[(volcanoes.deforming == 1) & (volcanoes.deformation_radius_km > 0)]
    x, y = lonlat_to_grid_xy(grid, deforming.lon.to_numpy(), deforming.lat.to_numpy())
    return [
        Point(px, py).buffer(r * 1000.0)
        for px, py, r in zip(x, y, deforming.deformation_radius_km, strict=True)
    ]


def footprint_mask(grid: Grid, volcanoes: pd.DataFrame) -> np.ndarray:
    """Pixels whose centre lies inside a deforming volcano's footprint."""
    deforming = volcanoes[(volcanoes.deforming == 1) & (volcanoes.deformation_radius_km > 0)]
    x, y = lonlat_to_grid_xy(grid, deforming.lon.to_numpy(), deforming.lat.to_numpy())
    cols, rows = np.meshgrid(np.arange(grid.shape[1]) + 0.5, np.arange(grid.shape[0]) + 0.5)
    px, py = grid.transform @ (cols, rows)
    mask = np.zeros(grid.shape, bool)
    for cx, cy, radius in zip(x, y, deforming.deformation_radius_km, strict=True):
        mask |= np.hypot(px - cx, py - cy) <= radius * 1000.0
    return mask


def window_box(grid: Grid, row0: int, col0: int, size_px: int) -> BaseGeometry:
    """The square of a window in the grid's CRS."""
    (x0, y0), (x1, y1) = (
        grid.transform @ (col0, row0),
        grid.transform @ (col0 + size_px, row0 + size_px),
    )
    return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def false_alarm_windows(
    flagged: pd.DataFrame, grid: Grid, disks: list[BaseGeometry]
) -> pd.DataFrame:
    """The flagged windows that touch no deforming volcano's footprint."""
    touches = [
        any(window_box(grid, r, c, s).intersects(disk) for disk in disks)
        for r, c, s in flagged[["row0", "col0", "size_px"]].itertuples(index=False)
    ]
    return flagged[~np.asarray(touches, bool)] if len(flagged) else flagged


def track_false_alarms(
    probability: np.ndarray,
    grid: Grid,
    flagged: pd.DataFrame,
    volcanoes: pd.DataFrame,
    zones: dict[str, np.ndarray],
) -> list[dict]:
    """Counts and areas of one track's false alarms, one row per zone (a boolean pixel mask)."""
    outside = np.isfinite(probability) & ~footprint_mask(grid, volcanoes)
    alarms = false_alarm_windows(flagged, grid, footprint_disks(grid, volcanoes))
    alarm_mask = np.zeros(grid.shape, bool)
    for r, c, s in alarms[["row0", "col0", "size_px"]].itertuples(index=False):
        alarm_mask[r : r + s, c : c + s] = True
    pixel_km2 = grid.pixel_size_m**2 / 1e6
    rows = []
    for zone, zone_mask in zones.items():
        centre_in_zone = [
            bool(zone_mask[min(r + s // 2, grid.shape[0] - 1), min(c + s // 2, grid.shape[1] - 1)])
            for r, c, s in alarms[["row0", "col0", "size_px"]].itertuples(index=False)
        ]
        area = outside & zone_mask
        _, clusters = ndimage.label(alarm_mask & zone_mask, structure=np.ones((3, 3), bool))
        rows.append(
            {
                "zone": zone,
                "scanned_km2": float(area.sum() * pixel_km2),
                "alarm_windows": int(sum(centre_in_zone)),
                "alarm_clusters": int(clusters),
                "alarm_km2": float((alarm_mask & area).sum() * pixel_km2),
            }
        )
    return rows


def with_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Add the per-1,000 km2 rates and the alarm share (percent) to summed counts."""
    per_1000 = 1000.0 / table.scanned_km2.where(table.scanned_km2 > 0)
    return table.assign(
        alarm_windows_per_1000_km2=(table.alarm_windows * per_1000).round(3),
        alarm_clusters_per_1000_km2=(table.alarm_clusters * per_1000).round(3),
        alarm_area_percent=(
            100 * table.alarm_km2 / table.scanned_km2.where(table.scanned_km2 > 0)
        ).round(3),
        scanned_km2=table.scanned_km2.round(1),
        alarm_km2=table.alarm_km2.round(1),
    )


def false_alarm_table(
    region_path: Path, scans: dict[str, tuple[Path, Path]], model: str
) -> pd.DataFrame:
    """Per track and zone, plus an 'all tracks' total per zone (areas add up over tracks)."""
    import rasterio.features

    region = load_region(Path(region_path), check_rasters=False)
    rows = []
    for track, (probability_path, flagged_path) in scans.items():
        probability, grid = read_raster(probability_path, expected_bands=1)
        roi = geometry_to_grid_crs(grid, region.roi_lonlat)
        zones = {
            "whole map": np.ones(grid.shape, bool),
            "inside ROI": rasterio.features.geometry_mask(
                [roi], grid.shape, grid.transform, invert=True
            ),
        }
        for row in track_false_alarms(
            probability[0], grid, pd.read_csv(flagged_path), region.volcanoes, zones
        ):
            rows.append({"model": model, "track_id": track, **row})
    table = pd.DataFrame(rows)
    totals = (
        table.groupby("zone", sort=False)[
            ["scanned_km2", "alarm_windows", "alarm_clusters", "alarm_km2"]
        ]
        .sum()
        .reset_index()
        .assign(model=model, track_id="all tracks")
    )
    return with_rates(pd.concat([table, totals], ignore_index=True)[table.columns])


def write_false_alarms(
    region_path: Path,
    scans: dict[str, tuple[Path, Path]],
    model: str,
    out_csv: Path,
    out_md: Path,
) -> pd.DataFrame:
    """Write the false-alarm table (CSV + Markdown)."""
    table = false_alarm_table(region_path, scans, model)
    table.to_csv(out_csv, index=False)
    Path(out_md).write_text(to_markdown(table))
    log.info("false alarms of the scans\n%s", to_markdown(table))
    return table
