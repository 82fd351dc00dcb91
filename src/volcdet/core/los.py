"""Line-of-sight geometry: unit vectors and projection of ENU displacement fields."""

from __future__ import annotations

import numpy as np


def los_unit_vector(
    incidence_deg: np.ndarray | float, heading_deg: np.ndarray | float
) -> np.ndarray:
    """Ground-to-satellite unit vector (east, north, up) of a right-looking SAR.

    e = (-sin(theta) cos(h), sin(theta) sin(h), cos(theta)) with incidence theta and heading h
    (flight azimuth, clockwise from north); equivalent to MintPy's enu2los vector with
    azimuth angle 90 deg - h (physics notes section 3; Fialko et al. 2001 sign convention).
    Positive LOS = motion toward the satellite. Returns an array of shape (..., 3).
    """
    theta = np.deg2rad(np.asarray(incidence_deg, dtype=np.float64))
    heading = np.deg2rad(np.asarray(heading_deg, dtype=np.float64))
    east = -np.sin(theta) * np.cos(heading)
    north = np.sin(theta) * np.sin(heading)
    up = np.cos(theta)
    return np.stack(np.broadcast_arrays(east, north, up), axis=-1)


def project_enu_to_los(
    east: np.ndarray, north: np.ndarray, up: np.ndarray, los_enu: np.ndarray
) -> np.ndarray:
    """LOS component d = e . u of an ENU displacement (any unit); los_enu is (3,) or (..., 3)."""
    los = np.asarray(los_enu)
    projected: np.ndarray = east * los[..., 0] + north * los[..., 1] + up * los[..., 2]
    return projected
