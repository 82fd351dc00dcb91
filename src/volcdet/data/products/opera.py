"""NASA OPERA DISP-S1: a stack of displacement products as one velocity map, and its LOS.

Facts read from the product's writer and specification (opera-adt/disp-s1: product.py,
product_info.py, main_static_layers.py, scripts/align_to_common_reference_date.py; JPL
D-108765), each file ``OPERA_L3_DISP-S1_IW_F<frame>_VV_<reference>_<secondary>_v<version>_
<generation>.nc`` (NetCDF4 = HDF5):

- ``/displacement`` (y, x) float32, units ``meters``, NaN = no data, LOS displacement between
  the reference and the secondary acquisition, positive = toward the platform.
- ``/recommended_mask`` (y, x) uint8, 1 = good, 0 = bad, 255 = fill (product versions since
  Oct 2024; users ask for exactly that layer on the
  opera-adt/disp-s1 issue tracker, #143). Older products lack it: then
  ``/connected_component_labels`` 0 (unwrapping failed) and ``/water_mask`` 0 (water) are bad.
- ``/x``, ``/y`` pixel centres (m) and ``/spatial_ref`` (CF grid mapping: ``crs_wkt``, and
  ``GeoTransform`` = upper-left corner, spacing): UTM, 30 m.
- ``/identification/reference_datetime``, ``secondary_datetime`` ("%Y-%m-%d %H:%M:%S.%f", UTC),
  ``frame_id``, ``product_version``; ``/corrections/reference_point`` attributes ``rows``,
  ``cols``, ``latitudes``, ``longitudes`` (the point the phase is relative to).
- The reference date moves forward along the stack (a new "ministack"): a product's
  displacement is relative to its own reference date, so the series relative to the first
  date adds, to each product, the displacement of its reference date reached by an earlier
  product (the running sum of align_to_common_reference_date.py).

The velocity is the per-pixel least-squares rate (straight line in time, intercept free) of
that series, in mm/yr; a pixel gets a rate where it is valid in at least half of the products.
The static layers product (``OPERA_L3_DISP-S1-STATIC_..._line_of_sight_enu.tif``: bands east,
north, up, UTM, 0 = no data; earlier ``los_east.tif`` / ``los_north.tif``) gives the LOS: volcdet
reads east and north and takes up = sqrt(1 - e^2 - n^2) (the ground-to-satellite unit vector
points up; main_static_layers._make_los_up).
"""

from __future__ import annotations

import glob
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    ReadOptions,
    VelocityProduct,
    los_from_components,
    open_hdf5,
    velocity_in_mm_yr,
)
from volcdet.data.products.checks import check_declared_size, check_not_lfs_pointer
from volcdet.data.products.geotiff import read_bands
from volcdet.data.rasters import Grid

log = logging.getLogger(__name__)

#: Product file names (opera_utils.constants.DISP_FILE_REGEX).
DISP_NAME = re.compile(
    r"OPERA_L3_DISP-S1_IW_F(?P<frame>\d{5})_(?P<pol>VV|HH)_(?P<reference>\d{8}T\d{6}Z)_"
    r"(?P<secondary>\d{8}T\d{6}Z)_v(?P<version>[\d.]+)_(?P<generation>\d{8}T\d{6}Z)"
)
DISP_GLOB = "OPERA_L3_DISP-S1_*.nc"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
GOOD, FILL = 1, 255
#: Static-layer LOS file names: one 3-band file (east, north, up) or an east/north pair.
STATIC_LOS_3BAND = ("line_of_sight_enu", "los_enu")
STATIC_LOS_PAIR = ("los_east", "los_north")
#: Rows x cols read at once from every product (bounds memory on 30 m frames).
BLOCK_PIXELS = 1 << 22


@dataclass(frozen=True)
class DispFile:
    """One DISP-S1 product: path, dates, frame, version, grid and reference point."""

    path: Path
    reference: datetime
    secondary: datetime
    frame_id: int
    version: str
    grid: Grid
    reference_point: dict[str, Any] | None
    has_recommended_mask: bool


def is_disp_product(path: Path) -> bool:
    """Whether an HDF5/NetCDF file is a DISP-S1 product (``displacement`` + ``identification``)."""
    try:
        with h5py.File(path, "r") as file:
            return "displacement" in file and "identification" in file
    except OSError:
        return False


