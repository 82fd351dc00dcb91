"""Incoherent phase noise in low-coherence parts of a patch.

Where coherence is low (vegetation, salt crusts, steep slopes, snow) the interferometric phase
is dominated by decorrelation noise that is white from pixel to pixel; its standard deviation
grows as coherence falls (Cramer-Rao bound sigma_phi = sqrt(1 - g^2) / (g sqrt(2 L)) for
coherence g and L looks; Rodriguez & Martin 1992, IEE Proc. F 139:147; Hanssen 2001, sect.
4.2). With L = 40 looks (a 200 m pixel from 5 x 20 m Sentinel-1 pixels), g = 0.1 gives 1.1
rad = 4.9 mm of LOS, g = 0.05 gives 2.2 rad = 9.8 mm. The low-coherence area follows a smooth
random field (as SyInterferoPy's coherence mask, physics notes 1.1): its pixels above the
(1 - a) quantile, a drawn uniformly from [0, ``max_area_fraction``]; inside it, white Gaussian
noise of a standard deviation drawn uniformly from [0, ``max_std_mm``].
"""

from __future__ import annotations

import numpy as np

from volcdet.simulation.random_fields import gaussian_random_field

#: Range of the exponential field that shapes the low-coherence areas (a few km, like the
#: decorrelated patches of real maps).
COHERENCE_RANGE_M = 3000.0


def speckle_mm(
    shape: tuple[int, int],
    pixel_size_m: float,
    rng: np.random.Generator,
    max_area_fraction: float,
    max_std_mm: float,
) -> tuple[np.ndarray, dict]:
    """White noise (float32 mm) inside a random low-coherence area, and the draw."""
    area = float(rng.uniform(0.0, max_area_fraction))
    std = float(rng.uniform(0.0, max_std_mm))
    field = gaussian_random_field(shape, pixel_size_m, "exponential", 1.0, COHERENCE_RANGE_M, rng)
    low_coherence = field > np.quantile(field, 1.0 - area) if area > 0 else np.zeros(shape, bool)
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
    return np.where(low_coherence, noise, np.float32(0.0)), {
        "area_fraction": float(low_coherence.mean()),
        "std_mm": std,
    }
