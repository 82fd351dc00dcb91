"""Python API: score a velocity map with a model file, at the model's scale, in one call.

    from volcdet.inference.api import predict
    result = predict("cum.h5", "model.pt", catalogue="volcanoes.csv")
    result.probability      # xarray.DataArray on the input's grid (rioxarray CRS)
    result.flags            # pandas.DataFrame, one row per flagged window

``data`` may be a path to any product ``volcdet.data.products.read_velocity`` reads, an
``xarray.DataArray`` with a CRS (rioxarray) or a ``VelocityProduct``. The map is reprojected to
the local UTM zone at the pixel size the model was trained at (NaN-aware averaging), scored in
windows, and the probability comes back on the input's grid and on the model's. ``volcdet
predict`` and the workflow's ``scan`` rule call this function.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from volcdet.core.digests import file_sha256
from volcdet.core.errors import ModelFileError, ProductError, VolcdetError
from volcdet.data.contract import CATALOGUE_COLUMNS
from volcdet.data.products import VelocityProduct, attach_los, read_velocity
from volcdet.data.products.base import ReadOptions, period_from_dates, velocity_in_mm_yr
from volcdet.data.products.reproject import (
    model_grid,
    product_on_grid,
    reproject_nearest,
    valid_area,
)
from volcdet.data.rasters import Grid
from volcdet.data.tables import read_csv_table
from volcdet.inference.scan import (
    ScanSpec,
    Windows,
    aggregate_probability,
    flag_windows,
    padded_to_window,
    plan_windows,
    score_windows,
)
from volcdet.models import is_reference, resolve_model

if TYPE_CHECKING:  # torch loads only when a model does
    from volcdet.learning.model import VolcanoClassifier
    from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """A model file loaded once: network, input transform, checkpoint dict, path and id."""

    model: VolcanoClassifier
    transform: InputTransform
    checkpoint: dict
    path: Path
    model_id: str

    @property
    def window_px(self) -> int:
        """Window side on the model grid, as the model file records it."""
        return int(self.checkpoint["window_px"])

    @property
    def pixel_size_m(self) -> float:
        """Pixel size (m) the model was trained at: every map is brought to it."""
        return float(self.transform.pixel_size_m)

    @property
    def threshold(self) -> float:
        """The model's own flag threshold."""
        return float(self.checkpoint.get("threshold", 0.5))


def model_id_of(path: Path) -> str:
    """A stable id of a model file: 'sha256:' + the first 16 hex digits of its content hash."""
    return f"sha256:{file_sha256(path)[:16]}"


def load_model(path: Path | str | None = None) -> LoadedModel:
    """Load a volcdet model file (format-checked by ``volcdet.learning.checkpoints``); None or
    ``"reference"`` loads the reference model shipped with volcdet."""
    from volcdet.learning.checkpoints import model_from_checkpoint

    path = resolve_model(path)
    if is_reference(path) and not path.is_file():
        raise ModelFileError(
            f"{path}: the reference model is not installed (run `make reference-model`)"
        )
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    model, transform, checkpoint = model_from_checkpoint(path)
    return LoadedModel(model, transform, checkpoint, path, model_id_of(path))


