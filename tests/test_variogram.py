"""Variograms: FFT all-pairs estimator equals brute force; fits recover known parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_grid

from volcdet.random_fields import gaussian_random_field
from volcdet.rasters import write_geotiff
from volcdet.variogram import (
    empirical_semivariogram,
    fit_variogram,
    pass_summary,
    remove_plane,
    variogram_table,
)


def test_fft_semivariogram_equals_brute_force_with_holes():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(12, 10)) + 0.3 * np.arange(10)[None, :]
    image[3, 4] = np.nan
    image[7, :3] = np.nan
    lags, gamma, counts = empirical_semivariogram(image, 1.0, 20.0, 20)
    z = remove_plane(image)
    where = np.argwhere(np.isfinite(z))
    values = z[np.isfinite(z)]
    distance = np.hypot(*(where[:, None, :] - where[None, :, :]).transpose(2, 0, 1))
    squared = (values[:, None] - values[None, :]) ** 2
    edges = np.linspace(0, 20, 21)
    expected = []
    for k in range(20):
        pairs = (distance > edges[k]) & (distance <= edges[k + 1])
        if pairs.any():
            expected.append(
                (pairs.sum(), squared[pairs].sum() / (2 * pairs.sum()), distance[pairs].mean())
            )
    expected = np.array(expected)
    np.testing.assert_allclose(counts, expected[:, 0])
    np.testing.assert_allclose(gamma, expected[:, 1], rtol=1e-6)
    np.testing.assert_allclose(lags, expected[:, 2], rtol=1e-6)


def test_plane_removal_leaves_zero_mean_and_no_trend():
    rr, cc = np.mgrid[0:20, 0:30]
    residual = remove_plane(5.0 + 0.2 * rr - 0.1 * cc)
    np.testing.assert_allclose(residual, 0.0, atol=1e-9)


@pytest.mark.parametrize(("model", "range_m"), [("exponential", 4000.0), ("spherical", 10000.0)])
def test_fit_recovers_sill_range_and_model(model, range_m):
    """5 fields of 512 x 512 px at 200 m, sill 25 mm^2, nugget 1 mm^2, 200 m lag bins to 20 km:
    the median fit has sill within 15%, range within 20%, nugget within 0.5 mm^2, and most
    fields pick the true model (one field alone cannot always tell the two apart)."""
    rng = np.random.default_rng(1)
    fits = []
    for _ in range(5):
        field = gaussian_random_field((512, 512), 200.0, model, 25.0, range_m, rng, nugget=1.0)
        fits.append(fit_variogram(*empirical_semivariogram(field, 200.0, 20_000.0, 100)))
    assert sum(f.model == model for f in fits) >= 3
    assert np.median([f.sill_mm2 for f in fits]) == pytest.approx(25.0, rel=0.15)
    assert np.median([f.range_m for f in fits if f.model == model]) == pytest.approx(
        range_m, rel=0.2
    )
    assert np.median([f.nugget_mm2 for f in fits]) == pytest.approx(1.0, abs=0.5)


def test_table_skips_all_nan_and_constant_interferograms(tmp_path):
    rng = np.random.default_rng(2)
    grid = small_grid(64, 64)
    write_geotiff(
        tmp_path / "good.tif",
        gaussian_random_field((64, 64), 200.0, "exponential", 9.0, 2000.0, rng),
        grid,
    )
    write_geotiff(tmp_path / "nan.tif", np.full((64, 64), np.nan), grid)
    write_geotiff(tmp_path / "flat.tif", np.full((64, 64), 3.0), grid)
    listing = pd.DataFrame(
        {
            "path": ["good.tif", "nan.tif", "flat.tif"],
            "track_id": "T1",
            "pass": "ascending",
            "date1": "2016-01-01",
            "date2": "2016-01-13",
        }
    )
    table = variogram_table(listing, tmp_path, 10_000.0, 20)
    assert table.status.tolist() == ["ok", "skipped: all-NaN", "skipped: constant"]
    assert table.sill_mm2.iloc[0] > 0 and np.isnan(table.sill_mm2.iloc[1])
    summary = pass_summary(table)
    assert summary["count"].tolist() == [1]
