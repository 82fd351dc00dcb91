"""Named volcanic deformation shapes of the demo region, from analytic half-space point kernels.

These are shapes the training simulator does not make (it makes one compound dislocation model
centred in the patch): an uplift with a subsiding moat, an elongated Lazufre-like sill, two
nearby sources, a source offset from the summit and a subsiding geothermal field. Each is a sum
of point kernels written here, independent of ``volcdet.simulation``:

* Mogi (1958) point pressure source (centre of dilatation) in an elastic half-space,
  u = (1 - nu) dV / pi * (x, y, d) / R^3 with R^2 = x^2 + y^2 + d^2 (Segall 2010, Earthquake and Volcano Deformation, ch. 7);
  the same nucleus of strain describes reservoir compaction (Geertsma 1973, J. Petrol. Tech.
  25:734);
* Okada (1985, BSSA 75:1135) point tensile dislocation on a horizontal plane (dip 0),
  u = 3 dV / (2 pi) * (x d^2, y d^2, d^3) / R^5 (independent of Poisson's ratio at dip 0),
  summed over an ellipse with the opening profile sqrt(1 - rho^2) of a pressurised
  penny-shaped crack (Sneddon 1946) for a finite sill.

Constant factors ((1 - nu) / pi, 3 / (2 pi)) drop out because every shape is normalised to a
peak displacement of 1; only the relative strengths of a shape's kernels matter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SHAPE_NAMES: tuple[str, ...] = (
    "sombrero",
    "elongated_sill",
    "twin_sources",
    "off_centre",
    "geothermal_subsidence",
)

#: Kernels per sill or reservoir: point spacing is depth / 2 within these bounds (m).
_SPACING_BOUNDS_M = {"elongated_sill": (500.0, 3000.0), "geothermal_subsidence": (250.0, 1000.0)}


def _add_point_source(
    out: np.ndarray,
    east_m: np.ndarray,
    north_m: np.ndarray,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    numerator: float,
    r_power: int,
) -> None:
    """out += numerator * (x, y, d) / R^r_power (r_power odd), in place to keep large windows
    cheap: the shared form of the point sources below."""
    dx = east_m - x0_m
    dy = north_m - y0_m
    r2 = dx * dx
    r2 += dy * dy
    r2 += depth_m * depth_m
    scale = np.sqrt(r2)
    for _ in range(r_power // 2):
        scale *= r2
    np.divide(numerator, scale, out=scale)
    out[0] += dx * scale
    out[1] += dy * scale
    out[2] += depth_m * scale


def _add_mogi(
    out: np.ndarray,
    east_m: np.ndarray,
    north_m: np.ndarray,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    weight: float,
) -> None:
    """out += weight * (x, y, d) / R^3 (Mogi 1958), in place."""
    _add_point_source(out, east_m, north_m, x0_m, y0_m, depth_m, weight, 3)


def _add_horizontal_crack(
    out: np.ndarray,
    east_m: np.ndarray,
    north_m: np.ndarray,
    x0_m: float,
    y0_m: float,
    depth_m: float,
    weight: float,
) -> None:
    """out += weight * (x d^2, y d^2, d^3) / R^5 (Okada 1985, horizontal point crack), in place."""
    _add_point_source(out, east_m, north_m, x0_m, y0_m, depth_m, weight * depth_m * depth_m, 5)


Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, float, float, float, float], None]


def mogi_enu(
    east_m: np.ndarray, north_m: np.ndarray, x0_m: float, y0_m: float, depth_m: float
) -> np.ndarray:
    """Mogi (1958) point source, ENU surface displacement per unit (1 - nu) dV / pi: (x, y, d) / R^3."""
    east, north = np.asarray(east_m, np.float64), np.asarray(north_m, np.float64)
    out = np.zeros((3, *east.shape))
    _add_mogi(out, east, north, x0_m, y0_m, depth_m, 1.0)
    return out


def horizontal_crack_enu(
    east_m: np.ndarray, north_m: np.ndarray, x0_m: float, y0_m: float, depth_m: float
) -> np.ndarray:
    """Okada (1985) point opening of a horizontal crack, per unit 3 dV / (2 pi): (x d^2, y d^2, d^3) / R^5."""
    east, north = np.asarray(east_m, np.float64), np.asarray(north_m, np.float64)
    out = np.zeros((3, *east.shape))
    _add_horizontal_crack(out, east, north, x0_m, y0_m, depth_m, 1.0)
    return out


def _draw(rng: np.random.Generator | None, low: float, high: float, default: float) -> float:
    """A uniform draw in [low, high), or the default without a generator."""
    return default if rng is None else float(rng.uniform(low, high))


def ellipse_points(
    semi_major_m: float, semi_minor_m: float, azimuth_deg: float, spacing_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(east, north, rho) of a square grid of points inside an ellipse centred at (0, 0).

    The major axis points ``azimuth_deg`` clockwise from north; rho is the normalised elliptical
    radius (0 at the centre, 1 on the edge).
    """
    n = max(int(np.ceil(semi_major_m / spacing_m)), 1)
    grid = (np.arange(-n, n + 1) * spacing_m).astype(np.float64)
    along, across = (a.ravel() for a in np.meshgrid(grid, grid))
    rho = np.hypot(along / semi_major_m, across / semi_minor_m)
    keep = rho < 1.0
    along, across, rho = along[keep], across[keep], rho[keep]
    az = np.deg2rad(azimuth_deg)
    east = along * np.sin(az) + across * np.cos(az)
    north = along * np.cos(az) - across * np.sin(az)
    return east, north, rho


