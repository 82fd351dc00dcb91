"""LiCSBAS outputs as users have them: a ``TS_GEOCml*`` folder and its headerless rasters.

Layout read from LiCSBAS (Morishita et al. 2020; LiCSBAS02_ml_prep.py, LiCSBAS11_check_unw.py,
LiCSBAS12_loop_closure.py, LiCSBAS13_sb_inv.py, LiCSBAS15_mask_ts.py, LiCSBAS16_filt_ts.py,
LiCSBAS_io_lib.read_img):

- ``TS_GEOCml*/results/<name>``: headerless little-endian float32, ``nlines`` rows of ``width``
  values, NaN = no data: ``vel`` (step 13, mm/yr, positive = toward the satellite), ``vel.mskd``
  (step 15), ``vel.filt`` and ``vel.filt.mskd`` (step 16), beside non-velocity layers (``hgt``,
  ``coh_avg``, ``vstd``, ``mask``, ...).
- ``GEOCml*/EQA.dem_par`` (GAMMA text, ``key: value [unit]``), copied to ``TS_GEOCml*/info/`` by
  step 11: ``width``, ``nlines``, ``corner_lat``/``corner_lon`` = centre of the first pixel,
  ``post_lat`` (negative) / ``post_lon`` in degrees (EPSG:4326).
- ``info/13used_image.txt``: the epochs used by step 13, one YYYYMMDD per line (else the
  ``imdates`` of ``cum.h5``).
- Reference area ``x1:x2/y1:y2`` (pixel indices, ends exclusive): ``vel`` and ``vel.mskd`` are
  relative to ``info/12ref.txt`` (step 13 subtracts that area from every interferogram),
  ``vel.filt*`` to ``info/16ref.txt`` (step 16 re-references the filtered series), ``cum.h5`` to
  its ``refarea`` (``info/13ref.txt``).
- LOS: ``GEOCml*/E.geo``, ``N.geo``, ``U.geo`` (raw float32 on the ``EQA.dem_par`` grid, NaN =
  no data; made by step 02 from LiCSAR ``*.geo.E.tif``), or the same as GeoTIFF after
  ``LiCSBAS_flt2geotiff.py`` (``E.geo.tif``, ...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from volcdet.core.errors import ProductError
from volcdet.data.products.base import (
    ReadOptions,
    VelocityProduct,
    open_hdf5,
    period_from_dates,
    velocity_in_mm_yr,
)
from volcdet.data.products.checks import check_declared_size, check_not_lfs_pointer
from volcdet.data.products.licsbas import licsbas_grid, parse_refarea
from volcdet.data.rasters import Grid

log = logging.getLogger(__name__)

DEM_PAR = "EQA.dem_par"
DEM_PAR_KEYS = ("width", "nlines", "corner_lat", "corner_lon", "post_lat", "post_lon")
#: Velocity layers of ``results/``, in the order a ``TS_*`` folder is read (the final product
#: of the default LiCSBAS run first).
VELOCITY_LAYERS = ("vel.filt.mskd", "vel.mskd", "vel.filt", "vel")
#: Other float32 layers LiCSBAS writes to ``results/`` (never velocities).
OTHER_LAYERS = (
    "vintercept", "vintercept.filt", "vintercept.filt.mskd", "resid_rms", "n_gap",
    "n_ifg_noloop", "maxTlen", "vstd", "stc", "mask", "coh_avg", "hgt", "n_loop_err",
    "n_unw", "slc.mli",
)  # fmt: skip
LOS_COMPONENTS = ("E", "N", "U")


@dataclass(frozen=True)
class DemPar:
    """The grid of an ``EQA.dem_par``: size and first-pixel centre / post in degrees."""

    path: Path
    width: int
    nlines: int
    corner_lat: float
    corner_lon: float
    post_lat: float
    post_lon: float

    @property
    def grid(self) -> Grid:
        """EPSG:4326 grid (corner = first pixel centre, ``licsbas.licsbas_grid``)."""
        return licsbas_grid(
            self.corner_lat,
            self.corner_lon,
            self.post_lat,
            self.post_lon,
            (self.nlines, self.width),
        )


def read_dem_par(path: Path) -> DemPar:
    """Parse a GAMMA ``EQA.dem_par`` (lines ``key: value [unit]``) as LiCSBAS writes it."""
    values: dict[str, str] = {}
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as err:
        raise ProductError(f"{path}: cannot read ({err.strerror})") from err
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if sep and rest.split():
            values.setdefault(key.strip(), rest.split()[0])
    missing = [k for k in DEM_PAR_KEYS if k not in values]
    if missing:
        raise ProductError(f"{path}: not an EQA.dem_par (no {', '.join(missing)})")
    try:
        width, nlines = int(values["width"]), int(values["nlines"])
        floats = [float(values[k]) for k in DEM_PAR_KEYS[2:]]
    except ValueError as err:
        raise ProductError(f"{path}: EQA.dem_par value is not a number ({err})") from err
    if width < 1 or nlines < 1 or floats[2] >= 0 or floats[3] <= 0:
        raise ProductError(
            f"{path}: EQA.dem_par grid {width} x {nlines}, post_lat {floats[2]}, post_lon "
            f"{floats[3]} is not a north-up LiCSBAS grid (post_lat < 0 < post_lon)"
        )
    return DemPar(Path(path), width, nlines, *floats)


def dem_par_candidates(path: Path) -> list[Path]:
    """Where the ``EQA.dem_par`` of a raw raster lives: its folder (GEOCml*), ``../info``
    (a file of ``TS_*/results/``) or ``info/`` (a ``TS_*`` folder)."""
    folder = Path(path).parent
    return [folder / DEM_PAR, folder.parent / "info" / DEM_PAR, folder / "info" / DEM_PAR]


def find_dem_par(path: Path) -> Path | None:
    """The ``EQA.dem_par`` that georeferences a raw raster, or None."""
    return next((p for p in dem_par_candidates(path) if p.is_file()), None)


def is_ts_folder(path: Path) -> bool:
    """Whether ``path`` is a LiCSBAS time-series folder (``results/`` and ``info/``)."""
    path = Path(path)
    return path.is_dir() and (path / "results").is_dir() and (path / "info").is_dir()


def ts_folder_product(folder: Path) -> Path:
    """The velocity file a ``TS_*`` folder is read from (``VELOCITY_LAYERS`` order, else cum.h5)."""
    for name in VELOCITY_LAYERS:
        candidate = Path(folder) / "results" / name
        if candidate.is_file():
            log.info("%s: reading results/%s", folder, name)
            return candidate
    if (Path(folder) / "cum.h5").is_file():
        log.info("%s: reading cum.h5", folder)
        return Path(folder) / "cum.h5"
    raise ProductError(
        f"{folder}: LiCSBAS folder without a velocity (no results/{', results/'.join(VELOCITY_LAYERS)}"
        " or cum.h5); run LiCSBAS step 13 first"
    )


def read_raw_float32(path: Path, dem_par: DemPar) -> np.ndarray:
    """A headerless little-endian float32 raster on ``dem_par``'s grid (LiCSBAS_io_lib.read_img)."""
    check_not_lfs_pointer(path)
    check_declared_size(dem_par.nlines, dem_par.width, f"{dem_par.path}")
    expected = 4 * dem_par.width * dem_par.nlines
    size = Path(path).stat().st_size
    if size != expected:
        raise ProductError(
            f"{path}: {size:,} bytes, but {dem_par.path} declares {dem_par.width} x "
            f"{dem_par.nlines} float32 pixels ({expected:,} bytes); not a raster of this "
            "LiCSBAS grid (another multilook factor or a truncated copy?)"
        )
    values = np.fromfile(path, dtype="<f4").reshape(dem_par.nlines, dem_par.width)
    return values.astype(np.float32)