def read_catalogue(path: Path | str | None) -> pd.DataFrame | None:
    """Volcano catalogue (name, lon, lat in degrees) or None; a one-line error if unusable."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise ProductError(f"{path}: catalogue file not found")
    table = read_csv_table(path, CATALOGUE_COLUMNS, ProductError, "catalogue lacks column(s)")
    for column, limit in (("lon", 180), ("lat", 90)):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or (values.abs() > limit).any():
            raise ProductError(f"{path}: column {column!r} must hold degrees within +-{limit}")
    return table


def grid_of(data: xr.DataArray) -> Grid:
    """Grid of a 2-D DataArray with a rioxarray CRS."""
    crs = data.rio.crs
    if crs is None:
        raise ProductError("DataArray has no CRS: set one with .rio.write_crs(...)")
    return Grid(crs, data.rio.transform(recalc=True), (data.rio.height, data.rio.width))


def product_from_dataarray(
    data: xr.DataArray, units: str | None, options: ReadOptions | None = None
) -> VelocityProduct:
    """A velocity product from a 2-D DataArray (units from attrs 'units'/'unit' or ``units``)."""
    array = data.squeeze(drop=True)
    if array.ndim != 2:
        raise ProductError(f"DataArray has dimensions {array.dims}, expected 2 (y, x)")
    grid = grid_of(array)
    values = np.asarray(array.transpose(array.rio.y_dim, array.rio.x_dim).to_numpy())
    nodata = array.rio.nodata
    if nodata is not None and np.issubdtype(values.dtype, np.floating) and not np.isnan(nodata):
        values = np.where(values == nodata, np.nan, values)
    unit = array.attrs.get("units") or array.attrs.get("unit")
    name = str(array.name or "DataArray")
    velocity = velocity_in_mm_yr(values, unit, units, name, options)
    period = start = end = None
    if "start" in array.attrs and "end" in array.attrs:
        period, start, end = period_from_dates(array.attrs["start"], array.attrs["end"], name)
    return VelocityProduct(velocity, grid, "dataarray", name, None, period, start, end, unit)


def as_product(
    data: object,
    units: str | None = None,
    *,
    nodata: float | str | None = None,
    mask: Path | str | None = None,
    force: bool = False,
) -> VelocityProduct:
    """Any accepted input (path, DataArray, VelocityProduct) as a ``VelocityProduct``.

    ``nodata``, ``mask`` and ``force`` as in ``volcdet.data.products.read_velocity``.
    """
    if isinstance(data, VelocityProduct):
        return data
    if isinstance(data, xr.DataArray):
        return product_from_dataarray(data, units, ReadOptions(units, nodata, None, force))
    if isinstance(data, (str, Path)):
        mask_path = Path(mask) if mask is not None else None
        return read_velocity(Path(data), units, nodata=nodata, mask=mask_path, force=force)
    raise TypeError(f"cannot score a {type(data).__name__}: give a path, a DataArray or a product")


def resolve_period(product: VelocityProduct, period_yr: float | None) -> float:
    """The stack period: the one given, else the file's dates; never a silent default."""
    if period_yr is not None:
        if not (math.isfinite(period_yr) and period_yr > 0):
            raise ProductError(f"--period-yr: must be a positive number of years, got {period_yr}")
        if product.period_yr and abs(product.period_yr - period_yr) > 0.01 * period_yr:
            log.info(
                "%s: using the stated period %.3f yr, not the file's %.3f yr (%s to %s)",
                product.source,
                period_yr,
                product.period_yr,
                product.start,
                product.end,
            )
        return float(period_yr)
    if product.period_yr is None:
        raise ProductError(
            f"{product.source}: the file records no stack dates; give the stack period with "
            "--period-yr (velocity x period = the displacement the model sees)"
        )
    return float(product.period_yr)


def dataarray_on(values: np.ndarray, grid: Grid, name: str, attrs: dict) -> xr.DataArray:
    """A 2-D DataArray on a north-up or south-up grid, with the grid's CRS and transform."""
    t = grid.transform
    if t.b or t.d:
        raise VolcdetError("rotated grids cannot be returned as a DataArray")
    x = t.c + t.a * (np.arange(grid.shape[1]) + 0.5)
    y = t.f + t.e * (np.arange(grid.shape[0]) + 0.5)
    array = xr.DataArray(values, coords={"y": y, "x": x}, dims=("y", "x"), name=name, attrs=attrs)
    return array.rio.write_crs(grid.crs).rio.write_transform(t)


@dataclass(frozen=True)
class Prediction:
    """Everything one scored map produced (see ``volcdet.inference.outputs`` for the files)."""

    name: str
    product: VelocityProduct
    probability: xr.DataArray
    probability_model_grid: xr.DataArray
    flags: pd.DataFrame
    features: list[dict]
    displacement_mm: np.ndarray
    model_id: str
    threshold: float
    period_yr: float
    window_px: int
    n_windows: int
    n_planned: int
    input_grid: Grid
    model_grid: Grid
    los_source: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    catalogue: pd.DataFrame | None = None


@dataclass(frozen=True)
class _ModelGridScan:
    """A map scored on the model grid: the grid, the displacement, its valid pixels, the
    windows, their probabilities and the per-pixel maximum over windows."""

    grid: Grid
    displacement_mm: np.ndarray
    valid: np.ndarray
    windows: Windows
    probability: np.ndarray
    probability_map: np.ndarray


