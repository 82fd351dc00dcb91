"""Users' velocity products (LiCSBAS, MintPy, LiCSAR, OPERA DISP-S1, any GeoTIFF) as volcdet
velocity maps.

``read_velocity`` recognises an input by its content and layout (a LiCSBAS ``TS_*`` folder or
headerless ``results/`` raster, HDF5 datasets, NetCDF variables, a DISP-S1 stack given as a
folder or glob, GeoTIFF) and returns a ``VelocityProduct`` in mm/yr; ``read_los`` reads LOS
unit vectors from a 3-band GeoTIFF, a per-component set (LiCSAR, LiCSBAS, OPERA static layers),
a MintPy geometry file or a LiCSBAS cum.h5; ``reproject`` brings both to the model's grid.
Facts about each layout: ``docs/products.md``.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import h5py
import numpy as np

from volcdet.core.errors import ProductError
from volcdet.data.products.base import USER_UNITS, ReadOptions, VelocityProduct
from volcdet.data.products.checks import check_not_lfs_pointer
from volcdet.data.products.geotiff import read_los_geotiff, read_velocity_geotiff
from volcdet.data.products.licsbas import read_licsbas_cum, read_licsbas_netcdf
from volcdet.data.products.licsbas_raw import (
    OTHER_LAYERS,
    VELOCITY_LAYERS,
    find_dem_par,
    find_licsbas_los,
    is_ts_folder,
    read_licsbas_raw,
    ts_folder_product,
)
from volcdet.data.products.los_files import (
    is_los_component,
    los_component_kind,
    read_component_los,
)
from volcdet.data.products.mintpy import read_mintpy_geometry, read_mintpy_velocity
from volcdet.data.products.opera import (
    DISP_NAME,
    find_static_los,
    is_disp_product,
    read_opera_stack,
    read_static_los,
    stack_paths,
    static_los_kind,
)
from volcdet.data.products.reproject import los_on_grid
from volcdet.data.rasters import Grid

log = logging.getLogger(__name__)

HDF5_SUFFIXES = (".h5", ".he5", ".hdf5", ".hdf")
NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf")
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".grd", ".jp2", ".png")
GLOB_CHARACTERS = "*?["
#: Share of the velocity's valid pixels that a given LOS raster must cover.
MIN_LOS_COVERAGE = 0.99

__all__ = [
    "USER_UNITS",
    "ReadOptions",
    "VelocityProduct",
    "attach_los",
    "input_exists",
    "read_los",
    "read_velocity",
]


def _hdf5_datasets(path: Path) -> set[str]:
    """Names of the top-level datasets of an HDF5 file."""
    try:
        with h5py.File(path, "r") as file:
            return set(file.keys())
    except OSError as err:
        raise ProductError(f"{path}: not a readable HDF5 file ({err})") from err


def is_glob(path: Path | str) -> bool:
    """Whether an input names a glob pattern (a DISP-S1 stack given as 'dir/OPERA_*.nc')."""
    return any(c in Path(path).name for c in GLOB_CHARACTERS)


def input_exists(path: Path | str) -> bool:
    """Whether an input is an existing file, folder or a glob that matches a file."""
    if Path(path).exists():
        return True
    return is_glob(path) and any(Path(p).is_file() for p in glob.glob(str(path)))


def is_raw_licsbas(path: Path) -> bool:
    """A file without a raster/HDF5/NetCDF suffix whose LiCSBAS EQA.dem_par is nearby, or that
    is named like a LiCSBAS ``results/`` layer (then a missing EQA.dem_par is named)."""
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES + HDF5_SUFFIXES + NETCDF_SUFFIXES:
        return False
    licsbas_name = path.name in VELOCITY_LAYERS + OTHER_LAYERS or path.parent.name == "results"
    return licsbas_name or find_dem_par(path) is not None


def _read_file(path: Path, options: ReadOptions) -> VelocityProduct:
    """One product file of any supported kind."""
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES:
        names = _hdf5_datasets(path)
        if {"vel", "imdates"} <= names:
            return read_licsbas_cum(path, options)
        if "velocity" in names:
            return read_mintpy_velocity(path, options)
        raise ProductError(
            f"{path}: HDF5 file is neither a LiCSBAS cum.h5 (datasets vel, imdates) nor a "
            "MintPy velocity file (dataset velocity)"
        )
    if suffix in NETCDF_SUFFIXES:
        if DISP_NAME.match(path.name) or is_disp_product(path):
            raise ProductError(
                f"{path}: one OPERA DISP-S1 product is the displacement of one interval; give the "
                "stack: its folder or a quoted glob ('dir/OPERA_L3_DISP-S1_*.nc')"
            )
        return read_licsbas_netcdf(path, options)
    kind = los_component_kind(path)
    if kind is not None:
        raise ProductError(
            f"{path}: a {kind} LOS component (E/N/U), not a velocity map; give it with --los"
        )
    if is_raw_licsbas(path):
        return read_licsbas_raw(path, options)
    return read_velocity_geotiff(path, options)


def _with_found_los(product: VelocityProduct, path: Path) -> VelocityProduct:
    """A LiCSBAS or OPERA product with the LOS found beside it when it carries none."""
    if product.los_unit_vector is not None:
        return product
    found = None
    if product.kind.startswith("licsbas"):
        found = find_licsbas_los(path)
    elif product.kind == "opera-disp-s1":
        first = stack_paths(path)[0]
        match = DISP_NAME.match(first.name)
        found = find_static_los(path, int(match["frame"])) if match else None
    if found is None:
        return product
    log.info("%s: LOS from %s (found beside the input; give --los to use another)", path, found)
    return attach_los(product, found)


def read_velocity(
    path: Path | str,
    units: str | None = None,
    *,
    nodata: float | str | None = None,
    mask: Path | None = None,
    force: bool = False,
) -> VelocityProduct:
    """Read a velocity product of any supported kind, with the LOS found beside it if any.

    ``units`` states the unit if the file does not; ``nodata`` the no-data value (None: common
    sentinels, 'none': no value); ``mask`` a MintPy mask file; ``force`` skips the
    plausibility checks (``checks``).
    """
    options = ReadOptions(units, nodata, Path(mask) if mask is not None else None, force)
    path = Path(path)
    if is_glob(path) or (path.is_dir() and not is_ts_folder(path)):
        product = read_opera_stack(path, options)
    elif is_ts_folder(path):
        product = _read_file(ts_folder_product(path), options)
    elif not path.is_file():
        raise ProductError(f"{path}: file not found")
    else:
        check_not_lfs_pointer(path)
        product = _read_file(path, options)
    if options.mask is not None and product.kind != "mintpy":
        raise ProductError(
            f"{options.mask}: --mask is for MintPy velocity files (maskTempCoh.h5); {path} is "
            f"a {product.kind} product"
        )
    return _with_found_los(product, path)


def read_los(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS unit vectors (3, H, W) and their grid from any supported LOS source."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    check_not_lfs_pointer(path)
    if path.suffix.lower() in HDF5_SUFFIXES:
        names = _hdf5_datasets(path)
        if "incidenceAngle" in names:
            return read_mintpy_geometry(path)
        if {"E.geo", "N.geo", "U.geo"} <= names:
            product = read_licsbas_cum(path, ReadOptions(force=True))
            return product.los_unit_vector, product.grid  # type: ignore[return-value]
        raise ProductError(
            f"{path}: HDF5 file holds neither incidenceAngle/azimuthAngle (MintPy geometry) "
            "nor E.geo/N.geo/U.geo (LiCSBAS)"
        )
    if static_los_kind(path) is not None:
        return read_static_los(path)
    if is_los_component(path):
        return read_component_los(path)
    return read_los_geotiff(path)


def attach_los(product: VelocityProduct, los_path: Path) -> VelocityProduct:
    """The product carrying the LOS read from ``los_path``, brought onto the velocity's grid.

    The LOS must cover (99%) the velocity's valid pixels; any CRS and grid is accepted.
    """
    los, grid = read_los(los_path)
    on_grid = los_on_grid(los, grid, product.grid)
    valid = np.isfinite(product.velocity_mm_yr)
    covered = np.isfinite(on_grid).all(axis=0) & valid
    coverage = covered.sum() / max(int(valid.sum()), 1)
    if coverage < MIN_LOS_COVERAGE:
        raise ProductError(
            f"{los_path}: LOS covers only {100 * coverage:.1f}% of the valid pixels of "
            f"{product.source}; it must cover the velocity map"
        )
    return product.with_los(on_grid, str(los_path))
