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


# --- LiCSBAS folder layout (LiCSBAS02_ml_prep.py, 11_check_unw.py, 12, 13, 15, 16) -------------


def licsbas_dem_par_text(field: GeoField) -> str:
    """EQA.dem_par as LiCSBAS02_ml_prep.py writes it (GAMMA keys, corner = first pixel centre)."""
    rows, cols = field.velocity_mm_yr.shape
    lines = [
        "Gamma DIFF&GEO DEM/MAP parameter file",
        "title: DEM",
        "DEM_projection:     EQA",
        "data_format:        REAL*4",
        "DEM_hgt_offset:          0.00000",
        "DEM_scale:               1.00000",
        f"width: {cols}",
        f"nlines: {rows}",
        f"corner_lat:     {field.corner_lat}  decimal degrees",
        f"corner_lon:    {field.corner_lon}  decimal degrees",
        f"post_lat: {field.post_lat} decimal degrees",
        f"post_lon: {field.post_lon} decimal degrees",
        "",
        "ellipsoid_name: WGS 84",
        "ellipsoid_ra:        6378137.000   m",
        "ellipsoid_reciprocal_flattening:  298.2572236",
        "",
        "datum_name: WGS 1984",
        "datum_country_list: Global Definition, WGS84, World\n",
    ]
    return "\n".join(lines)


def write_flt2geotiff(path: Path, field: GeoField, values: np.ndarray) -> Path:
    """LiCSBAS_flt2geotiff.py / io_lib.make_geotiff: EPSG:4326, origin = corner - post/2,
    NaN nodata (the script's default), AREA_OR_POINT=Area, DEFLATE."""
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": field.transform,
        "nodata": float("nan"),
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32)[None])
        dst.update_tags(AREA_OR_POINT="Area")
    return path


def write_licsbas_frame(
    root: Path,
    field: GeoField,
    imdates: list[int],
    enu: np.ndarray | None = None,
    los_as: str = "raw",
    multilook: int = 10,
    layers: tuple[str, ...] = ("vel", "vel.mskd", "vel.filt", "vel.filt.mskd"),
    refarea: str = "10:11/12:13",
) -> Path:
    """A LiCSAR frame folder after a LiCSBAS run; returns its ``TS_GEOCml<N>`` folder.

    ``GEOCml<N>/``: EQA.dem_par (step 02) and, with ``enu``, ``E.geo``/``N.geo``/``U.geo`` raw
    float32 with NaN for 0 (step 02; ``los_as='tif'`` writes them as ``E.geo.tif`` ... as
    LiCSBAS_flt2geotiff.py would). ``TS_GEOCml<N>/info/``: EQA.dem_par (copied by step 11),
    12ref.txt / 13ref.txt / 16ref.txt ('x1:x2/y1:y2'), 13used_image.txt (one YYYYMMDD a line,
    step 13). ``results/``: the velocity layers (headerless little-endian float32; the masked
    ones NaN where step 15's mask is 0), ``hgt`` and ``coh_avg``. ``cum.h5`` as step 13 writes it.
    """
    geoc = root / f"GEOCml{multilook}"
    ts = root / f"TS_GEOCml{multilook}"
    for folder in (geoc, ts / "info", ts / "results"):
        folder.mkdir(parents=True, exist_ok=True)
    dem_par = licsbas_dem_par_text(field)
    (geoc / "EQA.dem_par").write_text(dem_par)
    (ts / "info" / "EQA.dem_par").write_text(dem_par)
    for name in ("12ref.txt", "13ref.txt", "16ref.txt"):
        (ts / "info" / name).write_text(f"{refarea}\n")
    (ts / "info" / "13used_image.txt").write_text("".join(f"{d}\n" for d in imdates))
    velocity = field.velocity_mm_yr.astype(np.float32)
    masked = velocity.copy()
    masked[-10:, :] = np.nan  # step 15 masks noisy pixels
    for name in layers:
        (masked if name.endswith(".mskd") else velocity).astype("<f4").tofile(ts / "results" / name)
    rows, cols = velocity.shape
    np.linspace(3000.0, 4500.0, rows * cols, dtype=np.float32).astype("<f4").tofile(
        ts / "results" / "hgt"
    )
    np.full((rows, cols), 0.6, "<f4").tofile(ts / "results" / "coh_avg")
    write_licsbas_cum(ts / "cum.h5", field, imdates)
    if enu is not None:
        for letter, component in zip("ENU", enu, strict=True):
            values = np.where(component == 0, np.nan, component).astype(np.float32)
            if los_as == "raw":
                values.astype("<f4").tofile(geoc / f"{letter}.geo")
            else:
                write_flt2geotiff(geoc / f"{letter}.geo.tif", field, values)
    return ts


