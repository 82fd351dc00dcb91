"""The demo's deformation shapes: kernels against references, and each shape's defining feature."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

from volcdet.demo.shapes import (
    SHAPE_NAMES,
    horizontal_crack_enu,
    mogi_enu,
    shape_enu,
)

PIXEL_M = 200.0


def square_grid(half_km: float) -> tuple[np.ndarray, np.ndarray]:
    n = round(half_km * 1000 / PIXEL_M)
    axis = np.arange(-n, n + 1) * PIXEL_M
    east, north = np.meshgrid(axis, -axis)
    return east, north


def norm(u: np.ndarray) -> np.ndarray:
    return np.sqrt((u**2).sum(axis=0))


def test_mogi_matches_nikkhoo_isotropic_point_cdm():
    """An isotropic pCDM equals a Mogi source of dV = (1 + nu) / (3 (1 - nu)) sum DV (Nikkhoo et al.
    2017, eq. 10); golden values from Nikkhoo's MATLAB pCDM.m."""
    ref = json.loads((REPO / "tests/fixtures/cdm_reference_values.json").read_text())
    meta = ref["meta"]
    case = next(c for c in ref["pcdm"] if c["name"] == "isotropic")
    nu = meta["nu"]
    volume = (1 + nu) / (3 * (1 - nu)) * sum(case["dv"])
    u = mogi_enu(
        np.array(meta["X"], float),
        np.array(meta["Y"], float),
        meta["X0"],
        meta["Y0"],
        meta["depth"],
    )
    u *= (1 - nu) * volume / np.pi
    np.testing.assert_allclose(u, [case["ue"], case["un"], case["uv"]], rtol=1e-10)


def test_horizontal_crack_uplift_volume_equals_the_opening_volume():
    """For a horizontal point crack the surface uplift volume equals the crack's volume change."""
    east, north = square_grid(150.0)
    u = horizontal_crack_enu(east, north, 0.0, 0.0, 3000.0) * 3.0 / (2.0 * np.pi)
    assert u[2].sum() * PIXEL_M**2 == pytest.approx(1.0, rel=2e-3)
    # Radial horizontal motion: outward, antisymmetric.
    np.testing.assert_allclose(u[0], -u[0][:, ::-1], atol=1e-18)
    assert u[0][:, -1].max() > 0


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_every_shape_is_normalised_and_deterministic(name):
    east, north = square_grid(40.0)
    u = shape_enu(name, east, north, 4000.0, np.random.default_rng(3))
    assert u.shape == (3, *east.shape)
    assert norm(u).max() == pytest.approx(1.0)
    np.testing.assert_array_equal(u, shape_enu(name, east, north, 4000.0, np.random.default_rng(3)))
    assert not np.array_equal(u, shape_enu(name, east, north, 4000.0, np.random.default_rng(4)))
    assert np.abs(u[:2]).max() > 0.05  # horizontal components are there too


def test_sombrero_has_a_subsiding_moat():
    east, north = square_grid(40.0)
    u = shape_enu("sombrero", east, north, 5000.0)
    r_km = np.hypot(east, north) / 1000
    centre = u[2][r_km < 1].mean()
    moat = u[2][(r_km > 9) & (r_km < 16)]
    assert centre > 0.9
    assert moat.max() < 0 and moat.min() < -0.2 * centre


def test_elongated_sill_spans_about_40_by_30_km():
    east, north = square_grid(50.0)
    azimuth = np.deg2rad(30.0)  # default orientation of the major axis
    along = east * np.sin(azimuth) + north * np.cos(azimuth)
    across = east * np.cos(azimuth) - north * np.sin(azimuth)
    up = shape_enu("elongated_sill", east, north, 8000.0)[2]
    uplifted = up >= 0.2 * up.max()
    length, width = np.ptp(along[uplifted]) / 1000, np.ptp(across[uplifted]) / 1000
    assert 35 < length < 45 and 26 < width < 34
    assert 1.2 < length / width < 1.5


def test_twin_sources_have_two_maxima():
    from scipy.ndimage import maximum_filter

    east, north = square_grid(40.0)
    for seed in range(5):
        up = shape_enu("twin_sources", east, north, 4000.0, np.random.default_rng(seed))[2]
        peaks = (up == maximum_filter(up, size=5)) & (up > 0.2 * up.max())
        assert peaks.sum() == 2, seed


def test_off_centre_peak_is_offset_from_the_summit():
    east, north = square_grid(40.0)
    u = shape_enu("off_centre", east, north, 4000.0)
    peak = np.unravel_index(np.argmax(norm(u)), east.shape)
    assert np.hypot(east[peak], north[peak]) == pytest.approx(5000.0, abs=PIXEL_M)
    assert north[peak] > 4000  # default: north of the summit, as Sabancaya's source
    for seed in range(5):
        u = shape_enu("off_centre", east, north, 4000.0, np.random.default_rng(seed))
        peak = np.unravel_index(np.argmax(norm(u)), east.shape)
        assert 3.8e3 < np.hypot(east[peak], north[peak]) < 7.2e3


def test_geothermal_field_subsides():
    east, north = square_grid(20.0)
    u = shape_enu("geothermal_subsidence", east, north, 1500.0)
    assert u[2].min() == pytest.approx(-norm(u).max(), rel=0.05)
    assert u[2].max() <= 0


def test_bad_arguments_fail_with_one_line():
    east, north = square_grid(5.0)
    with pytest.raises(ValueError, match="unknown demo shape 'dyke'"):
        shape_enu("dyke", east, north, 3000.0)
    with pytest.raises(ValueError, match="depth_m"):
        shape_enu("sombrero", east, north, 0.0)
