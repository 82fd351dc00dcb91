"""Writers of small users' products that follow the real layouts (for the reader tests).

Each writer reproduces what the tool's own code writes (read from the tools' source, never
copied): LiCSBAS13_sb_inv.py (cum.h5), LiCSBAS_flt2geotiff.py (GeoTIFF), LiCSBAS_out2nc.py
(NetCDF), MintPy timeseries2velocity.py / geocode (velocity.h5, geometryGeo.h5, string
attributes), MintPy save_gdal.py (GeoTIFF without nodata, m/year) and LiCSAR E/N/U GeoTIFFs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import rasterio
from affine import Affine


@dataclass(frozen=True)
class GeoField:
    """A velocity field (mm/yr) on a LiCSBAS-style geographic grid (pixel-centre corner)."""

    velocity_mm_yr: np.ndarray
    corner_lat: float
    corner_lon: float
    post_lat: float
    post_lon: float

    @property
    def transform(self) -> Affine:
        """GeoTIFF transform (upper-left corner = first centre - post / 2)."""
        return Affine(
            self.post_lon,
            0,
            self.corner_lon - self.post_lon / 2,
            0,
            self.post_lat,
            self.corner_lat - self.post_lat / 2,
        )


def geo_field(
    rows: int = 180,
    cols: int = 200,
    corner_lat: float = -22.40,
    corner_lon: float = -68.70,
    post: float = 0.001,
    seed: int = 0,
    hole: bool = True,
) -> GeoField:
    """A bump of uplift (25 mm/yr), a ramp, pixel noise and a NaN hole, on a 0.001 deg grid."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:rows, 0:cols].astype(np.float64)
    bump = 25.0 * np.exp(-((r - rows * 0.45) ** 2 + (c - cols * 0.55) ** 2) / (2 * (rows / 8) ** 2))
    velocity = bump + 0.02 * c - 0.01 * r + rng.normal(0, 1.0, (rows, cols))
    velocity = velocity.astype(np.float32)
    if hole:
        velocity[20:50, 30:70] = np.nan
    return GeoField(velocity, corner_lat, corner_lon, -post, post)