def ts_folder_of(path: Path) -> Path | None:
    """The ``TS_*`` folder holding a ``results/<name>`` raster (or a cum.h5), if any."""
    path = Path(path)
    for folder in (path.parent.parent, path.parent):
        if (folder / "info").is_dir():
            return folder
    return None


def stack_dates(ts_folder: Path | None, source: str) -> tuple[float, str, str] | None:
    """(period, start, end) from ``info/13used_image.txt``, else ``cum.h5`` ``imdates``."""
    if ts_folder is None:
        return None
    used = ts_folder / "info" / "13used_image.txt"
    if used.is_file():
        dates = [line.split()[0] for line in used.read_text().splitlines() if line.split()]
        if len(dates) < 2:
            raise ProductError(f"{used}: fewer than 2 epochs listed")
        return period_from_dates(min(dates), max(dates), str(used))
    cum = ts_folder / "cum.h5"
    if cum.is_file():
        with open_hdf5(cum) as file:
            if "imdates" in file:
                imdates = np.asarray(file["imdates"][()]).ravel()
                return period_from_dates(imdates.min(), imdates.max(), str(cum))
    log.info("%s: no info/13used_image.txt or cum.h5 beside it: no stack dates", source)
    return None


def raw_reference(ts_folder: Path | None, name: str, dem_par: DemPar) -> dict[str, Any] | None:
    """The reference area of a ``results/`` velocity layer (12ref.txt, or 16ref.txt for .filt)."""
    if ts_folder is None:
        return None
    ref_file = ts_folder / "info" / ("16ref.txt" if ".filt" in name else "12ref.txt")
    if not ref_file.is_file():
        return None
    text = ref_file.read_text().split()
    if not text:
        return None
    return parse_refarea(text[0], dem_par.grid, f"{ts_folder.name}/info/{ref_file.name}", ref_file)


