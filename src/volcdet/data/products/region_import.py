"""``volcdet region import``: a region folder of the data contract from users' track products.

Each track's velocity (LiCSBAS cum.h5, MintPy geo_velocity.h5 or any GeoTIFF), LOS (stored in
cum.h5 as E/N/U.geo, or given: MintPy geometryGeo.h5, LiCSAR E/N/U, 3-band GeoTIFF) and
interferograms (LiCSBAS cum.h5 epoch differences, or given GeoTIFFs named ..YYYYMMDD_YYYYMMDD..)
are reprojected NaN-aware to one UTM zone (the ROI's) at the configured pixel size on a lattice
shared by all tracks. The folder is written beside its destination, validated with
``load_region`` and only then moved into place; ``overwrite`` replaces only a region folder
that volcdet imported and that holds nothing else (``volcdet.core.folders``, docs/reliability.md).
"""

from __future__ import annotations

import glob
import json
import logging
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.constants import SENTINEL1_WAVELENGTH_MM
from volcdet.core.errors import OutputError, ProductError
from volcdet.core.folders import check_output_folder, commit_folder, make_staging
from volcdet.data.contract import (
    CATALOGUE_COLUMNS,
    PASSES,
    REGION_KIND,
    ProductSource,
    track_id_problem,
)
from volcdet.data.products import attach_los, input_exists, read_velocity
from volcdet.data.products.base import check_finite_values, check_floating, period_from_dates
from volcdet.data.products.geotiff import read_bands
from volcdet.data.products.licsbas import licsbas_epochs
from volcdet.data.products.reproject import (
    model_grid,
    product_on_grid,
    reproject_average,
    utm_crs_at,
)
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.data.region import load_region, read_geometry_lonlat
from volcdet.data.tables import read_csv_table

log = logging.getLogger(__name__)

#: LiCSAR frame ids: <relative orbit><A|D>_<burst>_<...>, e.g. 021D_05266_252525.
LICSAR_FRAME = re.compile(r"^\d{3}([AD])_\d{5}_\d{6}$")
IFG_DATES = re.compile(r"(\d{8})_(\d{8})")
#: Unwrapped-interferogram units and their factor to LOS mm (radians: -lambda / (4 pi), the
#: LiCSAR/LiCSBAS convention that makes positive = toward the satellite).
IFG_UNITS = {"mm": 1.0, "m": 1000.0, "rad": -SENTINEL1_WAVELENGTH_MM / (4 * math.pi)}


KEYS = {
    "los": "los",
    "pass": "pass_direction",
    "ifgs": "ifgs",
    "ifg_units": "ifg_units",
    "units": "units",
    "start": "start",
    "end": "end",
}


def parse_track_source(text: str) -> ProductSource:
    """``ID=PATH[,key=value...]`` (keys: los, pass, ifgs, ifg_units, units, start, end)."""
    head, *options = text.split(",")
    if "=" not in head:
        raise ProductError(f"--track {text}: expected ID=PATH[,key=value...]")
    track_id, path = head.split("=", 1)
    problem = track_id_problem(track_id)
    if problem:
        raise ProductError(f"--track {text}: {problem}")
    values: dict[str, object] = {"name": track_id, "path": Path(path)}
    for option in options:
        key, _, value = option.partition("=")
        if key not in KEYS or not value:
            raise ProductError(
                f"--track {text}: unknown or empty key {key!r} (keys: {', '.join(KEYS)})"
            )
        values[KEYS[key]] = Path(value) if key == "los" else value
    source = ProductSource(**values)  # type: ignore[arg-type]
    if not input_exists(source.path):  # a file, a LiCSBAS TS_* folder or a DISP-S1 stack
        raise ProductError(f"{source.path}: file not found (--track {track_id})")
    if source.los is not None and not source.los.is_file():
        raise ProductError(f"{source.los}: file not found (--track {track_id})")
    if source.pass_direction is not None and source.pass_direction not in PASSES:
        raise ProductError(f"--track {text}: pass must be ascending or descending")
    if source.ifg_units is not None and source.ifg_units not in IFG_UNITS:
        raise ProductError(f"--track {text}: ifg_units must be one of {', '.join(IFG_UNITS)}")
    return source


def pass_of(source: ProductSource, los: np.ndarray) -> str:
    """The pass: stated, else from a LiCSAR frame id, else from the LOS east component's sign.

    A right-looking satellite on an ascending (north-bound) pass looks east, so the
    ground-to-satellite vector points west (east < 0); descending, east > 0 (physics notes sec. 3).
    """
    if source.pass_direction:
        return source.pass_direction
    frame = LICSAR_FRAME.match(source.name)
    if frame:
        return "ascending" if frame.group(1) == "A" else "descending"
    east = float(np.nanmean(los[0]))
    if not math.isfinite(east) or abs(east) < 0.05:
        raise ProductError(
            f"--track {source.name}: cannot tell the pass; add ,pass=ascending|descending"
        )
    return "ascending" if east < 0 else "descending"