def write_licsbas_cum(
    path: Path,
    field: GeoField,
    imdates: list[int],
    cum: np.ndarray | None = None,
    enu: np.ndarray | None = None,
) -> Path:
    """A LiCSBAS step-13 cum.h5: imdates, vel, cum, corner/post lat/lon, refarea, E/N/U.geo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, cols = field.velocity_mm_yr.shape
    with h5py.File(path, "w") as f:
        f.create_dataset("imdates", data=[np.int32(d) for d in imdates])
        if cum is None:
            t = (pd.to_datetime([str(d) for d in imdates]) - pd.Timestamp(str(imdates[0]))).days
            cum = field.velocity_mm_yr[None] * (np.asarray(t, np.float32) / 365.25)[:, None, None]
        f.create_dataset("cum", data=cum.astype(np.float32), compression="gzip")
        f.create_dataset("vel", data=field.velocity_mm_yr, compression="gzip")
        f.create_dataset("vintercept", data=np.zeros((rows, cols), np.float32))
        f.create_dataset("corner_lat", data=field.corner_lat)
        f.create_dataset("corner_lon", data=field.corner_lon)
        f.create_dataset("post_lat", data=field.post_lat)
        f.create_dataset("post_lon", data=field.post_lon)
        f.create_dataset("refarea", data=f"{cols // 2}:{cols // 2 + 1}/{rows // 2}:{rows // 2 + 1}")
        if enu is not None:
            for name, component in zip(("E.geo", "N.geo", "U.geo"), enu, strict=True):
                f.create_dataset(name, data=component.astype(np.float32), compression="gzip")
    return path


def write_licsbas_geotiff(path: Path, field: GeoField, values: np.ndarray | None = None) -> Path:
    """LiCSBAS_flt2geotiff.py output: EPSG:4326, origin = corner - post/2, NaN nodata."""
    data = field.velocity_mm_yr if values is None else values
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:4326",
        "transform": field.transform,
        "compress": "deflate",
    }
    if np.issubdtype(data.dtype, np.floating):
        profile["nodata"] = float("nan")
        profile["predictor"] = 3
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data[None])
        dst.update_tags(AREA_OR_POINT="Area")
    return path


def write_licsbas_netcdf(path: Path, field: GeoField, imdates: list[int]) -> Path:
    """LiCSBAS_out2nc.py output: vel (mm/year) on lat/lon centres sorted ascending, time, CRS."""
    import rioxarray  # noqa: F401
    import xarray as xr

    rows, cols = field.velocity_mm_yr.shape
    lat = field.corner_lat + field.post_lat * np.arange(rows)
    lon = field.corner_lon + field.post_lon * np.arange(cols)
    time = pd.to_datetime([str(d) for d in imdates])
    vel = xr.DataArray(field.velocity_mm_yr, coords=[lat, lon], dims=["lat", "lon"])
    vel.attrs["unit"] = "mm/year"
    t = np.asarray((time - time[0]).days, np.float32) / 365.25
    cum = xr.DataArray(
        field.velocity_mm_yr[None] * t[:, None, None],
        coords=[time, lat, lon],
        dims=["time", "lat", "lon"],
    )
    cum.attrs["unit"] = "mm"
    cube = xr.Dataset({"cum": cum, "vel": vel})
    cube = cube.rio.set_spatial_dims(x_dim="lon", y_dim="lat").rio.write_crs("EPSG:4326")
    cube = cube.sortby(["time", "lon", "lat"])
    cube.to_netcdf(path, engine="h5netcdf", encoding={"time": {"dtype": "i4"}})
    return path


def mintpy_attributes(
    x_first: float,
    y_first: float,
    x_step: float,
    y_step: float,
    shape: tuple[int, int],
    extra: dict[str, object] | None = None,
) -> dict[str, str]:
    """Geocoded MintPy root attributes (all strings, as writefile.py stores them)."""
    attrs = {
        "LENGTH": shape[0],
        "WIDTH": shape[1],
        "X_FIRST": x_first,
        "Y_FIRST": y_first,
        "X_STEP": x_step,
        "Y_STEP": y_step,
        "X_UNIT": "degrees",
        "Y_UNIT": "degrees",
        "PROCESSOR": "isce",
        "PLATFORM": "Sen",
        "WAVELENGTH": 0.05546576,
        "ORBIT_DIRECTION": "DESCENDING",
    } | (extra or {})
    return {k: str(v) for k, v in attrs.items()}


def write_mintpy_velocity(
    path: Path, velocity_m_yr: np.ndarray, attrs: dict[str, str], start: str, end: str
) -> Path:
    """geo_velocity.h5 of timeseries2velocity.py + geocode.py (UNIT m/year, dates, corner origin)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("velocity", data=velocity_m_yr.astype(np.float32))
        f.create_dataset("velocityStd", data=np.full(velocity_m_yr.shape, 1e-3, np.float32))
        meta = attrs | {
            "FILE_TYPE": "velocity",
            "UNIT": "m/year",
            "START_DATE": start,
            "END_DATE": end,
            "DATE12": f"{start}_{end}",
            "REF_DATE": start,
        }
        for key, value in meta.items():
            f.attrs[key] = str(value)
    return path