def stack_paths(source: Path | str) -> list[Path]:
    """The products of a stack given as a folder (every ``OPERA_L3_DISP-S1_*.nc`` in it) or a
    glob pattern; ProductError when it holds none."""
    text = str(source)
    if Path(text).is_dir():
        paths = sorted(Path(text).glob(DISP_GLOB))
    else:
        paths = sorted(Path(p) for p in glob.glob(text))
    paths = [p for p in paths if p.is_file()]
    if not paths and Path(text).is_dir():
        raise ProductError(
            f"{source}: folder is neither a LiCSBAS TS_* folder (results/ and info/) nor an OPERA "
            f"DISP-S1 stack (no {DISP_GLOB})"
        )
    if not paths:
        raise ProductError(f"{source}: no OPERA DISP-S1 product matches")
    return paths


def _text(file: h5py.File, name: str, source: Path) -> str:
    """A scalar string dataset as text."""
    if name not in file:
        raise ProductError(f"{source}: no dataset {name} (not a DISP-S1 product?)")
    value = file[name][()]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _datetime(text: str, source: Path, name: str) -> datetime:
    """A DISP-S1 identification datetime ('2016-07-05 14:07:55.000000')."""
    try:
        return datetime.strptime(text.strip(), DATETIME_FORMAT)
    except ValueError as err:
        raise ProductError(f"{source}: {name} {text!r} is not a date ({err})") from err


def product_grid(file: h5py.File, source: Path) -> Grid:
    """Grid from ``spatial_ref`` (crs_wkt, GeoTransform), checked against the x/y centres."""
    if "spatial_ref" not in file or "displacement" not in file:
        raise ProductError(f"{source}: no spatial_ref / displacement (not a DISP-S1 product)")
    attrs = file["spatial_ref"].attrs
    wkt = attrs.get("crs_wkt")
    geotransform = attrs.get("GeoTransform")
    if wkt is None or geotransform is None:
        raise ProductError(f"{source}: spatial_ref lacks crs_wkt / GeoTransform")
    wkt = wkt.decode() if isinstance(wkt, bytes) else str(wkt)
    gt = [
        float(v)
        for v in (
            geotransform.decode() if isinstance(geotransform, bytes) else str(geotransform)
        ).split()
    ]
    transform = Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
    shape = tuple(int(n) for n in file["displacement"].shape)
    if len(shape) != 2:
        raise ProductError(f"{source}: displacement has shape {shape}, expected (y, x)")
    x0, y0 = float(file["x"][0]), float(file["y"][0])
    centre_x, centre_y = transform @ (0.5, 0.5)
    if not (math.isclose(x0, centre_x, abs_tol=1e-3) and math.isclose(y0, centre_y, abs_tol=1e-3)):
        raise ProductError(f"{source}: x/y coordinates disagree with spatial_ref GeoTransform")
    return Grid(CRS.from_wkt(wkt), transform, shape)


def _reference_point(file: h5py.File) -> dict[str, Any] | None:
    """The product's reference point (``/corrections/reference_point`` attributes), or None."""
    if "corrections/reference_point" not in file:
        return None
    attrs = file["corrections/reference_point"].attrs
    values = {
        k: np.asarray(attrs.get(k, [])).ravel().tolist()
        for k in ("rows", "cols", "latitudes", "longitudes")
    }
    if not values["rows"]:
        return None
    return {
        "kind": "point",
        "row": int(values["rows"][0]),
        "col": int(values["cols"][0]),
        "lat": float(values["latitudes"][0]),
        "lon": float(values["longitudes"][0]),
    }


def describe(path: Path) -> DispFile:
    """Dates, frame, version, grid and reference point of one product (no pixel is read)."""
    check_not_lfs_pointer(path)
    with open_hdf5(path) as file:
        if "displacement" not in file or "identification" not in file:
            raise ProductError(
                f"{path}: not an OPERA DISP-S1 product (no displacement / identification)"
            )
        units = file["displacement"].attrs.get("units", b"")
        units = units.decode() if isinstance(units, bytes) else str(units)
        if units != "meters":
            raise ProductError(f"{path}: displacement units {units!r}, expected 'meters'")
        reference = _datetime(
            _text(file, "identification/reference_datetime", path), path, "reference_datetime"
        )
        secondary = _datetime(
            _text(file, "identification/secondary_datetime", path), path, "secondary_datetime"
        )
        frame_text = _text(file, "identification/frame_id", path)
        version = _text(file, "identification/product_version", path)
        grid = product_grid(file, path)
        point = _reference_point(file)
        has_mask = "recommended_mask" in file
    if secondary <= reference:
        raise ProductError(
            f"{path}: secondary date {secondary} is not after the reference {reference}"
        )
    return DispFile(
        Path(path), reference, secondary, int(frame_text), version, grid, point, has_mask
    )


