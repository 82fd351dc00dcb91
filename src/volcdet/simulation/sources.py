"""Volcanic deformation sources: compound dislocation model (CDM), point CDM and Mogi source.

The CDM (Nikkhoo, Walter, Lundgren & Prats-Iraola 2017, GJI 208:877, doi:10.1093/gji/ggw427) is
three mutually orthogonal rectangular dislocations with a common tensile opening. Each rectangle
is split into two triangular dislocations whose half-space displacements come from cutde's
artefact-free formulation (Nikkhoo & Walter 2015, GJI 201:1119, doi:10.1093/gji/ggv035).
The point CDM (pCDM) is the sum of three point tensile dislocations (Okada 1985, BSSA 75:1135)
and the Mogi (1958) centre of dilatation is its isotropic limit. Conventions follow Nikkhoo's
MATLAB CDM.m / pCDM.m (physics notes section 2): x = east, y = north, z = up, observation points
on the free surface z = 0, depth positive down to the centroid, rotation angles clockwise in
degrees about X, Y, Z (R = Rz Ry Rx), semi-axes along X, Y, Z before rotation. Displacements
are in the unit of the opening (CDM) or of potency / m^2 (pCDM, Mogi); float64 throughout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

import cutde.halfspace
import numpy as np
from numpy.typing import ArrayLike

SourceKind = Literal["sphere", "oblate", "pipe", "dyke", "sill", "general"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("sphere", "oblate", "pipe", "dyke", "sill", "general")

#: Largest radius / centroid depth drawn by `random_source`: 0.35 for sphere-like and prolate and 1
#: for a sill (validity filters of Ireland et al. 2026, physics notes 2.5); 0.35 for oblate and
#: general and 1 for a vertical dyke (half-height <= 0.5 depth) are our own choices.
MAX_RADIUS_OVER_DEPTH: dict[str, float] = {
    "sphere": 0.35,
    "oblate": 0.35,
    "pipe": 0.35,
    "general": 0.35,
    "dyke": 1.0,
    "sill": 1.0,
}

Displacement = tuple[np.ndarray, np.ndarray, np.ndarray]


def cdm_rotation_matrix(omega_deg: ArrayLike) -> np.ndarray:
    """R = Rz Ry Rx of clockwise rotations (deg) about X, Y, Z; its columns are the rotated axes.

    Matrices as in CDM.m / pCDM.m (Nikkhoo et al. 2017; physics notes 2.2).
    """
    wx, wy, wz = np.deg2rad(_vector3(omega_deg, "omega_deg"))
    cx, sx, cy, sy, cz, sz = np.cos(wx), np.sin(wx), np.cos(wy), np.sin(wy), np.cos(wz), np.sin(wz)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, sx], [0.0, -sx, cx]])
    ry = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    rz = np.array([[cz, sz, 0.0], [-sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx


def cdm_rectangles(
    x0_m: float, y0_m: float, depth_m: float, omega_deg: ArrayLike, semi_axes_m: ArrayLike
) -> np.ndarray:
    """Vertices (k, 4, 3) of the CDM's rectangular dislocations P, Q, R that have non-zero area.

    Vertices as in CDM.m (Nikkhoo et al. 2017; physics notes 2.2). Dropping zero-area rectangles
    reproduces CDM.m's rules: one zero semi-axis keeps only the rectangle normal to that axis,
    all zero gives none (and so does a line source, two zero semi-axes, whose potency is zero).
    Raises ValueError when a semi-axis is negative or a vertex lies above the free surface.
    """
    ax, ay, az = _vector3(semi_axes_m, "semi_axes_m")
    if min(ax, ay, az) < 0:
        raise ValueError(f"CDM semi-axes must be >= 0, got {(ax, ay, az)} m")
    r = cdm_rotation_matrix(omega_deg)
    r1, r2, r3 = r[:, 0], r[:, 1], r[:, 2]
    p0 = np.array([x0_m, y0_m, -depth_m], dtype=np.float64)
    big_x, big_y, big_z = 2.0 * ax, 2.0 * ay, 2.0 * az

    p1 = p0 + big_y * r2 / 2 + big_z * r3 / 2
    p2 = p1 - big_y * r2
    rect_p = np.stack([p1, p2, p2 - big_z * r3, p1 - big_z * r3])
    q1 = p0 - big_x * r1 / 2 + big_z * r3 / 2
    q2 = q1 + big_x * r1
    rect_q = np.stack([q1, q2, q2 - big_z * r3, q1 - big_z * r3])
    s1 = p0 + big_x * r1 / 2 + big_y * r2 / 2
    s2 = s1 - big_x * r1
    rect_r = np.stack([s1, s2, s2 - big_y * r2, s1 - big_y * r2])

    rects = np.stack([rect_p, rect_q, rect_r])
    if np.any(rects[..., 2] > 0):
        top = float(rects[..., 2].max())
        raise ValueError(
            f"CDM vertex {top:.3f} m above the free surface (depth {depth_m} m, semi-axes "
            f"{(ax, ay, az)} m, omega {tuple(_vector3(omega_deg, 'omega_deg'))} deg): "
            "the half-space solution needs the whole source below z = 0"
        )
    used = np.array([ay * az > 0, ax * az > 0, ax * ay > 0])
    return rects[used]


def cdm_triangles(
    x0_m: float, y0_m: float, depth_m: float, omega_deg: ArrayLike, semi_axes_m: ArrayLike
) -> np.ndarray:
    """Triangles (2k, 3, 3) of the CDM: each rectangle ABCD split into ABC and ACD.

    The tensile displacement does not depend on vertex order or diagonal (physics notes 2.3).
    """
    rects = cdm_rectangles(x0_m, y0_m, depth_m, omega_deg, semi_axes_m)
    tris = np.concatenate([rects[:, [0, 1, 2]], rects[:, [0, 2, 3]]], axis=0)
    return np.ascontiguousarray(tris, dtype=np.float64)


def cdm_displacement(
    east_m: ArrayLike,
    north_m: ArrayLike,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    omega_deg: ArrayLike,
    semi_axes_m: ArrayLike,
    opening_m: float,
    nu: float,
) -> Displacement:
    """Surface displacement (ue, un, uv) of a CDM (Nikkhoo et al. 2017), same unit as the opening.

    Sums six triangular dislocations with tensile slip = opening (cutde.halfspace.disp_free,
    Nikkhoo & Walter 2015), which is ~3x faster than contracting disp_matrix for one source.
    east/north broadcast together and may have any shape; the outputs have that shape.
    """
    east, north = _observation_points(east_m, north_m)
    _check_nu(nu)
    tris = cdm_triangles(x0_m, y0_m, depth_m, omega_deg, semi_axes_m)
    if tris.shape[0] == 0 or opening_m == 0:
        zero = np.zeros(east.shape)
        return zero, zero.copy(), zero.copy()
    obs = np.zeros((east.size, 3))
    obs[:, 0] = east.ravel()
    obs[:, 1] = north.ravel()
    slips = np.zeros((tris.shape[0], 3))
    slips[:, 2] = float(opening_m)
    disp = cutde.halfspace.disp_free(obs, tris, slips, float(nu))
    return tuple(np.ascontiguousarray(disp[:, i]).reshape(east.shape) for i in range(3))  # type: ignore[return-value]


def cdm_potency_m3(semi_axes_m: ArrayLike, opening_m: float) -> float:
    """Potency DV = 4 (ax ay + ax az + ay az) opening of a CDM (Nikkhoo et al. 2017; CDM.m)."""
    ax, ay, az = _vector3(semi_axes_m, "semi_axes_m")
    return float(4.0 * (ax * ay + ax * az + ay * az) * opening_m)


def cdm_point_potencies_m3(semi_axes_m: ArrayLike, opening_m: float) -> np.ndarray:
    """Far-field pCDM potencies (DVx, DVy, DVz) = 4 opening (ay az, ax az, ax ay) of a CDM.

    Equivalence of pCDM.m Example 3 (Nikkhoo et al. 2017); their sum is `cdm_potency_m3`.
    """
    ax, ay, az = _vector3(semi_axes_m, "semi_axes_m")
    return 4.0 * opening_m * np.array([ay * az, ax * az, ax * ay])


def point_cdm_displacement(
    east_m: ArrayLike,
    north_m: ArrayLike,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    omega_deg: ArrayLike,
    dv_m3: ArrayLike,
    nu: float,
) -> Displacement:
    """Surface displacement (ue, un, uv) in m of a point CDM (Nikkhoo et al. 2017; pCDM.m).

    Sum of three point tensile dislocations of potency dv_m3 = (DVx, DVy, DVz) whose normals are
    the rotated X, Y, Z axes, each from Okada's (1985) surface point-source formulas as in
    Nikkhoo's PTDdispSurf. The three potencies must share one sign (pCDM.m rule).
    """
    east, north = _observation_points(east_m, north_m)
    _check_nu(nu)
    _check_depth(depth_m)
    dv = _vector3(dv_m3, "dv_m3")
    if np.any(dv > 0) and np.any(dv < 0):
        raise ValueError(f"pCDM potencies must share one sign, got {tuple(dv)} m3")
    r = cdm_rotation_matrix(omega_deg)
    dx, dy = east - x0_m, north - y0_m
    ue, un, uv = np.zeros(east.shape), np.zeros(east.shape), np.zeros(east.shape)
    for i in range(3):
        if dv[i] == 0:
            continue
        # Strike along (-R2i, R1i, 0) and dip = angle of the normal from the vertical (pCDM.m).
        horizontal = math.hypot(r[0, i], r[1, i])
        strike = math.degrees(math.atan2(-r[1, i], r[0, i])) if horizontal > 0 else 0.0
        dip = math.degrees(math.acos(min(1.0, max(-1.0, r[2, i]))))
        e, n, v = point_tensile_displacement(dx, dy, depth_m, strike, dip, dv[i], nu)
        ue += e
        un += n
        uv += v
    return ue, un, uv


def mogi_displacement(
    east_m: ArrayLike,
    north_m: ArrayLike,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    dv_m3: float,
    nu: float,
) -> Displacement:
    """Surface displacement (ue, un, uv) in m of a centre of dilatation (Mogi 1958).

    u = (1 - nu) dV / pi * (x, y, d) / R^3 with source volume change dV; it equals a pCDM with
    DVx = DVy = DVz = (1 - nu) / (1 + nu) dV (Nikkhoo et al. 2017, pCDM.m Example 2).
    """
    east, north = _observation_points(east_m, north_m)
    _check_nu(nu)
    _check_depth(depth_m)
    dx, dy = east - x0_m, north - y0_m
    scale = (1.0 - nu) * dv_m3 / np.pi / (dx**2 + dy**2 + depth_m**2) ** 1.5
    return scale * dx, scale * dy, scale * depth_m


def point_tensile_displacement(
    x_m: np.ndarray,
    y_m: np.ndarray,
    depth_m: float,
    strike_deg: float,
    dip_deg: float,
    potency_m3: float,
    nu: float,
) -> Displacement:
    """Surface (ue, un, uv) of a point tensile dislocation (Okada 1985, eqs. 25-28 with I1-I5).

    x_m, y_m are east/north offsets from the epicentre; the plane has the given strike (clockwise
    from north) and dip; potency = opening x area. As Nikkhoo's PTDdispSurf (pCDM.m).
    """
    beta = math.radians(strike_deg - 90.0)
    cb, sb = math.cos(beta), math.sin(beta)
    x = cb * x_m - sb * y_m
    y = sb * x_m + cb * y_m
    d = depth_m
    r = np.sqrt(x**2 + y**2 + d**2)
    sin_dip, cos_dip = math.sin(math.radians(dip_deg)), math.cos(math.radians(dip_deg))
    q = y * sin_dip - d * cos_dip
    k = 1.0 - 2.0 * nu  # mu / (lambda + mu)
    r3, rd = r**3, r + d
    i1 = k * y * (1.0 / r / rd**2 - x**2 * (3.0 * r + d) / r3 / rd**3)
    i2 = k * x * (1.0 / r / rd**2 - y**2 * (3.0 * r + d) / r3 / rd**3)
    i3 = k * x / r3 - i2
    i5 = k * (1.0 / r / rd - x**2 * (2.0 * r + d) / r3 / rd**2)
    c = potency_m3 / (2.0 * np.pi)
    s2 = sin_dip**2
    q2_r5 = q**2 / r**5
    ux = c * (3.0 * x * q2_r5 - i3 * s2)
    uy = c * (3.0 * y * q2_r5 - i1 * s2)
    uz = c * (3.0 * d * q2_r5 - i5 * s2)
    return cb * ux + sb * uy, -sb * ux + cb * uy, uz


# --------------------------------------------------------------------------- shape families


@dataclass(frozen=True)
class CdmSource:
    """One CDM: kind, centroid (x0, y0, depth) in m, rotations in deg, semi-axes in m, opening in m.

    `random_source` draws these with a unit opening; displacement is linear in the opening, so a
    later stage scales it with `with_opening` to reach a target amplitude.
    """

    kind: str
    x0_m: float
    y0_m: float
    depth_m: float
    omega_deg: tuple[float, float, float]
    semi_axes_m: tuple[float, float, float]
    opening_m: float = 1.0

    @property
    def potency_m3(self) -> float:
        """Potency DV = 4 (ax ay + ax az + ay az) opening (Nikkhoo et al. 2017)."""
        return cdm_potency_m3(self.semi_axes_m, self.opening_m)

    def with_opening(self, opening_m: float) -> CdmSource:
        """The same source with another opening."""
        return replace(self, opening_m=float(opening_m))

    def displacement(self, east_m: ArrayLike, north_m: ArrayLike, nu: float) -> Displacement:
        """Surface displacement (ue, un, uv) in m, see `cdm_displacement`."""
        return cdm_displacement(
            east_m, north_m, self.x0_m, self.y0_m, self.depth_m, self.omega_deg,
            self.semi_axes_m, self.opening_m, nu,
        )  # fmt: skip

    def point_displacement(self, east_m: ArrayLike, north_m: ArrayLike, nu: float) -> Displacement:
        """Far-field approximation by the equivalent pCDM (pCDM.m Example 3), ~100x cheaper."""
        dv = cdm_point_potencies_m3(self.semi_axes_m, self.opening_m)
        return point_cdm_displacement(
            east_m, north_m, self.x0_m, self.y0_m, self.depth_m, self.omega_deg, dv, nu
        )

    def as_record(self) -> dict[str, float | str]:
        """Flat dict (kind, x0_m, ..., omega_x_deg, ..., ax_m, ..., opening_m, potency_m3)."""
        record: dict[str, float | str] = {
            k: v for k, v in asdict(self).items() if k not in ("omega_deg", "semi_axes_m")
        }
        record.update(
            zip(("omega_x_deg", "omega_y_deg", "omega_z_deg"), self.omega_deg, strict=True)
        )
        record.update(zip(("ax_m", "ay_m", "az_m"), self.semi_axes_m, strict=True))
        record["potency_m3"] = self.potency_m3
        return record


def shape_semi_axes(kind: SourceKind, radius_m: float, aspect: float) -> tuple[float, float, float]:
    """Semi-axes (ax, ay, az) in m of a source style (Ireland et al. 2026; physics notes 2.5).

    sphere (sphere-like) (R, R, R); oblate (R, R, R A); pipe (prolate, vertical long axis)
    (R A, R A, R); dyke (0, R, R A), striking at omega_z; sill (R, R A, 0), horizontal.
    "general" has random semi-axes and is drawn by `random_source` only.
    """
    r, a = float(radius_m), float(aspect)
    if r <= 0 or a <= 0:
        raise ValueError(f"radius and aspect must be > 0, got {r} m and {a}")
    table = {
        "sphere": (r, r, r),
        "oblate": (r, r, r * a),
        "pipe": (r * a, r * a, r),
        "dyke": (0.0, r, r * a),
        "sill": (r, r * a, 0.0),
    }
    if kind not in table:
        raise ValueError(
            f"no fixed semi-axes for source kind {kind!r} (expected {list(table)}; "
            "'general' sources come from random_source)"
        )
    return table[kind]


def random_source(
    rng: np.random.Generator,
    kind: SourceKind,
    *,
    x0_m: float = 0.0,
    y0_m: float = 0.0,
    depth_range_m: tuple[float, float] = (500.0, 10_000.0),
    radius_range_m: tuple[float, float] = (250.0, 10_000.0),
    aspect_range: tuple[float, float] = (0.2, 0.5),
    max_dip_deg: float = 45.0,
    opening_m: float = 1.0,
) -> CdmSource:
    """Draw a CDM of one style (physics notes 2.5, after Ireland et al. 2026) with unit opening.

    Radius R is log-uniform in radius_range_m capped at MAX_RADIUS_OVER_DEPTH[kind] times the
    deepest depth, then depth is uniform on [max(min depth, R / ratio), max depth]. Aspect A is
    uniform in aspect_range. omega_y = 0 always; strike omega_z is uniform on [0, 180) deg;
    sphere, oblate, pipe and general get a dip omega_x uniform on [0, max_dip_deg]; dykes are
    vertical and sills horizontal. "general" has semi-axes R, R U(A0, 1), R U(A0, 1) in random
    order with A0 = aspect_range[0].
    """
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r} (expected one of {SOURCE_KINDS})")
    ratio = MAX_RADIUS_OVER_DEPTH[kind]
    d_min, d_max = depth_range_m
    r_min, r_max = radius_range_m[0], min(radius_range_m[1], ratio * d_max)
    if not 0 < r_min <= r_max or not 0 < d_min <= d_max:
        raise ValueError(
            f"no valid {kind} source: radius {radius_range_m} m, depth {depth_range_m} m and "
            f"radius/depth <= {ratio}"
        )
    radius = float(np.exp(rng.uniform(np.log(r_min), np.log(r_max))))
    depth = float(rng.uniform(max(d_min, radius / ratio), d_max))
    aspect = float(rng.uniform(*aspect_range))
    strike = float(rng.uniform(0.0, 180.0))
    dip = 0.0 if kind in ("dyke", "sill") else float(rng.uniform(0.0, max_dip_deg))
    if kind == "general":
        ratios = np.array([1.0, *rng.uniform(aspect_range[0], 1.0, size=2)])
        axes = tuple(float(v) for v in radius * rng.permutation(ratios))
    else:
        axes = shape_semi_axes(kind, radius, aspect)
    source = CdmSource(kind, float(x0_m), float(y0_m), depth, (dip, 0.0, strike), axes, opening_m)  # type: ignore[arg-type]
    cdm_rectangles(x0_m, y0_m, depth, source.omega_deg, axes)  # raises if above the surface
    return source


# --------------------------------------------------------------------------- helpers


def _vector3(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be 3 finite numbers, got {values!r}")
    return arr


def _observation_points(east_m: ArrayLike, north_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    east, north = np.broadcast_arrays(
        np.asarray(east_m, dtype=np.float64), np.asarray(north_m, dtype=np.float64)
    )
    return east, north


def _check_nu(nu: float) -> None:
    if not -1.0 < nu < 0.5:
        raise ValueError(f"Poisson's ratio must lie in (-1, 0.5), got {nu}")


def _check_depth(depth_m: float) -> None:
    if not depth_m > 0:
        raise ValueError(f"point source depth must be > 0 m, got {depth_m}")
