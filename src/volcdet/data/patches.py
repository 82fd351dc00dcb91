"""Test patches: overlapping windows of every frame, labelled from deformation footprints.

Paper section 2.1: 256 px patches at a step of 64 px over 512 px frames (25 per frame, 75%
overlap). A deforming volcano's footprint is the disk of ``deformation_radius_km`` around it.

Label rule for partial footprints: with A_fp the footprint area, A_p the patch area and A_o
their overlap, a patch is positive when A_o / min(A_fp, A_p) >= ``min_footprint_fraction``.
So a small footprint must be mostly inside the patch, and a footprint larger than the patch
(Uturuncu-like) must cover most of it. The overlap fraction is kept for other thresholds.

When the region has the optional ``confounders.csv`` (non-volcanic signals: name, kind, lon,
lat, radius_km), each patch also lists the kinds whose disk it touches (``confounders``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from volcdet.core.errors import RegionError
from volcdet.data.rasters import Grid, georef_columns, georef_from_row
from volcdet.data.region import Region, lonlat_to_grid_xy
from volcdet.data.stores import create_store, open_store, write_table
from volcdet.data.tables import read_csv_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatchSpec:
    """Patch size, step and the partial-footprint label threshold."""

    size_px: int = 256
    stride_px: int = 64
    min_footprint_fraction: float = 0.9


def patch_offsets(frame_size_px: int, size_px: int, stride_px: int) -> list[tuple[int, int]]:
    """(row, col) upper-left offsets of the patches of a frame, row-major (25 for 512/256/64)."""
    starts = range(0, frame_size_px - size_px + 1, stride_px)
    return [(r, c) for r in starts for c in starts]


def footprint_overlap_fraction(
    patch_x_m: np.ndarray,
    patch_y_m: np.ndarray,
    centre_xy_m: tuple[float, float],
    radius_m: float,
    pixel_size_m: float,
) -> float:
    """A_o / min(A_fp, A_p) of a disk footprint and a patch given its pixel-centre coordinates."""
    if radius_m <= 0:
        return 0.0
    inside = np.hypot(patch_x_m - centre_xy_m[0], patch_y_m - centre_xy_m[1]) <= radius_m
    footprint_px = np.pi * radius_m**2 / pixel_size_m**2
    return float(inside.sum() / min(footprint_px, inside.size))


def salt_lake_mask(region: Region, grid: Grid) -> np.ndarray | None:
    """Pixels of a grid inside the region's salt_lakes.geojson (None when the region has none)."""
    if region.salt_lakes_lonlat is None:
        return None
    import rasterio.features

    from volcdet.data.region import geometry_to_grid_crs

    lakes = geometry_to_grid_crs(grid, region.salt_lakes_lonlat)
    mask: np.ndarray = rasterio.features.geometry_mask(
        [lakes], grid.shape, grid.transform, invert=True
    )
    return mask


CONFOUNDER_COLUMNS = ("name", "kind", "lon", "lat", "radius_km")


def read_confounders(region: Region) -> pd.DataFrame | None:
    """The region's optional ``confounders.csv`` (None when absent); RegionError if malformed."""
    path = region.root / "confounders.csv"
    if not path.is_file():
        return None
    table = read_csv_table(path, CONFOUNDER_COLUMNS, RegionError)
    radius = pd.to_numeric(table.radius_km, errors="coerce")
    if radius.isna().any() or (radius < 0).any():
        raise RegionError(f"{path}: radius_km must be a number >= 0")
    return table


def touched_kinds(
    bounds_m: tuple[float, float, float, float],
    centres_xy_m: tuple[np.ndarray, np.ndarray],
    radii_m: np.ndarray,
    kinds: np.ndarray,
) -> str:
    """';'-joined sorted kinds whose disk meets the rectangle (xmin, ymin, xmax, ymax)."""
    xmin, ymin, xmax, ymax = bounds_m
    x, y = centres_xy_m
    dx = np.maximum(np.maximum(xmin - x, 0.0), x - xmax)
    dy = np.maximum(np.maximum(ymin - y, 0.0), y - ymax)
    return ";".join(sorted(set(kinds[np.hypot(dx, dy) <= radii_m])))