def _interferogram_pairs(n_epochs: int, max_count: int) -> list[int]:
    """Indices i of consecutive-epoch pairs (i, i+1), evenly spread over the stack."""
    count = min(max_count, n_epochs - 1)
    return sorted({round(float(v)) for v in np.linspace(0, n_epochs - 2, count)})


def licsbas_interferograms(path: Path, max_count: int) -> list[tuple[str, str, np.ndarray, Grid]]:
    """Unwrapped interferograms (mm) as differences of consecutive cum.h5 epochs."""
    epochs = licsbas_epochs(path)
    if len(epochs.dates) < 2:
        raise ProductError(f"{path}: cum.h5 has fewer than 2 epochs")
    pairs = []
    for i in _interferogram_pairs(len(epochs.dates), max_count):
        difference = epochs.displacement_mm(i + 1) - epochs.displacement_mm(i)
        pairs.append((epochs.dates[i], epochs.dates[i + 1], difference, epochs.grid))
    return pairs


def given_interferograms(source: ProductSource) -> list[tuple[str, str, np.ndarray, Grid]]:
    """Interferogram GeoTIFFs of a glob, dates from their names, converted to mm."""
    if source.ifg_units is None:
        raise ProductError(f"--track {source.name}: ifgs given without ifg_units=mm|m|rad")
    paths = sorted(glob.glob(str(source.ifgs)))
    if not paths:
        raise ProductError(f"{source.ifgs}: no interferogram matches (--track {source.name})")
    pairs = []
    for name in paths:
        dates = IFG_DATES.search(Path(name).name)
        if not dates:
            raise ProductError(f"{name}: no YYYYMMDD_YYYYMMDD dates in the file name")
        array, grid, _ = read_bands(Path(name), expected_bands=1)
        check_floating(array, name, "interferogram")
        check_finite_values(array, name, "interferogram")
        pairs.append(
            (
                dates.group(1),
                dates.group(2),
                array[0] * np.float32(IFG_UNITS[source.ifg_units]),
                grid,
            )
        )
    return pairs


def _iso(date: str) -> str:
    """'20170105' -> '2017-01-05' (other spellings unchanged)."""
    return f"{date[:4]}-{date[4:6]}-{date[6:]}" if re.fullmatch(r"\d{8}", date) else date


def read_catalogue_for_region(path: Path) -> pd.DataFrame:
    """The volcano catalogue in the contract's columns (deforming/radius default to 0, logged)."""
    table = read_csv_table(path, CATALOGUE_COLUMNS, ProductError, "catalogue lacks column(s)")
    for column in ("deforming", "deformation_radius_km"):
        if column not in table.columns:
            log.warning("%s: no column %s; set to 0 (no deforming volcano labelled)", path, column)
            table[column] = 0
    return table


def _import_record(source: ProductSource) -> dict[str, str]:
    """What ``import.json`` records of a track: its id and every key given on ``--track``."""
    record = {"track_id": source.name, "path": str(source.path)}
    for name in KEYS.values():
        record[name] = str(getattr(source, name))
    return record


