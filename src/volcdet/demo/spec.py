"""Size, seed and fixed geometry of the demo region, and its independent random streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.random import Purpose, stream
from volcdet.data.rasters import Grid

#: UTM zone 19S, the zone of the central Andes between 72 and 66 deg W.
DEMO_CRS = "EPSG:32719"
#: Upper-left corner of the demo grid (about 22.1 S, 69.8 W).
DEMO_ORIGIN_XY_M = (420_000.0, 7_560_000.0)
#: Seven tracks as in the paper (2 ascending, 5 descending), named after CVZ Sentinel-1 tracks.
DEMO_TRACKS = (
    ("A076", "ascending"),
    ("A149", "ascending"),
    ("D083", "descending"),
    ("D156", "descending"),
    ("D054", "descending"),
    ("D025", "descending"),
    ("D127", "descending"),
)


#: Most acquisitions a track can have: 12-day slots in the shortest (4.6-yr) stack.
MAX_EPOCHS = 140


class Stream(IntEnum):
    """The demo region's components, each drawing from its own named stream
    (``volcdet.core.random.Purpose``: the ids are the same)."""

    VOLCANOES = Purpose.DEMO_VOLCANOES
    SOURCES = Purpose.DEMO_SOURCES
    CONFOUNDERS = Purpose.DEMO_CONFOUNDERS
    TERRAIN = Purpose.DEMO_TERRAIN
    CREEP = Purpose.DEMO_CREEP
    SALT_LAKES = Purpose.DEMO_SALT_LAKES
    TRACK = Purpose.DEMO_TRACK
    ATMOSPHERE_EPOCHS = Purpose.DEMO_ATMOSPHERE_EPOCHS
    ATMOSPHERE_TRACK = Purpose.DEMO_ATMOSPHERE_TRACK
    MISSING = Purpose.DEMO_MISSING
    INTERFEROGRAMS = Purpose.DEMO_INTERFEROGRAMS


@dataclass(frozen=True)
class DemoRegionSpec:
    """Size, seed and time sampling of the demo region; magnitudes are fixed in the modules."""

    seed: int = 20231
    rows: int = 1792
    cols: int = 2304
    track_width_px: int = 1536
    pixel_size_m: float = field(kw_only=True)
    frame_size_px: int = 512
    epochs_per_track: int = 130
    interferograms_per_track: int = 6
    interferogram_size_px: int = 384

    def __post_init__(self) -> None:
        if self.track_width_px > self.cols:
            raise ValueError(
                f"demo_region.track_width_px ({self.track_width_px}) exceeds cols ({self.cols})"
            )
        if self.interferogram_size_px > min(self.rows, self.track_width_px):
            raise ValueError(
                f"demo_region.interferogram_size_px ({self.interferogram_size_px}) exceeds the track"
            )
        if not 3 <= self.epochs_per_track <= MAX_EPOCHS:
            raise ValueError(
                f"demo_region.epochs_per_track must be in 3-{MAX_EPOCHS}, got {self.epochs_per_track}"
            )

    @property
    def grid(self) -> Grid:
        """The master grid that every track raster is a column window of."""
        x0, y0 = DEMO_ORIGIN_XY_M
        transform = Affine(self.pixel_size_m, 0.0, x0, 0.0, -self.pixel_size_m, y0)
        return Grid(CRS.from_string(DEMO_CRS), transform, (self.rows, self.cols))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def stream(self, component: Stream, *keys: int) -> np.random.Generator:
        """The random stream of one component (and its keys, e.g. a track)."""
        return stream(self.seed, Purpose(int(component)), *keys)

    def track_offsets_px(self) -> list[int]:
        """First column of each track: the passes' tracks spread evenly across the grid."""
        span = self.cols - self.track_width_px
        offsets = []
        for pass_direction in ("ascending", "descending"):
            n = sum(p == pass_direction for _, p in DEMO_TRACKS)
            offsets += [round(span * i / max(n - 1, 1)) for i in range(n)]
        return offsets

    def east_north_m(
        self, rows: slice = slice(None), cols: slice = slice(None)
    ) -> tuple[np.ndarray, np.ndarray]:
        """Local east and north (m) of pixel centres, origin at the grid's upper-left corner.

        Returned as broadcastable (n_rows, 1) north and (1, n_cols) east arrays of the window.
        """
        r = np.arange(self.rows)[rows]
        c = np.arange(self.cols)[cols]
        east = (c + 0.5) * self.pixel_size_m
        north = -(r + 0.5) * self.pixel_size_m
        return east[None, :], north[:, None]
