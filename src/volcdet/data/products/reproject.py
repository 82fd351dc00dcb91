"""Bringing any product to the model's scale: local UTM zone at a given pixel size, NaN-aware.

A velocity map is averaged (GDAL average resampling through ``rasterio.warp.reproject``, which
ignores NaN source pixels) and a target pixel keeps a value only when at least half of its area
is covered by valid source pixels, so holes neither spread nor fill in. LOS vectors are averaged
the same way and renormalised. Results go back to an input grid by nearest neighbour.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import cast

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject, transform_bounds
from shapely.geometry import Polygon

from volcdet.data.products.base import VelocityProduct
from volcdet.data.rasters import Grid

#: A target pixel needs at least this share of valid source area to get a value.
MIN_VALID_FRACTION = 0.5


def grid_bounds(grid: Grid) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a grid's outer pixel edges in its CRS."""
    rows, cols = grid.shape
    corners = [grid.transform @ (c, r) for c, r in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
    xs, ys = zip(*corners, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def grid_centre_lonlat(grid: Grid) -> tuple[float, float]:
    """Longitude and latitude (degrees) of a grid's centre."""
    x, y = grid.transform @ (grid.shape[1] / 2, grid.shape[0] / 2)
    lon, lat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True).transform(x, y)
    return float(lon), float(lat)


def valid_area(values: np.ndarray, grid: Grid, crs: CRS) -> Polygon | None:
    """The box of a map's valid (finite) pixels as a polygon in ``crs`` (edges densified: a
    straight edge in one CRS is a curve in another); None if no pixel is valid."""
    valid = np.isfinite(values)
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    edge = np.linspace(0.0, 1.0, 17)[:-1]
    ring_cols = np.concatenate(
        [c0 + (c1 - c0) * edge, np.full(16, c1), c1 - (c1 - c0) * edge, np.full(16, c0)]
    )
    ring_rows = np.concatenate(
        [np.full(16, r0), r0 + (r1 - r0) * edge, np.full(16, r1), r1 - (r1 - r0) * edge]
    )
    # Affine's stubs know tuples of floats only; arrays are transformed element-wise.
    ring = grid.transform @ (ring_cols, ring_rows)  # type: ignore[operator]
    xs, ys = cast(tuple[np.ndarray, np.ndarray], ring)
    if grid.crs != crs:
        to_crs = Transformer.from_crs(grid.crs.to_wkt(), crs.to_wkt(), always_xy=True)
        xs, ys = to_crs.transform(xs, ys)
    return Polygon(zip(xs, ys, strict=True))


def utm_crs_at(lon: float, lat: float) -> CRS:
    """WGS 84 / UTM zone (EPSG 326zz north, 327zz south) holding a point (standard 6-degree zones)."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def is_metric_projected(crs: CRS) -> bool:
    """Whether a CRS is projected with metre axes (then a map keeps its CRS)."""
    if not crs.is_projected:
        return False
    units = crs.linear_units.lower() if crs.linear_units else ""
    return units in ("metre", "meter", "m")


def _is_north_up_at(grid: Grid, pixel_size_m: float) -> bool:
    """Whether a grid is north-up with square pixels of ``pixel_size_m``."""
    a, b, _, d, e, _ = grid.transform[:6]
    return (
        b == 0
        and d == 0
        and math.isclose(a, pixel_size_m, rel_tol=1e-6)
        and math.isclose(-e, pixel_size_m, rel_tol=1e-6)
    )


def model_grid(grid: Grid, pixel_size_m: float, crs: CRS | None = None) -> Grid:
    """The grid a map is scored on: its own metric CRS (else the local UTM zone) at the pixel size.

    A map already north-up at the pixel size keeps its grid (no resampling). A map in the same
    CRS at another pixel size keeps its upper-left corner (100 m -> 200 m averages exact 2 x 2
    blocks); any other map gets the target-aligned box holding its footprint (edges at multiples
    of the pixel size, like ``gdalwarp -tap``).
    """
    if crs is None:
        crs = grid.crs if is_metric_projected(grid.crs) else utm_crs_at(*grid_centre_lonlat(grid))
    if crs == grid.crs and _is_north_up_at(grid, pixel_size_m):
        return grid
    left, bottom, right, top = grid_bounds(grid)
    if crs == grid.crs and grid.transform.b == 0 and grid.transform.d == 0:
        cols = math.ceil((right - left) / pixel_size_m - 1e-6)
        rows = math.ceil((top - bottom) / pixel_size_m - 1e-6)
        return Grid(crs, Affine(pixel_size_m, 0.0, left, 0.0, -pixel_size_m, top), (rows, cols))
    left, bottom, right, top = transform_bounds(
        grid.crs, crs, left, bottom, right, top, densify_pts=21
    )
    left = math.floor(left / pixel_size_m) * pixel_size_m
    bottom = math.floor(bottom / pixel_size_m) * pixel_size_m
    right = math.ceil(right / pixel_size_m) * pixel_size_m
    top = math.ceil(top / pixel_size_m) * pixel_size_m
    shape = (round((top - bottom) / pixel_size_m), round((right - left) / pixel_size_m))
    return Grid(crs, Affine(pixel_size_m, 0.0, left, 0.0, -pixel_size_m, top), shape)


def _warp(
    values: np.ndarray, src: Grid, dst: Grid, resampling: Resampling, nodata: float | None
) -> np.ndarray:
    """rasterio.warp.reproject of (B, H, W) float32 bands onto ``dst``."""
    out = np.full((values.shape[0], *dst.shape), np.nan if nodata is not None else 0.0, np.float32)
    reproject(
        np.ascontiguousarray(values, dtype=np.float32),
        out,
        src_transform=src.transform,
        src_crs=src.crs,
        dst_transform=dst.transform,
        dst_crs=dst.crs,
        resampling=resampling,
        src_nodata=nodata,
        dst_nodata=nodata,
    )
    return out


def reproject_average(
    values: np.ndarray, src: Grid, dst: Grid, min_valid_fraction: float = MIN_VALID_FRACTION
) -> np.ndarray:
    """NaN-aware area average of (H, W) or (B, H, W) values onto ``dst`` (float32, NaN = no data)."""
    if src == dst:
        return np.array(values, dtype=np.float32)
    array = np.asarray(values, dtype=np.float32)
    stacked = array[None] if array.ndim == 2 else array
    mean = _warp(stacked, src, dst, Resampling.average, np.nan)
    valid = _warp(np.isfinite(stacked).astype(np.float32), src, dst, Resampling.average, None)
    mean[valid < min_valid_fraction - 1e-6] = np.nan
    return mean[0] if array.ndim == 2 else mean


def reproject_nearest(values: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """Nearest-neighbour copy of (H, W) values onto ``dst`` (for probabilities; NaN = none)."""
    if src == dst:
        return np.array(values, dtype=np.float32)
    copied: np.ndarray = _warp(
        np.asarray(values, np.float32)[None], src, dst, Resampling.nearest, np.nan
    )[0]
    return copied


def los_on_grid(los: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """LOS unit vectors (3, H, W) averaged onto ``dst`` and renormalised to unit length."""
    averaged = reproject_average(los, src, dst)
    if src == dst:
        return averaged
    norm = np.sqrt((averaged**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit: np.ndarray = (averaged / norm).astype(np.float32)
    return unit


def product_on_grid(product: VelocityProduct, dst: Grid) -> VelocityProduct:
    """The product (velocity and LOS) resampled onto ``dst``; the same object if already there."""
    if product.grid == dst:
        return product
    velocity = reproject_average(product.velocity_mm_yr, product.grid, dst)
    los = (
        None
        if product.los_unit_vector is None
        else los_on_grid(product.los_unit_vector, product.grid, dst)
    )
    return replace(product, velocity_mm_yr=velocity, grid=dst, los_unit_vector=los)