# --- MintPy masks (generate_mask.py, ifgram_inversion.py) ------------------------------------


def write_mintpy_layer(path: Path, dataset: str, values: np.ndarray, attrs: dict[str, str]) -> Path:
    """A single-dataset MintPy file as writefile.write stores it: the dataset is named after
    FILE_TYPE (``mask`` for maskTempCoh.h5, ``temporalCoherence``), attributes as strings."""
    with h5py.File(path, "w") as f:
        f.create_dataset(dataset, data=values)
        for key, value in (attrs | {"FILE_TYPE": dataset}).items():
            f.attrs[key] = str(value)
    return path


# --- OPERA DISP-S1 (opera-adt/disp-s1 product.py, product_info.py, main_static_layers.py) -----

DISP_TIME_REFERENCE = "2010-01-01 00:00:00.000000"


def round_mantissa(values: np.ndarray, keep_bits: int) -> np.ndarray:
    """float32 values with the mantissa rounded to ``keep_bits`` bits (as dolphin.io does)."""
    bits = np.asarray(values, np.float32).copy().view(np.uint32)
    drop = 23 - keep_bits
    half = np.uint32(1 << (drop - 1))
    mask = np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)
    finite = np.isfinite(values)
    bits[finite] = (bits[finite] + half) & mask
    return bits.view(np.float32)


def disp_s1_name(
    frame_id: int, reference: pd.Timestamp, secondary: pd.Timestamp, version: str
) -> str:
    """OPERA_L3_DISP-S1_IW_F<frame>_VV_<ref>_<sec>_v<version>_<generation>.nc."""
    fmt = "%Y%m%dT%H%M%SZ"
    return (
        f"OPERA_L3_DISP-S1_IW_F{frame_id:05d}_VV_{reference.strftime(fmt)}_"
        f"{secondary.strftime(fmt)}_v{version}_20250101T000000Z.nc"
    )


def _disp_grid_mapping(group: object, epsg: int, transform: Affine) -> None:
    """``spatial_ref``: CF grid mapping from pyproj's CRS.to_cf() plus GDAL's GeoTransform."""
    from pyproj import CRS

    variable = group.create_variable("spatial_ref", (), data=0, dtype=int)
    variable.attrs.update(CRS.from_epsg(epsg).to_cf())
    gt = (transform.c, transform.a, transform.b, transform.f, transform.d, transform.e)
    variable.attrs.update(
        {
            "GeoTransform": " ".join(str(v) for v in gt),
            "units": "unitless",
            "long_name": "Dummy variable with geo-referencing metadata in attributes",
        }
    )


def _disp_coordinates(group: object, transform: Affine, shape: tuple[int, int]) -> None:
    """Dimensions y, x (pixel centres, m) and time (1)."""
    rows, cols = shape
    group.dimensions = {"y": rows, "x": cols, "time": 1}
    y = transform.f + transform.e * (np.arange(rows) + 0.5)
    x = transform.c + transform.a * (np.arange(cols) + 0.5)
    for name, values in (("y", y), ("x", x)):
        variable = group.create_variable(name, (name,), data=values, dtype=float)
        variable.attrs["standard_name"] = f"projection_{name}_coordinate"
        variable.attrs["long_name"] = f"{name} coordinate of projection"
        variable.attrs["units"] = "m"


def _disp_time(group: object, name: str, when: pd.Timestamp, long_name: str) -> None:
    """A CF time variable in seconds since 2010-01-01."""
    seconds = (when - pd.Timestamp("2010-01-01")).total_seconds()
    variable = group.create_variable(name, ("time",), data=np.array([seconds]), dtype=float)
    variable.attrs.update(
        {
            "standard_name": "time",
            "long_name": long_name,
            "calendar": "standard",
            "units": f"seconds since {DISP_TIME_REFERENCE}",
        }
    )