def check_stack(products: list[DispFile], source: str) -> None:
    """One frame, one grid, one product per secondary date, every reference date reached."""
    frames = sorted({p.frame_id for p in products})
    if len(frames) > 1:
        raise ProductError(
            f"{source}: products of several frames ({', '.join(map(str, frames))}); give one frame's stack"
        )
    first = products[0]
    for product in products[1:]:
        if product.grid != first.grid:
            raise ProductError(f"{product.path}: not on the grid of {first.path.name}")
    secondaries = [p.secondary for p in products]
    if len(set(secondaries)) < len(secondaries):
        raise ProductError(
            f"{source}: two products share a secondary date (reprocessed versions?); keep one per date"
        )
    start = min(p.reference for p in products)
    reached = {start, *secondaries}
    for product in products:
        if product.reference not in reached:
            raise ProductError(
                f"{product.path}: its reference date {product.reference:%Y-%m-%d} is neither the "
                "stack's first date nor the secondary date of another product; add the missing "
                "products of the earlier ministack"
            )


def _valid(file: h5py.File, rows: slice, product: DispFile) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (mm, float64) of a row block and where it is good by the product's masks."""
    displacement = np.asarray(file["displacement"][rows], dtype=np.float64) * 1000.0
    good = np.isfinite(displacement)
    if product.has_recommended_mask:
        good &= np.asarray(file["recommended_mask"][rows]) == GOOD
    else:
        if "connected_component_labels" in file:
            labels = np.asarray(file["connected_component_labels"][rows])
            good &= (labels != 0) & (labels != np.iinfo(labels.dtype).max)
        if "water_mask" in file:
            good &= np.asarray(file["water_mask"][rows]) == GOOD
    return displacement, good


def _rate_block(
    products: list[DispFile], files: list[h5py.File], rows: slice, years: np.ndarray, min_valid: int
) -> tuple[np.ndarray, int]:
    """Least-squares rate (mm/yr) of one row block; and how many pixels were masked in any product."""
    width = products[0].grid.shape[1]
    height = rows.stop - rows.start
    start = min(p.reference for p in products)
    needed = {p.reference for p in products}  # dates later products are relative to
    series = {start: (np.zeros((height, width)), np.ones((height, width), bool))}
    n = np.ones((height, width))  # the first date: displacement 0 by definition
    st = np.zeros((height, width))
    stt = np.zeros((height, width))
    sy = np.zeros((height, width))
    sty = np.zeros((height, width))
    count = np.zeros((height, width), np.int32)
    masked_any = np.zeros((height, width), bool)
    for product, file, t in zip(products, files, years, strict=True):
        displacement, good = _valid(file, rows, product)
        base, base_good = series[product.reference]
        value = displacement + base
        good &= base_good
        masked_any |= ~good
        if product.secondary in needed:
            series[product.secondary] = (np.where(good, value, 0.0), good)
        w = good.astype(np.float64)
        y = np.where(good, value, 0.0)
        n += w
        st += w * t
        stt += w * t * t
        sy += y
        sty += y * t
        count += good
    denominator = n * stt - st * st
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (n * sty - st * sy) / denominator
    rate[(count < min_valid) | (denominator <= 0)] = np.nan
    return rate.astype(np.float32), int(masked_any.sum())


