"""Where everything sits: volcanoes on the frame lattice, more quiet volcanoes, confounders.

Inside the ROI: the lattice (deforming volcanoes and a sixth quiet ones, whose frames are free
of deformation), a quiet volcano at each interior lattice corner and, at the
first four corners, a landslide on that volcano's flank, an aquifer basin, a creeping fault and a
small salt lake beside it (so test frames see them). Outside the ROI (background tiles): large
salt lakes, aquifer basins and a fault in the west and east strips, quiet volcanoes, and
landslides on two of them. Every item keeps clear of the deforming footprints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

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
    frame_conflicts,
    frame_lattice,
    lattice_volcanoes,
    quiet_volcano,
    roi_bounds_px,
    source_field,
)

log = logging.getLogger(__name__)

#: Confounders placed beside the quiet volcanoes of the first interior corners of the lattice,
#: and the nominal size (km: basin semi-axis, fault half-length, salar radius) of those placed
#: near the corner rather than on the volcano.
ROI_CONFOUNDERS = ("landslide", "aquifer_subsidence", "fault_creep", "salt_lake")
ROI_CONFOUNDER_KM = {"aquifer_subsidence": 8.0, "fault_creep": 15.0, "salt_lake": 7.0}
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


@dataclass
class _Catalogue:
    """Quiet volcanoes and confounders placed so far, on one random stream and one placer."""

    spec: DemoRegionSpec
    rng: np.random.Generator
    placer: Placer
    quiet: list[Volcano] = field(default_factory=list)
    confounders: list[Confounder] = field(default_factory=list)

    @property
    def px_per_km(self) -> float:
        return 1000.0 / self.spec.pixel_size_m

    def _append(self, kind: str, row: float, col: float, drawn: tuple, in_roi: bool) -> None:
        radius_km, rate, params = drawn
        name = f"{kind.replace('_', ' ').title()} {len(self.confounders) + 1:02d}"
        self.confounders.append(
            Confounder(name, kind, row, col, round(radius_km, 2), round(rate, 2), in_roi, params)
        )

    def add_confounder(self, kind: str, box: Box, radius_km: float, in_roi: bool) -> None:
        """A confounder at a clear place in ``box`` (skipped, with a warning, if there is none)."""
        drawn = _draw_confounder(kind, self.rng, radius_km)
        gap = CLEARANCE_KM * self.px_per_km
        spot = self.placer.place(self.rng, box, drawn[0] * self.px_per_km, gap)
        if spot is None:
            log.warning("no room for a %s of %.1f km in %s; skipped", kind, drawn[0], box)
            return
        self._append(kind, *spot, drawn, in_roi)

    def add_landslide(self, host: Volcano, in_roi: bool) -> None:
        """A landslide on a volcano's flank, 0.45 of the cone radius from its summit."""
        drawn = _draw_confounder("landslide", self.rng, 0.0)
        azimuth = self.rng.uniform(0.0, 2.0 * np.pi)
        distance = 0.45 * host.cone_radius_km * self.px_per_km
        row, col = host.row - distance * np.cos(azimuth), host.col + distance * np.sin(azimuth)
        self._append("landslide", row, col, drawn, in_roi)

    def add_quiet(self, row: float, col: float) -> Volcano:
        """A quiet volcano at (row, col); its cone is not reserved yet."""
        name = f"Nevado Demo {len(self.quiet) + 1:02d}"
        volcano = quiet_volcano(self.spec, name, row, col, self.rng)
        self.quiet.append(volcano)
        return volcano

    def reserve(self, volcano: Volcano) -> None:
        self.placer.reserve(volcano.row, volcano.col, volcano.cone_radius_km * self.px_per_km)


