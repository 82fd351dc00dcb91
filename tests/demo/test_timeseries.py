"""Each demo track is a time series: its velocity is the least-squares rate, its interferograms
are differences of its acquisitions, and its atmosphere has the stated size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.demo.atmosphere_series import (
    EpochAtmosphere,
    TurbulenceScreens,
    draw_epoch_atmosphere,
)
from volcdet.demo.timeseries import (
    SeparableTerm,
    TrackSeries,
    acquisition_dates,
    linear_rate,
    rate_weights,
    years_since,
)

SHAPE = (96, 80)
PIXEL_M = 200.0


def test_least_squares_rate_of_a_noise_free_series():
    """A line a + v t sampled irregularly gives back v exactly, whatever a."""
    times = np.array([0.0, 0.033, 0.1, 0.7, 1.3, 2.2, 3.9, 4.95])
    rate = np.array([[2.5, -7.0], [0.0, 15.0]])
    stack = 3.0 + rate[None] * times[:, None, None]
    np.testing.assert_allclose(linear_rate(times, stack), rate, atol=1e-12)
    weights = rate_weights(times)
    assert weights.sum() == pytest.approx(0.0, abs=1e-12)
    assert weights @ times == pytest.approx(1.0)


def test_least_squares_rate_is_not_the_end_point_difference():
    """With noise on one epoch the OLS slope differs from (d_n - d_0) / T, as it should."""
    times = np.linspace(0.0, 5.0, 11)
    series = 2.0 * times
    series[-1] += 10.0
    rate = float(linear_rate(times, series))
    assert 2.0 < rate < 2.0 + 10.0 / 5.0
    assert rate == pytest.approx(
        2.0 + 10.0 * (times[-1] - times.mean()) / ((times - times.mean()) ** 2).sum()
    )


def test_acquisitions_lie_on_the_12_day_grid():
    rng = np.random.default_rng(0)
    start, end = pd.Timestamp("2015-01-03"), pd.Timestamp("2019-12-20")
    dates = acquisition_dates(start, end, 60, rng)
    assert len(dates) == 60 and dates[0] == start and dates.is_monotonic_increasing
    assert ((dates - start).days % 12 == 0).all() and dates[-1] <= end
    assert (end - dates[-1]).days < 12
    with pytest.raises(ValueError, match="do not fit"):
        acquisition_dates(start, start + pd.Timedelta(days=36), 5, rng)


def _series(turbulence_mm: float = 6.0, rate: float = 4.0) -> TrackSeries:
    rng = np.random.default_rng(1)
    dates = acquisition_dates(pd.Timestamp("2015-01-01"), pd.Timestamp("2019-12-31"), 20, rng)
    times = years_since(dates, dates[0])
    drawn = draw_epoch_atmosphere(dates, times, "ascending", rng)
    params = EpochAtmosphere(
        turbulence_mm=np.full(len(dates), turbulence_mm),
        scale_index=drawn.scale_index,
        stratified_mm_per_km=drawn.stratified_mm_per_km,
        ramp_east_mm_per_100km=drawn.ramp_east_mm_per_100km,
        ramp_north_mm_per_100km=drawn.ramp_north_mm_per_100km,
        stratified_trend_mm_per_km_yr=0.0,
    )
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float32)
    ground = rate * np.exp(-((yy - 40) ** 2 + (xx - 30) ** 2) / 200.0).astype(np.float32)
    relief_km = (xx / 80.0 - 0.5).astype(np.float32)
    terms = (
        SeparableTerm("ground", ground, times),
        SeparableTerm("stratified", relief_km, params.stratified_mm_per_km),
        SeparableTerm("ramp_east", (xx / 500.0).astype(np.float32), params.ramp_east_mm_per_100km),
    )
    valid = np.ones(SHAPE, bool)
    valid[5:9, 60:70] = False
    screens = TurbulenceScreens(SHAPE, PIXEL_M, params, 99, 0)
    return TrackSeries(times, terms, screens, valid, (slice(80, 90), slice(5, 15)))


def test_velocity_equals_the_pixelwise_fit_of_the_explicit_stack():
    series = _series()
    stack = np.stack([series.epoch(i) for i in range(len(series.times_yr))])
    explicit = linear_rate(series.times_yr, stack)
    fast = series.velocity()
    np.testing.assert_array_equal(np.isnan(fast), ~series.valid)
    np.testing.assert_allclose(fast, explicit, atol=2e-4, equal_nan=True)
    assert np.nanstd(fast) > 0.1  # the atmosphere is really in it


def test_velocity_of_a_noise_free_series_is_the_ground_rate():
    """Without atmosphere the velocity is the ground rate, shifted by the reference-area mean."""
    full = _series(turbulence_mm=0.0)
    series = TrackSeries(full.times_yr, full.terms[:1], full.screens, full.valid, full.reference)
    ground = series.terms[0].field
    expected = ground - ground[series.reference].mean()
    velocity = series.velocity()
    np.testing.assert_allclose(velocity[series.valid], expected[series.valid], atol=1e-5)
    assert np.nanmax(velocity) == pytest.approx(4.0 - ground[series.reference].mean(), abs=1e-3)


def test_interferogram_is_the_difference_of_two_acquisitions():
    series = _series()
    for i, j in ((0, 1), (4, 5), (2, 17)):
        np.testing.assert_allclose(
            series.interferogram(i, j), series.epoch(j) - series.epoch(i), atol=1e-4, equal_nan=True
        )


def test_screens_are_reproducible_and_independent_between_acquisitions():
    series = _series()
    a, b = series.screens.screen(3), series.screens.screen(3)
    np.testing.assert_array_equal(a, b)
    c = series.screens.screen(4)
    assert abs(np.corrcoef(a.ravel(), c.ravel())[0, 1]) < 0.2


@pytest.mark.parametrize("scale_index", [0, 1, 2])
def test_turbulence_has_the_requested_std(scale_index):
    """Unit-variance amplitude spectra: the screen std is sigma, for every outer scale."""
    n = 8
    params = EpochAtmosphere(
        turbulence_mm=np.full(n, 5.0),
        scale_index=np.full(n, scale_index),
        stratified_mm_per_km=np.zeros(n),
        ramp_east_mm_per_100km=np.zeros(n),
        ramp_north_mm_per_100km=np.zeros(n),
        stratified_trend_mm_per_km_yr=0.0,
    )
    screens = TurbulenceScreens((256, 320), PIXEL_M, params, 5, 1)
    stds = [screens.screen(i).std() for i in range(n)]
    assert np.mean(stds) == pytest.approx(5.0, rel=0.15)