def _sum_kernels(
    kernel: Kernel,
    east_m: np.ndarray,
    north_m: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    depths: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Sum of point kernels at (xs, ys, depths) with the given weights, shape (3, *east_m.shape)."""
    total = np.zeros((3, *np.shape(east_m)), dtype=np.float64)
    for x0, y0, depth, weight in zip(xs, ys, depths, weights, strict=True):
        kernel(total, east_m, north_m, float(x0), float(y0), float(depth), float(weight))
    return total


def _ring(
    radius_m: float, depth_m: float, n: int = 36
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    angles = np.arange(n) * 2.0 * np.pi / n
    return radius_m * np.sin(angles), radius_m * np.cos(angles), np.full(n, depth_m)


def _moat_strength(depth_m: float, ring_radius_m: float, ring_depth_m: float, moat: float) -> float:
    """Total deflation f of the ring so that min u_up = -moat * max u_up on a radial profile.

    u_up(r) = a(r) - f b(r) is linear in f; the ratio min/max falls monotonically as f grows
    (while the centre still rises), so bisection finds f.
    """
    r = np.linspace(0.0, 6.0 * ring_radius_m, 600)
    zeros = np.zeros_like(r)
    centre = mogi_enu(r, zeros, 0.0, 0.0, depth_m)[2]
    rx, ry, rd = _ring(ring_radius_m, ring_depth_m)
    ring = _sum_kernels(_add_mogi, r, zeros, rx, ry, rd, np.full(rx.size, 1.0 / rx.size))[2]
    f_max = centre[0] / ring[0] if ring[0] > 0 else 1e6
    low, high = 0.0, 0.999 * f_max
    for _ in range(60):
        f = 0.5 * (low + high)
        up = centre - f * ring
        if up.min() / up[0] > -moat:
            low = f
        else:
            high = f
    return 0.5 * (low + high)


def sombrero_enu(
    east_m: np.ndarray, north_m: np.ndarray, depth_m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Central uplift with a subsiding moat (Uturuncu 'sombrero', Henderson & Pritchard 2013).

    A Mogi source at ``depth_m`` under the summit inflates while a ring of 36 Mogi sources at
    2.2-2.8 x depth from the axis and 1.5 x depth deflates; the ring's total volume is set so the
    moat sinks by 20-40% of the central uplift (kinematic stand-in for the diapir/moat models of
    Fialko & Pearse 2012, Science 338:250).
    """
    ring_radius = _draw(rng, 2.2, 2.8, 2.5) * depth_m
    moat = _draw(rng, 0.2, 0.4, 0.3)
    ring_depth = 1.5 * depth_m
    strength = _moat_strength(depth_m, ring_radius, ring_depth, moat)
    rx, ry, rd = _ring(ring_radius, ring_depth)
    ring = _sum_kernels(_add_mogi, east_m, north_m, rx, ry, rd, np.full(rx.size, 1.0 / rx.size))
    return mogi_enu(east_m, north_m, 0.0, 0.0, depth_m) - strength * ring


def elongated_sill_enu(
    east_m: np.ndarray, north_m: np.ndarray, depth_m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Elongated uplift of a finite elliptical sill (Lazufre, ~40 x 30 km; Pritchard & Simons 2002).

    Horizontal point cracks (Okada 1985) fill an ellipse of semi-axes 18.5 x 18.5/aspect km
    (aspect 1.35-1.65, azimuth 0-180 deg; default 1.5 and 30 deg) with the opening profile
    sqrt(1 - rho^2) of a penny-shaped crack (Sneddon 1946). At 8 km depth the uplift above 20%
    of its peak spans about 40 x 30 km.
    """
    aspect = _draw(rng, 1.35, 1.65, 1.5)
    azimuth = _draw(rng, 0.0, 180.0, 30.0)
    semi_major = 18_500.0
    low, high = _SPACING_BOUNDS_M["elongated_sill"]
    xs, ys, rho = ellipse_points(
        semi_major, semi_major / aspect, azimuth, float(np.clip(depth_m / 2, low, high))
    )
    opening = np.sqrt(1.0 - rho**2)
    return _sum_kernels(
        _add_horizontal_crack, east_m, north_m, xs, ys, np.full(xs.size, depth_m), opening
    )


def twin_sources_enu(
    east_m: np.ndarray, north_m: np.ndarray, depth_m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Two nearby Mogi sources 3-4 x depth apart about (0, 0); the second 50-90% as strong.

    Two inflating centres side by side, as Lastarria's shallow source beside the Lazufre sill
    (Henderson et al. 2017) or Uturuncu's satellite signals; the second source sits at 0.8-1.2 x
    the depth of the first.
    """
    separation = _draw(rng, 3.0, 4.0, 3.4) * depth_m
    ratio = _draw(rng, 0.5, 0.9, 0.7)
    depth_ratio = _draw(rng, 0.8, 1.2, 1.0)
    azimuth = np.deg2rad(_draw(rng, 0.0, 180.0, 60.0))
    dx, dy = 0.5 * separation * np.sin(azimuth), 0.5 * separation * np.cos(azimuth)
    first = mogi_enu(east_m, north_m, -dx, -dy, depth_m)
    second = mogi_enu(east_m, north_m, dx, dy, depth_ratio * depth_m)
    return first + ratio * depth_ratio**2 * second


def off_centre_enu(
    east_m: np.ndarray, north_m: np.ndarray, depth_m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """A Mogi source 4-7 km from the catalogued summit (Sabancaya: ~5 km N, Boixart et al. 2020)."""
    offset = _draw(rng, 4_000.0, 7_000.0, 5_000.0)
    azimuth = np.deg2rad(_draw(rng, 0.0, 360.0, 0.0))
    return mogi_enu(east_m, north_m, offset * np.sin(azimuth), offset * np.cos(azimuth), depth_m)


def geothermal_subsidence_enu(
    east_m: np.ndarray, north_m: np.ndarray, depth_m: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Subsidence of a compacting geothermal reservoir: Mogi sinks over an ellipse (Geertsma 1973).

    Uniform compaction of a shallow reservoir of semi-axes 2-4 km x (1-1.6 aspect), as measured
    over exploited geothermal fields (e.g. Cerro Prieto, Mexico); sign negative.
    """
    semi_major = _draw(rng, 2_000.0, 4_000.0, 3_000.0)
    aspect = _draw(rng, 1.0, 1.6, 1.3)
    azimuth = _draw(rng, 0.0, 180.0, 120.0)
    low, high = _SPACING_BOUNDS_M["geothermal_subsidence"]
    xs, ys, _ = ellipse_points(
        semi_major, semi_major / aspect, azimuth, float(np.clip(depth_m / 2, low, high))
    )
    return -_sum_kernels(
        _add_mogi, east_m, north_m, xs, ys, np.full(xs.size, depth_m), np.ones(xs.size)
    )


_BUILDERS: dict[str, Callable[..., np.ndarray]] = {
    "sombrero": sombrero_enu,
    "elongated_sill": elongated_sill_enu,
    "twin_sources": twin_sources_enu,
    "off_centre": off_centre_enu,
    "geothermal_subsidence": geothermal_subsidence_enu,
}


def shape_enu(
    name: str,
    east_m: np.ndarray,
    north_m: np.ndarray,
    depth_m: float,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """ENU displacement field (3, *east_m.shape) of a named demo shape centred near (0, 0),
    normalised so that max |u| over the given points is 1 (sign: uplift positive for uplifting
    shapes, negative for subsiding ones).

    ``depth_m`` is the source depth (central source, sill or reservoir); ``rng`` randomises
    orientation, aspect, offsets and strengths (None: the documented central values), drawing
    the same number of values in the same order for a given shape, so a seeded generator gives
    identical fields. |u| is the Euclidean norm of the ENU vector.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown demo shape {name!r}; expected one of {', '.join(SHAPE_NAMES)}")
    if not depth_m > 0:
        raise ValueError(f"depth_m must be > 0, got {depth_m}")
    east = np.asarray(east_m, dtype=np.float64)
    north = np.asarray(north_m, dtype=np.float64)
    if east.shape != north.shape:
        raise ValueError(f"east_m {east.shape} and north_m {north.shape} differ in shape")
    field = _BUILDERS[name](east, north, float(depth_m), rng)
    peak = float(np.sqrt((field**2).sum(axis=0)).max()) if field[0].size else 0.0
    if not peak > 0:
        raise ValueError(f"shape {name!r} is zero on the given points")
    return field / peak
