"""Test frames: square windows of the velocity maps centred on catalogued volcanoes (paper 2.1).

Frames lie inside the region of interest, keep at most a given fraction of missing values,
and hold cumulative LOS displacement (velocity x stack period, mm) as stored float16.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import Point

from volcdet.core.errors import RegionError
from volcdet.core.names import slug
from volcdet.data.rasters import Grid, check_pixel_size, georef_columns, read_raster
from volcdet.data.region import Region, Track, geometry_to_grid_crs, lonlat_to_grid_xy
from volcdet.data.stores import create_store, write_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameSpec:
    """Frame size and selection rules (paper: 512 px at 200 m, <= 5% missing); the pixel size
    is required, by keyword."""

    size_px: int = 512
    pixel_size_m: float = field(kw_only=True)
    max_missing_fraction: float = 0.05
    max_frames_per_volcano: int | None = None


@dataclass(frozen=True)
class FrameCandidate:
    """A frame window that passed the checks, before the per-volcano selection."""

    volcano: str
    track: Track
    row0: int
    col0: int
    missing_fraction: float


def volcanoes_on_grid(region: Region, grid: Grid) -> pd.DataFrame:
    """The volcano catalogue with fractional (row, col) on a grid and an ``in_roi`` flag."""
    x, y = lonlat_to_grid_xy(grid, region.volcanoes.lon.to_numpy(), region.volcanoes.lat.to_numpy())
    row, col = grid.xy_to_rowcol(x, y)
    roi = geometry_to_grid_crs(grid, region.roi_lonlat)
    in_roi = [roi.contains(Point(px, py)) for px, py in zip(x, y, strict=True)]
    return region.volcanoes.assign(x=x, y=y, row=row, col=col, in_roi=in_roi)


def frame_candidates(
    region: Region, spec: FrameSpec
) -> tuple[list[FrameCandidate], dict[str, tuple[np.ndarray, Grid]]]:
    """All valid (volcano, track) frames and the velocity maps (array, grid) they come from."""
    half = spec.size_px // 2
    candidates, velocities = [], {}
    for track in region.tracks:
        velocity, grid = read_raster(track.velocity_path, expected_bands=1)
        check_pixel_size(grid, spec.pixel_size_m, track.velocity_path)
        velocities[track.track_id] = (velocity[0], grid)
        located = volcanoes_on_grid(region, grid)
        for volcano in located[located.in_roi].itertuples():
            row0, col0 = int(np.floor(volcano.row)) - half, int(np.floor(volcano.col)) - half
            if (
                row0 < 0
                or col0 < 0
                or row0 + spec.size_px > grid.shape[0]
                or col0 + spec.size_px > grid.shape[1]
            ):
                continue
            window = velocity[0, row0 : row0 + spec.size_px, col0 : col0 + spec.size_px]
            missing = float(np.isnan(window).mean())
            if missing <= spec.max_missing_fraction:
                candidates.append(FrameCandidate(str(volcano.name), track, row0, col0, missing))
    return candidates, velocities


def select_frames(
    candidates: list[FrameCandidate], max_per_volcano: int | None
) -> list[FrameCandidate]:
    """Keep up to ``max_per_volcano`` frames per volcano: fewest missing first, passes alternating."""
    if max_per_volcano is None:
        return candidates
    chosen: list[FrameCandidate] = []
    by_volcano: dict[str, list[FrameCandidate]] = {}
    for candidate in candidates:
        by_volcano.setdefault(candidate.volcano, []).append(candidate)
    for group in by_volcano.values():
        pool = sorted(group, key=lambda c: (c.missing_fraction, c.track.track_id))
        picked: list[FrameCandidate] = []
        while pool and len(picked) < max_per_volcano:
            used = {c.track.pass_direction for c in picked}
            fresh = [c for c in pool if c.track.pass_direction not in used] or pool
            picked.append(fresh[0])
            pool.remove(fresh[0])
        chosen += picked
    return sorted(chosen, key=lambda c: (c.volcano, c.track.track_id))


def build_frames(
    region: Region, spec: FrameSpec, array_path: Path, table_path: Path
) -> pd.DataFrame:
    """Write the frame store (cumulative LOS displacement, mm) and return its metadata table."""
    candidates, velocities = frame_candidates(region, spec)
    frames = select_frames(candidates, spec.max_frames_per_volcano)
    if not frames:
        raise RegionError(
            f"{region.root}: no volcano inside roi.geojson has a {spec.size_px}-px frame with <= "
            f"{spec.max_missing_fraction:.0%} missing values on any track"
        )
    rows = []
    with create_store(array_path, len(frames), (spec.size_px, spec.size_px)) as out:
        for i, frame in enumerate(frames):
            window = (
                slice(frame.row0, frame.row0 + spec.size_px),
                slice(frame.col0, frame.col0 + spec.size_px),
            )
            velocity, grid = velocities[frame.track.track_id]
            out[i] = velocity[window] * frame.track.period_yr
            rows.append(
                {
                    "frame_id": f"{frame.track.track_id}_{slug(frame.volcano)}",
                    "volcano": frame.volcano,
                    "track_id": frame.track.track_id,
                    "pass": frame.track.pass_direction,
                    "row0": frame.row0,
                    "col0": frame.col0,
                    "period_yr": frame.track.period_yr,
                    "missing_fraction": frame.missing_fraction,
                    **georef_columns(grid.crs, grid.window_transform(frame.row0, frame.col0)),
                }
            )
    table = pd.DataFrame(rows)
    write_table(table_path, table, {"kind": "frames", "units": "mm", "size_px": spec.size_px})
    log.info(
        "%d frames over %d volcanoes (%d candidates)",
        len(table),
        table.volcano.nunique(),
        len(candidates),
    )
    return table
