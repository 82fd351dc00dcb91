"""A velocity product as volcdet uses it, and the checks every reader applies to its values.

Whatever the tool that made it, a product becomes LOS velocity in mm/yr (float32, NaN = no data,
positive toward the satellite) on a georeferenced ``Grid``, with an optional ground-to-satellite
LOS unit vector (east, north, up) and the stack period when the file records its dates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.core.errors import ProductError
from volcdet.data.products.checks import (
    LOOKS_LIKE_M_YR,
    check_declared_size,
    check_plausible,
    check_stated_unit,
    mask_nodata,
    p99_abs,
)
from volcdet.data.rasters import Grid

#: Velocity units volcdet understands, with the factor that brings each to mm/yr.
UNIT_TO_MM_YR = {
    "mm/yr": 1.0,
    "mm/year": 1.0,
    "mm/a": 1.0,
    "cm/yr": 10.0,
    "cm/year": 10.0,
    "m/yr": 1000.0,
    "m/year": 1000.0,
    "m/a": 1000.0,
}
#: Values given with ``--units`` (each a key of UNIT_TO_MM_YR).
USER_UNITS = ("mm/yr", "cm/yr", "m/yr")
__all__ = ["LOOKS_LIKE_M_YR", "USER_UNITS", "ReadOptions", "VelocityProduct"]


@dataclass(frozen=True)
class ReadOptions:
    """What the user states about an input: unit, no-data value, mask file, and ``force``.

    ``nodata``: None = the common sentinels become no data (``checks.NODATA_SENTINELS``), a
    number = that value does, 'none' = no value does. ``force`` skips the plausibility checks.
    """

    units: str | None = None
    nodata: float | str | None = None
    mask: Path | None = None
    force: bool = False


@dataclass(frozen=True)
class VelocityProduct:
    """LOS velocity (mm/yr, float32, NaN = no data) on a grid, with what the file told us."""

    velocity_mm_yr: np.ndarray
    grid: Grid
    kind: str
    source: str
    los_unit_vector: np.ndarray | None = None
    period_yr: float | None = None
    start: str | None = None
    end: str | None = None
    units_found: str | None = None
    #: What the velocities are relative to, as the product states it (point or area, date).
    reference: dict[str, Any] | None = None
    #: Where the LOS came from (a file given or found beside the input, or the product itself).
    los_source: str | None = None

    def with_los(
        self, los_unit_vector: np.ndarray | None, source: str | None = None
    ) -> VelocityProduct:
        """The same product carrying a LOS unit-vector raster (3, H, W) on its grid."""
        if los_unit_vector is not None and los_unit_vector.shape != (3, *self.grid.shape):
            raise ProductError(
                f"{source or self.source}: LOS has shape {los_unit_vector.shape}, expected "
                f"(3, {self.grid.shape[0]}, {self.grid.shape[1]}) on the velocity's grid"
            )
        return replace(self, los_unit_vector=los_unit_vector, los_source=source)


def normalise_unit(unit: str | bytes | None) -> str | None:
    """A unit string in volcdet's spelling ('m/year' -> 'm/year', 'MM/YR' -> 'mm/yr'), or None."""
    if unit is None:
        return None
    if isinstance(unit, bytes):
        unit = unit.decode("utf-8", "replace")
    text = str(unit).strip().lower().replace(" ", "").replace("per", "/")
    return text or None


def check_floating(values: np.ndarray, source: str, what: str = "velocity") -> None:
    """Refuse integer or boolean rasters: their scale and nodata cannot be guessed safely."""
    if not np.issubdtype(values.dtype, np.floating):
        raise ProductError(
            f"{source}: {what} is stored as {values.dtype}, not floating point; volcdet does not "
            "guess the scale or nodata of integer rasters: convert it to float32 (mm/yr, NaN = "
            "no data) first"
        )


def check_finite_values(values: np.ndarray, source: str, what: str = "velocity") -> None:
    """Refuse +-inf (missing values must be NaN) and maps with no valid value at all."""
    infinite = np.isinf(values)
    if infinite.any():
        raise ProductError(
            f"{source}: {what} holds +-inf at {int(infinite.sum())} pixel(s); mark missing "
            "values as NaN (or the raster's nodata value)"
        )
    if not np.isfinite(values).any():
        raise ProductError(f"{source}: {what} is all NaN / nodata")