def _lattice(
    spec: DemoRegionSpec, lattice: Lattice
) -> tuple[list[Volcano], np.ndarray, dict[str, float]]:
    """Lattice volcanoes, the deforming ones' summed ENU rates (mm/yr) and footprints (km)."""
    volcanoes = lattice_volcanoes(spec, lattice)
    volcanic = np.zeros((3, *spec.shape), np.float32)
    footprints: dict[str, float] = {}
    for index, volcano in enumerate(volcanoes):
        if not volcano.deforming:
            continue
        part = source_field(spec, index, volcano)
        volcanic[:, part.rows, part.cols] += part.enu_mm_yr
        footprints[volcano.name] = part.footprint_km
    conflicts = frame_conflicts(volcanoes, footprints, spec.frame_size_px, spec.pixel_size_m)
    if conflicts:
        raise RuntimeError("demo layout breaks the frame spacing rule: " + "; ".join(conflicts))
    return volcanoes, volcanic, footprints


def _fill_roi(catalogue: _Catalogue, lattice: Lattice) -> None:
    """A quiet volcano at each interior lattice corner; confounders beside the first four."""
    reach = lattice.spacing_px / 4
    for i, (row, col) in enumerate(lattice.corners):
        row += catalogue.rng.uniform(-8, 8)
        col += catalogue.rng.uniform(-8, 8)
        volcano = catalogue.add_quiet(row, col)
        kind = ROI_CONFOUNDERS[i] if i < len(ROI_CONFOUNDERS) else None
        if kind == "landslide":
            catalogue.add_landslide(volcano, True)
        if kind != "fault_creep":  # a fault may pass by the volcano; basins and salars may not
            catalogue.reserve(volcano)
        if kind in ROI_CONFOUNDER_KM:
            box = Box(row - reach, row + reach, col - reach, col + reach)
            catalogue.add_confounder(kind, box, ROI_CONFOUNDER_KM[kind], True)
        if kind == "fault_creep":
            catalogue.reserve(volcano)


def _fill_strips(catalogue: _Catalogue, roi: tuple[int, int, int, int], n_quiet: int) -> None:
    """Outside the ROI: confounders per strip (scaled to its width), quiet volcanoes, landslides."""
    spec, km = catalogue.spec, catalogue.px_per_km
    _, _, col0, col1 = roi
    strips = {"west": Box(0, spec.rows, 0, col0), "east": Box(0, spec.rows, col1, spec.cols)}
    for side, items in OUTSIDE_CONFOUNDERS.items():
        strip = strips[side]
        scale = min(1.0, (strip.col1 - strip.col0) / km / 120.0)
        for kind, radius_km in items:
            inner = strip.shrink(0.5 * radius_km * scale * km)
            catalogue.add_confounder(kind, inner, radius_km * scale, False)
    hosts = []
    for j in range(n_quiet):
        strip = strips["west" if j % 2 == 0 else "east"].shrink(8 * km)
        spot = catalogue.placer.place(catalogue.rng, strip, 7.0 * km, CLEARANCE_KM * km)
        if spot is not None:
            hosts.append(catalogue.add_quiet(*spot))
    for host in hosts[:2]:
        catalogue.add_landslide(host, False)


def build_layout(spec: DemoRegionSpec) -> Layout:
    """Place every volcano and confounder; evaluate the deforming sources and check the spacing."""
    lattice = frame_lattice(spec)
    roi = roi_bounds_px(spec, lattice)
    volcanoes, volcanic, footprints = _lattice(spec, lattice)
    placer = Placer()
    for v in volcanoes:
        radius_km = footprints[v.name] if v.deforming else v.cone_radius_km
        placer.reserve(v.row, v.col, radius_km * 1000.0 / spec.pixel_size_m)
    catalogue = _Catalogue(spec, spec.stream(Stream.CONFOUNDERS), placer)
    _fill_roi(catalogue, lattice)
    _fill_strips(catalogue, roi, max(2, 2 * len(lattice.rows)))
    return Layout(
        lattice, roi, volcanoes + catalogue.quiet, catalogue.confounders, volcanic, footprints
    )
