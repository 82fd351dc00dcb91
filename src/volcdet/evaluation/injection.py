"""Deformation injected into held-out real background tiles: the sensitivity test set.

A source field (ENU, peak |u| = 1) is projected on the tile's own track LOS, scaled so that its
peak |LOS velocity| equals the chosen rate and multiplied by the tile's stack period (velocity
x period = cumulative LOS displacement, DESIGN.md), then added to the tile. Source families
plug in behind one interface (``SourceFamily``): the simulator's CDM library, and the demo
region's independent shapes (``volcdet.demo.shapes``), which share no code with the simulator.

Design: for each (family, depth bin) ``samples_per_cell`` (tile, source) pairs are drawn once
and injected at every rate (common random numbers: the detection curve over rates is not
blurred by new draws at each rate); every held-out tile also enters once untouched (rate 0),
which gives each pair's false-alarm baseline.

Clips (not in the paper): for each side of ``clip_sides_km`` the pairs whose deformation
footprint (the largest distance from the centre at which |LOS| reaches 20% of its peak, the
demo catalogue's rule) fits in a centred square of that side enter again with everything outside
the square missing, at every rate, and so do the untouched tiles: a map clipped around a
volcano, as the scan places a map smaller than a window (``window`` column: ``full`` or
``clip <side> km``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from volcdet.core.errors import VolcdetError
from volcdet.core.random import Purpose, stream
from volcdet.data.background import sensitivity_holdout
from volcdet.data.stores import create_store, open_store, write_table
from volcdet.demo.shapes import SHAPE_NAMES, shape_enu
from volcdet.simulation.source_library import SourceLibrary, dihedral_enu, patch_coordinates_m

log = logging.getLogger(__name__)


class SourceFamily(Protocol):
    """A family of deformation shapes: draws one ENU field (3, H, W), peak |u| = 1."""

    name: str

    def check_depth_bins(self, depth_bins_km: tuple[float, ...]) -> None:
        """Raise a one-line error when a depth bin cannot be drawn from."""

    def draw(
        self, rng: np.random.Generator, depth_km: tuple[float, float]
    ) -> tuple[np.ndarray, dict]:
        """One field with its centroid depth in [low, high) km, and a record describing it."""


class LibrarySources:
    """The simulator's CDM source library, under a random square symmetry (``dihedral_enu``)."""

    name = "library"

    def __init__(self, library: SourceLibrary, size_px: int) -> None:
        if library.table is None:
            raise ValueError("the sensitivity test needs the source library's tables (depths)")
        if len(library) and library[0].shape[-1] != size_px:
            raise VolcdetError(
                f"source library fields are {library[0].shape[-1]} px, the background tiles {size_px} px"
            )
        self.library = library
        self.depth_km = library.table.depth_m.to_numpy() / 1000.0
        self.kinds = library.table.kind.to_numpy()

    def _in_bin(self, depth_km: tuple[float, float]) -> np.ndarray:
        low, high = depth_km
        return np.flatnonzero((self.depth_km >= low) & (self.depth_km <= high))

    def check_depth_bins(self, depth_bins_km: tuple[float, ...]) -> None:
        for low, high in itertools.pairwise(depth_bins_km):
            if not len(self._in_bin((low, high))):
                raise VolcdetError(
                    f"sensitivity.depth_bins_km: no library source with a depth in [{low}, {high}] km "
                    f"(the library's depths span {self.depth_km.min():.1f}-{self.depth_km.max():.1f} km)"
                )

    def draw(
        self, rng: np.random.Generator, depth_km: tuple[float, float]
    ) -> tuple[np.ndarray, dict]:
        index = int(rng.choice(self._in_bin(depth_km)))
        symmetry = int(rng.integers(8))
        field = dihedral_enu(self.library[index], symmetry)
        return field, {
            "source": f"library#{index}:{self.kinds[index]}:sym{symmetry}",
            "depth_km": float(self.depth_km[index]),
        }


