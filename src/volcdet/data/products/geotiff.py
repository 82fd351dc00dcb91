"""GeoTIFF products: any single-band velocity map and 3-band LOS rasters.

Covers LiCSBAS ``LiCSBAS_flt2geotiff.py`` output (EPSG:4326, pixel-corner origin = corner -
post/2, NaN nodata, no unit tag: mm/yr by the LiCSBAS format), MintPy ``save_gdal.py`` output
(no nodata tag, values still in m/year: caught by the unit check) and the region contract's own
rasters. LOS given one component per file (LiCSAR ``<frame>.geo.E.tif``, ...): ``los_files``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    ReadOptions,
    VelocityProduct,
    check_floating,
    los_from_components,
    velocity_in_mm_yr,
)
from volcdet.data.products.checks import check_declared_size, check_not_lfs_pointer
from volcdet.data.rasters import Grid


def read_bands(path: Path, expected_bands: int | None) -> tuple[np.ndarray, Grid, str | None]:
    """All bands (nodata -> NaN, floating dtypes only), the grid and the unit the file states.

    The header is checked first (CRS, band count, dtype, declared size), so a raster too large
    to read, or an integer one, is refused before any pixel is read.
    """
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    check_not_lfs_pointer(path)
    try:
        with warnings.catch_warnings():
            # A raster without georeferencing is refused below in one line.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(path)
        with src:
            if src.crs is None:
                raise ProductError(f"{path}: raster has no CRS (georeferencing is required)")
            if expected_bands is not None and src.count != expected_bands:
                raise ProductError(f"{path}: {band_count_problem(src.count, expected_bands)}")
            check_floating(np.zeros(0, src.dtypes[0]), str(path), "raster")
            check_declared_size(src.height, src.width, str(path), src.count)
            data = src.read(masked=True)
            grid = Grid(src.crs, src.transform, (src.height, src.width))
            tags = src.tags()
            unit = src.units[0] or tags.get("units") or tags.get("UNIT") or tags.get("unit")
    except RasterioError as err:
        raise ProductError(f"{path}: not a readable raster ({err})") from err
    array = np.ma.filled(data.astype(np.float32), np.nan)
    return array, grid, unit or None


def band_count_problem(count: int, expected: int) -> str:
    """'has N band(s), expected M', with advice for single-component LOS files."""
    text = f"has {count} band(s), expected {expected}"
    if expected == 3 and count in (1, 2):
        text += (
            " (east, north, up); for LOS given one component per file, give one file of the "
            "set: a LiCSAR <frame>.geo.E.tif, a LiCSBAS E.geo or E.geo.tif, or an OPERA "
            "los_east.tif"
        )
    return text


def read_velocity_geotiff(path: Path, options: ReadOptions | None = None) -> VelocityProduct:
    """A single-band velocity GeoTIFF in any CRS; unit from the band unit or a 'units' tag."""
    options = options or ReadOptions()
    array, grid, unit = read_bands(path, expected_bands=1)
    velocity = velocity_in_mm_yr(array[0], unit, options.units, str(path), options)
    return VelocityProduct(velocity, grid, "geotiff", str(path), units_found=unit)


def read_los_geotiff(path: Path) -> tuple[np.ndarray, Grid]:
    """A 3-band (east, north, up) ground-to-satellite unit-vector GeoTIFF."""
    array, grid, _ = read_bands(path, expected_bands=3)
    east, north, up = array
    return los_from_components(east, north, up, str(path)), grid
