"""Monte Carlo residual atmosphere per pass (paper section 2.2; Gaddes et al. 2018).

The per-pass parameter file holds the variogram fits of the region's interferograms (model,
partial sill, range, nugget) and the cumulative noise level of the pass. A draw resamples one
fitted row, jitters its range by +-20% (log-uniform), synthesises a Gaussian random field with
that covariance (``volcdet.random_fields``, circulant embedding on a padded grid; ranges snapped
to 10% steps so spectra are cached), removes its
mean and scales it so that its **peak** |value| equals a level drawn from N(mu, sigma) of the
pass: the paper's "4.6025 +- 0.1719 mm" (descending) and "8.299 +- 1.9365 mm" (ascending)
cumulative noise. Scaling by the peak follows Gaddes et al.'s Monte Carlo generator
(SyInterferoPy ``rescale_atmosphere``: max(|min|, |max|) = A; physics notes 1.1, step 5).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.random_fields import gaussian_random_field

#: Fallback when a pass has no usable interferogram: exponential, 5 km (SyInterferoPy default).
DEFAULT_FIT = {"model": "exponential", "sill_mm2": 1.0, "range_m": 5000.0, "nugget_mm2": 0.0}
RANGE_JITTER = 0.2
#: Ranges are snapped to a log grid of 10% steps (error <= 5%, well inside the fit uncertainty),
#: so the covariance spectra of the few dozen grid values are computed once and cached.
RANGE_STEP = 0.1


@dataclass(frozen=True)
class AtmosphereParameters:
    """Fitted covariance rows of one pass and its cumulative noise level (mean, std) in mm."""

    pass_direction: str
    noise_mm: tuple[float, float]
    fits: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


def atmosphere_parameters_from_table(
    table: pd.DataFrame, noise_mm_by_pass: dict[str, list[float]]
) -> dict[str, AtmosphereParameters]:
    """Per-pass parameters from a variogram table (rows with status 'ok' only)."""
    params = {}
    for pass_direction, noise in noise_mm_by_pass.items():
        rows = table[(table["pass"] == pass_direction) & (table["status"] == "ok")]
        fits = rows[["model", "sill_mm2", "range_m", "nugget_mm2"]].to_dict("records") or [
            dict(DEFAULT_FIT)
        ]
        params[pass_direction] = AtmosphereParameters(
            pass_direction, (float(noise[0]), float(noise[1])), fits
        )
    return params


def save_atmosphere_parameters(params: dict[str, AtmosphereParameters], path: Path) -> None:
    """Write the per-pass parameter file read by the simulation stage."""
    Path(path).write_text(json.dumps({k: v.to_dict() for k, v in params.items()}, indent=2))


def load_atmosphere_parameters(path: Path, pass_direction: str) -> AtmosphereParameters:
    """One pass's parameters from the file; KeyError names the missing pass."""
    doc = json.loads(Path(path).read_text())
    if pass_direction not in doc:
        raise KeyError(f"{path}: no atmosphere parameters for pass {pass_direction!r}")
    entry = doc[pass_direction]
    return AtmosphereParameters(entry["pass_direction"], tuple(entry["noise_mm"]), entry["fits"])


def simulate_atmosphere(
    params: AtmosphereParameters,
    n: int,
    shape: tuple[int, int],
    pixel_size_m: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[dict]]:
    """``n`` residual-atmosphere fields (mm, float32) and the parameters each was drawn with."""
    fields = np.empty((n, *shape), np.float32)
    meta = []
    for i in range(n):
        fit = params.fits[int(rng.integers(len(params.fits)))]
        log_range = np.log(float(fit["range_m"])) + rng.uniform(-RANGE_JITTER, RANGE_JITTER)
        range_m = float(np.exp(np.round(log_range / RANGE_STEP) * RANGE_STEP))
        total = float(fit["sill_mm2"]) + float(fit["nugget_mm2"])
        nugget = float(fit["nugget_mm2"]) / total if total > 0 else 0.0
        f = gaussian_random_field(
            shape, pixel_size_m, fit["model"], 1.0 - nugget, range_m, rng, nugget=nugget
        )
        f -= f.mean()
        level = max(float(rng.normal(*params.noise_mm)), 0.1 * params.noise_mm[0])
        fields[i] = f * (level / max(float(np.abs(f).max()), 1e-12))
        meta.append(
            {"model": fit["model"], "range_m": range_m, "nugget_share": nugget, "peak_mm": level}
        )
    return fields, meta