def _import_track(
    source: ProductSource, root: Path, crs: object, pixel_size_m: float, max_interferograms: int
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Write one track's velocity, LOS and interferograms; return its table rows."""
    product = read_velocity(source.path, source.units)
    if source.los is not None:
        product = attach_los(product, source.los)
    if product.los_unit_vector is None:
        raise ProductError(
            f"{source.path}: no LOS in the product (cum.h5 without E.geo/N.geo/U.geo, MintPy "
            f"velocity or GeoTIFF); add ,los=PATH to --track {source.name}"
        )
    start, end = source.start or product.start, source.end or product.end
    if start is None or end is None:
        raise ProductError(f"{source.path}: no stack dates; add ,start=YYYY-MM-DD,end=YYYY-MM-DD")
    _, start, end = period_from_dates(start, end, str(source.path))
    grid = model_grid(product.grid, pixel_size_m, crs)
    on_grid = product_on_grid(product, grid)
    los = on_grid.los_unit_vector
    if los is None:  # product_on_grid keeps the LOS checked above
        raise ProductError(f"{source.path}: the LOS was lost on the model grid")
    pass_direction = pass_of(source, los)
    tid = source.name
    write_geotiff(
        root / f"velocity/{tid}.tif", on_grid.velocity_mm_yr, grid, ["los_velocity_mm_yr"], "mm/yr"
    )
    write_geotiff(
        root / f"los/{tid}.tif",
        los,
        grid,
        ["east", "north", "up"],
        "unit vector",
    )
    if source.ifgs is not None:
        pairs = given_interferograms(source)
    elif product.kind == "licsbas-cum":
        pairs = licsbas_interferograms(source.path, max_interferograms)
    else:
        raise ProductError(
            f"{source.path}: no interferograms: add ,ifgs=GLOB,ifg_units=mm|m|rad to --track {tid}"
        )
    ifg_rows = []
    for date1, date2, values, ifg_grid in pairs:
        rel = f"interferograms/{tid}_{date1}_{date2}.tif"
        write_geotiff(
            root / rel, reproject_average(values, ifg_grid, grid), grid, ["unwrapped_mm"], "mm"
        )
        ifg_rows.append(
            {
                "path": rel,
                "track_id": tid,
                "pass": pass_direction,
                "date1": _iso(date1),
                "date2": _iso(date2),
            }
        )
    log.info(
        "track %s (%s, %s): %s -> %s at %g m, %d interferograms",
        tid,
        pass_direction,
        product.kind,
        product.grid.crs.to_string(),
        grid.crs.to_string(),
        pixel_size_m,
        len(ifg_rows),
    )
    track_row = {
        "track_id": tid,
        "pass": pass_direction,
        "velocity": f"velocity/{tid}.tif",
        "los": f"los/{tid}.tif",
        "start": start,
        "end": end,
        "source": str(source.path),
        "source_kind": product.kind,
    }
    return track_row, ifg_rows


def import_inputs(
    sources: list[ProductSource], volcanoes_csv: Path, roi_geojson: Path, salt_lakes: Path | None
) -> list[Path]:
    """Every file an import reads: track products, LOS, interferograms, catalogue and polygons."""
    paths = [Path(volcanoes_csv), Path(roi_geojson), *([Path(salt_lakes)] if salt_lakes else [])]
    for source in sources:
        paths += [source.path, *([source.los] if source.los else [])]
        paths += [Path(p) for p in sorted(glob.glob(str(source.ifgs)))] if source.ifgs else []
    return paths


def check_region_out(out_dir: Path, overwrite: bool, reads: list[Path]) -> None:
    """OutputError unless ``out_dir`` may receive the region: not the current folder or above
    it, holding none of ``reads``, and new, or with ``overwrite`` a region volcdet imported."""
    check_output_folder(out_dir, reads, overwrite, REGION_KIND, "region folder")


def import_region(
    sources: list[ProductSource],
    volcanoes_csv: Path,
    roi_geojson: Path,
    out_dir: Path,
    pixel_size_m: float,
    *,
    max_interferograms: int = 10,
    salt_lakes: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a validated region folder (data contract) from track products; return its path."""
    out_dir = Path(out_dir)
    reads = import_inputs(sources, volcanoes_csv, roi_geojson, salt_lakes)
    check_region_out(out_dir, overwrite, reads)
    ids = [s.name for s in sources]
    if len(set(ids)) < len(ids):
        raise ProductError(f"--track: duplicate track ids {ids}")
    roi = read_geometry_lonlat(Path(roi_geojson))
    crs = utm_crs_at(roi.centroid.x, roi.centroid.y)
    catalogue = read_catalogue_for_region(Path(volcanoes_csv))
    staging = make_staging(out_dir)
    try:
        tracks, ifgs = [], []
        for source in sources:
            track_row, ifg_rows = _import_track(
                source, staging, crs, pixel_size_m, max_interferograms
            )
            tracks.append(track_row)
            ifgs += ifg_rows
        pd.DataFrame(tracks).to_csv(staging / "tracks.csv", index=False)
        pd.DataFrame(ifgs).to_csv(staging / "interferograms.csv", index=False)
        catalogue.to_csv(staging / "volcanoes.csv", index=False)
        shutil.copyfile(roi_geojson, staging / "roi.geojson")
        if salt_lakes is not None:
            read_geometry_lonlat(Path(salt_lakes))
            shutil.copyfile(salt_lakes, staging / "salt_lakes.geojson")
        (staging / "import.json").write_text(
            json.dumps(
                {
                    "crs": crs.to_string(),
                    "pixel_size_m": pixel_size_m,
                    "tracks": [_import_record(s) for s in sources],
                },
                indent=2,
            )
        )
        load_region(staging, check_rasters=True)
        commit_folder(staging, out_dir, REGION_KIND, overwrite, "region folder")
    except OSError as err:  # a full disk, a quota, a vanished folder: one line, nothing kept
        shutil.rmtree(staging, ignore_errors=True)
        reason = (err.strerror or str(err)) + (f": {err.filename}" if err.filename else "")
        raise OutputError(
            f"{out_dir}: cannot import the region ({reason}); nothing was written and "
            f"{out_dir} is as it was"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
