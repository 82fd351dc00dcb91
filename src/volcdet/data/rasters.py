"""GeoTIFF input/output through rasterio, with checks that name the file on failure."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.errors import RegionError


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS, affine transform and shape (rows, cols)."""

    crs: CRS
    transform: Affine
    shape: tuple[int, int]

    @property
    def pixel_size_m(self) -> float:
        """Pixel size along x (square pixels are checked by the region loader)."""
        return float(abs(self.transform.a))

    def window_transform(self, row0: int, col0: int) -> Affine:
        """Transform of a window whose upper-left pixel is (row0, col0)."""
        return self.transform @ Affine.translation(col0, row0)

    def xy_to_rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of map coordinates (pixel centres at integer + 0.5)."""
        col, row = ~self.transform @ (
            np.asarray(x, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
        )
        return np.asarray(row), np.asarray(col)


def write_geotiff(
    path: Path,
    data: np.ndarray,
    grid: Grid,
    band_names: list[str] | None = None,
    units: str | None = None,
) -> None:
    """Write a float32 GeoTIFF (bands first), NaN as nodata, deflate-compressed, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.asarray(data, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    tmp = path.with_name(f".{path.name}.tmp")
    profile = {
        "driver": "GTiff",
        "height": array.shape[1],
        "width": array.shape[2],
        "count": array.shape[0],
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": float("nan"),
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array)
        for band, name in enumerate(band_names or [], start=1):
            dst.set_band_description(band, name)
        if units:
            dst.update_tags(units=units)
    os.replace(tmp, path)


def read_grid(path: Path) -> Grid:
    """Grid of a GeoTIFF; RegionError if the file is missing, unreadable or has no CRS."""
    path = Path(path)
    if not path.is_file():
        raise RegionError(f"{path}: file not found")
    try:
        with rasterio.open(path) as src:
            crs, transform, shape = src.crs, src.transform, (src.height, src.width)
    except rasterio.errors.RasterioIOError as err:
        raise RegionError(f"{path}: not a readable raster ({err})") from err
    if crs is None:
        raise RegionError(f"{path}: raster has no CRS (georeferencing is required)")
    return Grid(crs=crs, transform=transform, shape=shape)


def read_raster(path: Path, expected_bands: int | None = None) -> tuple[np.ndarray, Grid]:
    """Read all bands as float32 (nodata -> NaN); check the band count and that data exist."""
    grid = read_grid(path)
    with rasterio.open(path) as src:
        if expected_bands is not None and src.count != expected_bands:
            raise RegionError(f"{path}: has {src.count} band(s), expected {expected_bands}")
        data = src.read(masked=True).astype(np.float32)
    array = np.ma.filled(data, np.nan)
    if not np.isfinite(array).any():
        raise RegionError(f"{path}: raster is all NaN / nodata")
    return array, grid


GEOREF_COLUMNS = (
    "crs",
    "transform_a",
    "transform_b",
    "transform_c",
    "transform_d",
    "transform_e",
    "transform_f",
)


def georef_columns(crs: CRS, transform: Affine) -> dict[str, object]:
    """Metadata columns that keep a patch georeferenced (CRS string + affine coefficients)."""
    a, b, c, d, e, f = transform[:6]
    return {
        "crs": crs.to_string(),
        "transform_a": a,
        "transform_b": b,
        "transform_c": c,
        "transform_d": d,
        "transform_e": e,
        "transform_f": f,
    }


def georef_from_row(row: object) -> tuple[CRS, Affine]:
    """CRS and transform of a metadata row written with ``georef_columns``."""
    get = row.__getitem__ if isinstance(row, dict) else row.__getattribute__
    coeffs = [float(get(f"transform_{k}")) for k in "abcdef"]
    return CRS.from_string(str(get("crs"))), Affine(*coeffs)


def read_los_on_grid(los_path: Path, grid: Grid, velocity_path: Path) -> np.ndarray:
    """Read a 3-band LOS raster and check it shares the velocity map's CRS and grid."""
    los, los_grid = read_raster(los_path, expected_bands=3)
    if los_grid.crs != grid.crs:
        raise RegionError(
            f"{los_path}: CRS {los_grid.crs.to_string()} differs from the velocity map's "
            f"{grid.crs.to_string()} ({Path(velocity_path).name})"
        )
    if los_grid.shape != grid.shape or not los_grid.transform.almost_equals(grid.transform):
        raise RegionError(f"{los_path}: not on the velocity map's grid (shape or transform differ)")
    return los