class DemoShapes:
    """The demo region's own shapes (``volcdet.demo.shapes``: sombrero, elongated sill, twin
    sources, off-centre source, geothermal subsidence), code that shares nothing with the
    simulator; a shape is drawn at random, its depth uniformly in the bin, its parameters by
    ``shape_enu``'s generator, centred in the tile."""

    name = "demo_shapes"

    def __init__(self, size_px: int, pixel_size_m: float) -> None:
        self.east_m, self.north_m = patch_coordinates_m(size_px, pixel_size_m)

    def check_depth_bins(self, depth_bins_km: tuple[float, ...]) -> None:
        """Every positive depth can be drawn."""

    def draw(
        self, rng: np.random.Generator, depth_km: tuple[float, float]
    ) -> tuple[np.ndarray, dict]:
        shape = SHAPE_NAMES[int(rng.integers(len(SHAPE_NAMES)))]
        depth = float(rng.uniform(*depth_km))
        field = shape_enu(shape, self.east_m, self.north_m, depth * 1000.0, rng)
        return field, {"source": f"demo:{shape}", "depth_km": depth}


FAMILIES = ("library", "demo_shapes")


def source_families(
    names: list[str], library: SourceLibrary, size_px: int, pixel_size_m: float
) -> list[SourceFamily]:
    """The configured source families (``sensitivity.families``), in order."""
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise VolcdetError(f"sensitivity.families: unknown {unknown} (known: {list(FAMILIES)})")
    makers: dict[str, Callable[[], SourceFamily]] = {
        "library": lambda: LibrarySources(library, size_px),
        "demo_shapes": lambda: DemoShapes(size_px, pixel_size_m),
    }
    return [makers[name]() for name in names]


@dataclass(frozen=True)
class SensitivitySpec:
    """Rates (mm/yr, peak |LOS velocity|), depth bin edges (km), pairs per (family, bin), seed,
    sides (km) of the centred clips and the pixel size (m)."""

    rates_mm_yr: tuple[float, ...]
    depth_bins_km: tuple[float, ...]
    samples_per_cell: int
    holdout_fraction: float
    seed: int
    clip_sides_km: tuple[float, ...] = ()
    pixel_size_m: float = field(kw_only=True)


#: Share of the peak |LOS| that bounds a footprint (the demo catalogue's rule).
FOOTPRINT_LEVEL = 0.2
FULL_WINDOW = "full"


def clip_label(side_km: float) -> str:
    """The ``window`` label of a centred clip."""
    return f"clip {side_km:g} km"


def footprint_radius_km(los_field: np.ndarray, pixel_size_m: float) -> float:
    """Largest distance (km) from the patch centre of a pixel where |LOS| >= 20% of its peak."""
    magnitude = np.abs(los_field)
    rows, cols = np.nonzero(magnitude >= FOOTPRINT_LEVEL * magnitude.max())
    centre_r, centre_c = (np.array(los_field.shape) - 1) / 2.0
    distance = np.hypot(rows - centre_r, cols - centre_c) * pixel_size_m / 1000.0
    return float(distance.max()) if len(distance) else 0.0


def centred_clip_mask(size_px: int, pixel_size_m: float, side_km: float) -> np.ndarray:
    """True outside a centred square of ``side_km`` (what a clipped map leaves missing)."""
    side = min(size_px, max(1, int(side_km * 1000.0 / pixel_size_m + 0.5)))
    start = (size_px - side) // 2
    mask = np.ones((size_px, size_px), bool)
    mask[start : start + side, start : start + side] = False
    return mask


def los_projection(field_enu: np.ndarray, los_enu: np.ndarray) -> np.ndarray:
    """LOS displacement of an ENU field: the dot product with the ground-to-satellite unit vector."""
    return np.tensordot(np.asarray(los_enu, np.float64), np.asarray(field_enu, np.float64), axes=1)


def inject(
    tile_mm: np.ndarray,
    los_field: np.ndarray,
    rate_mm_yr: float,
    period_yr: float,
) -> np.ndarray:
    """The tile plus the LOS field scaled to peak |velocity| = rate, times the stack period (mm)."""
    peak = float(np.abs(los_field).max())
    return np.asarray(tile_mm, np.float64) + los_field * (rate_mm_yr * period_yr / peak)


def depth_bin_label(low: float, high: float) -> str:
    """A depth bin as text, e.g. '2-4.5 km'."""
    return f"{low:g}-{high:g} km"


