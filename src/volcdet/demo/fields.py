"""Stationary Gaussian random surfaces by FFT filtering of white noise (the demo's own generator).

A field with power spectral density P(k) is the inverse FFT of the FFT of white noise multiplied
by sqrt(P(k)) (spectral synthesis; Peitgen & Saupe 1988, The Science of Fractal Images, ch. 2).
The spectrum here is a power law with an optional outer scale L0 (von Karman form),
P(k) = (k^2 + L0^-2)^(-beta / 2), which is a fractal surface for beta between 2 and 4
(Huang & Turcotte 1989, JGR 94:7491, for topography) and is flat beyond L0. The field is
periodic over the grid and is scaled to zero mean and unit standard deviation.
"""

from __future__ import annotations

import numpy as np
import scipy.fft


def radial_wavenumber(shape: tuple[int, int], pixel_size_m: float) -> np.ndarray:
    """|k| in cycles per metre on the real-FFT layout of a grid (rows: full, columns: half)."""
    ky = scipy.fft.fftfreq(shape[0], pixel_size_m)
    kx = scipy.fft.rfftfreq(shape[1], pixel_size_m)
    return np.hypot(ky[:, None], kx[None, :])


def power_law_amplitude(
    k: np.ndarray, beta: float, outer_scale_m: float | None = None
) -> np.ndarray:
    """sqrt(P(k)) = (k^2 + L0^-2)^(-beta / 4), zero at k = 0 (no mean)."""
    k0_sq = 0.0 if outer_scale_m is None else outer_scale_m**-2
    with np.errstate(divide="ignore"):
        amplitude = (k * k + k0_sq) ** (-beta / 4.0)
    amplitude[k == 0] = 0.0
    return amplitude


def fractal_field(
    shape: tuple[int, int],
    pixel_size_m: float,
    beta: float,
    rng: np.random.Generator,
    outer_scale_m: float | None = None,
) -> np.ndarray:
    """A zero-mean, unit-std Gaussian field with a k^-beta spectrum (flat beyond ``outer_scale_m``)."""
    white = rng.standard_normal(shape)
    spectrum = scipy.fft.rfft2(white)
    spectrum *= power_law_amplitude(radial_wavenumber(shape, pixel_size_m), beta, outer_scale_m)
    field = scipy.fft.irfft2(spectrum, s=shape)
    field -= field.mean()
    return field / field.std()
