"""Compound dislocation model (CDM) and point CDM: reference values, point-source limits,
symmetries, shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

from volcdet.simulation.sources import (
    MAX_RADIUS_OVER_DEPTH,
    SOURCE_KINDS,
    CdmSource,
    cdm_displacement,
    cdm_point_potencies_m3,
    cdm_potency_m3,
    cdm_rectangles,
    mogi_displacement,
    point_cdm_displacement,
    random_source,
    shape_semi_axes,
)

REFERENCE = json.loads((REPO / "tests/fixtures/cdm_reference_values.json").read_text())
META = REFERENCE["meta"]
NU = 0.25


def max_relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """Max absolute error over the max absolute expected value (one displacement component)."""
    return float(np.abs(got - expected).max() / np.abs(expected).max())


def grid_about(x0_m: float, y0_m: float, half_width_m: float = 12e3, n: int = 25):
    """A square grid (east, north) centred on (x0, y0), symmetric under x -> -x, y -> -y, x <-> y."""
    offsets = np.linspace(-half_width_m, half_width_m, n)
    east, north = np.meshgrid(x0_m + offsets, y0_m + offsets)
    return east, north


REFERENCE_CASES = [("cdm", case) for case in REFERENCE["cdm"]] + [
    ("pcdm", case) for case in REFERENCE["pcdm"]
]


@pytest.mark.parametrize(
    ("model", "case"), REFERENCE_CASES, ids=lambda v: v if isinstance(v, str) else v["name"]
)
def test_matches_reference_implementation(model, case):
    """CDM and point CDM against Nikkhoo's CDM.m / pCDM.m values, to 1e-9 of each component."""
    points = (
        np.array(META["X"], float),
        np.array(META["Y"], float),
        META["X0"],
        META["Y0"],
        META["depth"],
    )
    if model == "cdm":
        got = cdm_displacement(*points, case["omega"], case["a"], case["opening"], META["nu"])
    else:
        got = point_cdm_displacement(*points, case["omega"], case["dv"], META["nu"])
    for component, values in zip(("ue", "un", "uv"), got, strict=True):
        assert max_relative_error(values, np.array(case[component])) <= 1e-9, component


@pytest.mark.parametrize("case", REFERENCE["cdm"], ids=lambda c: c["name"])
def test_cdm_potency_matches_reference(case):
    assert cdm_potency_m3(case["a"], case["opening"]) == pytest.approx(case["DV"], rel=1e-12)
    assert cdm_point_potencies_m3(case["a"], case["opening"]).sum() == pytest.approx(
        case["DV"], rel=1e-12
    )


def test_small_cube_cdm_tends_to_mogi_at_second_order():
    """A cube of semi-axis a at depth d is a Mogi source of dV = (1+nu)/(1-nu) 4 a^2 opening.

    DVx = DVy = DVz = 4 a^2 opening (pCDM.m Example 3) and dV = (1+nu)/(3(1-nu)) sum(DV)
    (Example 2). The misfit is O((a/d)^2): measured 2.2e-5 at a/d = 1/300, tolerance 1e-4.
    """
    x0, y0, depth, opening = 500.0, -250.0, 3000.0, 0.7
    east, north = grid_about(x0, y0, 15e3, 31)
    errors = []
    for a in (30.0, 10.0):
        cdm = cdm_displacement(east, north, x0, y0, depth, (0, 0, 0), (a, a, a), opening, NU)
        dv = (1 + NU) / (1 - NU) * 4 * a**2 * opening
        mogi = mogi_displacement(east, north, x0, y0, depth, dv, NU)
        errors.append(max(max_relative_error(c, m) for c, m in zip(cdm, mogi, strict=True)))
    assert errors[1] < 1e-4
    assert 7 < errors[0] / errors[1] < 11  # (30/10)^2 = 9: the misfit is second order in a/d


def test_small_generic_cdm_tends_to_its_point_cdm():
    """A small rotated triaxial CDM equals the pCDM with DV = 4 opening (ay az, ax az, ax ay).

    Checks the rotation conventions of the CDM (cutde) and the pCDM (Okada) against each other;
    measured misfit 1.4e-5 at a largest semi-axis of d/300, tolerance 1e-4.
    """
    x0, y0, depth, omega, axes, opening = 500.0, -250.0, 3000.0, (20, -15, 40), (10, 7, 4), 0.5
    east, north = grid_about(x0, y0, 15e3, 31)
    cdm = cdm_displacement(east, north, x0, y0, depth, omega, axes, opening, NU)
    dv = cdm_point_potencies_m3(axes, opening)
    pcdm = point_cdm_displacement(east, north, x0, y0, depth, omega, dv, NU)
    for component, c, p in zip(("ue", "un", "uv"), cdm, pcdm, strict=True):
        assert max_relative_error(c, p) < 1e-4, component
    # Swapping two potencies breaks the agreement, so the test can tell the axes apart.
    swapped = point_cdm_displacement(east, north, x0, y0, depth, omega, dv[[2, 1, 0]], NU)
    assert max_relative_error(cdm[2], swapped[2]) > 1e-2


