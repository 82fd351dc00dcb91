"""Atmospheric delay of every acquisition of a demo track (not the simulator's atmosphere).

Each acquisition gets its own (Hanssen 2001, Radar Interferometry, ch. 4):

* turbulent delay: a Gaussian field with a two-regime power-law spectrum
  P(k) ~ (k^2 + L0^-2)^(-4/3) (1 + (k / kb)^2)^(-1/2), i.e. k^-8/3 between the outer scale L0
  and 2 km and k^-11/3 below 2 km (2-D forms of Hanssen's -5/3 and -8/3 one-dimensional
  regimes), flat beyond L0 in {6, 15, 40} km; synthesised up to wavelengths of 4 pixels
  (the power beyond is negligible) with a standard deviation that varies between acquisitions
  (log-normal, median 4.5 mm on ascending evening passes and 2.6 mm on descending morning
  passes, up to 1.6 x in the Altiplano wet season, December-March). With ~130 acquisitions
  over 5 years this gives the paper's residual noise of real velocity maps, a cumulative peak of
  about 8.3 mm (ascending) and 4.6 mm (descending) per 51.2 km patch (Beker et al. 2023, 2.2);
* stratified delay k (h - h_ref) with k = N(0, 3 mm/km) + 4 mm/km x seasonal cycle (peak in
  February) + a residual trend of N(0, 0.6) mm/km/yr per track that varies by 0.2 mm/km/yr
  over ~60 km (physics notes 5.1 item 1 suggests up to ~1 mm/yr/km of elevation-correlated
  velocity error after correction; Parker et al. 2015 for the per-interferogram size);
* a long-wavelength ramp of N(0, 2) mm per 100 km in east and north, plus a trend of
  N(0, 0.3) mm/yr per 100 km (orbit and reference residuals).

The turbulent screens are regenerated on demand from their own stream per (track, acquisition),
so the velocity (a weighted sum over all acquisitions, accumulated in the Fourier domain) and
any interferogram (a difference of two acquisitions) come from the very same screens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.fft

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.core.random import Purpose, stream
from volcdet.demo.fields import radial_wavenumber

#: Median per-acquisition std of the turbulent delay (mm): evening ascending passes are more
#: turbulent than morning descending ones over the Andes.
TURBULENCE_MEDIAN_MM = {"ascending": 4.5, "descending": 2.6}
#: Log-normal spread of the per-acquisition std.
TURBULENCE_LOG_SPREAD = 0.35
#: Outer scales of the turbulence (m); each acquisition uses one of them.
OUTER_SCALES_M = (6_000.0, 15_000.0, 40_000.0)
#: Wavelength (m) of the change from the k^-8/3 to the k^-11/3 regime (Hanssen 2001).
REGIME_BREAK_M = 2_000.0
#: Shortest wavelength synthesised, in pixels.
BAND_LIMIT_PX = 4
#: Std of the per-track residual trend of the stratified delay (mm per km of relief per year)
#: and of its spatial variation over ~60 km.
STRATIFIED_TREND_MM_PER_KM_YR = 0.6
STRATIFIED_DRIFT_MM_PER_KM_YR = 0.2
#: Decimal-year phase of the wet-season peak (mid-February).
WET_SEASON_PEAK = 0.12


def decimal_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """Calendar dates as decimal years (for seasonal terms)."""
    start = pd.to_datetime(dates.year.astype(str) + "-01-01")
    return np.asarray(dates.year + (dates - start).days / DAYS_PER_YEAR, dtype=np.float64)


@dataclass(frozen=True)
class EpochAtmosphere:
    """Per-acquisition parameters of a track's atmosphere (arrays over acquisitions)."""

    turbulence_mm: np.ndarray
    scale_index: np.ndarray
    stratified_mm_per_km: np.ndarray
    ramp_east_mm_per_100km: np.ndarray
    ramp_north_mm_per_100km: np.ndarray
    stratified_trend_mm_per_km_yr: float


