"""Monte Carlo atmosphere: covariance of the fields, seeds, noise-level scaling, parameter draws
and the per-pass parameter file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from volcdet.simulation.atmosphere import (
    DEFAULT_FIT,
    AtmosphereParameters,
    atmosphere_parameters_from_table,
    draw_variogram_parameters,
    load_atmosphere_parameters,
    save_atmosphere_parameters,
    simulate_atmosphere,
    snap_range_m,
)
from volcdet.simulation.random_fields import covariance, gaussian_random_field

DESCENDING = (4.6025, 0.1719)
ASCENDING = (8.299, 1.9365)


def lag_covariance(fields: np.ndarray, lag_px: int, axis: int) -> float:
    """Mean of f(x) f(x + lag) over fields and pixels along one axis."""
    n = fields.shape[axis]
    head = np.take(fields, np.arange(n - lag_px), axis=axis)
    tail = np.take(fields, np.arange(lag_px, n), axis=axis)
    return float(np.mean(head * tail, dtype=np.float64))


@pytest.mark.parametrize(("model", "range_m"), [("exponential", 2000.0), ("spherical", 5000.0)])
def test_simulated_fields_have_the_fitted_covariance(model, range_m):
    """40 fields of 256 x 256 px at 200 m scaled to std 3 mm, nugget share 0.2, no jitter: the
    covariance at lags 0-15 px along both axes is 9 (0.8 rho(h) + 0.2 [h = 0]) within 0.3 mm^2
    (3% of the variance; a 30% range error or a missing nugget is off by >= 0.66)."""
    params = AtmosphereParameters(
        "descending",
        (3.0, 0.0),
        [{"model": model, "sill_mm2": 8.0, "range_m": range_m, "nugget_mm2": 2.0}],
        noise_statistic="std",
        range_jitter=0.0,
    )
    fields, meta = simulate_atmosphere(params, 40, (256, 256), 200.0, np.random.default_rng(0))
    drawn_range_m = meta[0]["range_m"]
    assert drawn_range_m == pytest.approx(range_m, rel=0.051)
    for lag_px in (0, 1, 3, 8, 15):
        rho = covariance(model, lag_px * 200.0, 1.0, drawn_range_m)
        expected = 9.0 * (1.0 if lag_px == 0 else 0.8 * rho)
        for axis in (1, 2):
            assert lag_covariance(fields, lag_px, axis) == pytest.approx(expected, abs=0.3)


def test_random_fields_have_the_requested_covariance():
    """The underlying synthesis (random_fields): 40 fields 128 x 128, sill 1, within 0.06."""
    rng = np.random.default_rng(0)
    fields = gaussian_random_field((128, 128), 200.0, "spherical", 1.0, 3000.0, rng, n_fields=40)
    for lag_px in (0, 5, 15, 30):
        assert lag_covariance(fields, lag_px, 2) == pytest.approx(
            covariance("spherical", lag_px * 200.0, 1.0, 3000.0), abs=0.06
        )


def two_fit_parameters(**kwargs) -> AtmosphereParameters:
    return AtmosphereParameters(
        "descending",
        DESCENDING,
        [
            {"model": "exponential", "sill_mm2": 4.0, "range_m": 5e3, "nugget_mm2": 0.1},
            {"model": "spherical", "sill_mm2": 9.0, "range_m": 12e3, "nugget_mm2": 0.0},
        ],
        **kwargs,
    )


def test_same_seed_gives_bit_identical_fields():
    params = two_fit_parameters()
    a, meta_a = simulate_atmosphere(params, 20, (64, 64), 200.0, np.random.default_rng(5))
    b, meta_b = simulate_atmosphere(params, 20, (64, 64), 200.0, np.random.default_rng(5))
    assert a.dtype == np.float32 and a.shape == (20, 64, 64)
    assert a.tobytes() == b.tobytes()
    assert meta_a == meta_b
    c, _ = simulate_atmosphere(params, 20, (64, 64), 200.0, np.random.default_rng(6))
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("statistic", ["peak", "std"])
def test_fields_are_scaled_to_the_drawn_noise_level(statistic):
    """400 fields of 32 x 32: zero mean; each field's max |f| (peak) or spatial std equals its
    drawn level; the levels follow N(8.299, 1.9365) (mean within 0.3 mm, std within 15%)."""
    params = AtmosphereParameters(
        "ascending",
        ASCENDING,
        [{"model": "spherical", "sill_mm2": 9.0, "range_m": 8e3, "nugget_mm2": 0.5}],
        noise_statistic=statistic,
    )
    fields, meta = simulate_atmosphere(params, 400, (32, 32), 200.0, np.random.default_rng(1))
    flat = fields.reshape(400, -1).astype(np.float64)
    measured = np.abs(flat).max(axis=1) if statistic == "peak" else flat.std(axis=1)
    levels = np.array([m[f"{statistic}_mm"] for m in meta])
    np.testing.assert_allclose(measured, levels, rtol=1e-5)
    np.testing.assert_allclose(flat.mean(axis=1), 0.0, atol=1e-5)
    assert levels.mean() == pytest.approx(ASCENDING[0], abs=0.3)
    assert levels.std() == pytest.approx(ASCENDING[1], rel=0.15)


def test_draws_resample_the_fitted_rows_with_range_jitter():
    params = two_fit_parameters()
    draws = draw_variogram_parameters(params, np.random.default_rng(2), 2000)
    assert set(draws.fit_index) == {0, 1}
    fits = pd.DataFrame(params.fits).iloc[draws.fit_index].reset_index(drop=True)
    assert (draws.model == fits.model).all()
    ratio = draws.range_m / fits.range_m
    assert ratio.min() >= np.exp(-0.2 - 0.051) and ratio.max() <= np.exp(0.2 + 0.051)
    assert ratio.min() < 0.87 and ratio.max() > 1.15  # the jitter is used
    assert len(np.unique(draws.range_m)) <= 12  # snapped to 10% log steps: batches share spectra
    np.testing.assert_allclose(draws.nugget_share, np.where(draws.fit_index == 0, 0.1 / 4.1, 0.0))
    assert draws.level_mm.min() > 0


def test_range_snapping_is_on_a_ten_percent_log_grid():
    ranges = np.array([1000.0, 3333.0, 45_000.0])
    snapped = snap_range_m(ranges)
    np.testing.assert_allclose(np.log(snapped) / 0.1, np.round(np.log(snapped) / 0.1), atol=1e-9)
    assert np.all(np.abs(snapped / ranges - 1) <= 0.052)


def test_parameter_file_round_trip(tmp_path):
    table = pd.DataFrame(
        {
            "pass": ["ascending", "descending", "descending", "ascending"],
            "status": ["ok", "ok", "skipped: constant", "ok"],
            "model": ["exponential", "spherical", "", "spherical"],
            "sill_mm2": [20.0, 5.0, np.nan, 7.5],
            "range_m": [4000.0, 9000.0, np.nan, 15000.0],
            "nugget_mm2": [1.0, 0.2, np.nan, 0.0],
        }
    )
    params = atmosphere_parameters_from_table(
        table, {"ascending": list(ASCENDING), "descending": list(DESCENDING)}, "std"
    )
    assert len(params["ascending"].fits) == 2 and len(params["descending"].fits) == 1
    save_atmosphere_parameters(params, tmp_path / "a.json")

    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    doc = json.loads((tmp_path / "a.json").read_text(), parse_constant=reject)
    assert set(doc) == {"ascending", "descending"}
    assert doc["descending"]["noise_mm"] == list(DESCENDING)
    assert doc["descending"]["noise_statistic"] == "std"
    for pass_direction in ("ascending", "descending"):
        loaded = load_atmosphere_parameters(tmp_path / "a.json", pass_direction)
        assert loaded == params[pass_direction]
    with pytest.raises(KeyError, match="no atmosphere parameters for pass 'sideways'"):
        load_atmosphere_parameters(tmp_path / "a.json", "sideways")


def test_pass_without_fits_falls_back_to_the_default(caplog):
    table = pd.DataFrame(
        {
            "pass": ["descending"],
            "status": ["skipped: all-NaN"],
            "model": [""],
            "sill_mm2": [np.nan],
            "range_m": [np.nan],
            "nugget_mm2": [np.nan],
        }
    )
    params = atmosphere_parameters_from_table(table, {"descending": DESCENDING})["descending"]
    assert params.fits == [DEFAULT_FIT] and params.source == "default"
    assert params.noise_statistic == "peak"
    assert "no fitted variogram" in caplog.text


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError, match="noise_statistic 'rms'"):
        two_fit_parameters(noise_statistic="rms")
    with pytest.raises(ValueError, match="invalid variogram fit"):
        AtmosphereParameters(
            "ascending",
            ASCENDING,
            [{"model": "cubic", "sill_mm2": 1.0, "range_m": 1e3, "nugget_mm2": 0.0}],
        )
    with pytest.raises(ValueError, match="no variogram fits"):
        AtmosphereParameters("ascending", ASCENDING, [])