def test_axis_aligned_cube_has_the_symmetry_of_a_square():
    x0, y0 = 700.0, -300.0
    east, north = grid_about(x0, y0)
    ue, un, uv = cdm_displacement(east, north, x0, y0, 2500.0, (0, 0, 0), (600,) * 3, 1.0, NU)
    atol = 1e-12 * np.abs(uv).max()
    np.testing.assert_allclose(uv, uv[:, ::-1], atol=atol)  # x -> -x about the source
    np.testing.assert_allclose(uv, uv[::-1, :], atol=atol)  # y -> -y
    np.testing.assert_allclose(uv, uv.T, atol=atol)  # x <-> y
    np.testing.assert_allclose(ue, -ue[:, ::-1], atol=atol)  # ue antisymmetric under x -> -x
    np.testing.assert_allclose(un, ue.T, atol=atol)  # un is ue with x and y swapped
    assert uv[12, 12] == np.abs(uv).max() > 0  # peak uplift above the centroid


def test_square_source_is_invariant_under_a_quarter_turn():
    east, north = grid_about(0.0, 0.0)
    args = (east, north, 0.0, 0.0, 3000.0)
    uv = cdm_displacement(*args, (0, 0, 20), (900, 900, 400), 1.0, NU)[2]
    uv_turned = cdm_displacement(*args, (0, 0, 110), (900, 900, 400), 1.0, NU)[2]
    np.testing.assert_allclose(uv_turned, uv, atol=1e-12 * np.abs(uv).max())
    uv_other = cdm_displacement(*args, (0, 0, 65), (900, 900, 400), 1.0, NU)[2]
    assert max_relative_error(uv_other, uv) > 1e-3  # a 45 deg turn does change it


@pytest.mark.parametrize("model", ["cdm", "pcdm"])
def test_omega_z_turns_the_field_clockwise(model):
    """Adding theta to omega_z rotates the field by theta clockwise (seen from above)."""
    x0, y0, depth, omega, axes, theta = 400.0, 900.0, 3500.0, (30, 0, 10), (900, 600, 300), 35.0
    rng = np.random.default_rng(1)
    dx, dy = rng.uniform(-10e3, 10e3, (2, 50))
    c, s = np.cos(np.deg2rad(theta)), np.sin(np.deg2rad(theta))
    dx_turned, dy_turned = c * dx + s * dy, -s * dx + c * dy  # (0, 1) -> (sin, cos)

    def up(ex, ny, omega_z):
        angles = (omega[0], omega[1], omega_z)
        if model == "cdm":
            return cdm_displacement(ex, ny, x0, y0, depth, angles, axes, 1.0, NU)[2]
        dv = cdm_point_potencies_m3(axes, 1.0)
        return point_cdm_displacement(ex, ny, x0, y0, depth, angles, dv, NU)[2]

    before = up(x0 + dx, y0 + dy, omega[2])
    after = up(x0 + dx_turned, y0 + dy_turned, omega[2] + theta)
    np.testing.assert_allclose(after, before, atol=1e-12 * np.abs(before).max())
    assert max_relative_error(up(x0 + dx, y0 + dy, omega[2] + theta), before) > 1e-3


def test_dyke_strikes_at_omega_z_clockwise_from_north():
    """A vertical dyke (ax = 0) is mirror-symmetric about its plane of azimuth omega_z."""
    strike = np.deg2rad(30.0)
    along = np.array([np.sin(strike), np.cos(strike)])
    across = np.array([np.cos(strike), -np.sin(strike)])
    rng = np.random.default_rng(2)
    s, t = rng.uniform(-8e3, 8e3, (2, 40))
    points = s[:, None] * along + t[:, None] * across
    mirrored = s[:, None] * along - t[:, None] * across
    dyke = (0.0, 0.0, 2000.0, (0, 0, 30), (0, 1500, 600), 1.0, NU)
    uv = cdm_displacement(points[:, 0], points[:, 1], *dyke)[2]
    uv_mirrored = cdm_displacement(mirrored[:, 0], mirrored[:, 1], *dyke)[2]
    np.testing.assert_allclose(uv_mirrored, uv, atol=1e-12 * np.abs(uv).max())
    assert len(cdm_rectangles(0.0, 0.0, 2000.0, (0, 0, 30), (0, 1500, 600))) == 1


