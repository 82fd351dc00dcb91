"""LOS displacement to interferometric phase, and wrapping."""

from __future__ import annotations

import numpy as np

from volcdet.core.constants import SENTINEL1_WAVELENGTH_MM


def displacement_to_phase_rad(
    los_displacement_mm: np.ndarray, wavelength_mm: float = SENTINEL1_WAVELENGTH_MM
) -> np.ndarray:
    """Unwrapped two-way phase 4*pi*d/lambda of a LOS displacement (d positive toward the satellite).

    Convention: phi = +4 pi d / lambda, kept identical for both passes (physics notes, section 4).
    """
    return (4.0 * np.pi / wavelength_mm) * np.asarray(los_displacement_mm, dtype=np.float32)


def wrap_phase(phase_rad: np.ndarray) -> np.ndarray:
    """Wrap a phase into [-pi, pi): ((phi + pi) mod 2 pi) - pi; NaN stays NaN."""
    phase = np.asarray(phase_rad, dtype=np.float32)
    wrapped: np.ndarray = (
        np.mod(phase + np.float32(np.pi), np.float32(2 * np.pi)) - np.float32(np.pi)
    ).astype(np.float32)
    return wrapped


def wrapped_phase_from_displacement(
    los_displacement_mm: np.ndarray, wavelength_mm: float = SENTINEL1_WAVELENGTH_MM
) -> np.ndarray:
    """Wrapped phase in [-pi, pi) of a cumulative LOS displacement in mm (paper section 2.1)."""
    return wrap_phase(displacement_to_phase_rad(los_displacement_mm, wavelength_mm))
