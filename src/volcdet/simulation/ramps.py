"""Long-wavelength ramps: residual orbital errors and reference-area residuals.

Orbit errors leave a nearly linear (over a 50 km patch) phase ramp in interferograms and in the
velocities estimated from them (Fattahi & Amelung 2014, GJI 199:1121; Hanssen 2001, sect. 4.7),
and a velocity map referenced to a distant area adds a further smooth residual; processors
remove them with linear or quadratic surfaces (MintPy ``deramp``: linear, quadratic). The model
is such a surface over the patch: a plane in a random direction, plus with probability
``quadratic_share`` a random quadratic, scaled so that its peak-to-peak over the patch is drawn
uniformly from [0, ``max_mm``].
"""

from __future__ import annotations

import numpy as np


def ramp_mm(
    shape: tuple[int, int], rng: np.random.Generator, max_mm: float, quadratic_share: float
) -> tuple[np.ndarray, dict]:
    """A linear or quadratic surface (float32 mm, zero mean) and its draw (kind, peak-to-peak)."""
    rows, cols = shape
    y, x = np.meshgrid(np.linspace(-1, 1, rows), np.linspace(-1, 1, cols), indexing="ij")
    angle = rng.uniform(0.0, 2.0 * np.pi)
    surface = np.cos(angle) * x + np.sin(angle) * y
    quadratic = bool(rng.random() < quadratic_share)
    if quadratic:
        a, b, c = rng.normal(0.0, 1.0, 3)
        surface = surface + a * x**2 + b * x * y + c * y**2
    surface = surface - surface.mean()
    span = float(np.ptp(surface))
    peak_to_peak = float(rng.uniform(0.0, max_mm))
    field = surface * (peak_to_peak / span) if span > 0 else np.zeros(shape)
    return field.astype(np.float32), {
        "kind": "quadratic" if quadratic else "linear",
        "peak_to_peak_mm": peak_to_peak,
    }
