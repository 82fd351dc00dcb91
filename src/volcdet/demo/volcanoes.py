"""The demo's volcano catalogue: deforming volcanoes on a frame-spaced lattice, quiet ones too.

Volcanoes sit on a jittered lattice whose spacing keeps every other deforming volcano and its
footprint out of each one's frame: spacing = frame_size / 2 + largest footprint +
2 x jitter (+ 2 px). A sixth of the nodes hold quiet volcanoes, whose frames are thus free of
deformation. Each carries one shape of ``volcdet.demo.shapes`` with a depth, a peak rate
(most below one fringe over the stack) and a sense (uplift or subsidence). The footprint written
to the catalogue is measured on the field itself: the largest distance from the catalogued
summit at which |u| reaches 20% of its peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from volcdet.demo.shapes import shape_enu
from volcdet.demo.spec import DemoRegionSpec, Stream

#: Largest footprint radius any demo source may have (m); the lattice spacing is built on it.
MAX_FOOTPRINT_M = 24_000.0
#: Share of the peak |u| that bounds a footprint.
FOOTPRINT_LEVEL = 0.2
#: Share of the lattice nodes whose volcano is quiet (rounded, at least one).
QUIET_NODE_SHARE = 1 / 6
#: Random shift of each deforming volcano from its lattice node (px, each axis).
JITTER_PX = 12
#: Half-side of the window on which a source is evaluated (m); a cosine taper over its outer
#: quarter brings the (by then < 1% of peak) far field smoothly to zero.
SOURCE_WINDOW_M = 60_000.0
#: Shapes in the order they are handed out: small footprints first, so a small region still
#: holds patch-sized signals.
SHAPE_ORDER = (
    "geothermal_subsidence",
    "off_centre",
    "twin_sources",
    "sombrero",
    "elongated_sill",
)
#: Source depth range per shape (m): geothermal reservoirs 1-2.5 km; Mogi-type 3-6 km; the
#: Lazufre-like sill 7-10 km (Henderson et al. 2017: ~10 km).
DEPTH_RANGE_M = {
    "geothermal_subsidence": (1_000.0, 2_500.0),
    "off_centre": (3_000.0, 6_000.0),
    "twin_sources": (3_000.0, 5_000.0),
    "sombrero": (4_000.0, 5_500.0),
    "elongated_sill": (7_000.0, 10_000.0),
}


@dataclass(frozen=True)
class Source:
    """A deforming volcano's signal: shape, source depth, peak rate of |u| (mm/yr), sense."""

    shape: str
    depth_m: float
    peak_rate_mm_yr: float
    sense: int  # +1 uplift, -1 subsidence

    @property
    def sense_name(self) -> str:
        return "uplift" if self.sense > 0 else "subsidence"


@dataclass(frozen=True)
class Volcano:
    """A catalogued volcano: fractional pixel position, cone and (for deforming ones) source."""

    name: str
    row: float
    col: float
    cone_height_m: float
    cone_radius_km: float
    source: Source | None = None

    @property
    def deforming(self) -> bool:
        return self.source is not None


@dataclass(frozen=True)
class Lattice:
    """Nodes of the deforming volcanoes (fractional row and column positions) and their spacing."""

    rows: tuple[float, ...]
    cols: tuple[float, ...]
    spacing_px: int

    @property
    def corners(self) -> list[tuple[float, float]]:
        """Interior corners between four nodes: the quiet volcanoes' sites inside the ROI."""
        return [
            (0.5 * (r0 + r1), 0.5 * (c0 + c1))
            for r0, r1 in zip(self.rows, self.rows[1:], strict=False)
            for c0, c1 in zip(self.cols, self.cols[1:], strict=False)
        ]