def test_displacement_is_linear_in_opening():
    east, north = grid_about(0.0, 0.0, 10e3, 11)
    source = (east, north, 300.0, -100.0, 4000.0, (15, -12, 25), (1200, 800, 500))
    unit = cdm_displacement(*source, 1.0, NU)
    for opening in (2.7, -0.4):
        scaled = cdm_displacement(*source, opening, NU)
        for u1, u in zip(unit, scaled, strict=True):
            np.testing.assert_allclose(u, opening * u1, rtol=0, atol=1e-12 * np.abs(u).max())


def test_one_zero_semi_axis_is_the_limit_of_a_thin_source():
    """CDM.m keeps only the rectangle normal to a zero axis; a 0.1 mm thick CDM is close to it."""
    east, north = grid_about(200.0, 100.0, 8e3, 17)
    args = (east, north, 200.0, 100.0, 2000.0, (10, 0, 30))
    thin = cdm_displacement(*args, (1e-4, 400, 300), 1.0, NU)
    dyke = cdm_displacement(*args, (0, 400, 300), 1.0, NU)
    for component, a, b in zip(("ue", "un", "uv"), dyke, thin, strict=True):
        assert max_relative_error(b, a) < 1e-5, component


@pytest.mark.parametrize("axes", [(0, 0, 0), (0, 0, 500), (300, 0, 0)])
def test_zero_potency_sources_give_zero_displacement(axes):
    east, north = grid_about(0.0, 0.0, 5e3, 5)
    for u in cdm_displacement(east, north, 0.0, 0.0, 2000.0, (5, 5, 5), axes, 1.0, NU):
        assert u.shape == east.shape and not u.any()
    assert cdm_potency_m3(axes, 1.0) == 0


def test_source_above_the_surface_is_refused():
    east, north = grid_about(0.0, 0.0, 5e3, 5)
    with pytest.raises(ValueError, match="above the free surface"):
        cdm_displacement(east, north, 0.0, 0.0, 150.0, (0, 0, 0), (300, 300, 200), 1.0, NU)
    # Centroid deep enough for the vertical half-height, but the tilted corners are not.
    cdm_displacement(east, north, 0.0, 0.0, 450.0, (0, 0, 0), (400, 400, 400), 1.0, NU)
    with pytest.raises(ValueError, match="above the free surface"):
        cdm_displacement(east, north, 0.0, 0.0, 450.0, (40, 0, 0), (400, 400, 400), 1.0, NU)
    with pytest.raises(ValueError, match=">= 0"):
        cdm_displacement(east, north, 0.0, 0.0, 3000.0, (0, 0, 0), (-1, 400, 400), 1.0, NU)


def test_observation_points_keep_their_shape():
    east, north = grid_about(0.0, 0.0, 6e3, 7)
    args = (0.0, 0.0, 3000.0, (15, -12, 25), (500, 400, 300), 1.0, NU)
    on_grid = cdm_displacement(east, north, *args)
    flat = cdm_displacement(east.ravel(), north.ravel(), *args)
    broadcast = cdm_displacement(east[:1, :], north[:, :1], *args)  # row x column
    for g, f, b in zip(on_grid, flat, broadcast, strict=True):
        assert g.shape == b.shape == (7, 7) and g.dtype == np.float64
        np.testing.assert_array_equal(g.ravel(), f)
        np.testing.assert_array_equal(b, g)


