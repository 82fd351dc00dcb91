"""LOS given one component per file: give any file of the set, the others are found beside it.

Sets (ground-to-satellite unit vector, east / north / up):

- LiCSAR frame metadata ``<frame>.geo.E.tif``, ``.N.tif``, ``.U.tif`` (EPSG:4326, 0 = no data);
- LiCSBAS ``GEOCml*/E.geo``, ``N.geo``, ``U.geo``: headerless float32 on the folder's
  ``EQA.dem_par`` grid, NaN = no data (LiCSBAS02_ml_prep.py);
- the same after ``LiCSBAS_flt2geotiff.py``: ``E.geo.tif``, ``N.geo.tif``, ``U.geo.tif``
  (the script names its output ``infile.replace('.geo', '') + '.geo.tif'``);
- OPERA DISP-S1 static layers: ``los_east`` / ``los_north`` (up from the two, ``opera``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from volcdet.core.errors import ProductError
from volcdet.data.products.base import los_from_components
from volcdet.data.products.geotiff import read_bands
from volcdet.data.products.licsbas_raw import read_raw_component
from volcdet.data.products.opera import read_static_los, static_los_kind
from volcdet.data.rasters import Grid

COMPONENTS = ("E", "N", "U")


def component_paths(path: Path) -> tuple[Path, Path, Path] | None:
    """The E, N and U files of the set ``path`` belongs to, or None if it is not a component."""
    path = Path(path)
    name = path.name
    for letter in COMPONENTS:
        if name.endswith(f".{letter}.tif") and not name.startswith(f"{letter}."):  # LiCSAR
            stem = name[: -len(f"{letter}.tif")]
            return tuple(path.with_name(f"{stem}{c}.tif") for c in COMPONENTS)  # type: ignore[return-value]
        for suffix in (".geo", ".geo.tif"):  # LiCSBAS raw / flt2geotiff
            if name == f"{letter}{suffix}":
                return tuple(path.with_name(f"{c}{suffix}") for c in COMPONENTS)  # type: ignore[return-value]
    return None


def los_component_kind(path: Path) -> str | None:
    """'LiCSAR', 'LiCSBAS' or 'OPERA static-layer' when ``path`` is a per-component LOS file."""
    if static_los_kind(path) is not None:
        return "OPERA static-layer"
    paths = component_paths(path)
    if paths is None:
        return None
    licsbas_names = {f"{c}{suffix}" for c in COMPONENTS for suffix in (".geo", ".geo.tif")}
    return "LiCSBAS" if Path(path).name in licsbas_names else "LiCSAR"


def is_los_component(path: Path) -> bool:
    """Whether ``path`` names one file of a per-component LOS set (or an OPERA static layer)."""
    return component_paths(path) is not None or static_los_kind(path) is not None


def _read_component(path: Path) -> tuple[np.ndarray, Grid]:
    """One component (H, W) and its grid: raw LiCSBAS float32 or a single-band GeoTIFF."""
    if not path.is_file():
        raise ProductError(f"{path}: file not found (a component of the LOS set)")
    if path.suffix.lower() in (".tif", ".tiff"):
        bands, grid, _ = read_bands(path, expected_bands=1)
        return bands[0], grid
    return read_raw_component(path)


def read_component_los(path: Path) -> tuple[np.ndarray, Grid]:
    """LOS unit vectors (3, H, W) and grid from any file of a per-component set."""
    path = Path(path)
    if static_los_kind(path) is not None:
        return read_static_los(path)
    paths = component_paths(path)
    if paths is None:
        raise ProductError(f"{path}: not a LOS component file (E/N/U)")
    components, grids = [], []
    for component_path in paths:
        values, grid = _read_component(component_path)
        components.append(values)
        grids.append(grid)
    for other, component_path in zip(grids[1:], paths[1:], strict=True):
        if (
            other.crs != grids[0].crs
            or other.shape != grids[0].shape
            or not (other.transform.almost_equals(grids[0].transform))
        ):
            raise ProductError(f"{component_path}: not on the grid of {paths[0].name}")
    east, north, up = components
    return los_from_components(east, north, up, str(paths[0])), grids[0]
