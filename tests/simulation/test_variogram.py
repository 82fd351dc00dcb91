"""Variograms: FFT all-pairs estimator equals brute force; fits recover known parameters; the
table reads GeoTIFFs, skips bad rasters with a documented status and summarises per pass."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from volcdet.core.errors import RegionError
from volcdet.simulation.random_fields import gaussian_random_field
from volcdet.simulation.variogram import (
    TABLE_COLUMNS,
    empirical_semivariogram,
    fit_variogram,
    pass_summary,
    plot_variogram_fits,
    remove_plane,
    semivariance,
    variogram_table,
)

PIXEL_M = 200.0


def brute_force_semivariogram(image, pixel_size_m, max_lag_m, n_bins):
    """Every distinct pair of valid pixels, bins (k, k+1] * max_lag / n_bins."""
    z = remove_plane(image)
    where = np.argwhere(np.isfinite(z))
    values = z[np.isfinite(z)]
    i, j = np.triu_indices(len(values), k=1)
    distance = np.hypot(*(where[i] - where[j]).T) * pixel_size_m
    squared = (values[i] - values[j]) ** 2
    edges = np.linspace(0.0, max_lag_m, n_bins + 1)
    rows = []
    for k in range(n_bins):
        in_bin = (distance > edges[k]) & (distance <= edges[k + 1])
        if in_bin.any():
            n = in_bin.sum()
            rows.append((distance[in_bin].mean(), squared[in_bin].sum() / (2 * n), n))
    return tuple(np.array(column) for column in zip(*rows, strict=True))


@pytest.mark.parametrize(
    ("max_lag_m", "n_bins"),
    # shorter than, about, longer than the image; 200 m bins put lags exactly on bin edges
    [(1_200.0, 7), (2_000.0, 13), (2_000.0, 10), (5_000.0, 30)],
)
def test_fft_semivariogram_equals_brute_force_with_holes(max_lag_m, n_bins):
    """13 x 11 px with an offset, a ramp and three holes: exact to 1e-9 (counts exactly)."""
    rng = np.random.default_rng(0)
    image = 100.0 + 3.0 * rng.normal(size=(13, 11)) + 0.5 * np.arange(11)[None, :]
    image[3, 4] = np.nan
    image[7, :3] = np.nan
    image[10:, 8:] = np.nan
    lags, gamma, counts = empirical_semivariogram(image, PIXEL_M, max_lag_m, n_bins)
    expected_lags, expected_gamma, expected_counts = brute_force_semivariogram(
        image, PIXEL_M, max_lag_m, n_bins
    )
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_allclose(gamma, expected_gamma, rtol=1e-9)
    np.testing.assert_allclose(lags, expected_lags, rtol=1e-9)


def test_remove_plane_uses_only_the_masked_pixels():
    rr, cc = np.mgrid[0:20, 0:30]
    image = 5.0 + 0.2 * rr - 0.1 * cc
    mask = np.ones(image.shape, bool)
    mask[:5] = False
    image[:5] = 1e6  # outliers outside the mask must not move the plane
    residual = remove_plane(image, mask)
    np.testing.assert_allclose(residual[mask], 0.0, atol=1e-9)
    assert np.isnan(residual[~mask]).all()
    with pytest.raises(ValueError, match="at least 3 valid pixels"):
        remove_plane(np.array([[1.0, np.nan], [np.nan, 2.0]]))


@pytest.mark.parametrize(("model", "range_m"), [("exponential", 4000.0), ("spherical", 8000.0)])
def test_fit_recovers_sill_range_nugget_and_model(model, range_m):
    """3 fields of 512 x 512 px at 200 m, partial sill 25 mm^2, nugget 1 mm^2, 100 bins to
    20 km: every field picks the true model, sill and range within 25%, nugget within 1 mm^2."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        field = gaussian_random_field((512, 512), PIXEL_M, model, 25.0, range_m, rng, nugget=1.0)
        fit = fit_variogram(*empirical_semivariogram(field, PIXEL_M, 20_000.0, 100))
        assert fit.model == model
        assert fit.sill_mm2 == pytest.approx(25.0, rel=0.25)
        assert fit.range_m == pytest.approx(range_m, rel=0.25)
        assert fit.nugget_mm2 == pytest.approx(1.0, abs=1.0)
        assert fit.n_pairs > 0 and fit.misfit < 0.05


@pytest.mark.parametrize(
    ("model", "params"),
    [("exponential", (0.5, 12.0, 2500.0)), ("spherical", (2.0, 30.0, 9000.0))],
)
def test_noise_free_variogram_gives_exact_parameters_and_model(model, params):
    """The clear case: a model curve itself is fitted back to 1e-4 by the same model."""
    lags = np.linspace(200.0, 20_000.0, 100)
    counts = np.linspace(5e5, 1e5, 100).round()
    fit = fit_variogram(lags, semivariance(model, lags, *params), counts)
    assert fit.model == model
    np.testing.assert_allclose(
        (fit.nugget_mm2, fit.sill_mm2, fit.range_m), params, rtol=1e-4, atol=1e-4
    )
    assert fit.misfit < 1e-8


def test_fit_needs_three_lag_bins():
    with pytest.raises(ValueError, match=">= 3 lag bins"):
        fit_variogram(np.array([200.0, 400.0]), np.array([1.0, 2.0]), np.array([10, 10]))


