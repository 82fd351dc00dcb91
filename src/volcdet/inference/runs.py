"""Runs of ``volcdet predict``: several inputs, one folder each, a summary, all-or-nothing.

Everything is checked before anything is scored: the inputs, the destination (never the
current folder or one that holds an input; an existing one is replaced only with
``--overwrite`` and only when volcdet wrote all of it, ``volcdet.core.folders``) and the
previous run of ``--compare`` (read completely; another model or other inputs stop the run
unless ``compare_any``). The outputs are written into a staging folder beside ``--out`` and
moved into place only when every input succeeded, so a failure, a full disk or a signal never
leaves half a run and never touches an earlier one. ``run_summary.json`` records the inputs,
model id, threshold, periods, counts flagged and run time; with a previous run to compare with,
``new_flags.csv`` lists the flags with no flag of the same input within half a window in that
run. See docs/reliability.md.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError

from volcdet import __version__
from volcdet.core.errors import OutputError
from volcdet.core.folders import commit_folder, make_staging
from volcdet.data.contract import ProductSource
from volcdet.data.products import VelocityProduct, attach_los
from volcdet.inference.api import (
    LoadedModel,
    Prediction,
    as_product,
    load_model,
    model_id_of,
    predict,
    read_catalogue,
    resolve_period,
)
from volcdet.inference.destinations import RUN_KIND, check_run_out
from volcdet.inference.outputs import write_prediction
from volcdet.inference.previous_run import (
    RUN_FORMAT,
    SUMMARY_FILE,
    PreviousRun,
    PreviousRunError,
    comparison_problems,
    read_previous_run,
)
from volcdet.inference.scan import haversine_km
from volcdet.inference.spec import ScanSpec
from volcdet.models import is_reference

log = logging.getLogger(__name__)

NEW_FLAGS_FILE = "new_flags.csv"
NEW_FLAG_COLUMNS = ("input", "lon", "lat", "probability", "nearest_volcano", "nearest_volcano_km")
#: What writing the outputs can raise besides a bug: the file system's errors (a full disk,
#: a quota, a read-only or vanished folder) as Python, rasterio or GDAL report them.
WRITE_ERRORS = (OSError, RasterioError, CPLE_BaseError)


@dataclass(frozen=True)
class RunResult:
    """The summary written to ``run_summary.json`` and the flags new since a previous run."""

    summary: dict
    new_flags: pd.DataFrame | None


def _grid_record(product: VelocityProduct) -> dict:
    """CRS, shape and transform of an input's grid: what tells two maps apart in a comparison."""
    grid = product.grid
    return {
        "input_crs": grid.crs.to_string(),
        "input_shape": list(grid.shape),
        "input_transform": [float(v) for v in tuple(grid.transform)[:6]],
    }


def _summary_entry(item: ProductSource, prediction: Prediction) -> dict:
    """The run-summary record of one scored input."""
    product = prediction.product
    grid = prediction.model_grid
    return {
        "name": item.name,
        "path": str(item.path),
        "kind": product.kind,
        "los": product.los_source,
        "units_found": product.units_found,
        "reference": product.reference,
        "period_yr": prediction.period_yr,
        "start": product.start,
        "end": product.end,
        **_grid_record(product),
        "model_crs": grid.crs.to_string(),
        "model_shape": list(grid.shape),
        "windows_scored": prediction.n_windows,
        "windows_skipped": prediction.n_planned - prediction.n_windows,
        "flagged": len(prediction.flags),
    }


def new_flags_since(
    current: dict[str, pd.DataFrame], previous: PreviousRun, match_km: float
) -> pd.DataFrame:
    """Flags of this run with no flag of the same input within ``match_km`` in a previous run."""
    rows = []
    for name, flags in current.items():
        before = np.asarray(previous.flags.get(name, []), dtype=float).reshape(-1, 2)
        for row in flags.to_dict("records"):
            if len(before):
                distance = haversine_km(row["lon"], row["lat"], before[:, 0], before[:, 1])
                if float(np.min(distance)) <= match_km:
                    continue
            rows.append({k: row[k] for k in NEW_FLAG_COLUMNS})
    return pd.DataFrame(rows, columns=list(NEW_FLAG_COLUMNS))


def checked_product(
    item: ProductSource,
    units: str | None,
    nodata: float | str | None = None,
    force: bool = False,
) -> VelocityProduct:
    """Read an input with its LOS and check its period, so a bad input stops the run early."""
    product = as_product(item.path, item.units or units, nodata=nodata, mask=item.mask, force=force)
    if item.los is not None:
        product = attach_los(product, item.los)
    resolve_period(product, item.period_yr)
    return product


def run_inputs(
    inputs: list[ProductSource], model_path: Path, catalogue_path: Path | None
) -> list[Path]:
    """Every file a run reads: maps, LOS rasters, the model and the catalogue."""
    paths = [item.path for item in inputs] + [i.los for i in inputs if i.los is not None]
    return [*paths, Path(model_path), *([Path(catalogue_path)] if catalogue_path else [])]


