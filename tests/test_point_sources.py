"""Point compound dislocation model against Nikkhoo's reference values, and the Mogi limit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

from volcdet.sources import mogi_displacement, point_cdm_displacement

REFERENCE = json.loads((REPO / "tests/data/cdm_reference_values.json").read_text())
META = REFERENCE["meta"]


@pytest.mark.parametrize("case", REFERENCE["pcdm"], ids=lambda c: c["name"])
def test_pcdm_matches_reference_implementation(case):
    got = point_cdm_displacement(
        np.array(META["X"], float),
        np.array(META["Y"], float),
        META["X0"],
        META["Y0"],
        META["depth"],
        case["omega"],
        case["dv"],
        META["nu"],
    )
    for component, values in zip(("ue", "un", "uv"), got, strict=True):
        expected = np.array(case[component])
        assert np.abs(values - expected).max() / np.abs(expected).max() < 1e-9, component


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
