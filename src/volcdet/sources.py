"""Volcanic deformation sources in an elastic half-space.

The point compound dislocation model (pCDM, Nikkhoo et al. 2017, GJI 208:877, eqs. 1-10) is
three mutually orthogonal point tensile dislocations whose normals are the rotated X, Y, Z
axes; each uses Okada's (1985, BSSA 75:1135) surface displacement of a point tensile source.
Rotations follow CDM.m/pCDM.m: clockwise angles omega about X, Y, Z, R = Rz Ry Rx.
Coordinates: x east, y north (m); depth positive down; displacements (ue, un, uv) in the
units of the potencies' length (m for m^3). Evaluated in float64.
"""

from __future__ import annotations

import numpy as np


def cdm_rotation_matrix(omega_deg: tuple[float, float, float]) -> np.ndarray:
    """R = Rz Ry Rx of Nikkhoo et al. (2017) for clockwise rotations about X, Y and Z (degrees).

    Its columns are the rotated X, Y and Z axes of the source.
    """
    ox, oy, oz = np.deg2rad(np.asarray(omega_deg, dtype=np.float64))
    rx = np.array([[1, 0, 0], [0, np.cos(ox), np.sin(ox)], [0, -np.sin(ox), np.cos(ox)]])
    ry = np.array([[np.cos(oy), 0, -np.sin(oy)], [0, 1, 0], [np.sin(oy), 0, np.cos(oy)]])
    rz = np.array([[np.cos(oz), np.sin(oz), 0], [-np.sin(oz), np.cos(oz), 0], [0, 0, 1]])
    return rz @ ry @ rx


def point_tensile_displacement(
    x_m: np.ndarray,
    y_m: np.ndarray,
    depth_m: float,
    strike_deg: float,
    dip_deg: float,
    potency_m3: float,
    nu: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface displacement of a point tensile dislocation (Okada 1985, eqs. 25-28 with I1-I5).

    ``x_m, y_m`` are offsets from the epicentre (east, north); the source plane has the given
    strike (clockwise from north) and dip; the potency is opening x area (m^3).
    """
    beta = np.deg2rad(strike_deg - 90.0)
    cos_b, sin_b = np.cos(beta), np.sin(beta)
    x = cos_b * x_m - sin_b * y_m
    y = sin_b * x_m + cos_b * y_m
    d = float(depth_m)
    r = np.sqrt(x**2 + y**2 + d**2)
    sin_d, cos_d = np.sin(np.deg2rad(dip_deg)), np.cos(np.deg2rad(dip_deg))
    q = y * sin_d - d * cos_d
    k = 1.0 - 2.0 * nu
    i1 = k * y * (1 / r / (r + d) ** 2 - x**2 * (3 * r + d) / r**3 / (r + d) ** 3)
    i2 = k * x * (1 / r / (r + d) ** 2 - y**2 * (3 * r + d) / r**3 / (r + d) ** 3)
    i3 = k * x / r**3 - i2
    i5 = k * (1 / r / (r + d) - x**2 * (2 * r + d) / r**3 / (r + d) ** 2)
    scale = potency_m3 / (2.0 * np.pi)
    ue = scale * (3 * x * q**2 / r**5 - i3 * sin_d**2)
    un = scale * (3 * y * q**2 / r**5 - i1 * sin_d**2)
    uv = scale * (3 * d * q**2 / r**5 - i5 * sin_d**2)
    return cos_b * ue + sin_b * un, -sin_b * ue + cos_b * un, uv


def point_cdm_displacement(
    east_m: np.ndarray,
    north_m: np.ndarray,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    omega_deg: tuple[float, float, float],
    potencies_m3: tuple[float, float, float],
    nu: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface (ue, un, uv) of a point CDM (Nikkhoo et al. 2017, pCDM.m).

    ``potencies_m3`` = (DVx, DVy, DVz), the potencies of the point dislocations normal to the
    rotated X, Y and Z axes; they must share one sign. An isotropic source with
    DVx = DVy = DVz = (1 - nu)/(1 + nu) dV is a Mogi point source of volume change dV.
    """
    potencies = np.asarray(potencies_m3, dtype=np.float64)
    if (potencies > 0).any() and (potencies < 0).any():
        raise ValueError(f"pCDM potencies must share one sign, got {potencies.tolist()}")
    if depth_m <= 0:
        raise ValueError(f"source depth must be positive, got {depth_m} m")
    rotation = cdm_rotation_matrix(omega_deg)
    x = np.asarray(east_m, dtype=np.float64) - x0_m
    y = np.asarray(north_m, dtype=np.float64) - y0_m
    total = [np.zeros_like(x) for _ in range(3)]
    for axis in range(3):
        if potencies[axis] == 0:
            continue
        strike_vector = np.array([-rotation[1, axis], rotation[0, axis]])
        strike = (
            np.degrees(np.arctan2(*strike_vector)) if np.linalg.norm(strike_vector) > 0 else 0.0
        )
        dip = np.degrees(np.arccos(np.clip(rotation[2, axis], -1.0, 1.0)))
        for k, part in enumerate(
            point_tensile_displacement(x, y, depth_m, strike, dip, potencies[axis], nu)
        ):
            total[k] += part
    return total[0], total[1], total[2]


def mogi_displacement(
    east_m: np.ndarray,
    north_m: np.ndarray,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    volume_change_m3: float,
    nu: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre of dilatation (Mogi 1958): u = (1 - nu) dV / pi * (x, y, d) / R^3."""
    x = np.asarray(east_m, dtype=np.float64) - x0_m
    y = np.asarray(north_m, dtype=np.float64) - y0_m
    scale = (1.0 - nu) * volume_change_m3 / np.pi / (x**2 + y**2 + depth_m**2) ** 1.5
    return scale * x, scale * y, scale * depth_m
