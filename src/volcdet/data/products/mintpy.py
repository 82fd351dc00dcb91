"""MintPy products: ``velocity.h5`` / ``geo_velocity.h5`` and ``geometryGeo.h5``.

Layout read from MintPy (Yunjun et al. 2019; timeseries2velocity.py, readfile.py, save_gdal.py,
utils0.py): the dataset ``velocity`` with root attributes (strings) ``UNIT`` = m/year,
``START_DATE``/``END_DATE`` (YYYYMMDD), ``X_FIRST``/``Y_FIRST`` = upper-left **corner** of the
first pixel, ``X_STEP``/``Y_STEP`` and ``EPSG`` or ``UTM_ZONE`` (e.g. 19S) when projected,
degrees otherwise. Positive = toward the satellite. ``geometryGeo.h5`` holds ``incidenceAngle``
(degrees from vertical) and ``azimuthAngle`` (degrees, azimuth of the ground-to-satellite LOS,
from north, anticlockwise positive); the unit vector is (-sin(inc) sin(az), sin(inc) cos(az),
cos(inc)) (MintPy utils0.get_unit_vector4component_of_interest, 'enu2los').
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    open_hdf5,
    VelocityProduct,
    check_floating,
    los_from_components,
    period_from_dates,
    velocity_in_mm_yr,
)
from volcdet.data.rasters import Grid

GEO_ATTRIBUTES = ("X_FIRST", "Y_FIRST", "X_STEP", "Y_STEP")


def _attrs(file: h5py.File) -> dict[str, str]:
    """Root attributes as strings (MintPy writes str(value); other writers may not)."""
    out = {}
    for key, value in file.attrs.items():
        if isinstance(value, np.ndarray):
            value = value.ravel()[0] if value.size else ""
        out[key] = value.decode() if isinstance(value, bytes) else str(value)
    return out


def _open(path: Path, dataset: str, what: str) -> h5py.File:
    """An open MintPy HDF5 file holding ``dataset``; one-line errors otherwise."""
    file = open_hdf5(path)
    if dataset not in file:
        file.close()
        raise ProductError(f"{path}: no dataset {dataset} (not a MintPy {what} file)")
    return file


def mintpy_crs(attrs: dict[str, str], source: str) -> CRS:
    """CRS of a geocoded MintPy file: EPSG, else UTM_ZONE, else geographic degrees."""
    if "EPSG" in attrs:
        return CRS.from_epsg(int(float(attrs["EPSG"])))
    if "UTM_ZONE" in attrs:
        zone = attrs["UTM_ZONE"].strip()
        try:
            number, hemisphere = int(zone[:-1]), zone[-1].upper()
        except ValueError as err:
            raise ProductError(f"{source}: UTM_ZONE {zone!r} is not like '19S'") from err
        return CRS.from_epsg((32700 if hemisphere == "S" else 32600) + number)
    if attrs.get("X_UNIT", "degrees").lower().startswith("deg"):
        return CRS.from_epsg(4326)
    raise ProductError(f"{source}: projected coordinates (X_UNIT {attrs['X_UNIT']}) but no EPSG or UTM_ZONE")


def mintpy_grid(attrs: dict[str, str], shape: tuple[int, int], source: str) -> Grid:
    """Grid of a geocoded MintPy file (X_FIRST/Y_FIRST are the upper-left pixel's corner)."""
    missing = [k for k in GEO_ATTRIBUTES if k not in attrs]
    if missing:
        raise ProductError(
            f"{source}: no {', '.join(missing)} attribute(s): the file is in radar coordinates; "
            "geocode it first (MintPy geocode.py, giving geo_velocity.h5)"
        )
    x0, y0, dx, dy = (float(attrs[k]) for k in GEO_ATTRIBUTES)
    return Grid(mintpy_crs(attrs, source), Affine(dx, 0.0, x0, 0.0, dy, y0), shape)


def read_mintpy_geometry(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS unit vectors (3, H, W) from incidenceAngle/azimuthAngle of a geometryGeo.h5."""
    with _open(path, "incidenceAngle", "geometry") as file:
        if "azimuthAngle" not in file:
            raise ProductError(f"{path}: no dataset azimuthAngle (needed for the LOS direction)")
        incidence = np.asarray(file["incidenceAngle"][()])
        azimuth = np.asarray(file["azimuthAngle"][()])
        attrs = _attrs(file)
    for values, name in ((incidence, "incidenceAngle"), (azimuth, "azimuthAngle")):
        check_floating(values, str(path), name)
    grid = mintpy_grid(attrs, incidence.shape, str(path))
    inc, az = np.deg2rad(incidence.astype(np.float64)), np.deg2rad(azimuth.astype(np.float64))
    east, north, up = -np.sin(inc) * np.sin(az), np.sin(inc) * np.cos(az), np.cos(inc)
    nodata = ~np.isfinite(incidence) | ~np.isfinite(azimuth) | (incidence <= 0)
    for component in (east, north, up):
        component[nodata] = np.nan
    return los_from_components(east, north, up, str(path)), grid


def read_mintpy_velocity(path: Path, units: str | None = None) -> VelocityProduct:
    """Velocity (converted from the UNIT attribute to mm/yr), grid and period of a MintPy file."""
    with _open(path, "velocity", "velocity") as file:
        values = np.asarray(file["velocity"][()])
        attrs = _attrs(file)
        dataset_unit = file["velocity"].attrs.get("UNIT")
    if values.ndim != 2:
        raise ProductError(f"{path}: dataset velocity has shape {values.shape}, expected 2-D")
    grid = mintpy_grid(attrs, values.shape, str(path))
    unit = attrs.get("UNIT") or (dataset_unit.decode() if isinstance(dataset_unit, bytes) else dataset_unit)
    velocity = velocity_in_mm_yr(values, unit, units, str(path))
    period = start = end = None
    if "START_DATE" in attrs and "END_DATE" in attrs:
        period, start, end = period_from_dates(attrs["START_DATE"], attrs["END_DATE"], str(path))
    return VelocityProduct(velocity, grid, "mintpy", str(path), None, period, start, end, unit)
