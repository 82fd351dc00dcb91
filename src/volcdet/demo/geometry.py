"""Track geometry of the demo: Sentinel-1 headings and incidence, LOS vectors, missing pixels."""

from __future__ import annotations

import numpy as np

from volcdet.core.los import los_unit_vector
from volcdet.demo.confounders import slopes
from volcdet.demo.fields import fractal_field

#: Sentinel-1 headings over the CVZ (physics notes section 3), degrees clockwise from north.
HEADING_DEG = {"ascending": -12.4, "descending": -167.6}
#: Incidence of the IW swath (physics notes section 3): each track covers a 12.5 deg part of it
#: starting between these two near-range values, so the 7 mean LOS vectors differ.
INCIDENCE_NEAR_RANGE_DEG = (29.2, 33.4)
INCIDENCE_SPAN_DEG = 12.5


def track_incidence_deg(pass_direction: str, width_px: int, near_deg: float) -> np.ndarray:
    """Incidence per column: near range is west for ascending (looking east), east for descending."""
    ramp = np.linspace(near_deg, near_deg + INCIDENCE_SPAN_DEG, width_px)
    return ramp if pass_direction == "ascending" else ramp[::-1]


def track_los(
    pass_direction: str, shape: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """(LOS unit vectors (3, rows, cols) float32, heading in degrees) of one track.

    Heading +- 0.3 deg around the pass's CVZ value, incidence across a 12.5 deg part of the swath
    (ground-to-satellite vector of ``volcdet.core.los``).
    """
    heading = HEADING_DEG[pass_direction] + rng.normal(0.0, 0.3)
    near = rng.uniform(*INCIDENCE_NEAR_RANGE_DEG)
    incidence = np.broadcast_to(track_incidence_deg(pass_direction, shape[1], near), shape)
    los = np.moveaxis(los_unit_vector(incidence, heading), -1, 0).astype(np.float32)
    return los, float(heading)


def lagoon_mask(lakes: list[np.ndarray]) -> np.ndarray | None:
    """Open water in the centre of the two largest salars (a lobed pool of ~0.3 of their radius)."""
    if not lakes:
        return None
    shape = lakes[0].shape
    rr, cc = np.ogrid[0 : shape[0], 0 : shape[1]]
    water = np.zeros(shape, bool)
    for lake in sorted(lakes, key=lambda m: -int(m.sum()))[:2]:
        rows, cols = np.nonzero(lake)
        r0, c0 = rows.mean(), cols.mean()
        radius = (
            0.3
            * np.sqrt(lake.sum() / np.pi)
            * (1.0 + 0.35 * np.cos(3 * np.arctan2(rr - r0, cc - c0)))
        )
        water |= lake & (np.hypot(rr - r0, cc - c0) < radius)
    return water


def missing_mask(
    dem: np.ndarray,
    los_enu: np.ndarray,
    water: np.ndarray | None,
    pixel_size_m: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """No-data pixels of one track: foreshortening/layover and shadow, lagoons, decorrelation.

    Local incidence = incidence - slope toward the sensor; below 12 deg (strong foreshortening,
    layover-like decorrelation) or above 78 deg (grazing, shadow-like) is masked (physics notes
    section 5.1, item 4). Open water in salars is masked. About 1% of the remaining area
    decorrelates in patches (a unit Gaussian field above 2.4).
    """
    gx, gy = slopes(dem, pixel_size_m)
    horizontal = los_enu[:2] / np.linalg.norm(los_enu[:2], axis=0, keepdims=True)
    slope_to_sensor = np.degrees(np.arctan(gx * horizontal[0] + gy * horizontal[1]))
    incidence = np.degrees(np.arccos(np.clip(los_enu[2], -1, 1)))
    local = incidence - slope_to_sensor
    mask = (local < 12.0) | (local > 78.0)
    if water is not None:
        mask |= water
    patches = fractal_field(dem.shape, pixel_size_m, 3.0, rng, outer_scale_m=1_500.0)
    return mask | (patches > 2.4)
