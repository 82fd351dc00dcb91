"""MintPy products: ``velocity.h5`` / ``geo_velocity.h5`` and ``geometryGeo.h5``.

Layout read from MintPy (Yunjun et al. 2019; timeseries2velocity.py, readfile.py, save_gdal.py,
utils0.py): the dataset ``velocity`` with root attributes (strings) ``UNIT`` = m/year,
``START_DATE``/``END_DATE`` (YYYYMMDD), ``X_FIRST``/``Y_FIRST`` = upper-left **corner** of the
first pixel, ``X_STEP``/``Y_STEP`` and ``EPSG`` or ``UTM_ZONE`` (e.g. 19S) when projected,
degrees otherwise. Positive = toward the satellite. ``geometryGeo.h5`` holds ``incidenceAngle``
(degrees from vertical) and ``azimuthAngle`` (degrees, azimuth of the ground-to-satellite LOS,
from north, anticlockwise positive); the unit vector is (-sin(inc) sin(az), sin(inc) cos(az),
cos(inc)) (MintPy utils0.get_unit_vector4component_of_interest, 'enu2los').

No data: MintPy writes velocity 0 where a pixel was not inverted (timeseries2velocity.py starts
from zeros and skips pixels whose time series is 0 or NaN at every date; ifgram_inversion.py
leaves those at temporal coherence 0); the only inverted pixel that is exactly 0 is the
reference pixel (REF_Y/REF_X). ``maskTempCoh.h5`` (generate_mask.py: dataset ``mask``, 1 =
reliable) marks the pixels whose temporal coherence passes the run's threshold; smallbaselineApp
writes it beside ``velocity.h5`` (``geo/geo_maskTempCoh.h5`` beside ``geo/geo_velocity.h5``),
with ``temporalCoherence.h5`` (``geo_temporalCoherence.h5``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    ReadOptions,
    VelocityProduct,
    check_floating,
    los_from_components,
    open_hdf5,
    period_from_dates,
    read_map_dataset,
    velocity_in_mm_yr,
)
from volcdet.data.products.checks import check_declared_size, check_not_lfs_pointer
from volcdet.data.rasters import Grid

log = logging.getLogger(__name__)

GEO_ATTRIBUTES = ("X_FIRST", "Y_FIRST", "X_STEP", "Y_STEP")
REFERENCE_ATTRIBUTES = ("REF_Y", "REF_X", "REF_LAT", "REF_LON", "REF_DATE")


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
    raise ProductError(
        f"{source}: projected coordinates (X_UNIT {attrs['X_UNIT']}) but no EPSG or UTM_ZONE"
    )


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
        rows, cols = file["incidenceAngle"].shape[-2:]
        check_declared_size(rows, cols, str(path))
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


def sibling_path(path: Path, name: str) -> Path | None:
    """A MintPy file written beside ``path`` by the same run: ``geo_<name>`` beside a
    ``geo_*`` file (geocode.py prefix), else ``<name>``; None when absent."""
    path = Path(path)
    prefix = "geo_" if path.name.startswith("geo_") else ""
    candidate = path.with_name(prefix + name)
    return candidate if candidate.is_file() else None


def _read_layer(
    path: Path, dataset: str, attrs: dict[str, str], shape: tuple[int, int]
) -> np.ndarray:
    """A 2-D dataset of a MintPy file on the velocity's grid (same size and corner)."""
    check_not_lfs_pointer(path)
    with _open(path, dataset, dataset) as file:
        layer = file[dataset]
        other = _attrs(file)
        if layer.shape != shape or any(
            k in attrs and k in other and not np.isclose(float(attrs[k]), float(other[k]))
            for k in GEO_ATTRIBUTES
        ):
            raise ProductError(
                f"{path}: {dataset} is not on the velocity's grid (shape {layer.shape} vs "
                f"{shape}, or another X_FIRST/Y_FIRST/X_STEP/Y_STEP)"
            )
        return np.asarray(layer[()])


