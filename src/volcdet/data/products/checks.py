"""Checks every velocity input passes before anything is scored.

- **Declared size**: a raster is refused before it is read when its header declares more than
  ``MAX_MAP_PIXELS`` pixels (a 51 KB sparse GeoTIFF can declare 40,000 x 40,000).
- **Git LFS pointers**: a checkout without ``git lfs pull`` holds small text files in place of
  the data; they are named as such instead of "not a readable raster".
- **No-data sentinels**: values that tools write for missing data without declaring them
  (``NODATA_SENTINELS``) become NaN unless the user states the no-data value (``--nodata``).
- **Plausibility** of a velocity map in mm/yr: its scale (``MAX_P99_MM_YR``), a unit given by
  ``--units`` that contradicts the values (both directions), and maps with the statistics of a
  DEM. These stop the run unless ``force`` (``--force``) is given. Bounds and reasons:
  ``docs/products.md``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from volcdet.core.constants import DAYS_PER_YEAR, FRINGE_MM
from volcdet.core.errors import ProductError

log = logging.getLogger(__name__)

#: Largest raster (rows x cols x bands) read at once: 2e8 pixels are 0.8 GB as float32, and
#: reading, unit conversion and reprojection hold up to about five such copies (~4 GB).
MAX_MAP_PIXELS = 200_000_000
#: Values written for missing data by common tools without a nodata tag: -9999 (ArcGIS, many
#: scripts), -99999, -32768 and 32767 (int16 limits, SRTM voids), +-3.4028235e38 (float32
#: limits, ArcGIS/GDAL float rasters) and 9.96921e36 (the NetCDF default fill for floats,
#: ``NC_FILL_FLOAT`` of netcdf.h).
NODATA_SENTINELS = (
    -9999.0,
    -99999.0,
    -32768.0,
    32767.0,
    -3.4028234663852886e38,
    3.4028234663852886e38,
    9.969209968386869e36,
)
#: Plausible 99th percentile of |v| (mm/yr) at most. 2,000 mm/yr is 66 mm of LOS change per
#: 12-day Sentinel-1 interval, more than two fringes (27.73 mm each, lambda/2) per
#: interferogram over 99% of the map: time-series processors cannot unwrap that, so such a map
#: is in another unit or is not a LOS velocity.
MAX_P99_MM_YR = 2000.0
#: A 99th percentile of |v| below 0.5 (in the map's numbers) is far below InSAR noise in mm/yr
#: (a few mm/yr) but typical of m/yr (MintPy writes m/year).
LOOKS_LIKE_M_YR = 0.5
#: A map of one sign whose median |v| exceeds this (mm/yr) has the statistics of a DEM (heights
#: in metres); a velocity map is referenced to a point or area (0 there) and so has both signs.
DEM_MEDIAN_MM_YR = 100.0
#: Percentiles are computed on at most this many evenly spaced valid pixels (fast on big maps).
STATISTICS_SAMPLE = 1_000_000
#: How a Git LFS pointer file begins (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"
#: LFS pointer files are small ("less than 1024 bytes", same spec).
LFS_POINTER_MAX_BYTES = 1024
#: Days between Sentinel-1 acquisitions of one satellite (used to state the bound above).
REPEAT_DAYS = 12


def check_declared_size(rows: int, cols: int, source: str, bands: int = 1) -> None:
    """ProductError when a raster's header declares more pixels than volcdet reads at once."""
    pixels = int(rows) * int(cols) * int(bands)
    if pixels > MAX_MAP_PIXELS:
        shape = f"{cols} x {rows} pixels" + (f" x {bands} bands" if bands > 1 else "")
        raise ProductError(
            f"{source}: raster declares {shape} ({pixels:.3g} values, {4 * pixels / 1e9:.1f} GB "
            f"as float32), more than volcdet reads at once ({MAX_MAP_PIXELS:.0e} values); clip "
            "or multilook it first (e.g. gdal_translate -projwin or -tr)"
        )


