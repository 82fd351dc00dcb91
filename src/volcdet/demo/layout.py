"""Where everything sits: deforming volcanoes on the frame lattice, quiet volcanoes, confounders.

Inside the ROI: the deforming lattice, a quiet volcano at each interior lattice corner and, at the
first four corners, a landslide on that volcano's flank, an aquifer basin, a creeping fault and a
small salt lake beside it (so test frames see them). Outside the ROI (background tiles): large
salt lakes, aquifer basins and a fault in the west and east strips, quiet volcanoes, and
landslides on two of them. Every item keeps clear of the deforming footprints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from volcdet.demo.confounders import (
    Confounder,
    draw_aquifer,
    draw_fault,
    draw_landslide,
    draw_salt_lake,
)
from volcdet.demo.placement import Box, Placer
from volcdet.demo.spec import DemoRegionSpec, Stream
from volcdet.demo.volcanoes import (
    Lattice,
    Volcano,
    deforming_volcanoes,
    frame_conflicts,
    frame_lattice,
    quiet_volcano,
    roi_bounds_px,
    source_field,
)

log = logging.getLogger(__name__)

#: Confounders placed beside the quiet volcanoes of the first interior corners of the lattice.
ROI_CONFOUNDERS = ("landslide", "aquifer_subsidence", "fault_creep", "salt_lake")
#: Outside the ROI, per strip: (kind, radius in km before scaling to the strip's width).
OUTSIDE_CONFOUNDERS = {
    "west": (("salt_lake", 22.0), ("aquifer_subsidence", 13.0), ("salt_lake", 10.0)),
    "east": (
        ("salt_lake", 13.0),
        ("fault_creep", 25.0),
        ("aquifer_subsidence", 8.0),
        ("salt_lake", 7.0),
    ),
}
#: Clearance (km) between a confounder or quiet volcano and a deforming footprint.
CLEARANCE_KM = 3.0


@dataclass(frozen=True)
class Layout:
    """The placed catalogue, the deforming volcanoes' summed ENU rates and their footprints."""

    lattice: Lattice
    roi_px: tuple[int, int, int, int]
    volcanoes: list[Volcano]
    confounders: list[Confounder]
    volcanic_enu_mm_yr: np.ndarray
    footprints_km: dict[str, float]


def _draw_confounder(
    kind: str, rng: np.random.Generator, radius_km: float
) -> tuple[float, float, dict[str, float]]:
    """(radius, rate, params) of a confounder of the given kind and nominal size."""
    if kind == "fault_creep":
        rate, params = draw_fault(rng, radius_km)
    elif kind == "landslide":
        rate, params = draw_landslide(rng)
        radius_km = params["length_km"] / 2.0
    elif kind == "aquifer_subsidence":
        rate, params = draw_aquifer(rng)
    else:
        rate, params = draw_salt_lake(rng)
    return radius_km, rate, params


def build_layout(spec: DemoRegionSpec) -> Layout:
    """Place every volcano and confounder; evaluate the deforming sources and check the spacing."""
    lattice = frame_lattice(spec)
    roi = roi_bounds_px(spec, lattice)
    km = 1000.0 / spec.pixel_size_m  # px per km
    volcanoes = deforming_volcanoes(spec, lattice)
    volcanic = np.zeros((3, *spec.shape), np.float32)
    footprints: dict[str, float] = {}
    for index, volcano in enumerate(volcanoes):
        part = source_field(spec, index, volcano)
        volcanic[:, part.rows, part.cols] += part.enu_mm_yr
        footprints[volcano.name] = part.footprint_km
    conflicts = frame_conflicts(volcanoes, footprints, spec.frame_size_px, spec.pixel_size_m)
    if conflicts:
        raise RuntimeError("demo layout breaks the frame spacing rule: " + "; ".join(conflicts))

    placer = Placer()
    for v in volcanoes:
        placer.reserve(v.row, v.col, footprints[v.name] * km)
    rng = spec.stream(Stream.CONFOUNDERS)
    confounders: list[Confounder] = []
    quiet: list[Volcano] = []
    gap = CLEARANCE_KM * km

    def add(kind: str, box: Box, radius_km: float, in_roi: bool) -> Confounder | None:
        radius_km, rate, params = _draw_confounder(kind, rng, radius_km)
        spot = placer.place(rng, box, radius_km * km, gap)
        if spot is None:
            log.warning("no room for a %s of %.1f km in %s; skipped", kind, radius_km, box)
            return None
        c = Confounder(
            f"{kind.replace('_', ' ').title()} {len(confounders) + 1:02d}",
            kind,
            spot[0],
            spot[1],
            round(radius_km, 2),
            round(rate, 2),
            in_roi,
            params,
        )
        confounders.append(c)
        return c

    def add_landslide(host: Volcano, in_roi: bool) -> None:
        radius_km, rate, params = _draw_confounder("landslide", rng, 0.0)
        azimuth = rng.uniform(0.0, 2.0 * np.pi)
        distance = 0.45 * host.cone_radius_km * km
        row = host.row - distance * np.cos(azimuth)
        col = host.col + distance * np.sin(azimuth)
        name = f"Landslide {len(confounders) + 1:02d}"
        confounders.append(
            Confounder(
                name, "landslide", row, col, round(radius_km, 2), round(rate, 2), in_roi, params
            )
        )

    # Inside the ROI: a quiet volcano at each interior corner, confounders beside the first ones.
    for i, (row, col) in enumerate(lattice.corners):
        row += rng.uniform(-8, 8)
        col += rng.uniform(-8, 8)
        volcano = quiet_volcano(spec, f"Nevado Demo {len(quiet) + 1:02d}", row, col, rng)
        quiet.append(volcano)
        kind = ROI_CONFOUNDERS[i] if i < len(ROI_CONFOUNDERS) else None
        if kind == "landslide":
            add_landslide(volcano, True)
        if kind != "fault_creep":  # a fault may pass by the volcano; basins and salars may not
            placer.reserve(row, col, volcano.cone_radius_km * km)
        if kind in ("aquifer_subsidence", "fault_creep", "salt_lake"):
            reach = lattice.spacing_px / 4
            box = Box(row - reach, row + reach, col - reach, col + reach)
            nominal = {"aquifer_subsidence": 8.0, "fault_creep": 15.0, "salt_lake": 7.0}[kind]
            add(kind, box, nominal, True)
        if kind == "fault_creep":
            placer.reserve(row, col, volcano.cone_radius_km * km)

    # Outside the ROI: the west and east strips.
    _, _, col0, col1 = roi
    strips = {
        "west": Box(0, spec.rows, 0, col0),
        "east": Box(0, spec.rows, col1, spec.cols),
    }
    for side, items in OUTSIDE_CONFOUNDERS.items():
        strip = strips[side]
        width_km = (strip.col1 - strip.col0) / km
        scale = min(1.0, width_km / 120.0)
        for kind, radius_km in items:
            inner = strip.shrink(0.5 * radius_km * scale * km)
            add(kind, inner, radius_km * scale, False)
    n_outside = max(2, 2 * len(lattice.rows))
    for j in range(n_outside):
        strip = strips["west" if j % 2 == 0 else "east"].shrink(8 * km)
        spot = placer.place(rng, strip, 7.0 * km, gap)
        if spot is None:
            continue
        volcano = quiet_volcano(spec, f"Nevado Demo {len(quiet) + 1:02d}", *spot, rng)
        quiet.append(volcano)
    outside = [v for v in quiet if not (col0 <= v.col < col1)]
    for host in outside[:2]:
        add_landslide(host, False)
    return Layout(lattice, roi, volcanoes + quiet, confounders, volcanic, footprints)