def write_mintpy_geometry(
    path: Path, incidence_deg: np.ndarray, azimuth_deg: np.ndarray, attrs: dict[str, str]
) -> Path:
    """geometryGeo.h5: incidenceAngle, azimuthAngle (LOS azimuth from north, anticlockwise)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("incidenceAngle", data=incidence_deg.astype(np.float32))
        f.create_dataset("azimuthAngle", data=azimuth_deg.astype(np.float32))
        f.create_dataset("height", data=np.zeros(incidence_deg.shape, np.float32))
        for key, value in (attrs | {"FILE_TYPE": "geometry"}).items():
            f.attrs[key] = str(value)
    return path


def write_save_gdal_geotiff(path: Path, values: np.ndarray, transform: Affine, epsg: int) -> Path:
    """MintPy save_gdal.py output: single band, EPSG, no nodata tag, values as in the .h5."""
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{epsg}",
        "transform": transform,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32)[None])
    return path


def write_licsar_enu(folder: Path, frame: str, enu: np.ndarray, transform: Affine) -> Path:
    """<frame>.geo.E/N/U.tif: one component each, EPSG:4326, 0 = no data; returns the E path."""
    folder.mkdir(parents=True, exist_ok=True)
    for letter, component in zip("ENU", enu, strict=True):
        profile = {
            "driver": "GTiff",
            "height": component.shape[0],
            "width": component.shape[1],
            "count": 1,
            "dtype": "float32",
            "crs": "EPSG:4326",
            "transform": transform,
        }
        with rasterio.open(folder / f"{frame}.geo.{letter}.tif", "w", **profile) as dst:
            dst.write(np.nan_to_num(component, nan=0.0).astype(np.float32)[None])
    return folder / f"{frame}.geo.E.tif"


def licsbas_cum_from_utm_track(
    velocity_tif: Path,
    los_tif: Path,
    start: str,
    end: str,
    out_path: Path,
    post_deg: float = 0.002,
    n_epochs: int = 5,
    seed: int = 0,
) -> Path:
    """A LiCSBAS cum.h5 (EPSG:4326) of a UTM track: velocity and E/N/U brought to lat/lon,
    epochs = velocity x time + a turbulent delay per epoch (exponential covariance, 6 km, 4 mm)."""
    from rasterio.warp import Resampling, reproject, transform_bounds

    from volcdet.simulation.random_fields import gaussian_random_field

    with rasterio.open(velocity_tif) as src:
        velocity, src_crs, src_transform = (
            src.read(1, masked=True).filled(np.nan),
            src.crs,
            src.transform,
        )
        bounds = src.bounds
    with rasterio.open(los_tif) as src:
        los = src.read(masked=True).filled(np.nan)
    west, south, east, north = transform_bounds(src_crs, "EPSG:4326", *bounds, densify_pts=21)
    rows, cols = int((north - south) / post_deg), int((east - west) / post_deg)
    corner_lat, corner_lon = north - post_deg / 2, west + post_deg / 2
    field = GeoField(
        np.zeros((rows, cols), np.float32), corner_lat, corner_lon, -post_deg, post_deg
    )
    common = {
        "src_transform": src_transform,
        "src_crs": src_crs,
        "dst_transform": field.transform,
        "dst_crs": "EPSG:4326",
        "src_nodata": np.nan,
        "dst_nodata": np.nan,
    }
    vel_geo = np.full((rows, cols), np.nan, np.float32)
    reproject(velocity.astype(np.float32), vel_geo, resampling=Resampling.average, **common)
    los_geo = np.full((3, rows, cols), np.nan, np.float32)
    reproject(los.astype(np.float32), los_geo, resampling=Resampling.bilinear, **common)
    los_geo /= np.sqrt((los_geo**2).sum(axis=0))
    dates = pd.date_range(start, end, periods=n_epochs).normalize()
    years = np.asarray((dates - dates[0]).days, np.float32) / 365.25
    rng = np.random.default_rng(seed)
    delays = gaussian_random_field(
        (rows, cols), 200.0, "exponential", 16.0, 6_000.0, rng, n_fields=n_epochs
    )
    cum = vel_geo[None] * years[:, None, None] + delays.astype(np.float32)
    cum -= cum[0]
    imdates = [int(d.strftime("%Y%m%d")) for d in dates]
    return write_licsbas_cum(
        out_path,
        GeoField(vel_geo, corner_lat, corner_lon, -post_deg, post_deg),
        imdates,
        cum=cum,
        enu=np.nan_to_num(los_geo, nan=0.0),
    )
