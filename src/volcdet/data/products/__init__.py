"""Users' velocity products (LiCSBAS, MintPy, LiCSAR, any GeoTIFF) as volcdet velocity maps.

``read_velocity`` recognises a file by its content (HDF5 datasets, NetCDF variables, GeoTIFF)
and returns a ``VelocityProduct`` in mm/yr; ``read_los`` reads LOS unit vectors from a 3-band
GeoTIFF, a LiCSAR E/N/U triplet, a MintPy geometry file or a LiCSBAS cum.h5; ``reproject``
brings both to the model's grid. Facts about each layout: ``docs/products.md``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from volcdet.core.errors import ProductError
from volcdet.data.products.base import USER_UNITS, VelocityProduct
from volcdet.data.products.geotiff import (
    is_licsar_component,
    read_licsar_enu,
    read_los_geotiff,
    read_velocity_geotiff,
)
from volcdet.data.products.licsbas import read_licsbas_cum, read_licsbas_netcdf
from volcdet.data.products.mintpy import read_mintpy_geometry, read_mintpy_velocity
from volcdet.data.products.reproject import los_on_grid
from volcdet.data.rasters import Grid

HDF5_SUFFIXES = (".h5", ".he5", ".hdf5", ".hdf")
NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf")
#: Share of the velocity's valid pixels that a given LOS raster must cover.
MIN_LOS_COVERAGE = 0.99

__all__ = [
    "USER_UNITS",
    "VelocityProduct",
    "attach_los",
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


def read_velocity(path: Path, units: str | None = None) -> VelocityProduct:
    """Read a velocity product of any supported kind; ``units`` states the unit if the file does not."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES:
        names = _hdf5_datasets(path)
        if {"vel", "imdates"} <= names:
            return read_licsbas_cum(path, units)
        if "velocity" in names:
            return read_mintpy_velocity(path, units)
        raise ProductError(
            f"{path}: HDF5 file is neither a LiCSBAS cum.h5 (datasets vel, imdates) nor a "
            "MintPy velocity file (dataset velocity)"
        )
    if suffix in NETCDF_SUFFIXES:
        return read_licsbas_netcdf(path, units)
    if is_licsar_component(path):
        raise ProductError(
            f"{path}: a LiCSAR LOS component (E/N/U), not a velocity map; give it with --los"
        )
    return read_velocity_geotiff(path, units)


def read_los(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS unit vectors (3, H, W) and their grid from any supported LOS source."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    if path.suffix.lower() in HDF5_SUFFIXES:
        names = _hdf5_datasets(path)
        if "incidenceAngle" in names:
            return read_mintpy_geometry(path)
        if {"E.geo", "N.geo", "U.geo"} <= names:
            product = read_licsbas_cum(path)
            return product.los_unit_vector, product.grid  # type: ignore[return-value]
        raise ProductError(
            f"{path}: HDF5 file holds neither incidenceAngle/azimuthAngle (MintPy geometry) "
            "nor E.geo/N.geo/U.geo (LiCSBAS)"
        )
    if is_licsar_component(path):
        return read_licsar_enu(path)
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