def lfs_pointer_size(path: Path) -> int | None:
    """The size of the real file when ``path`` is a Git LFS pointer (-1 if not stated), else None."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > LFS_POINTER_MAX_BYTES:
            return None
        head = path.read_bytes()
    except OSError:
        return None
    if not head.startswith(LFS_POINTER_PREFIX):
        return None
    for line in head.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key == "size" and value.strip().isdigit():
            return int(value)
    return -1


def check_not_lfs_pointer(path: Path) -> None:
    """ProductError naming a Git LFS pointer file given in place of the data it points to."""
    size = lfs_pointer_size(path)
    if size is not None:
        real = f" of {size:,} bytes" if size >= 0 else ""
        raise ProductError(
            f"{path}: a Git LFS pointer, not the file itself{real}; fetch the content with "
            "`git lfs pull` in its repository (or download the file again)"
        )


def parse_nodata(text: str) -> float | str:
    """A ``--nodata`` value: a number, or 'none' (no value stands for missing data)."""
    if text.strip().lower() == "none":
        return "none"
    try:
        value = float(text)
    except ValueError:
        raise ProductError(f"--nodata: must be a number or 'none', got {text!r}") from None
    if math.isnan(value):
        return "none"  # NaN is no data anyway
    return value


def mask_nodata(values: np.ndarray, source: str, nodata: float | str | None) -> np.ndarray:
    """``values`` (floating) with no-data values set to NaN, counted in the log.

    ``nodata`` None: the common sentinels (``NODATA_SENTINELS``) become NaN; a number: that
    value does; 'none': nothing does.
    """
    if nodata == "none":
        return values
    targets = NODATA_SENTINELS if nodata is None else (float(nodata),)
    hits = np.zeros(values.shape, bool)
    found = []
    for target in targets:
        equal = values == np.asarray(target, values.dtype)
        count = int(equal.sum())
        if count:
            hits |= equal
            found.append(f"{count:,} pixel(s) equal to {target:g}")
    if not found:
        return values
    out = np.array(values, copy=True)
    out[hits] = np.nan
    if nodata is None:
        log.info(
            "%s: %s taken as no data (a common no-data value the file does not declare; "
            "--nodata none keeps them)",
            source,
            ", ".join(found),
        )
    else:
        log.info("%s: %s taken as no data (--nodata)", source, ", ".join(found))
    return out


def _sample(values: np.ndarray) -> np.ndarray:
    """At most ``STATISTICS_SAMPLE`` evenly spaced finite values (float64)."""
    finite = values[np.isfinite(values)]
    step = max(1, finite.size // STATISTICS_SAMPLE)
    sample: np.ndarray = finite[::step].astype(np.float64)
    return sample


def p99_abs(values: np.ndarray) -> float:
    """The 99th percentile of |v| over the finite values (on an even sample of big maps)."""
    return float(np.percentile(np.abs(_sample(values)), 99))


def check_stated_unit(
    values: np.ndarray, unit: str, mm_per_unit: float, source: str, force: bool
) -> None:
    """ProductError when a unit given with ``--units`` contradicts the values, both directions.

    ``values`` are in the stated unit (``mm_per_unit`` mm/yr each). The rule that makes a
    unit-less map "look like m/yr" (99% of |v| below 0.5) decides both ways: with ``--units
    m/yr`` larger values look like mm/yr; with a smaller unit, values whose 99th percentile is
    below 0.5 mm/yr look like m/yr.
    """
    if force:
        return
    p99 = p99_abs(values)
    if mm_per_unit >= 1000.0 and p99 >= LOOKS_LIKE_M_YR:
        raise ProductError(
            f"{source}: --units {unit}, but 99% of |v| reach {p99:.3g} ({1000 * p99:,.0f} mm/yr): "
            f"this looks like mm/yr (m/yr maps stay below {LOOKS_LIKE_M_YR}); give --units mm/yr "
            "(or --force to score it as m/yr)"
        )
    if mm_per_unit < 1000.0 and p99 * mm_per_unit < LOOKS_LIKE_M_YR:
        raise ProductError(
            f"{source}: --units {unit}, but 99% of |v| are below {p99:.3g}: this looks like "
            f"m/yr; give --units m/yr (or --force to score it as {unit})"
        )


def check_plausible(velocity_mm_yr: np.ndarray, source: str, force: bool) -> None:
    """ProductError unless a map in mm/yr has the statistics of a LOS velocity map.

    Refused: every valid value of one sign with median |v| above ``DEM_MEDIAN_MM_YR`` (a DEM,
    not a referenced velocity map), and a 99th percentile of |v| above ``MAX_P99_MM_YR``.
    ``force`` skips both (the log says so).
    """
    sample = _sample(velocity_mm_yr)
    if sample.size == 0:
        return
    p99 = float(np.percentile(np.abs(sample), 99))
    median = float(np.median(np.abs(sample)))
    one_sign = sample.min() >= 0 or sample.max() <= 0
    problem = None
    if one_sign and median > DEM_MEDIAN_MM_YR:
        sign = "positive" if sample.max() > 0 else "negative"
        problem = (
            f"every valid value is {sign} and half of |v| exceed {median:,.0f} mm/yr: this "
            "looks like a DEM or another raster, not a LOS velocity map (referenced to a point "
            "or area, so of both signs)"
        )
    elif p99 > MAX_P99_MM_YR:
        per_interval = MAX_P99_MM_YR * REPEAT_DAYS / DAYS_PER_YEAR / FRINGE_MM
        problem = (
            f"99% of |v| reach {p99:,.0f} mm/yr, beyond the plausible {MAX_P99_MM_YR:,.0f} "
            f"mm/yr (already {per_interval:.1f} fringes per {REPEAT_DAYS}-day interval): the unit "
            "or the content is wrong"
        )
    if problem is None:
        return
    if force:
        log.warning("%s: %s; scored anyway (--force)", source, problem)
        return
    raise ProductError(f"{source}: {problem}; give --force to score it anyway")