def frame_lattice(spec: DemoRegionSpec) -> Lattice:
    """The largest lattice, centred on the grid, whose frames fit in a track's width and height."""
    half = spec.frame_size_px // 2
    spacing = half + math.ceil(MAX_FOOTPRINT_M / spec.pixel_size_m) + 2 * JITTER_PX + 2
    edge = half + JITTER_PX + 1
    n_rows = max(1, (spec.rows - 2 * edge) // spacing + 1)
    n_cols = max(1, (spec.track_width_px - 2 * edge) // spacing + 1)

    def axis(n: int, size: int) -> tuple[float, ...]:
        return tuple(size / 2 + (i - (n - 1) / 2) * spacing for i in range(n))

    return Lattice(axis(n_rows, spec.rows), axis(n_cols, spec.cols), spacing)


def roi_bounds_px(spec: DemoRegionSpec, lattice: Lattice) -> tuple[int, int, int, int]:
    """ROI (row0, row1, col0, col1): the lattice's columns +- a quarter spacing, 64 px from N and S."""
    margin = lattice.spacing_px // 4
    return (
        64,
        spec.rows - 64,
        max(0, round(min(lattice.cols)) - margin),
        min(spec.cols, round(max(lattice.cols)) + margin),
    )


def peak_rates_mm_yr(n: int) -> list[float]:
    """n peak rates from 2 to 15 mm/yr, two thirds below one fringe over ~5 yr (5.5 mm/yr).

    Physics notes section 6: CVZ rates are 2-50 mm/yr, most under 20; Lazufre ~5 mm/yr, the
    follow-up paper's detection limit ~2 mm/yr. The slow ones are evenly spaced in 2-5.5 mm/yr,
    the fast ones in 7-15 mm/yr.
    """
    n_fast = n // 3
    slow = np.linspace(2.0, 5.5, n - n_fast) if n - n_fast > 1 else np.array([2.0])
    fast = np.linspace(7.0, 15.0, n_fast) if n_fast > 1 else np.full(n_fast, 15.0)
    return [round(float(r), 2) for r in np.concatenate([slow, fast])]


def deforming_sources(spec: DemoRegionSpec, n: int) -> list[Source]:
    """n sources: shapes in ``SHAPE_ORDER`` (cycled), shuffled rates, depths drawn per shape.

    Geothermal fields subside; every second off-centre source deflates (as Cerro Blanco did,
    Henderson & Pritchard 2013); the others inflate.
    """
    rng = spec.stream(Stream.SOURCES, 0)  # key 0: the layout's draws; volcano i uses 1 + i
    rates = rng.permutation(peak_rates_mm_yr(n))
    sources = []
    off_centre_seen = 0
    for i in range(n):
        shape = SHAPE_ORDER[i % len(SHAPE_ORDER)]
        depth = float(rng.uniform(*DEPTH_RANGE_M[shape]))
        sense = 1
        if shape == "geothermal_subsidence":
            sense = -1
        elif shape == "off_centre":
            sense = -1 if off_centre_seen % 2 else 1
            off_centre_seen += 1
        sources.append(Source(shape, round(depth, -1), float(rates[i]), sense))
    return sources


def _cone(rng: np.random.Generator) -> tuple[float, float]:
    """Stratovolcano edifice: height 700-2000 m, basal radius 4-9 km."""
    return float(rng.uniform(700.0, 2000.0)), float(rng.uniform(4.0, 9.0))


def lattice_volcanoes(spec: DemoRegionSpec, lattice: Lattice) -> list[Volcano]:
    """A volcano on every lattice node (jittered): deforming ones, plus a sixth left quiet.

    The quiet nodes (at least one when there are two nodes or more) are as far from the
    deforming volcanoes as the spacing rule puts any two, so their frames hold no deforming
    footprint: the clean negatives of the test set. Sources are handed out in random node order.
    """
    rng = spec.stream(Stream.VOLCANOES)
    nodes = [(r, c) for r in lattice.rows for c in lattice.cols]
    n_quiet = max(1, round(len(nodes) * QUIET_NODE_SHARE)) if len(nodes) > 1 else 0
    sources = deforming_sources(spec, len(nodes) - n_quiet)
    order = rng.permutation(len(nodes))
    volcanoes = []
    for i, node in enumerate(order):
        row, col = nodes[node]
        height, radius = _cone(rng)
        volcanoes.append(
            Volcano(
                name=f"Cerro Demo {i + 1:02d}",
                row=float(row + rng.uniform(-JITTER_PX, JITTER_PX)),
                col=float(col + rng.uniform(-JITTER_PX, JITTER_PX)),
                cone_height_m=height,
                cone_radius_km=radius,
                source=sources[i] if i < len(sources) else None,
            )
        )
    return sorted(volcanoes, key=lambda v: (round(v.row), v.col))


def quiet_volcano(
    spec: DemoRegionSpec, name: str, row: float, col: float, rng: np.random.Generator
) -> Volcano:
    """A catalogued volcano without deformation (its cone still shapes the DEM)."""
    height, radius = _cone(rng)
    return Volcano(name, row, col, height, radius)


def _taper(
    window_shape: tuple[int, int], centre: tuple[float, float], half_px: float
) -> np.ndarray:
    """1 inside 3/4 of the window half-side (Chebyshev distance), cosine down to 0 at its edge."""
    rr = np.arange(window_shape[0])[:, None] - centre[0]
    cc = np.arange(window_shape[1])[None, :] - centre[1]
    distance = np.maximum(np.abs(rr), np.abs(cc)) / half_px
    ramp = np.clip((distance - 0.75) / 0.25, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * ramp))


@dataclass(frozen=True)
class SourceField:
    """A source's ENU rate field (mm/yr) on a window of the master grid, and its footprint."""

    rows: slice
    cols: slice
    enu_mm_yr: np.ndarray
    footprint_km: float


def source_field(spec: DemoRegionSpec, index: int, volcano: Volcano) -> SourceField:
    """Evaluate a deforming volcano's shape around its summit; footprint from |u| >= 20% of peak."""
    if volcano.source is None:
        raise ValueError(f"{volcano.name} has no deformation source")
    half = round(SOURCE_WINDOW_M / spec.pixel_size_m)
    r0, c0 = max(0, round(volcano.row) - half), max(0, round(volcano.col) - half)
    r1, c1 = (
        min(spec.rows, round(volcano.row) + half + 1),
        min(spec.cols, round(volcano.col) + half + 1),
    )
    east = (np.arange(c0, c1) - volcano.col) * spec.pixel_size_m
    north = -(np.arange(r0, r1) - volcano.row) * spec.pixel_size_m
    east_m, north_m = np.meshgrid(east, north)
    source = volcano.source
    unit = shape_enu(
        source.shape, east_m, north_m, source.depth_m, spec.stream(Stream.SOURCES, 1 + index)
    )
    magnitude = np.sqrt((unit**2).sum(axis=0))
    strong = magnitude >= FOOTPRINT_LEVEL
    footprint_km = float(np.hypot(east_m[strong], north_m[strong]).max() / 1000.0)
    taper = _taper(east_m.shape, (volcano.row - r0, volcano.col - c0), half)
    # shapes come normalised (max |u| = 1) with their own sense, read at the peak of |u|
    peak = np.unravel_index(magnitude.argmax(), magnitude.shape)
    sign = source.sense * (1.0 if unit[2][peak] >= 0 else -1.0)
    enu = (sign * source.peak_rate_mm_yr * taper) * unit
    return SourceField(slice(r0, r1), slice(c0, c1), enu.astype(np.float32), footprint_km)


def frame_conflicts(
    volcanoes: list[Volcano],
    footprints_km: dict[str, float],
    frame_size_px: int,
    pixel_size_m: float,
) -> list[str]:
    """Pairs of deforming volcanoes where one (or its footprint) reaches into the other's frame.

    Frames as in ``volcdet.data.frames``: the ``frame_size_px`` window whose upper-left pixel is
    floor(centre) - size/2, centre = fractional pixel coordinate of the catalogued position.
    """
    half = frame_size_px // 2
    deforming = [v for v in volcanoes if v.deforming]
    bad = []
    for a in deforming:
        top, left = math.floor(a.row + 0.5) - half, math.floor(a.col + 0.5) - half
        for b in deforming:
            if a is b:
                continue
            r, c = b.row + 0.5, b.col + 0.5
            dr = max(top - r, 0.0, r - (top + frame_size_px))
            dc = max(left - c, 0.0, c - (left + frame_size_px))
            if np.hypot(dr, dc) * pixel_size_m <= footprints_km[b.name] * 1000.0:
                bad.append(
                    f"{b.name} (footprint {footprints_km[b.name]:.1f} km) in the frame of {a.name}"
                )
    return bad
