"""LOS unit vectors and projection: sign conventions on both passes (physics notes section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.core.los import los_unit_vector, project_enu_to_los
from volcdet.core.phase import wrap_phase, wrapped_phase_from_displacement
from volcdet.simulation.los_sets import incidence_heading_deg


@pytest.mark.parametrize(
    ("incidence", "heading", "expected"),
    [
        (39.0, -12.4, (-0.615, -0.134, 0.777)),  # ascending: ground-to-satellite points west
        (39.0, -167.6, (0.615, -0.134, 0.777)),  # descending: points east
        (30.0, -12.4, (-0.489, -0.107, 0.866)),
        (46.0, -167.6, (0.703, -0.153, 0.695)),
    ],
)
def test_unit_vectors_match_the_central_andes_table(incidence, heading, expected):
    vector = los_unit_vector(incidence, heading)
    np.testing.assert_allclose(vector, expected, atol=2e-3)
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert incidence_heading_deg(vector) == pytest.approx((incidence, heading))


def test_projection_signs_on_both_passes():
    ascending, descending = los_unit_vector(39.0, -12.4), los_unit_vector(39.0, -167.6)
    uplift, eastward = (0.0, 0.0, 10.0), (10.0, 0.0, 0.0)
    for los in (ascending, descending):
        assert project_enu_to_los(*uplift, los) > 0  # uplift moves toward the satellite
    assert project_enu_to_los(*eastward, ascending) < 0 < project_enu_to_los(*eastward, descending)


def test_wrapping_period_is_half_the_wavelength():
    d = np.array([0.0, 27.732881, 55.465763, 10.0, 10.0 + 27.732881])
    phase = wrapped_phase_from_displacement(d)
    np.testing.assert_allclose(phase[:3], 0.0, atol=1e-4)
    assert phase[3] == pytest.approx(phase[4], abs=1e-4)
    assert np.all(
        (wrap_phase(np.linspace(-20, 20, 101)) >= -np.pi)
        & (wrap_phase(np.linspace(-20, 20, 101)) < np.pi)
    )