def reference_pixel(attrs: dict[str, str], grid: Grid) -> tuple[int, int] | None:
    """(row, col) of the reference pixel: REF_Y/REF_X (geocode.py updates them to the geo
    grid, attribute.update_attribute4radar2geo), else REF_LAT/REF_LON on the grid."""
    try:
        if "REF_Y" in attrs and "REF_X" in attrs:
            return int(float(attrs["REF_Y"])), int(float(attrs["REF_X"]))
        if "REF_LAT" in attrs and "REF_LON" in attrs:
            col, row = ~grid.transform @ (float(attrs["REF_LON"]), float(attrs["REF_LAT"]))
            return int(np.floor(row)), int(np.floor(col))
    except ValueError:
        return None
    return None


def mintpy_reference(attrs: dict[str, str]) -> dict[str, Any] | None:
    """The reference point as the file states it (REF_Y/REF_X, REF_LAT/REF_LON, REF_DATE)."""
    found = {key: attrs[key] for key in REFERENCE_ATTRIBUTES if key in attrs}
    if not found:
        return None
    record: dict[str, object] = {"kind": "point", "source": "MintPy attributes"}
    for key, value in found.items():
        try:
            record[key] = value if key == "REF_DATE" else float(value)
        except ValueError:
            record[key] = value
    return record


def mask_no_data(
    values: np.ndarray, path: Path, attrs: dict[str, str], grid: Grid, options: ReadOptions
) -> np.ndarray:
    """Velocity with MintPy's no data as NaN: 0 where not inverted, and outside maskTempCoh.

    A zero is no data where the temporal coherence is 0 (``temporalCoherence.h5`` beside the
    file), or, without that file, anywhere but the reference pixel. A mask file (``options.mask``
    or ``maskTempCoh.h5`` beside the file) turns every pixel where it is 0 into no data.
    """
    out = np.array(values, dtype=np.float32, copy=True)
    zero = out == 0
    ref = reference_pixel(attrs, grid)
    if ref is not None:  # the reference pixel (and its neighbours, for rounding) stays valid
        zero[max(ref[0] - 1, 0) : ref[0] + 2, max(ref[1] - 1, 0) : ref[1] + 2] = False
    coherence_path = sibling_path(path, "temporalCoherence.h5")
    if coherence_path is not None and zero.any():
        coherence = _read_layer(coherence_path, "temporalCoherence", attrs, out.shape)
        zero &= coherence == 0
        why = f"temporal coherence 0 in {coherence_path.name}"
    else:
        why = "MintPy writes 0 where it did not invert"
    if zero.any():
        out[zero] = np.nan
        log.info(
            "%s: %s pixel(s) of velocity 0 taken as no data (%s)", path, f"{int(zero.sum()):,}", why
        )
    mask_path = options.mask or sibling_path(path, "maskTempCoh.h5")
    if mask_path is not None:
        mask = _read_layer(Path(mask_path), "mask", attrs, out.shape)
        outside = (mask == 0) & np.isfinite(out)
        out[outside] = np.nan
        log.info(
            "%s: %s pixel(s) outside %s masked as no data",
            path,
            f"{int(outside.sum()):,}",
            Path(mask_path).name,
        )
    return out


def read_mintpy_velocity(path: Path, options: ReadOptions | None = None) -> VelocityProduct:
    """Velocity (converted from the UNIT attribute to mm/yr), grid, period and reference point
    of a MintPy file; MintPy's no data (``mask_no_data``) become NaN."""
    options = options or ReadOptions()
    with _open(path, "velocity", "velocity") as file:
        values = read_map_dataset(file, "velocity", path)
        attrs = _attrs(file)
        dataset_unit = file["velocity"].attrs.get("UNIT")
    grid = mintpy_grid(attrs, values.shape, str(path))
    check_floating(values, str(path))
    values = mask_no_data(values, Path(path), attrs, grid, options)
    unit = attrs.get("UNIT") or (
        dataset_unit.decode() if isinstance(dataset_unit, bytes) else dataset_unit
    )
    velocity = velocity_in_mm_yr(values, unit, options.units, str(path), options)
    period = start = end = None
    if "START_DATE" in attrs and "END_DATE" in attrs:
        period, start, end = period_from_dates(attrs["START_DATE"], attrs["END_DATE"], str(path))
    return VelocityProduct(
        velocity, grid, "mintpy", str(path), None, period, start, end, unit, mintpy_reference(attrs)
    )