def stack_velocity_mm_yr(products: list[DispFile]) -> tuple[np.ndarray, int]:
    """Per-pixel least-squares rate (mm/yr) of the single-reference series, read in row blocks."""
    start = min(p.reference for p in products)
    years = np.array(
        [(p.secondary - start).total_seconds() / 86400.0 / DAYS_PER_YEAR for p in products]
    )
    rows_total, cols = products[0].grid.shape
    block_rows = max(1, BLOCK_PIXELS // max(cols, 1))
    min_valid = max(2, math.ceil(len(products) / 2))
    velocity = np.full((rows_total, cols), np.nan, np.float32)
    masked = 0
    files = [h5py.File(p.path, "r") for p in products]
    try:
        for row0 in range(0, rows_total, block_rows):
            rows = slice(row0, min(row0 + block_rows, rows_total))
            velocity[rows], block_masked = _rate_block(products, files, rows, years, min_valid)
            masked += block_masked
    except (OSError, KeyError) as err:
        raise ProductError(
            f"{products[0].path.parent}: cannot read a DISP-S1 layer ({err})"
        ) from err
    finally:
        for file in files:
            file.close()
    return velocity, masked


def read_opera_stack(source: Path | str, options: ReadOptions | None = None) -> VelocityProduct:
    """A DISP-S1 stack (folder or glob) as a velocity map in mm/yr with period and reference."""
    options = options or ReadOptions()
    paths = stack_paths(source)
    products = sorted((describe(p) for p in paths), key=lambda p: p.secondary)
    if len(products) < 2:
        raise ProductError(
            f"{source}: one DISP-S1 product is the displacement of one interval; give the stack "
            "(its folder or a quoted glob of at least 2 products) to get a velocity"
        )
    check_stack(products, str(source))
    grid = products[0].grid
    check_declared_size(*grid.shape, str(source))
    velocity_mm_yr, masked = stack_velocity_mm_yr(products)
    mask_name = (
        "recommended_mask"
        if all(p.has_recommended_mask for p in products)
        else ("connected_component_labels and water_mask")
    )
    log.info(
        "%s: %d DISP-S1 products, %s pixel(s) masked by %s in at least one product "
        "(a pixel needs %d valid products for a rate)",
        source,
        len(products),
        f"{masked:,}",
        mask_name,
        max(2, math.ceil(len(products) / 2)),
    )
    velocity = velocity_in_mm_yr(velocity_mm_yr, "mm/yr", options.units, str(source), options)
    start = min(p.reference for p in products)
    end = products[-1].secondary
    points = {tuple(sorted(p.reference_point.items())) for p in products if p.reference_point}
    if len(points) > 1:
        log.warning("%s: the products state %d different reference points", source, len(points))
    reference = {
        "kind": "point",
        "date": start.date().isoformat(),
        "source": "/identification/reference_datetime, /corrections/reference_point",
    } | (products[0].reference_point or {})
    return VelocityProduct(
        velocity,
        grid,
        "opera-disp-s1",
        str(source),
        None,
        (end - start).total_seconds() / 86400.0 / DAYS_PER_YEAR,
        start.date().isoformat(),
        end.date().isoformat(),
        "m (displacement)",
        reference,
    )


def static_los_kind(path: Path) -> str | None:
    """'3band' or 'pair' when ``path`` names a DISP-S1 static-layer LOS GeoTIFF, else None."""
    name = Path(path).name.lower()
    if not name.endswith((".tif", ".tiff")):
        return None
    if any(key in name for key in STATIC_LOS_3BAND):
        return "3band"
    if any(key in name for key in STATIC_LOS_PAIR):
        return "pair"
    return None


def los_from_east_north(east: np.ndarray, north: np.ndarray, source: str) -> np.ndarray:
    """(3, H, W) unit vectors with up = sqrt(1 - e^2 - n^2); e = n = 0 is no data (static layers)."""
    east = np.asarray(east, np.float64)
    north = np.asarray(north, np.float64)
    up = np.sqrt(np.clip(1.0 - east**2 - north**2, 0.0, None))
    nodata = ~np.isfinite(east) | ~np.isfinite(north) | ((east == 0) & (north == 0))
    for component in (east, north, up):
        component[nodata] = np.nan
    return los_from_components(east, north, up, source)


def read_static_los(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS from DISP-S1 static layers: the 3-band ``line_of_sight_enu`` (east, north used) or
    a ``los_east`` / ``los_north`` pair (either path)."""
    path = Path(path)
    if static_los_kind(path) == "3band":
        bands, grid, _ = read_bands(path, expected_bands=3)
        return los_from_east_north(bands[0], bands[1], str(path)), grid
    name = path.name
    key = "los_east" if "los_east" in name else "los_north"
    east_path = path.with_name(name.replace(key, "los_east"))
    north_path = path.with_name(name.replace(key, "los_north"))
    for component in (east_path, north_path):
        if not component.is_file():
            raise ProductError(f"{component}: file not found (the other half of the pair {name})")
    east, grid, _ = read_bands(east_path, expected_bands=1)
    north, north_grid, _ = read_bands(north_path, expected_bands=1)
    if north_grid != grid:
        raise ProductError(f"{north_path}: not on the grid of {east_path.name}")
    return los_from_east_north(east[0], north[0], str(east_path)), grid


def find_static_los(source: Path | str, frame_id: int) -> Path | None:
    """A static-layer LOS file of the frame in the stack's folder, if there is one."""
    text = str(source)
    folder = Path(text) if Path(text).is_dir() else Path(text).parent
    for pattern in (f"*F{frame_id:05d}*line_of_sight_enu.tif", f"*F{frame_id:05d}*los_enu.tif"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None