def _disp_layer(group: object, name: str, data: np.ndarray, fill: object, units: str) -> None:
    """A (y, x) product layer with its fill value, units and grid mapping."""
    variable = group.create_variable(
        name,
        ("y", "x"),
        data=data,
        fillvalue=fill,
        chunks=(min(256, data.shape[0]), min(256, data.shape[1])),
    )
    variable.attrs.update({"units": units, "long_name": name, "grid_mapping": "spatial_ref"})


def _disp_string(group: object, name: str, value: str) -> None:
    """A scalar string dataset (product.py stores strings as np.bytes_)."""
    group.create_variable(name, (), data=np.bytes_(value))


def write_disp_s1_product(
    folder: Path,
    displacement_m: np.ndarray,
    epsg: int,
    transform: Affine,
    reference: pd.Timestamp,
    secondary: pd.Timestamp,
    frame_id: int = 8882,
    version: str = "1.0",
    recommended_mask: np.ndarray | None = None,
    with_recommended_mask: bool = True,
    conncomp: np.ndarray | None = None,
    water_mask: np.ndarray | None = None,
    reference_point: tuple[int, int, float, float] = (10, 12, 34.1, -117.2),
) -> Path:
    """One DISP-S1 product with the layers, groups and attributes of disp-s1's product.py.

    ``with_recommended_mask=False`` writes the layout of products before the layer existed
    (disp-s1 #143 / #165).
    """
    import h5netcdf

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / disp_s1_name(frame_id, reference, secondary, version)
    shape = displacement_m.shape
    conncomp = np.ones(shape, np.uint16) if conncomp is None else conncomp
    water_mask = np.ones(shape, np.uint8) if water_mask is None else water_mask
    if recommended_mask is None:
        recommended_mask = (np.isfinite(displacement_m) & (conncomp != 0)).astype(np.uint8)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    with h5netcdf.File(path, "w") as f:
        f.attrs.update(
            {
                "Conventions": "CF-1.8",
                "contact": "opera-sds-ops@jpl.nasa.gov",
                "institution": "NASA JPL",
                "mission_name": "OPERA",
                "reference_document": "JPL D-108765",
                "title": "OPERA_L3_DISP-S1 Product",
            }
        )
        _disp_grid_mapping(f, epsg, transform)
        _disp_coordinates(f, transform, shape)
        _disp_time(f, "time", secondary, "Time corresponding to beginning of secondary acquisition")
        _disp_time(
            f,
            "reference_time",
            reference,
            "Time corresponding to beginning of reference acquisition",
        )
        displacement = round_mantissa(displacement_m.astype(np.float32), 12)
        _disp_layer(f, "displacement", displacement, np.nan, "meters")
        short = displacement.copy()
        short[recommended_mask == 0] = np.nan
        _disp_layer(f, "short_wavelength_displacement", short, np.nan, "meters")
        if with_recommended_mask:
            _disp_layer(f, "recommended_mask", recommended_mask.astype(np.uint8), 255, "unitless")
        _disp_layer(f, "connected_component_labels", conncomp.astype(np.uint16), 65535, "unitless")
        _disp_layer(f, "temporal_coherence", np.full(shape, 0.8, np.float32), np.nan, "unitless")
        _disp_layer(
            f, "estimated_phase_quality", np.full(shape, 0.7, np.float32), np.nan, "unitless"
        )
        _disp_layer(f, "persistent_scatterer_mask", np.zeros(shape, np.uint8), 255, "unitless")
        _disp_layer(f, "shp_counts", np.full(shape, 30, np.int16), 0, "unitless")
        _disp_layer(f, "water_mask", water_mask.astype(np.uint8), 255, "unitless")
        _disp_layer(f, "phase_similarity", np.full(shape, 0.9, np.float32), np.nan, "unitless")
        _disp_layer(
            f, "timeseries_inversion_residuals", np.zeros(shape, np.float32), np.nan, "radians"
        )
        corrections = f.create_group("corrections")
        _disp_grid_mapping(corrections, epsg, transform)
        _disp_coordinates(corrections, transform, shape)
        _disp_time(
            corrections, "time", secondary, "Time corresponding to beginning of secondary image"
        )
        for name in ("ionospheric_delay", "solid_earth_tide", "perpendicular_baseline"):
            _disp_layer(corrections, name, np.zeros(shape, np.float32), np.nan, "meters")
        row, col, lat, lon = reference_point
        point = corrections.create_variable("reference_point", (), data=0, dtype=int, fillvalue=0)
        point.attrs.update(
            {
                "rows": [row],
                "cols": [col],
                "latitudes": [lat],
                "longitudes": [lon],
                "units": "unitless",
            }
        )
        identification = f.create_group("identification")
        identification.create_variable("frame_id", (), data=frame_id)
        _disp_string(identification, "product_version", version)
        _disp_string(identification, "processing_facility", "NASA Jet Propulsion Laboratory on AWS")
        _disp_string(identification, "radar_band", "C")
        for name, when in (
            ("reference_zero_doppler_start_time", reference),
            ("reference_datetime", reference),
            ("secondary_zero_doppler_start_time", secondary),
            ("secondary_datetime", secondary),
        ):
            _disp_string(identification, name, when.strftime(fmt))
        identification.create_variable("radar_wavelength", (), data=0.05546576)
        f.create_group("metadata")
    return path