def label_patches(
    frames: pd.DataFrame, region: Region, spec: PatchSpec, frame_size_px: int
) -> pd.DataFrame:
    """One row per patch: frame, volcano, offsets, georeferencing, overlap fraction and label."""
    deforming = region.volcanoes[region.volcanoes.deforming == 1]
    confounders = read_confounders(region)
    rows = []
    offsets = patch_offsets(frame_size_px, spec.size_px, spec.stride_px)
    for frame_index, frame in enumerate(frames.to_dict("records")):
        crs, transform = georef_from_row(frame)
        grid = Grid(crs, transform, (frame_size_px, frame_size_px))
        vx, vy = lonlat_to_grid_xy(grid, deforming.lon.to_numpy(), deforming.lat.to_numpy())
        pixel = grid.pixel_size_m
        lakes = salt_lake_mask(region, grid)
        if confounders is not None:
            cx, cy = lonlat_to_grid_xy(grid, confounders.lon.to_numpy(), confounders.lat.to_numpy())
            c_radii = confounders.radius_km.to_numpy(dtype=float) * 1000.0
            c_kinds = confounders.kind.astype(str).to_numpy()
        for r0, c0 in offsets:
            patch_transform = grid.window_transform(r0, c0)
            cols, rws = np.meshgrid(np.arange(spec.size_px) + 0.5, np.arange(spec.size_px) + 0.5)
            px, py = cast(tuple[np.ndarray, np.ndarray], patch_transform @ (cols, rws))
            fractions = {
                name: footprint_overlap_fraction(px, py, (x, y), radius * 1000.0, pixel)
                for name, x, y, radius in zip(
                    deforming.name, vx, vy, deforming.deformation_radius_km, strict=True
                )
            }
            touching = {k: v for k, v in fractions.items() if v > 0}
            best = max(touching.values(), default=0.0)
            kinds = ""
            if confounders is not None:
                (x0, y0), (x1, y1) = (
                    patch_transform @ (0, 0),
                    patch_transform @ (spec.size_px, spec.size_px),
                )
                bounds = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
                kinds = touched_kinds(bounds, (cx, cy), c_radii, c_kinds)
            rows.append(
                {
                    "patch_id": f"{frame['frame_id']}_r{r0:03d}c{c0:03d}",
                    "frame_index": frame_index,
                    "frame_id": frame["frame_id"],
                    "volcano": frame["volcano"],
                    "track_id": frame["track_id"],
                    "pass": frame["pass"],
                    "row_in_frame": r0,
                    "col_in_frame": c0,
                    "footprint_fraction": best,
                    "deforming_volcanoes": ";".join(sorted(touching)),
                    "label": int(best >= spec.min_footprint_fraction),
                    "salt_lake_fraction": (
                        float(lakes[r0 : r0 + spec.size_px, c0 : c0 + spec.size_px].mean())
                        if lakes is not None
                        else float("nan")
                    ),
                    "confounders": kinds,
                    **georef_columns(crs, patch_transform),
                }
            )
    return pd.DataFrame(rows)


def build_test_patches(
    frames_npy: Path,
    frames_table: Path,
    region: Region,
    spec: PatchSpec,
    array_path: Path,
    table_path: Path,
) -> pd.DataFrame:
    """Cut every frame into patches, label them and write the test-patch store."""
    frames, frame_meta = open_store(frames_npy, frames_table)
    frame_size = frames.shape[1]
    table = label_patches(frame_meta, region, spec, frame_size)
    with create_store(array_path, len(table), (spec.size_px, spec.size_px)) as out:
        for i, (f, r0, c0) in enumerate(
            table[["frame_index", "row_in_frame", "col_in_frame"]].itertuples(index=False)
        ):
            out[i] = frames[f, r0 : r0 + spec.size_px, c0 : c0 + spec.size_px]
    write_table(
        table_path,
        table,
        {
            "kind": "test_patches",
            "units": "mm",
            "label_rule": __doc__.split("Label rule")[1].strip(),
        },
    )
    log.info(
        "%d test patches from %d frames: %d positive; %d frames with deformation",
        len(table),
        len(frame_meta),
        table.label.sum(),
        table[table.label == 1].frame_id.nunique(),
    )
    return table
