"""GeoTIFF input/output through rasterio, with checks that name the file on failure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.atomic import atomic_path
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
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array)
        for band, name in enumerate(band_names or [], start=1):
            dst.set_band_description(band, name)
        if units:
            dst.update_tags(units=units)


def _open(path: Path) -> rasterio.io.DatasetReader:
    """An open raster; RegionError if the file is missing or its header unreadable."""
    path = Path(path)
    if not path.is_file():
        raise RegionError(f"{path}: file not found")
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise RegionError(f"{path}: not a readable raster ({err})") from err


def _grid(src: rasterio.io.DatasetReader, path: Path, expected_bands: int | None) -> Grid:
    """Grid of an open raster, its CRS present and band count checked."""
    if src.crs is None:
        raise RegionError(f"{path}: raster has no CRS (georeferencing is required)")
    if expected_bands is not None and src.count != expected_bands:
        raise RegionError(f"{path}: has {src.count} band(s), expected {expected_bands}")
    return Grid(crs=src.crs, transform=src.transform, shape=(src.height, src.width))


def read_grid(path: Path) -> Grid:
    """Grid of a GeoTIFF; RegionError if the file is missing, unreadable or has no CRS."""
    with _open(path) as src:
        return _grid(src, Path(path), None)


def probe_raster(
    path: Path, expected_bands: int | None = None, size_px: int = 64
) -> tuple[Grid, np.ndarray]:
    """Grid (header, band count checked) and two small windows of every band, the centre and
    the last block, float32 with NaN = no data, shape (bands, 2, h, w), from one open: a file
    cut short fails on its last block without the whole raster being read."""
    with _open(path) as src:
        grid = _grid(src, Path(path), expected_bands)
        rows, cols = grid.shape
        h, w = min(size_px, rows), min(size_px, cols)
        origins = [((rows - h) // 2, (cols - w) // 2), (rows - h, cols - w)]
        windows = [
            read_checked(src, path, window=rasterio.windows.Window(c, r, w, h)) for r, c in origins
        ]
    return grid, np.ma.filled(np.ma.stack(windows, axis=1).astype(np.float32), np.nan)


def check_pixel_size(grid: Grid, pixel_size_m: float, path: Path) -> None:
    """RegionError unless the raster's pixel size matches the configured one within 1%."""
    if not np.isclose(grid.pixel_size_m, pixel_size_m, rtol=0.01):
        raise RegionError(
            f"{path}: pixel size {grid.pixel_size_m:g} m differs from pixel_size_m "
            f"{pixel_size_m:g} m in the config (resample the region or change pixel_size_m)"
        )


def read_raster(path: Path, expected_bands: int | None = None) -> tuple[np.ndarray, Grid]:
    """Read all bands as float32 (nodata -> NaN); check the band count and that data exist."""
    with _open(path) as src:
        grid = _grid(src, Path(path), expected_bands)
        data = read_checked(src, path).astype(np.float32)
    array = np.ma.filled(data, np.nan)
    if not np.isfinite(array).any():
        raise RegionError(f"{path}: raster is all NaN / nodata")
    return array, grid


def read_checked(src: rasterio.io.DatasetReader, path: Path, **kwargs: object) -> np.ma.MaskedArray:
    """``src.read(masked=True, **kwargs)``; RegionError naming the file when its data are
    truncated or corrupt although the header opened."""
    try:
        return cast(np.ma.MaskedArray, src.read(masked=True, **kwargs))
    except rasterio.errors.RasterioError as err:
        detail = str(err.__cause__ or err).splitlines() or [type(err).__name__]
        reason = detail[0].removeprefix(f"{Path(path).name}, ")
        raise RegionError(
            f"{path}: raster data truncated or corrupt ({reason}); copy or export it again"
        ) from None


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
    check_same_grid(los_path, los_grid, grid, velocity_path)
    return los


def check_same_grid(los_path: Path, los_grid: Grid, grid: Grid, velocity_path: Path) -> None:
    """RegionError unless a LOS raster's grid is the velocity map's (same CRS and grid)."""
    if los_grid.crs != grid.crs:
        raise RegionError(
            f"{los_path}: CRS {los_grid.crs.to_string()} differs from the velocity map's "
            f"{grid.crs.to_string()} ({Path(velocity_path).name})"
        )
    if los_grid.shape != grid.shape or not los_grid.transform.almost_equals(grid.transform):
        raise RegionError(f"{los_path}: not on the velocity map's grid (shape or transform differ)")
