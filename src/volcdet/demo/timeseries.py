"""A track's displacement time series and its velocity, built as LiCSBAS builds velocities.

Every acquisition holds the ground displacement at its date plus its own atmosphere
(``volcdet.demo.atmosphere_series``); the velocity is the per-pixel least-squares linear rate of
that series (ordinary least squares with an intercept, as LiCSBAS step 13 fits the cumulative
displacement, Morishita et al. 2020, Remote Sens. 12:424):

    v = sum_i w_i d_i,   w_i = (t_i - mean t) / sum_j (t_j - mean t)^2.

Because the estimator is linear, terms that are a fixed field times a function of time enter as
(w . g) f, and the turbulent screens are summed in the Fourier domain; the result equals the
pixel-by-pixel fit of the explicit stack (``linear_rate``) to float round-off. Each epoch and
the velocity are referenced to the mean of a small reference window, as LiCSBAS references to
a stable area, so every map carries an arbitrary constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.demo.atmosphere_series import TurbulenceScreens

#: Sentinel-1 repeat cycle of one satellite (days): acquisitions fall on this grid.
S1_REPEAT_DAYS = 12


def acquisition_dates(
    start: pd.Timestamp, end: pd.Timestamp, count: int, rng: np.random.Generator
) -> pd.DatetimeIndex:
    """``count`` dates on the 12-day grid from start to (at most) end, first and last included."""
    slots = np.arange(0, (end - start).days + 1, S1_REPEAT_DAYS)
    if count > slots.size:
        raise ValueError(f"{count} acquisitions do not fit {slots.size} repeat cycles")
    inner = rng.choice(np.arange(1, slots.size - 1), size=count - 2, replace=False)
    chosen = np.sort(np.concatenate([[0, slots.size - 1], inner]))
    return pd.DatetimeIndex([start + pd.Timedelta(days=int(slots[k])) for k in chosen])


def years_since(dates: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """Time of each date after ``origin`` in years."""
    return np.asarray((dates - origin).days, dtype=np.float64) / DAYS_PER_YEAR


def rate_weights(times_yr: np.ndarray) -> np.ndarray:
    """w with v = sum_i w_i d_i the least-squares slope of d(t) = a + v t (sum w = 0, sum w t = 1)."""
    t = np.asarray(times_yr, dtype=np.float64)
    centred = t - t.mean()
    return centred / float(centred @ centred)


def linear_rate(times_yr: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Per-pixel least-squares linear rate of a (n_epochs, ...) stack (NaN where an epoch is NaN)."""
    return np.tensordot(rate_weights(times_yr), np.asarray(stack, dtype=np.float64), axes=1)


@dataclass(frozen=True)
class SeparableTerm:
    """A displacement term g(t_i) f(x): ``field`` (e.g. mm/yr or mm/km) and ``values`` g(t_i)."""

    name: str
    field: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class TrackSeries:
    """The acquisitions of one track: times, separable terms, turbulent screens, valid pixels."""

    times_yr: np.ndarray
    terms: tuple[SeparableTerm, ...]
    screens: TurbulenceScreens
    valid: np.ndarray
    reference: tuple[slice, slice]

    def _referenced(self, field: np.ndarray) -> np.ndarray:
        """The field minus its mean over the valid pixels of the reference window, NaN outside."""
        window = field[self.reference][self.valid[self.reference]]
        out = (field - np.float32(window.mean())).astype(np.float32)
        out[~self.valid] = np.nan
        return out

    def _combine(self, coefficients: list[float], atmosphere: np.ndarray) -> np.ndarray:
        total = atmosphere.astype(np.float32, copy=True)
        for term, coefficient in zip(self.terms, coefficients, strict=True):
            total += np.float32(coefficient) * term.field
        return total

    def epoch(self, i: int) -> np.ndarray:
        """Displacement (mm) of acquisition i: ground at t_i plus its atmosphere, referenced."""
        return self._referenced(
            self._combine([t.values[i] for t in self.terms], self.screens.screen(i))
        )

    def interferogram(self, i: int, j: int) -> np.ndarray:
        """Unwrapped interferogram (mm) of acquisitions i and j: epoch(j) - epoch(i)."""
        return self._referenced(
            self._combine(
                [t.values[j] - t.values[i] for t in self.terms], self.screens.difference(i, j)
            )
        )

    def velocity(self) -> np.ndarray:
        """Least-squares linear rate (mm/yr) of the series, referenced, NaN outside valid."""
        weights = rate_weights(self.times_yr)
        return self._referenced(
            self._combine(
                [float(weights @ t.values) for t in self.terms],
                self.screens.weighted_sum(weights),
            )
        )
