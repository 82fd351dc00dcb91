"""Runs of ``volcdet predict``: several inputs, one folder each, a summary, all-or-nothing.

Everything is written into a staging folder beside ``--out`` and moved into place only when
every input succeeded, so a failure never leaves half a run and an earlier run is replaced only
with ``--overwrite``. ``run_summary.json`` records the inputs, model id, threshold, periods,
counts flagged and run time; with a previous run to compare with, ``new_flags.csv`` lists the
flags with no flag of the same input within half a window in that run.
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

from volcdet import __version__
from volcdet.core.errors import VolcdetError
from volcdet.data.products import VelocityProduct, attach_los
from volcdet.inference.api import (
    Prediction,
    as_product,
    load_model,
    predict,
    read_catalogue,
    resolve_period,
)
from volcdet.inference.outputs import write_prediction
from volcdet.inference.scan import haversine_km
from volcdet.inference.spec import ScanSpec

log = logging.getLogger(__name__)

RUN_FORMAT = "volcdet-run/1"
SUMMARY_FILE = "run_summary.json"
NEW_FLAGS_FILE = "new_flags.csv"
NEW_FLAG_COLUMNS = ("input", "lon", "lat", "probability", "nearest_volcano", "nearest_volcano_km")


@dataclass(frozen=True)
class PredictInput:
    """One map of a run: folder name, product path, optional LOS, stated period and unit, and
    an optional mask file (MintPy maskTempCoh.h5)."""

    name: str
    path: Path
    los: Path | None = None
    period_yr: float | None = None
    units: str | None = None
    mask: Path | None = None


@dataclass(frozen=True)
class RunResult:
    """The summary written to ``run_summary.json`` and the flags new since a previous run."""

    summary: dict
    new_flags: pd.DataFrame | None


def _summary_entry(item: PredictInput, prediction: Prediction) -> dict:
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
        "input_crs": product.grid.crs.to_string(),
        "input_shape": list(product.grid.shape),
        "model_crs": grid.crs.to_string(),
        "model_shape": list(grid.shape),
        "windows_scored": prediction.n_windows,
        "windows_skipped": prediction.n_planned - prediction.n_windows,
        "flagged": len(prediction.flags),
    }


def new_flags_since(
    current: dict[str, pd.DataFrame], previous_run: Path, match_km: float
) -> pd.DataFrame:
    """Flags of this run with no flag of the same input within ``match_km`` in a previous run."""
    rows = []
    for name, flags in current.items():
        previous_csv = Path(previous_run) / name / "flagged.csv"
        before = pd.read_csv(previous_csv) if previous_csv.is_file() else pd.DataFrame()
        for row in flags.to_dict("records"):
            if len(before):
                distance = haversine_km(
                    row["lon"], row["lat"], before.lon.to_numpy(), before.lat.to_numpy()
                )
                if float(np.min(distance)) <= match_km:
                    continue
            rows.append({k: row[k] for k in NEW_FLAG_COLUMNS})
    return pd.DataFrame(rows, columns=list(NEW_FLAG_COLUMNS))


def checked_product(
    item: PredictInput,
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


def read_previous_run(path: Path) -> dict:
    """The summary of a previous run (for ``--compare``), checked."""
    summary_path = Path(path) / SUMMARY_FILE
    if not summary_path.is_file():
        raise VolcdetError(f"{path}: not a volcdet predict run (no {SUMMARY_FILE})")
    try:
        summary = json.loads(summary_path.read_text())
    except json.JSONDecodeError as err:
        raise VolcdetError(f"{summary_path}: not valid JSON ({err})") from err
    if summary.get("format") != RUN_FORMAT:
        raise VolcdetError(f"{summary_path}: not a {RUN_FORMAT} summary")
    return summary


def commit_folder(staging: Path, out_dir: Path, overwrite: bool) -> None:
    """Move a finished staging folder to ``out_dir`` (replacing an old run only with overwrite)."""
    out_dir = Path(out_dir)
    old = None
    if out_dir.exists():
        if not overwrite:
            raise VolcdetError(f"{out_dir}: output folder exists; use --overwrite to replace it")
        old = out_dir.with_name(f".{out_dir.name}.old-{staging.name}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_predict(
    inputs: list[PredictInput],
    model_path: Path,
    out_dir: Path,
    spec: ScanSpec,
    *,
    units: str | None = None,
    catalogue_path: Path | None = None,
    overwrite: bool = False,
    compare_to: Path | None = None,
    progress: object | None = None,
    nodata: float | str | None = None,
    force: bool = False,
) -> RunResult:
    """Score every input into ``out_dir/<name>/`` plus ``run_summary.json``, all or nothing.

    ``nodata`` and ``force`` apply to every input (``volcdet.data.products.read_velocity``).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise VolcdetError(f"{out_dir}: output folder exists; use --overwrite to replace it")
    if compare_to is not None:
        read_previous_run(compare_to)
    catalogue = read_catalogue(catalogue_path)
    # every input before scoring
    products = [checked_product(item, units, nodata, force) for item in inputs]
    model = load_model(model_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
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
        summary = {
            "format": RUN_FORMAT,
            "volcdet": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {
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
        new = None
        if compare_to is not None:
            match_km = model.window_px * model.pixel_size_m / 2000.0
            new = new_flags_since(flags, Path(compare_to), match_km)
            new.to_csv(staging / NEW_FLAGS_FILE, index=False)
            summary["compared_with"] = str(compare_to)
            summary["new_flags"] = len(new)
        summary["run_time_s"] = round(time.perf_counter() - started, 3)
        (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        commit_folder(staging, out_dir, overwrite)
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
