"""GeoTIFF products: any single-band velocity map, 3-band LOS rasters and LiCSAR E/N/U triplets.

Covers LiCSBAS ``LiCSBAS_flt2geotiff.py`` output (EPSG:4326, pixel-corner origin = corner -
post/2, NaN nodata, no unit tag: mm/yr by the LiCSBAS format), MintPy ``save_gdal.py`` output
(no nodata tag, values still in m/year: caught by the unit check) and the region contract's own
rasters. LiCSAR frame metadata ``<frame>.geo.E.tif``, ``.N.tif``, ``.U.tif`` hold the
ground-to-satellite unit vector, one component per file, EPSG:4326, 0 = no data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    VelocityProduct,
    check_floating,
    los_from_components,
    velocity_in_mm_yr,
)
from volcdet.data.rasters import Grid

#: Suffixes of the three LiCSAR LOS component files (east, north, up).
LICSAR_SUFFIXES = (".E.tif", ".N.tif", ".U.tif")


def read_bands(path: Path, expected_bands: int | None) -> tuple[np.ndarray, Grid, str | None]:
    """All bands (nodata -> NaN, floating dtypes only), the grid and the unit the file states."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise ProductError(f"{path}: raster has no CRS (georeferencing is required)")
            if expected_bands is not None and src.count != expected_bands:
                raise ProductError(
                    f"{path}: has {src.count} band(s), expected {expected_bands}"
                )
            check_floating(np.zeros(0, src.dtypes[0]), str(path), "raster")
            data = src.read(masked=True)
            grid = Grid(src.crs, src.transform, (src.height, src.width))
            tags = src.tags()
            unit = src.units[0] or tags.get("units") or tags.get("UNIT") or tags.get("unit")
    except RasterioError as err:
        raise ProductError(f"{path}: not a readable raster ({err})") from err
    array = np.ma.filled(data.astype(np.float32), np.nan)
    return array, grid, unit or None


def read_velocity_geotiff(path: Path, units: str | None = None) -> VelocityProduct:
    """A single-band velocity GeoTIFF in any CRS; unit from the band unit or a 'units' tag."""
    array, grid, unit = read_bands(path, expected_bands=1)
    velocity = velocity_in_mm_yr(array[0], unit, units, str(path))
    return VelocityProduct(velocity, grid, "geotiff", str(path), units_found=unit)


def read_los_geotiff(path: Path) -> tuple[np.ndarray, Grid]:
    """A 3-band (east, north, up) ground-to-satellite unit-vector GeoTIFF."""
    array, grid, _ = read_bands(path, expected_bands=3)
    return los_from_components(*array, str(path)), grid


def licsar_component_paths(path: Path) -> tuple[Path, Path, Path]:
    """The E, N and U files of a LiCSAR triplet, given any one of them."""
    path = Path(path)
    for suffix in LICSAR_SUFFIXES:
        if path.name.endswith(suffix):
            stem = path.name[: -len(suffix)]
            return tuple(path.with_name(stem + s) for s in LICSAR_SUFFIXES)  # type: ignore[return-value]
    raise ProductError(f"{path}: not a LiCSAR LOS component file (<frame>.geo.E/N/U.tif)")


def read_licsar_enu(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS unit vectors from a LiCSAR E/N/U triplet (any of the three paths); 0 = no data."""
    components, grids = [], []
    for component_path in licsar_component_paths(path):
        array, grid, _ = read_bands(component_path, expected_bands=1)
        components.append(array[0])
        grids.append(grid)
    for other, component_path in zip(grids[1:], licsar_component_paths(path)[1:], strict=True):
        if other.crs != grids[0].crs or other.shape != grids[0].shape or not (
            other.transform.almost_equals(grids[0].transform)
        ):
            raise ProductError(f"{component_path}: not on the grid of the E component")
    return los_from_components(*components, str(path)), grids[0]


def is_licsar_component(path: Path) -> bool:
    """Whether a path names one file of a LiCSAR E/N/U triplet."""
    return any(Path(path).name.endswith(suffix) for suffix in LICSAR_SUFFIXES)