def test_shape_presets_map_to_their_point_potencies():
    """Point limits of the styles (physics notes 2.5): sill = DVz only, dyke = DVx, pipe DVx = DVy."""
    radius, aspect = 1000.0, 0.3
    dv = {
        k: cdm_point_potencies_m3(shape_semi_axes(k, radius, aspect), 1.0) for k in SOURCE_KINDS[:5]
    }
    assert dv["sill"][0] == dv["sill"][1] == 0 < dv["sill"][2]
    assert dv["dyke"][1] == dv["dyke"][2] == 0 < dv["dyke"][0]
    assert dv["pipe"][0] == dv["pipe"][1] > dv["pipe"][2] > 0
    assert dv["sphere"][0] == dv["sphere"][1] == dv["sphere"][2] > 0
    assert dv["oblate"][2] > dv["oblate"][0] == dv["oblate"][1] > 0
    with pytest.raises(ValueError, match="random_source"):
        shape_semi_axes("general", radius, aspect)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_random_sources_respect_the_style_bounds(kind):
    rng = np.random.default_rng(7)
    sources = [random_source(rng, kind) for _ in range(200)]
    for source in sources:
        radius = max(source.semi_axes_m)
        assert source.kind == kind and source.opening_m == 1.0
        assert 500.0 <= source.depth_m <= 10_000.0
        assert 250.0 <= radius <= 10_000.0
        assert radius <= MAX_RADIUS_OVER_DEPTH[kind] * source.depth_m * (1 + 1e-12)
        dip, omega_y, strike = source.omega_deg
        assert omega_y == 0 and 0 <= strike < 180
        assert (dip == 0) if kind in ("dyke", "sill") else (0 <= dip <= 45)
        assert source.potency_m3 > 0
        assert np.all(
            cdm_rectangles(0, 0, source.depth_m, source.omega_deg, source.semi_axes_m)[..., 2] <= 0
        )
        if kind != "general":
            short = min(a for a in source.semi_axes_m if a > 0)
            if kind != "sphere":
                assert 0.2 <= short / radius <= 0.5
    depths = [s.depth_m for s in sources]
    assert np.ptp(depths) > 2000  # the draws do vary
    assert random_source(np.random.default_rng(3), kind) == random_source(
        np.random.default_rng(3), kind
    )


def test_random_source_scales_linearly_and_matches_its_point_limit_far_away():
    source = random_source(np.random.default_rng(11), "oblate", x0_m=1000.0, y0_m=-500.0)
    assert isinstance(source, CdmSource) and (source.x0_m, source.y0_m) == (1000.0, -500.0)
    east, north = grid_about(1000.0, -500.0, 20e3, 9)
    unit = source.displacement(east, north, NU)
    doubled = source.with_opening(2.0).displacement(east, north, NU)
    np.testing.assert_allclose(doubled[2], 2.0 * unit[2], rtol=1e-12)
    record = source.as_record()
    assert record["potency_m3"] == source.potency_m3 and record["omega_y_deg"] == 0.0
    # The point approximation improves away from the source (nothing more is claimed for it).
    point = source.point_displacement(east, north, NU)
    distance = np.hypot(east - 1000.0, north + 500.0)
    misfit = np.abs(point[2] - unit[2]) / np.abs(unit[2])
    assert misfit[distance > 15e3].max() < misfit[distance < 3e3].max()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown source kind"):
        random_source(np.random.default_rng(0), "cone")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- point CDM


def test_isotropic_pcdm_is_a_mogi_source():
    """DVx = DVy = DVz = (1 - nu)/(1 + nu) dV equals Mogi's dV (Nikkhoo et al. 2017, eq. 10)."""
    nu, dv = 0.25, 2.0e6
    east, north = np.meshgrid(np.linspace(-20e3, 20e3, 41), np.linspace(-15e3, 15e3, 31))
    potency = (1 - nu) / (1 + nu) * dv
    pcdm = point_cdm_displacement(east, north, 1e3, -2e3, 4e3, (0, 0, 0), (potency,) * 3, nu)
    mogi = mogi_displacement(east, north, 1e3, -2e3, 4e3, dv, nu)
    for a, b in zip(pcdm, mogi, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-18)


def test_sill_is_radially_symmetric_and_rotation_invariant():
    east, north = np.meshgrid(np.linspace(-10e3, 10e3, 21), np.linspace(-10e3, 10e3, 21))
    ue, un, uv = point_cdm_displacement(east, north, 0, 0, 3e3, (0, 0, 0), (0, 0, 1e6), 0.25)
    np.testing.assert_allclose(un, ue.T, rtol=1e-12, atol=1e-15)  # north mirrors east
    np.testing.assert_allclose(uv, uv.T, rtol=1e-12)  # symmetric under x <-> y
    np.testing.assert_allclose(ue, -ue[:, ::-1], atol=1e-15)  # antisymmetric under x -> -x
    rotated = point_cdm_displacement(east, north, 0, 0, 3e3, (0, 0, 37), (0, 0, 1e6), 0.25)
    np.testing.assert_allclose(rotated[2], uv, rtol=1e-12)


def test_potencies_of_mixed_sign_are_refused():
    with pytest.raises(ValueError, match="share one sign"):
        point_cdm_displacement(
            np.zeros(1), np.zeros(1), 0, 0, 1e3, (0, 0, 0), (1.0, -1.0, 0.0), 0.25
        )
