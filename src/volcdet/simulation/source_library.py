"""A library of compound-dislocation-model surface fields, shared by every simulated LOS set.

The CDM costs ~0.25 s per 65,536-point patch, so the paper's 23,631 sources are computed once,
as east/north/up fields normalised to a peak |u| of 1 and centred in the patch, and each LOS set
draws from them with a fresh amplitude and one of the 8 symmetries of the square (rotations by
90 deg and mirror images). These map a valid source field onto the exact field of the rotated or
mirrored source, so no accuracy is lost (see ``dihedral_enu``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import RectBivariateSpline

from volcdet.core.random import Purpose, stream
from volcdet.data.stores import create_store, write_table
from volcdet.simulation.sources import SOURCE_KINDS, CdmSource, random_source

log = logging.getLogger(__name__)


def patch_coordinates_m(size_px: int, pixel_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """East and north (m) of pixel centres of a patch centred on (0, 0); row 0 is the north edge."""
    offsets = (np.arange(size_px) - (size_px - 1) / 2.0) * pixel_size_m
    east, north = np.meshgrid(offsets, -offsets)
    return east, north


def dihedral_enu(field_enu: np.ndarray, transform: int) -> np.ndarray:
    """Apply one of the 8 square symmetries to an ENU field (3, H, W) on a centred grid.

    transform = 4 m + k: mirror east-west if m, then rotate counterclockwise by k x 90 deg on the
    map. Positions and vector components transform together (u'(x) = R u(R^-1 x)), so the
    result is the exact surface field of the mirrored/rotated source.
    """
    east, north, up = field_enu
    if transform // 4:
        east, north, up = -east[:, ::-1], north[:, ::-1], up[:, ::-1]
    for _ in range(transform % 4):
        east, north, up = -np.rot90(north), np.rot90(east), np.rot90(up)
    return np.stack([east, north, up])


def source_field_enu(
    source: CdmSource, size_px: int, pixel_size_m: float, nu: float, step_px: int = 1
) -> np.ndarray:
    """ENU surface field (3, H, W) of a source on a centred patch.

    With ``step_px`` > 1 the CDM is evaluated on a coarse grid of ceil((H - 1) / step) + 1 points
    per side spanning the patch, and bicubic splines interpolate it to every pixel. Measured on
    36 sources of the library's distribution (depth 2-12 km, radius 0.5-5 km, 256 px at 200 m):
    step 4 has a largest error of 1.3e-3 of the field's peak (median 3e-5) for a 12x speed-up;
    step 2 gives 5e-5 for 3.7x (benchmarks/bench_simulation.py, BENCHMARKS.md).
    """
    east, north = patch_coordinates_m(size_px, pixel_size_m)
    if step_px <= 1:
        return np.stack(source.displacement(east, north, nu))
    n_coarse = -(-(size_px - 1) // step_px) + 1
    x, y = east[0], north[::-1, 0]  # increasing coordinates for the spline
    xc, yc = np.linspace(x[0], x[-1], n_coarse), np.linspace(y[0], y[-1], n_coarse)
    coarse = source.displacement(*np.meshgrid(xc, yc), nu)
    return np.stack([RectBivariateSpline(yc, xc, c, kx=3, ky=3)(y, x)[::-1] for c in coarse])


#: Coarse grid spacing allowed per metre of source depth: the step-4 (800 m) grid keeps the
#: spline error at 1.3e-3 of the peak down to 2 km depth (``source_field_enu``), so a step of
#: s px is used only where depth >= s x pixel size x DEPTH_PER_STEP.
DEPTH_PER_STEP = 2.5


def grid_step_for_depth(depth_m: float, pixel_size_m: float, step_px: int) -> int:
    """The coarse-grid step for a source: the configured one, smaller for shallow sources (whose
    narrow fields a coarse grid would miss), down to 1 (every pixel exact)."""
    fitting = int(depth_m // (pixel_size_m * DEPTH_PER_STEP))
    return max(1, min(step_px, fitting))


def source_order(n_draws: int, library_size: int, rng: np.random.Generator) -> np.ndarray:
    """Library indices for ``n_draws`` samples: successive random permutations of the library,
    so each source is used once before any is used twice (floor or ceil of n / N times each)."""
    if library_size < 1:
        raise ValueError("the source library is empty")
    repeats = -(-n_draws // library_size)
    order = [rng.permutation(library_size) for _ in range(repeats)]
    return np.concatenate(order)[:n_draws] if order else np.zeros(0, int)


def build_source_library(
    n_sources: int,
    first_index: int,
    seed: int,
    size_px: int,
    pixel_size_m: float,
    nu: float,
    depth_range_m: tuple[float, float],
    array_path: Path,
    table_path: Path,
    step_px: int = 1,
    radius_range_m: tuple[float, float] = (500.0, 5_000.0),
) -> pd.DataFrame:
    """Compute sources first_index .. first_index + n_sources - 1 (kinds in turn), write a store.

    Source i draws from the stream (seed, i), so chunks computed by separate jobs give the same
    library as one job. The array is float16 (n, 3, H, W), each field scaled to peak |u| = 1;
    ``step_px`` > 1 evaluates the CDM on a coarse grid (see ``source_field_enu``), finer for
    shallow sources (``grid_step_for_depth``). Source radii are drawn in ``radius_range_m``.
    """
    rows = []
    with create_store(array_path, n_sources, (3, size_px, size_px)) as out:
        for k in range(n_sources):
            index = first_index + k
            rng = stream(seed, Purpose.SOURCE_LIBRARY, index)
            kind = SOURCE_KINDS[index % len(SOURCE_KINDS)]
            source = random_source(
                rng, kind, depth_range_m=depth_range_m, radius_range_m=radius_range_m
            )
            step = grid_step_for_depth(source.depth_m, pixel_size_m, step_px)
            field = source_field_enu(source, size_px, pixel_size_m, nu, step)
            peak = float(np.abs(field).max())
            out[k] = field / peak
            rows.append(
                {"source_index": index, **source.as_record(), "peak_displacement_per_opening": peak}
            )
            if (k + 1) % 50 == 0:
                log.info("%d / %d sources", k + 1, n_sources)
    table = pd.DataFrame(rows)
    write_table(table_path, table, {"kind": "source_library", "units": "normalised ENU", "nu": nu})
    return table


class SourceLibrary:
    """Read-only view over the library's chunk files: ``library[i]`` is source i's ENU field."""

    def __init__(self, array_paths: list[Path], table_paths: list[Path] | None = None) -> None:
        self.arrays = [np.load(path, mmap_mode="r") for path in array_paths]
        self.offsets = np.cumsum([0] + [len(a) for a in self.arrays])
        self.table = (
            pd.concat([pd.read_parquet(path) for path in table_paths], ignore_index=True)
            if table_paths
            else None
        )
        if self.table is not None and len(self.table) != len(self):
            raise ValueError(
                f"source library tables list {len(self.table)} sources, arrays hold {len(self)}"
            )

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int) -> np.ndarray:
        chunk = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return np.asarray(self.arrays[chunk][index - self.offsets[chunk]], np.float32)
