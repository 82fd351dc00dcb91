"""LiCSBAS products: ``cum.h5`` of step 13 and the NetCDF export of ``LiCSBAS_out2nc.py``.

Layout read from LiCSBAS13_sb_inv.py (Morishita et al. 2020): ``vel`` (rows, cols) in mm/yr,
positive = LOS shortening (toward the satellite), NaN where not inverted, 0 at the reference
area; ``cum`` (epochs, rows, cols) in mm; ``imdates`` (YYYYMMDD integers); ``corner_lat``,
``corner_lon`` = centre of the first pixel and ``post_lat`` (negative), ``post_lon`` in degrees
(EPSG:4326), so the GeoTIFF origin is corner - post/2 as in ``LiCSBAS_flt2geotiff.py``;
``E.geo``, ``N.geo``, ``U.geo`` = ground-to-satellite unit vector (0 = no data) when present.
The NetCDF export (COMET) holds ``vel`` (attribute unit = mm/year) on ``lat``/``lon`` pixel-centre
coordinates sorted ascending (south first) and the epochs in ``time``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    check_finite_values,
    los_from_components,
    open_hdf5,
    period_from_dates,
    read_map_dataset,
    velocity_in_mm_yr,
)
from volcdet.data.products.checks import check_declared_size
from volcdet.data.rasters import Grid

GEOGRAPHIC = CRS.from_epsg(4326)
CUM_DATASETS = ("vel", "imdates")
CUM_GEOREF = ("corner_lat", "corner_lon", "post_lat", "post_lon")
LOS_DATASETS = ("E.geo", "N.geo", "U.geo")
#: A LiCSBAS reference area: pixel indices x1:x2/y1:y2, ends exclusive (LiCSBAS13_sb_inv.py).
REFAREA = re.compile(r"^\s*(\d+):(\d+)/(\d+):(\d+)\s*$")


def _georef(file: h5py.File) -> tuple[float, float, float, float]:
    """corner_lat, corner_lon, post_lat, post_lon of a cum.h5."""
    corner_lat, corner_lon, post_lat, post_lon = (_scalar(file, n) for n in CUM_GEOREF)
    return corner_lat, corner_lon, post_lat, post_lon


def _los_components(file: h5py.File) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The E, N and U components of the LOS stored in a cum.h5."""
    east, north, up = (np.asarray(file[n][()]) for n in LOS_DATASETS)
    return east, north, up


def _scalar(file: h5py.File, name: str) -> float:
    """A scalar dataset (stored 0-d or 1-element) as a float."""
    return float(np.asarray(file[name][()]).ravel()[0])


def licsbas_grid(
    corner_lat: float, corner_lon: float, post_lat: float, post_lon: float, shape: tuple[int, int]
) -> Grid:
    """EPSG:4326 grid of a LiCSBAS raster: corner lat/lon are the first pixel's centre."""
    transform = Affine(
        post_lon, 0.0, corner_lon - post_lon / 2, 0.0, post_lat, corner_lat - post_lat / 2
    )
    return Grid(GEOGRAPHIC, transform, shape)


def _open_cum(path: Path) -> h5py.File:
    """An open, geocoded LiCSBAS cum.h5; one-line errors otherwise."""
    file = open_hdf5(path)
    missing = [name for name in CUM_DATASETS if name not in file]
    if missing:
        file.close()
        raise ProductError(f"{path}: not a LiCSBAS cum.h5 (no dataset {', '.join(missing)})")
    if any(name not in file for name in CUM_GEOREF):
        file.close()
        raise ProductError(
            f"{path}: cum.h5 has no corner_lat/corner_lon/post_lat/post_lon: it is in radar "
            "coordinates; run LiCSBAS on geocoded (GEOC) interferograms"
        )
    return file


def _text(value: object) -> str:
    """An HDF5 string dataset's value as text (h5py returns bytes for variable-length strings)."""
    value = np.asarray(value).ravel()[0] if np.ndim(value) else value  # type: ignore[arg-type]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_licsbas_cum(path: Path, options: ReadOptions | None = None) -> VelocityProduct:
    """Velocity (mm/yr), grid, LOS (when E/N/U.geo are stored), period and reference area of a
    LiCSBAS cum.h5 (E/N/U.geo are stored by LiCSBAS13_sb_inv.py v1.5.2 and later, when the
    GEOCml* folder held them)."""
    options = options or ReadOptions()
    with _open_cum(path) as file:
        try:
            velocity_raw = read_map_dataset(file, "vel", path)
            imdates = np.asarray(file["imdates"][()]).ravel()
            grid = licsbas_grid(*_georef(file), velocity_raw.shape)
            los = (
                los_from_components(*_los_components(file), f"{path}:E/N/U.geo")
                if all(n in file for n in LOS_DATASETS)
                else None
            )
            refarea = _text(file["refarea"][()]) if "refarea" in file else None
        except (OSError, KeyError) as err:
            raise ProductError(f"{path}: cannot read dataset ({err})") from err
    velocity = velocity_in_mm_yr(velocity_raw, "mm/yr", options.units, str(path), options)
    period, start, end = period_from_dates(imdates.min(), imdates.max(), str(path))
    reference = parse_refarea(refarea, grid, f"{Path(path).name}:refarea") if refarea else None
    return VelocityProduct(
        velocity,
        grid,
        "licsbas-cum",
        str(path),
        los,
        period,
        start,
        end,
        "mm/yr",
        reference,
        f"{path} (E.geo, N.geo, U.geo)" if los is not None else None,
    )