def check_velocity_layer(path: Path) -> None:
    """Refuse LiCSBAS rasters that are not velocities (heights, coherence, noise indices, LOS)."""
    name = Path(path).name
    if name in OTHER_LAYERS or name in {f"{c}.geo" for c in LOS_COMPONENTS}:
        what = "a LOS component: give it with --los" if name.endswith(".geo") else "not a velocity"
        raise ProductError(
            f"{path}: LiCSBAS layer {name} is {what}; the velocities are results/"
            f"{', results/'.join(VELOCITY_LAYERS)}"
        )


def read_licsbas_raw(path: Path, options: ReadOptions | None = None) -> VelocityProduct:
    """A LiCSBAS ``results/<name>`` velocity (mm/yr by format) with its grid, period, reference."""
    options = options or ReadOptions()
    path = Path(path)
    check_velocity_layer(path)
    dem_par_path = find_dem_par(path)
    if dem_par_path is None:
        raise ProductError(
            f"{path}: a headerless raster without its EQA.dem_par (looked in "
            f"{', '.join(str(p.parent) for p in dem_par_candidates(path))}); keep the LiCSBAS "
            "folder layout (TS_GEOCml*/results/ beside TS_GEOCml*/info/)"
        )
    dem_par = read_dem_par(dem_par_path)
    values = read_raw_float32(path, dem_par)
    velocity = velocity_in_mm_yr(values, "mm/yr", options.units, str(path), options)
    ts_folder = ts_folder_of(path)
    dates = stack_dates(ts_folder, str(path))
    period, start, end = dates if dates else (None, None, None)
    return VelocityProduct(
        velocity,
        dem_par.grid,
        "licsbas-raw",
        str(path),
        None,
        period,
        start,
        end,
        "mm/yr",
        raw_reference(ts_folder, path.name, dem_par),
    )


def read_raw_component(path: Path) -> tuple[np.ndarray, Grid]:
    """One raw LOS component (``GEOCml*/E.geo``) and its grid from the folder's EQA.dem_par."""
    dem_par_path = find_dem_par(path)
    if dem_par_path is None:
        raise ProductError(f"{path}: raw LOS component without an EQA.dem_par beside it")
    dem_par = read_dem_par(dem_par_path)
    return read_raw_float32(path, dem_par), dem_par.grid


def los_search_folders(path: Path) -> list[Path]:
    """Folders where a LiCSBAS product's LOS files are looked for, nearest first.

    From the input upwards (at most to the frame folder holding ``TS_GEOCml*``): the input's
    folder, the ``TS_*`` folder, then the ``GEOC*`` folders beside it (the one named like the
    ``TS_`` folder first, e.g. ``GEOCml10`` for ``TS_GEOCml10``, then ``GEOC``).
    """
    path = Path(path)
    start = path if path.is_dir() else path.parent
    ts_folder = next((f for f in (start, start.parent) if f.name.startswith("TS_")), None)
    folders = [start]
    if ts_folder is not None:
        folders.append(ts_folder)
        parent = ts_folder.parent
        twin = parent / ts_folder.name.removeprefix("TS_")
        others = sorted(p for p in parent.glob("GEOC*") if p.is_dir() and p != twin)
        folders += [twin, *sorted(others, key=lambda p: (p.name != "GEOC", p.name))]
    seen, unique = set(), []
    for folder in folders:
        if folder.is_dir() and folder not in seen:
            seen.add(folder)
            unique.append(folder)
    return unique


def find_licsbas_los(path: Path) -> Path | None:
    """The E component of the LOS beside a LiCSBAS product (raw E.geo, E.geo.tif, or a LiCSAR
    ``*.geo.E.tif``), when all three components are there; None otherwise."""
    for folder in los_search_folders(path):
        for pattern in ("E.geo", "E.geo.tif", "*.geo.E.tif"):
            for east in sorted(folder.glob(pattern)):
                others = [
                    east.with_name(east.name.replace("E.geo", f"{c}.geo", 1))
                    if pattern != "*.geo.E.tif"
                    else east.with_name(east.name[: -len("E.tif")] + f"{c}.tif")
                    for c in LOS_COMPONENTS[1:]
                ]
                if all(p.is_file() for p in others):
                    return east
    return None