def draw_epoch_atmosphere(
    dates: pd.DatetimeIndex, times_yr: np.ndarray, pass_direction: str, rng: np.random.Generator
) -> EpochAtmosphere:
    """Draw every acquisition's turbulence std, outer scale, stratification and ramp."""
    n = len(dates)
    season = np.cos(2.0 * np.pi * (decimal_year(dates) - WET_SEASON_PEAK))
    wet = np.clip(season, 0.0, None) ** 2
    sigma = (
        TURBULENCE_MEDIAN_MM[pass_direction]
        * np.exp(TURBULENCE_LOG_SPREAD * rng.standard_normal(n))
        * (1.0 + 0.6 * wet)
    )
    centred = times_yr - times_yr.mean()
    trend = float(rng.normal(0.0, STRATIFIED_TREND_MM_PER_KM_YR))
    ramp_trend = rng.normal(0.0, 0.3, 2)
    return EpochAtmosphere(
        turbulence_mm=sigma,
        scale_index=rng.integers(0, len(OUTER_SCALES_M), n),
        stratified_mm_per_km=rng.normal(0.0, 3.0, n) + 4.0 * season,
        ramp_east_mm_per_100km=rng.normal(0.0, 2.0, n) + ramp_trend[0] * centred,
        ramp_north_mm_per_100km=rng.normal(0.0, 2.0, n) + ramp_trend[1] * centred,
        stratified_trend_mm_per_km_yr=trend,
    )


def turbulence_amplitude(k: np.ndarray, outer_scale_m: float) -> np.ndarray:
    """sqrt(P(k)) of the two-regime power law (zero at k = 0)."""
    with np.errstate(divide="ignore"):
        amplitude = (k * k + outer_scale_m**-2) ** (-2.0 / 3.0) * (
            1.0 + (k * REGIME_BREAK_M) ** 2
        ) ** (-0.25)
    amplitude[k == 0] = 0.0
    return amplitude


class TurbulenceScreens:
    """The turbulent screens of every acquisition of one track (mm, float32).

    Screen i = sigma_i * irfft2(A_g(i) * Z_i), where Z_i (complex normal, inside the band limit
    only) comes from the stream (seed, ``DEMO_ATMOSPHERE_EPOCHS``, track, i); A_g is the amplitude of outer scale g scaled to
    unit variance on this grid.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        pixel_size_m: float,
        params: EpochAtmosphere,
        seed: int,
        track: int,
    ) -> None:
        self.shape = shape
        self.params = params
        self.seed, self.track = seed, track
        ny, nx = shape
        my, mx = ny // (2 * BAND_LIMIT_PX), nx // (2 * BAND_LIMIT_PX)
        self._rows = np.r_[0 : my + 1, ny - my : ny]
        self._cols = np.arange(mx + 1)
        k = radial_wavenumber(shape, pixel_size_m)[np.ix_(self._rows, self._cols)]
        weight = np.where(self._cols == 0, 1.0, 4.0)[None, :]
        self._amplitudes = []
        for outer in OUTER_SCALES_M:
            amplitude = turbulence_amplitude(k, outer)
            variance = float((weight * amplitude**2).sum()) / float(ny * nx) ** 2
            self._amplitudes.append((amplitude / np.sqrt(variance)).astype(np.float32))

    def _draws(self, i: int) -> np.ndarray:
        """Band-limited complex coefficients of acquisition i."""
        rng = stream(self.seed, Purpose.DEMO_ATMOSPHERE_EPOCHS, self.track, i)
        parts = rng.standard_normal((2, self._rows.size, self._cols.size), dtype=np.float32)
        coefficients = np.empty(parts.shape[1:], np.complex64)
        coefficients.real = parts[0]
        coefficients.imag = parts[1]
        return coefficients

    def _synthesise(self, spectrum_box: np.ndarray) -> np.ndarray:
        ny, nx = self.shape
        spectrum = np.zeros((ny, nx // 2 + 1), np.complex64)
        spectrum[np.ix_(self._rows, self._cols)] = spectrum_box
        return scipy.fft.irfft2(spectrum, s=self.shape).astype(np.float32, copy=False)

    def _coloured(self, i: int, coefficients: np.ndarray) -> np.ndarray:
        scale = np.float32(self.params.turbulence_mm[i])
        return scale * self._amplitudes[int(self.params.scale_index[i])] * coefficients

    def screen(self, i: int) -> np.ndarray:
        """Turbulent delay of acquisition i."""
        return self._synthesise(self._coloured(i, self._draws(i)))

    def difference(self, i: int, j: int) -> np.ndarray:
        """screen(j) - screen(i), in one inverse FFT."""
        return self._synthesise(
            self._coloured(j, self._draws(j)) - self._coloured(i, self._draws(i))
        )

    def weighted_sum(self, weights: np.ndarray) -> np.ndarray:
        """sum_i weights_i screen(i), accumulated in the Fourier domain (one inverse FFT)."""
        box = np.zeros((self._rows.size, self._cols.size), np.complex64)
        for i, weight in enumerate(np.asarray(weights, dtype=np.float64)):
            box += np.float32(weight) * self._coloured(i, self._draws(i))
        return self._synthesise(box)