def parse_refarea(text: str, grid: Grid, origin: str, path: Path | None = None) -> dict[str, Any]:
    """A LiCSBAS reference area 'x1:x2/y1:y2' as a record with its centre's lon/lat; ``origin``
    names where it was read (errors name ``path`` when given)."""
    match = REFAREA.match(text)
    if match is None:
        raise ProductError(f"{path or origin}: reference area {text!r} is not like x1:x2/y1:y2")
    x1, x2, y1, y2 = (int(v) for v in match.groups())
    lon, lat = grid.transform @ ((x1 + x2) / 2, (y1 + y2) / 2)
    return {
        "kind": "area",
        "x": [x1, x2],
        "y": [y1, y2],
        "lon": round(float(lon), 6),
        "lat": round(float(lat), 6),
        "source": origin,
    }


@dataclass(frozen=True)
class Epochs:
    """Cumulative displacement epochs of a cum.h5: dates and a reader of one epoch (mm)."""

    path: Path
    dates: list[str]
    grid: Grid

    def displacement_mm(self, index: int) -> np.ndarray:
        """Cumulative LOS displacement (mm, float32, NaN = no data) of epoch ``index``."""
        with _open_cum(self.path) as file:
            if "cum" not in file:
                raise ProductError(f"{self.path}: cum.h5 has no dataset cum")
            epoch = np.asarray(file["cum"][index], dtype=np.float32)
        check_finite_values(epoch, f"{self.path}:cum[{index}]", "cumulative displacement")
        return epoch


def licsbas_epochs(path: Path) -> Epochs:
    """The epochs of a cum.h5 (for interferograms as epoch differences)."""
    with _open_cum(path) as file:
        dates = [str(int(d)) for d in np.asarray(file["imdates"][()]).ravel()]
        shape = file["vel"].shape
        grid = licsbas_grid(*_georef(file), shape)
        if "cum" not in file:
            raise ProductError(f"{path}: cum.h5 has no dataset cum (needed for interferograms)")
    return Epochs(Path(path), dates, grid)


def _regular_axis(values: np.ndarray, name: str, source: str) -> tuple[float, float]:
    """(first centre, step) of an evenly spaced coordinate axis."""
    if values.size < 2:
        raise ProductError(f"{source}: coordinate {name} has fewer than 2 values")
    step = (float(values[-1]) - float(values[0])) / (values.size - 1)
    if step == 0 or not np.allclose(np.diff(values), step, rtol=1e-4, atol=0):
        raise ProductError(f"{source}: coordinate {name} is not evenly spaced")
    return float(values[0]), step


def read_licsbas_netcdf(path: Path, options: ReadOptions | None = None) -> VelocityProduct:
    """Velocity, grid and period of a LiCSBAS NetCDF export (``vel`` on lat/lon centres)."""
    import xarray as xr

    options = options or ReadOptions()
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    try:
        dataset = xr.open_dataset(path, decode_times=True)
    except (OSError, ValueError) as err:
        raise ProductError(f"{path}: not a readable NetCDF file ({err})") from err
    with dataset:
        if "vel" not in dataset:
            raise ProductError(f"{path}: NetCDF has no variable vel (not a LiCSBAS export)")
        vel = dataset["vel"]
        if set(vel.dims) != {"lat", "lon"}:
            raise ProductError(f"{path}: vel has dimensions {vel.dims}, expected (lat, lon)")
        vel = vel.transpose("lat", "lon")
        rows, cols = vel.shape
        check_declared_size(rows, cols, str(path))
        lat0, dlat = _regular_axis(vel["lat"].to_numpy(), "lat", str(path))
        lon0, dlon = _regular_axis(vel["lon"].to_numpy(), "lon", str(path))
        values = vel.to_numpy()
        if dlat > 0:  # south first: flip to north-up rows
            values, lat0, dlat = values[::-1], lat0 + dlat * (values.shape[0] - 1), -dlat
        if dlon < 0:
            values, lon0, dlon = values[:, ::-1], lon0 + dlon * (values.shape[1] - 1), -dlon
        unit = vel.attrs.get("unit") or vel.attrs.get("units")
        period = start = end = None
        if "time" in dataset.coords and dataset["time"].size >= 2:
            times = dataset["time"].to_numpy()
            period, start, end = period_from_dates(
                str(times.min())[:10], str(times.max())[:10], str(path)
            )
    velocity = velocity_in_mm_yr(
        np.ascontiguousarray(values), unit, options.units, str(path), options
    )
    grid = licsbas_grid(lat0, lon0, dlat, dlon, velocity.shape)
    return VelocityProduct(
        velocity, grid, "licsbas-netcdf", str(path), None, period, start, end, unit
    )