def write_disp_s1_stack(
    folder: Path,
    velocity_m_yr: np.ndarray,
    epsg: int,
    transform: Affine,
    start: str = "2020-01-05 14:07:55",
    n_dates: int = 11,
    ministack: int = 5,
    interval_days: int = 12,
    **product_kwargs: object,
) -> tuple[list[Path], list[pd.Timestamp]]:
    """A stack of products whose reference date moves forward every ``ministack`` dates, as
    the DISP-S1 processing does; displacement = velocity x time since the product's reference."""
    dates = [pd.Timestamp(start) + pd.Timedelta(days=interval_days * k) for k in range(n_dates)]
    years = np.array([(d - dates[0]).days / 365.25 for d in dates])
    paths = []
    for k in range(1, n_dates):
        ref = ((k - 1) // ministack) * ministack
        displacement = velocity_m_yr * (years[k] - years[ref])
        paths.append(
            write_disp_s1_product(
                folder, displacement, epsg, transform, dates[ref], dates[k], **product_kwargs
            )
        )
    return paths, dates


def write_disp_s1_static_los(
    path: Path,
    east: np.ndarray,
    north: np.ndarray,
    epsg: int,
    transform: Affine,
    pair: bool = False,
) -> Path:
    """Static-layer LOS: ``..._line_of_sight_enu.tif`` (3 bands, up = sqrt(1 - e^2 - n^2) and 0
    where east is 0, mantissas rounded to 9 bits, nodata 0: main_static_layers._make_los_up and
    _make_3band_los) or, with ``pair``, ``los_east.tif`` / ``los_north.tif`` (nodata 0, the
    stitched CSLC static layers). Returns the 3-band path or the east one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    east = np.nan_to_num(east, nan=0.0).astype(np.float32)
    north = np.nan_to_num(north, nan=0.0).astype(np.float32)
    up = np.sqrt(np.clip(1 - east**2 - north**2, 0, None)).astype(np.float32)
    up[east == 0] = 0
    profile = {
        "driver": "GTiff",
        "height": east.shape[0],
        "width": east.shape[1],
        "dtype": "float32",
        "crs": f"EPSG:{epsg}",
        "transform": transform,
        "nodata": 0.0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 128,
        "blockysize": 128,
    }
    if pair:
        for name, values in (("los_east", east), ("los_north", north)):
            with rasterio.open(path.with_name(f"{name}.tif"), "w", count=1, **profile) as dst:
                dst.write(values[None])
        return path.with_name("los_east.tif")
    description = "{} component of line of sight unit vector (ground to satellite)"
    with rasterio.open(path, "w", count=3, interleave="pixel", **profile) as dst:
        for band, (label, values) in enumerate(
            (("East", east), ("North", north), ("Vertical", up)), start=1
        ):
            dst.write(round_mantissa(values, 9), band)
            dst.set_band_description(band, description.format(label))
    return path