def draw_pairs(
    held_out: pd.DataFrame,
    families: list[SourceFamily],
    los_by_track: dict[str, np.ndarray],
    spec: SensitivitySpec,
) -> list[tuple[dict, np.ndarray]]:
    """(record, LOS field) of every (tile, source) pair, seeded per (family, bin): (seed, 1402, f, b)."""
    pairs: list[tuple[dict, np.ndarray]] = []
    bins = list(zip(spec.depth_bins_km[:-1], spec.depth_bins_km[1:], strict=True))
    for f, family in enumerate(families):
        for b, (low, high) in enumerate(bins):
            rng = stream(spec.seed, Purpose.INJECTION, f, b)
            for _ in range(spec.samples_per_cell):
                tile = held_out.iloc[int(rng.integers(len(held_out)))]
                field, info = family.draw(rng, (low, high))
                los_field = los_projection(field, los_by_track[tile.track_id])
                record = {
                    "pair": len(pairs),
                    "family": family.name,
                    "depth_bin": depth_bin_label(low, high),
                    "tile": tile.patch_id,
                    "track_id": tile.track_id,
                    "period_yr": float(tile.period_yr),
                    "footprint_radius_km": footprint_radius_km(los_field, spec.pixel_size_m),
                    **info,
                }
                pairs.append((record, los_field))
    return pairs


def _control_row(tile: str, track_id: str, period_yr: float, window: str) -> dict:
    """The row of a held-out tile entered untouched (rate 0) under a window."""
    return {
        "family": "none",
        "depth_bin": "none",
        "rate_mm_yr": 0.0,
        "tile": tile,
        "pair": -1,
        "track_id": track_id,
        "period_yr": float(period_yr),
        "footprint_radius_km": float("nan"),
        "source": "",
        "depth_km": float("nan"),
        "window": window,
    }


def build_sensitivity_set(
    background_store: tuple[Path, Path],
    los_table: pd.DataFrame,
    families: list[SourceFamily],
    spec: SensitivitySpec,
    array_path: Path,
    table_path: Path,
) -> pd.DataFrame:
    """Write the sensitivity store: held-out tiles untouched (rate 0) and every pair at every rate."""
    array, table = open_store(*background_store)
    size_px = array.shape[-1]
    bins = spec.depth_bins_km
    if len(bins) < 2 or any(b <= a for a, b in itertools.pairwise(bins)):
        raise VolcdetError(f"sensitivity.depth_bins_km = {list(bins)}: need increasing edges")
    for family in families:
        family.check_depth_bins(bins)
    los_by_track = {
        row["track_id"]: np.array([row["los_east"], row["los_north"], row["los_up"]])
        for row in los_table.to_dict("records")
    }
    held = np.flatnonzero(sensitivity_holdout(table, spec.holdout_fraction, spec.seed, size_px))
    held_out = table.iloc[held].assign(store_index=held).reset_index(drop=True)
    missing = sorted(set(held_out.track_id) - set(los_by_track))
    if missing:
        raise VolcdetError(f"los_sets.csv: no LOS vector for track(s) {missing}")
    pairs = draw_pairs(held_out, families, los_by_track, spec)
    index_of = dict(zip(held_out.patch_id, held_out.store_index, strict=True))
    windows = [(FULL_WINDOW, None, np.inf)] + [
        (clip_label(side), centred_clip_mask(size_px, spec.pixel_size_m, side), side / 2.0)
        for side in spec.clip_sides_km
    ]
    rows: list[dict] = []
    planned: list[tuple[int, np.ndarray | None, float, float, np.ndarray | None]] = []
    for window, mask, max_radius in windows:
        for t, k, p in held_out[["patch_id", "track_id", "period_yr"]].itertuples(index=False):
            rows.append(_control_row(t, k, p, window))
            planned.append((index_of[t], None, 0.0, 0.0, mask))
        for record, los_field in pairs:
            if record["footprint_radius_km"] > max_radius:
                continue
            for rate in spec.rates_mm_yr:
                rows.append({**record, "rate_mm_yr": float(rate), "window": window})
                planned.append(
                    (index_of[record["tile"]], los_field, rate, record["period_yr"], mask)
                )
    with create_store(array_path, len(rows), (size_px, size_px)) as out:
        for i, (tile, injected, rate, period, mask) in enumerate(planned):
            patch = np.asarray(array[tile], np.float32)
            if injected is not None:
                patch = inject(patch, injected, rate, period)
            if mask is not None:
                patch = np.where(mask, np.nan, patch)
            out[i] = patch
    result = pd.DataFrame(rows).assign(label=lambda t: (t.rate_mm_yr > 0).astype(int))
    write_table(
        table_path,
        result,
        {
            "kind": "sensitivity_set",
            "units": "mm",
            "rate": "peak |LOS velocity| of the injected field",
        },
    )
    log.info(
        "%d held-out tiles, %d (tile, source) pairs x %d rates = %d patches",
        len(held_out),
        len(pairs),
        len(spec.rates_mm_yr),
        len(rows),
    )
    return result