def velocity_in_mm_yr(
    values: np.ndarray,
    unit_found: str | None,
    unit_given: str | None,
    source: str,
    options: ReadOptions | None = None,
) -> np.ndarray:
    """Velocity converted to mm/yr (float32) from the file's unit, else the user's, else mm/yr.

    Undeclared no-data sentinels become NaN first (``options.nodata``). A file without unit
    metadata whose 99th percentile of |v| is below 0.5 looks like m/yr (a MintPy map after
    save_gdal.py): it is refused unless the user states the unit; a stated unit must agree with
    the values, and the result must be a plausible velocity map (``checks``), unless
    ``options.force``.
    """
    options = options or ReadOptions()
    check_floating(values, source)
    values = mask_nodata(values, source, options.nodata)
    check_finite_values(values, source)
    found, given = normalise_unit(unit_found), normalise_unit(unit_given)
    for unit, origin in ((found, "the file"), (given, "--units")):
        if unit is not None and unit not in UNIT_TO_MM_YR:
            raise ProductError(
                f"{source}: velocity unit {unit!r} given by {origin} is not a velocity unit "
                f"volcdet knows ({', '.join(USER_UNITS)})"
            )
    if found and given and UNIT_TO_MM_YR[found] != UNIT_TO_MM_YR[given]:
        raise ProductError(
            f"{source}: the file says its velocity is in {found}, --units says {given}"
        )
    if found is None and given is not None:
        check_stated_unit(values, given, UNIT_TO_MM_YR[given], source, options.force)
    unit = found or given
    if unit is None:
        p99 = p99_abs(values)
        if p99 < LOOKS_LIKE_M_YR:
            raise ProductError(
                f"{source}: no velocity unit in the file and 99% of |v| are below {p99:.3g}: this "
                "looks like m/yr; state the unit with --units m/yr (or --units mm/yr if it really "
                "is mm/yr)"
            )
        unit = "mm/yr"
    velocity = (np.asarray(values, dtype=np.float64) * UNIT_TO_MM_YR[unit]).astype(np.float32)
    check_plausible(velocity, source, options.force)
    return velocity


def period_from_dates(start: object, end: object, source: str) -> tuple[float, str, str]:
    """(period in years, ISO start, ISO end) from two dates such as 20150105 or '2015-01-05'."""
    try:
        t0 = pd.Timestamp(str(int(start)) if isinstance(start, (int, np.integer)) else str(start))
        t1 = pd.Timestamp(str(int(end)) if isinstance(end, (int, np.integer)) else str(end))
    except (ValueError, TypeError) as err:
        raise ProductError(
            f"{source}: stack dates {start!r} - {end!r} are not dates ({err})"
        ) from err
    if t1 <= t0:
        raise ProductError(f"{source}: stack end {t1.date()} is not after its start {t0.date()}")
    return (t1 - t0).days / DAYS_PER_YEAR, t0.date().isoformat(), t1.date().isoformat()


def los_from_components(
    east: np.ndarray, north: np.ndarray, up: np.ndarray, source: str
) -> np.ndarray:
    """(3, H, W) float32 ground-to-satellite unit vectors; all-zero vectors become NaN (nodata).

    Unit norm is checked (1%) where all three components are finite.
    """
    los = np.stack([east, north, up]).astype(np.float32)
    check_floating(los, source, "LOS")
    if np.isinf(los).any():
        raise ProductError(f"{source}: LOS holds +-inf values")
    zero = (los == 0).all(axis=0)
    los[:, zero] = np.nan
    finite = np.isfinite(los).all(axis=0)
    if not finite.any():
        raise ProductError(f"{source}: LOS is all NaN / nodata")
    norm = np.sqrt((los[:, finite] ** 2).sum(axis=0))
    if np.abs(norm - 1.0).max() > 1e-2:
        raise ProductError(
            f"{source}: LOS components are not unit vectors (|e| from {norm.min():.3f} to "
            f"{norm.max():.3f})"
        )
    return los


def read_map_dataset(file: h5py.File, name: str, path: Path) -> np.ndarray:
    """A 2-D dataset of an HDF5 product, read whole once its declared size is checked;
    ProductError naming the file when it is not 2-D or too large."""
    dataset = file[name]
    if dataset.ndim != 2:
        raise ProductError(f"{path}: dataset {name} has shape {dataset.shape}, expected 2-D")
    rows, cols = dataset.shape
    check_declared_size(rows, cols, str(path))
    return np.asarray(dataset[()])


def open_hdf5(path: Path) -> h5py.File:
    """An HDF5 file opened for reading; ProductError naming the file when absent or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: file not found")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ProductError(f"{path}: not a readable HDF5 file ({err})") from err
