"""The LOS geometries of the simulated sets: one mean unit vector per track (paper section 2.2).

The paper took 7 LOS parameter sets (2 ascending, 5 descending) from its real frames; here each
track's set is the normalised mean of its LOS raster over valid pixels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from volcdet.core.errors import RegionError
from volcdet.data.rasters import read_raster
from volcdet.data.region import Region


def incidence_heading_deg(los_enu: np.ndarray) -> tuple[float, float]:
    """Invert e = (-sin t cos h, sin t sin h, cos t) for incidence t and heading h (degrees)."""
    east, north, up = (float(v) for v in los_enu)
    incidence = np.degrees(np.arccos(np.clip(up, -1.0, 1.0)))
    heading = np.degrees(np.arctan2(north, -east))
    return float(incidence), float(heading)


def los_geometry_table(region: Region, n_sets: int) -> pd.DataFrame:
    """One row per LOS set (ascending tracks first, then descending, by track id).

    RegionError when the region's track count differs from ``n_sets``.
    """
    tracks = sorted(region.tracks, key=lambda t: (t.pass_direction != "ascending", t.track_id))
    if len(tracks) != n_sets:
        raise RegionError(
            f"{region.root / 'tracks.csv'}: {len(tracks)} tracks but simulation.los_sets is {n_sets}; "
            f"set simulation.los_sets: {len(tracks)} (one LOS set per track)"
        )
    rows = []
    for index, track in enumerate(tracks):
        los, _ = read_raster(track.los_path, expected_bands=3)
        mean = np.nanmean(los.reshape(3, -1), axis=1)
        unit = mean / np.linalg.norm(mean)
        incidence, heading = incidence_heading_deg(unit)
        rows.append(
            {
                "los_set": index,
                "track_id": track.track_id,
                "pass": track.pass_direction,
                "los_east": unit[0],
                "los_north": unit[1],
                "los_up": unit[2],
                "incidence_deg": incidence,
                "heading_deg": heading,
            }
        )
    return pd.DataFrame(rows)