def write_tif(path: Path, data: np.ndarray, crs: str = "EPSG:32719") -> None:
    """A float32 GeoTIFF at 200 m, NaN nodata, written with rasterio directly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": crs,
        "transform": Affine(PIXEL_M, 0, 500_000.0, 0, -PIXEL_M, 7_400_000.0),
        "nodata": np.nan,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.float32), 1)


def listing(paths: list[str], passes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": paths,
            "track_id": [f"T{i}" for i in range(len(paths))],
            "pass": passes,
            "date1": "2016-01-01",
            "date2": "2016-01-13",
        }
    )


def test_table_round_trip_and_documented_skips(tmp_path, caplog):
    """GeoTIFFs (EPSG:32719, 200 m) in, one row per file out; bad rasters skipped and logged."""
    rng = np.random.default_rng(2)
    good = gaussian_random_field((96, 80), PIXEL_M, "exponential", 9.0, 2000.0, rng, nugget=0.3)
    good = good + 0.01 * np.arange(80)[None, :]  # a ramp the plane removal must take out
    good[10:20, 30:50] = np.nan
    rr, cc = np.mgrid[0:64, 0:64]
    write_tif(tmp_path / "ifg/good.tif", good)
    write_tif(tmp_path / "ifg/nan.tif", np.full((64, 64), np.nan))
    write_tif(tmp_path / "ifg/flat.tif", np.full((64, 64), 3.0))
    write_tif(tmp_path / "ifg/plane.tif", 1.0 + 0.5 * rr - 0.25 * cc)
    paths = ["ifg/good.tif", "ifg/nan.tif", "ifg/flat.tif", "ifg/plane.tif"]
    with caplog.at_level(logging.WARNING, logger="volcdet.simulation.variogram"):
        table = variogram_table(
            listing(paths, ["ascending", "descending", "descending", "ascending"]),
            tmp_path,
            10_000.0,
            50,
        )
    assert tuple(table.columns) == TABLE_COLUMNS
    assert table.status.tolist() == [
        "ok",
        "skipped: all-NaN",
        "skipped: constant",
        "skipped: constant",
    ]
    for name in ("nan.tif", "flat.tif", "plane.tif"):
        assert any(name in message for message in caplog.messages)
    assert "good.tif" not in " ".join(caplog.messages)
    expected = fit_variogram(
        *empirical_semivariogram(good.astype(np.float32).astype(float), PIXEL_M, 10_000.0, 50)
    )
    row = table.iloc[0]
    assert (row.model, row.sill_mm2, row.range_m, row.nugget_mm2, row.n_pairs) == (
        expected.model,
        expected.sill_mm2,
        expected.range_m,
        expected.nugget_mm2,
        expected.n_pairs,
    )
    assert row.valid_fraction == pytest.approx(1 - 200 / (96 * 80))
    assert row.path == "ifg/good.tif" and row.track_id == "T0"
    assert table.iloc[1:][["sill_mm2", "range_m", "nugget_mm2"]].isna().all().all()
    assert table.valid_fraction.iloc[1] == 0.0


def test_table_missing_file_and_geographic_crs_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ifg/missing\.tif"):
        variogram_table(listing(["ifg/missing.tif"], ["ascending"]), tmp_path, 5000.0, 10)
    write_tif(tmp_path / "geo.tif", np.ones((8, 8)), crs="EPSG:4326")
    with pytest.raises(RegionError, match=r"geo\.tif: needs a projected CRS"):
        variogram_table(listing(["geo.tif"], ["ascending"]), tmp_path, 5000.0, 10)


def test_pass_summary_counts_quantiles_and_model_shares():
    table = pd.DataFrame(
        {
            "pass": ["ascending"] * 4 + ["descending"] * 2,
            "status": ["ok", "ok", "ok", "skipped: constant", "skipped: all-NaN", "ok"],
            "model": ["exponential", "spherical", "exponential", "", "", "spherical"],
            "sill_mm2": [10.0, 20.0, 30.0, np.nan, np.nan, 5.0],
            "range_m": [1000.0, 2000.0, 6000.0, np.nan, np.nan, 4000.0],
            "nugget_mm2": [0.0, 1.0, 2.0, np.nan, np.nan, 0.5],
        }
    )
    summary = pass_summary(table).set_index("pass")
    assert summary.loc["ascending", "count"] == 3 and summary.loc["ascending", "skipped"] == 1
    assert summary.loc["descending", "count"] == 1 and summary.loc["descending", "skipped"] == 1
    assert summary.loc["ascending", "sill_mm2_mean"] == pytest.approx(20.0)
    assert summary.loc["ascending", "sill_mm2_std"] == pytest.approx(10.0)
    assert summary.loc["ascending", "range_m_q50"] == pytest.approx(2000.0)
    assert summary.loc["ascending", "range_m_q25"] == pytest.approx(1500.0)
    assert summary.loc["ascending", "share_exponential"] == pytest.approx(2 / 3)
    assert summary.loc["descending", "share_spherical"] == 1.0


def test_plot_writes_a_png(tmp_path):
    rng = np.random.default_rng(3)
    write_tif(
        tmp_path / "a.tif", gaussian_random_field((64, 64), PIXEL_M, "spherical", 4.0, 3e3, rng)
    )
    table = variogram_table(listing(["a.tif"], ["ascending"]), tmp_path, 6000.0, 20)
    plot_variogram_fits(table, tmp_path, tmp_path / "fits.png", 6000.0, 20)
    plot_variogram_fits(table.iloc[:0], tmp_path, tmp_path / "empty.png", 6000.0, 20)
    for name in ("fits.png", "empty.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