def _scan_on_model_grid(
    product: VelocityProduct,
    loaded: LoadedModel,
    period_yr: float,
    spec: ScanSpec,
    label: str,
    progress: object | None,
) -> _ModelGridScan:
    """Reproject a map to the model grid, turn velocity into displacement over the stack
    period, and score it in windows; NaN where the map has no data."""
    target = model_grid(product.grid, loaded.pixel_size_m)
    on_model = product_on_grid(product, target)
    displacement = on_model.velocity_mm_yr * np.float32(period_yr)
    valid = np.isfinite(displacement)
    if not valid.any():
        raise ProductError(f"{product.source}: no valid pixel left on the model grid")
    padded = padded_to_window(displacement, loaded.window_px)
    windows = plan_windows(padded, target.shape, loaded.window_px, spec)
    probability = score_windows(
        loaded.model, loaded.transform, padded, windows, spec, desc=label, progress=progress
    )
    probability_map = aggregate_probability(padded, target.shape, windows, probability)
    probability_map[~valid] = np.nan
    return _ModelGridScan(target, displacement, valid, windows, probability, probability_map)


def _tags(loaded: LoadedModel, threshold: float, period_yr: float) -> dict[str, str]:
    """What every output of a scan is tagged with: the model, threshold, period, pixel size."""
    return {
        "model_id": loaded.model_id,
        "model_name": "reference" if is_reference(loaded.path) else loaded.path.name,
        "threshold": f"{threshold:g}",
        "period_yr": f"{period_yr:.4f}",
        "pixel_size_m": f"{loaded.pixel_size_m:g}",
    }


def _log_scan(
    label: str,
    product: VelocityProduct,
    scan: _ModelGridScan,
    pixel_size_m: float,
    n_flagged: int,
    threshold: float,
) -> None:
    """One log line per scored map: grids, windows scored and skipped, flags."""
    log.info(
        "%s: %s %s -> %s at %g m; %d windows scored (%d skipped for missing data), "
        "%d flagged at p >= %.2f",
        label,
        product.kind,
        product.grid.crs.to_string(),
        scan.grid.crs.to_string(),
        pixel_size_m,
        len(scan.windows.origins),
        scan.windows.n_planned - len(scan.windows.origins),
        n_flagged,
        threshold,
    )


def predict(
    data: object,
    model: LoadedModel | Path | str | None = None,
    *,
    los: Path | str | None = None,
    units: str | None = None,
    period_yr: float | None = None,
    spec: ScanSpec | None = None,
    catalogue: pd.DataFrame | Path | str | None = None,
    name: str | None = None,
    progress: object | None = None,
    nodata: float | str | None = None,
    mask: Path | str | None = None,
    force: bool = False,
) -> Prediction:
    """Score one velocity map: reproject to the model grid, window, score, flag, map back.

    The probability is NaN wherever the input (or the map on the model grid) has no data.
    """
    spec = spec or ScanSpec()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    product = as_product(data, units, nodata=nodata, mask=mask, force=force)
    if los is not None:
        product = attach_los(product, Path(los))
    if not isinstance(catalogue, pd.DataFrame):
        catalogue = read_catalogue(catalogue)
    period = resolve_period(product, period_yr)
    threshold = spec.threshold if spec.threshold is not None else loaded.threshold
    label = name or Path(product.source).name
    scan = _scan_on_model_grid(product, loaded, period, spec, label, progress)
    properties = {
        "input": label,
        "model_id": loaded.model_id,
        "threshold": threshold,
        "period_yr": period,
    }
    footprint = valid_area(product.velocity_mm_yr, product.grid, scan.grid.crs)
    flags, features = flag_windows(
        scan.windows,
        scan.probability,
        scan.grid,
        scan.valid,
        threshold,
        catalogue,
        properties,
        footprint,
    )
    prob_input = reproject_nearest(scan.probability_map, scan.grid, product.grid)
    prob_input[~np.isfinite(product.velocity_mm_yr)] = np.nan
    _log_scan(label, product, scan, loaded.pixel_size_m, len(flags), threshold)
    tags = _tags(loaded, threshold, period)
    attrs = {"long_name": "probability of deformation (max over windows)"} | tags
    return Prediction(
        name=label,
        product=product,
        probability=dataarray_on(prob_input, product.grid, "probability", attrs),
        probability_model_grid=dataarray_on(scan.probability_map, scan.grid, "probability", attrs),
        flags=flags,
        features=features,
        displacement_mm=scan.displacement_mm,
        model_id=loaded.model_id,
        threshold=threshold,
        period_yr=period,
        window_px=loaded.window_px,
        n_windows=len(scan.windows.origins),
        n_planned=scan.windows.n_planned,
        input_grid=product.grid,
        model_grid=scan.grid,
        los_source=str(los) if los is not None else product.los_source,
        tags=tags,
        catalogue=catalogue,
    )
