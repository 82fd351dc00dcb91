"""Random fields and Monte Carlo atmosphere: covariance, seeds, peak scaling, parameter file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.atmosphere import (
    AtmosphereParameters,
    atmosphere_parameters_from_table,
    load_atmosphere_parameters,
    save_atmosphere_parameters,
    simulate_atmosphere,
)
from volcdet.random_fields import covariance, gaussian_random_field


@pytest.mark.parametrize("model", ["exponential", "spherical"])
def test_fields_have_the_requested_covariance(model):
    """Average of 40 fields of 128 x 128 px at 200 m: covariance within 0.06 of the model (sill 1)."""
    rng = np.random.default_rng(0)
    fields = gaussian_random_field((128, 128), 200.0, model, 1.0, 3000.0, rng, n_fields=40).astype(
        np.float64
    )
    for lag_px in (0, 5, 15, 30):
        empirical = np.mean(fields[:, :, : 128 - lag_px] * fields[:, :, lag_px:])
        assert empirical == pytest.approx(covariance(model, lag_px * 200.0, 1.0, 3000.0), abs=0.06)


def test_same_seed_gives_bit_identical_fields():
    params = AtmosphereParameters(
        "descending",
        (4.6025, 0.1719),
        [{"model": "exponential", "sill_mm2": 4.0, "range_m": 5e3, "nugget_mm2": 0.1}],
    )
    a, meta_a = simulate_atmosphere(params, 3, (64, 64), 200.0, np.random.default_rng(5))
    b, meta_b = simulate_atmosphere(params, 3, (64, 64), 200.0, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert meta_a == meta_b
    c, _ = simulate_atmosphere(params, 3, (64, 64), 200.0, np.random.default_rng(6))
    assert not np.array_equal(a, c)


def test_fields_are_scaled_to_the_pass_noise_peak():
    params = AtmosphereParameters(
        "ascending",
        (8.299, 1.9365),
        [{"model": "spherical", "sill_mm2": 9.0, "range_m": 8e3, "nugget_mm2": 0.0}],
    )
    fields, meta = simulate_atmosphere(params, 200, (32, 32), 200.0, np.random.default_rng(1))
    peaks = np.abs(fields).reshape(200, -1).max(axis=1)
    np.testing.assert_allclose(peaks, [m["peak_mm"] for m in meta], rtol=1e-5)
    assert np.mean(peaks) == pytest.approx(8.299, abs=0.4)
    assert np.std(peaks) == pytest.approx(1.9365, rel=0.2)
    np.testing.assert_allclose(fields.reshape(200, -1).mean(axis=1), 0.0, atol=1e-4)


def test_parameter_file_round_trip(tmp_path):
    table = pd.DataFrame(
        {
            "pass": ["ascending", "descending", "descending"],
            "status": ["ok", "ok", "skipped: constant"],
            "model": ["exponential", "spherical", ""],
            "sill_mm2": [20.0, 5.0, np.nan],
            "range_m": [4000.0, 9000.0, np.nan],
            "nugget_mm2": [1.0, 0.2, np.nan],
        }
    )
    params = atmosphere_parameters_from_table(
        table, {"ascending": [8.299, 1.9365], "descending": [4.6025, 0.1719]}
    )
    assert len(params["descending"].fits) == 1  # the skipped row is left out
    save_atmosphere_parameters(params, tmp_path / "a.json")
    loaded = load_atmosphere_parameters(tmp_path / "a.json", "descending")
    assert loaded == params["descending"]
    with pytest.raises(KeyError, match="no atmosphere parameters for pass 'sideways'"):
        load_atmosphere_parameters(tmp_path / "a.json", "sideways")