def check_comparable(
    previous: PreviousRun,
    model_path: Path,
    inputs: list[ProductSource],
    products: list[VelocityProduct],
    compare_any: bool,
) -> None:
    """Stop (or with ``compare_any`` warn) when the previous run scored other maps or used
    another model: its flags would not say what is new."""
    current = {i.name: _grid_record(p) for i, p in zip(inputs, products, strict=True)}
    problems = comparison_problems(previous, model_id_of(model_path), current)
    if not problems:
        return
    message = f"{previous.summary_path}: not comparable: {'; '.join(problems)}"
    if not compare_any:
        raise PreviousRunError(f"{message}; use --compare-any to compare anyway")
    log.warning("%s (compared anyway: --compare-any)", message)


def output_error(out_dir: Path, err: BaseException) -> OutputError:
    """One line for a failed write: what failed, and that ``out_dir`` is as it was."""
    if isinstance(err, OSError) and err.strerror:
        reason = err.strerror + (f": {err.filename}" if err.filename else "")
    else:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
    return OutputError(
        f"{out_dir}: cannot write the outputs ({reason}); nothing was written and "
        f"{out_dir} is as it was"
    )


def _score_into(
    staging: Path,
    inputs: list[ProductSource],
    products: list[VelocityProduct],
    model: LoadedModel,
    spec: ScanSpec,
    catalogue: pd.DataFrame | None,
    progress: object | None,
) -> tuple[list[dict], dict[str, pd.DataFrame]]:
    """Score every input into ``staging/<name>/``; its summary entries and flags by name."""
    entries, flags = [], {}
    for item, product in zip(inputs, products, strict=True):
        prediction = predict(
            product,
            model,
            period_yr=item.period_yr,
            spec=spec,
            catalogue=catalogue,
            name=item.name,
            progress=progress,
        )
        write_prediction(prediction, staging / item.name)
        entries.append(_summary_entry(item, prediction))
        flags[item.name] = prediction.flags
    return entries, flags


def _run_summary(
    model_path: Path,
    model: LoadedModel,
    spec: ScanSpec,
    catalogue_path: Path | None,
    entries: list[dict],
) -> dict:
    """``run_summary.json`` of a run: versions, model, threshold, inputs and counts flagged."""
    return {
        "format": RUN_FORMAT,
        "volcdet": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {
            "name": "reference" if is_reference(model_path) else None,
            "path": str(model_path),
            "id": model.model_id,
            "pixel_size_m": model.pixel_size_m,
        },
        "threshold": spec.threshold if spec.threshold is not None else model.threshold,
        "stride_px": spec.stride_px,
        "catalogue": str(catalogue_path) if catalogue_path else None,
        "inputs": entries,
        "flagged": sum(e["flagged"] for e in entries),
    }


def run_predict(
    inputs: list[ProductSource],
    model_path: Path,
    out_dir: Path,
    spec: ScanSpec,
    *,
    units: str | None = None,
    catalogue_path: Path | None = None,
    overwrite: bool = False,
    compare_to: Path | None = None,
    compare_any: bool = False,
    progress: object | None = None,
    nodata: float | str | None = None,
    force: bool = False,
) -> RunResult:
    """Score every input into ``out_dir/<name>/`` plus ``run_summary.json``, all or nothing.

    ``nodata`` and ``force`` apply to every input (``volcdet.data.products.read_velocity``).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    check_run_out(out_dir, overwrite, run_inputs(inputs, model_path, catalogue_path))
    previous = read_previous_run(compare_to) if compare_to is not None else None
    catalogue = read_catalogue(catalogue_path)
    products = [
        checked_product(item, units, nodata, force) for item in inputs
    ]  # every input before scoring
    if previous is not None:
        check_comparable(previous, model_path, inputs, products, compare_any)
    model = load_model(model_path)
    try:
        staging = make_staging(out_dir)
    except WRITE_ERRORS as err:
        raise output_error(out_dir, err) from None
    try:
        entries, flags = _score_into(staging, inputs, products, model, spec, catalogue, progress)
        summary = _run_summary(model_path, model, spec, catalogue_path, entries)
        new = None
        if previous is not None:
            match_km = model.window_px * model.pixel_size_m / 2000.0
            new = new_flags_since(flags, previous, match_km)
            new.to_csv(staging / NEW_FLAGS_FILE, index=False)
            summary["compared_with"] = str(compare_to)
            summary["new_flags"] = len(new)
        summary["run_time_s"] = round(time.perf_counter() - started, 3)
        (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        commit_folder(staging, out_dir, RUN_KIND, overwrite, "--out")
    except WRITE_ERRORS as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise output_error(out_dir, err) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RunResult(summary, new)


def scan_velocity_map(
    velocity_path: Path,
    los_path: Path | None,
    model_path: Path,
    out_dir: Path,
    spec: ScanSpec,
    catalogue_path: Path | None = None,
    progress: object | None = None,
    period_yr: float | None = None,
    units: str | None = None,
) -> pd.DataFrame:
    """Score one map into ``out_dir`` (the workflow's ``scan`` rule); outputs appear together.

    A region's velocity maps are in mm/yr by the data contract: the rule passes ``units``.
    """
    out_dir = Path(out_dir)
    prediction = predict(
        velocity_path,
        model_path,
        los=los_path,
        units=units,
        period_yr=period_yr,
        spec=spec,
        catalogue=catalogue_path,
        name=out_dir.name,
        progress=progress,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".scan-", dir=out_dir))
    try:
        for path in write_prediction(prediction, staging):
            path.replace(out_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return prediction.flags
