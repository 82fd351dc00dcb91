"""Monte Carlo residual turbulent atmosphere per pass (paper section 2.2; Gaddes et al. 2018).

The paper simulates the residual (turbulent) atmosphere "using Monte Carlo approach from
(Gaddes et al., 2018), according to the extracted parameters from ~10000 variograms", separately
for each pass, with a cumulative noise level over 5 years of 4.6025 +- 0.1719 mm (descending)
and 8.299 +- 1.9365 mm (ascending). Stratified delay is assumed removed (Hanssen 2001, ch. 4).

Per-pass parameter file (``save_atmosphere_parameters``): the variogram fits (model, partial
sill, range, nugget) of the pass's interferograms, i.e. the empirical distribution of the
parameters, and the pass's noise level N(mu, sigma) in mm.

One Monte Carlo draw (``draw_variogram_parameters``, ``simulate_atmosphere``):

1. resample one fitted row uniformly (a bootstrap of the fitted distribution, which keeps the
   correlation between model, range and nugget that a parametric fit would lose);
2. jitter its range log-uniformly by +-``range_jitter`` (default 20%, about the scatter of a
   single fit) and snap it to a log grid of 10% steps (error <= 5.1%), so the covariance spectra
   are computed once and cached (fields sharing a range can share an FFT batch);
3. synthesise a zero-mean Gaussian random field with that covariance,
   C(h) = (1 - q) rho(h) + q [h = 0] with q = nugget / (nugget + sill) the nugget share
   (circulant embedding, ``volcdet.simulation.random_fields``; Dietrich & Newsam 1997);
4. remove its spatial mean and scale it so that its **noise level** equals a value drawn from
   N(mu, sigma) of the pass (clipped below at 0.1 mu).

Only the *shape* of the fitted covariance (model, range, nugget share) is used: the amplitude
comes from the pass's noise level, because the variograms are of single interferograms while
the CNN sees 5-year cumulative displacement.

What "noise level" means (``noise_statistic`` in the file):

* ``"peak"`` (default): max |field| over the patch, as in Gaddes et al.'s generator
  (SyInterferoPy ``rescale_atmosphere``: max(|min|, |max|) = A; physics notes 1.1, step 5). This
  is the reading under which the paper is self-consistent: its sources are scaled by their
  peak LOS amplitude, from at least mu + 3 sigma of the noise (6 mm descending, 15 mm
  ascending) so that no deformation is "obscured by atmospheric noise". A 256 x 256 field at
  200 m with a 1-10 km range peaks at about 3.7-4.3 times its std, so a std of 4.6 mm would
  give 17-20 mm peaks, which would hide a 6 mm source.
* ``"std"``: the spatial standard deviation of the mean-removed cumulative field (population
  std over the patch's pixels).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from volcdet.simulation.random_fields import gaussian_random_field

log = logging.getLogger(__name__)

NoiseStatistic = Literal["peak", "std"]
NOISE_STATISTICS: tuple[NoiseStatistic, ...] = ("peak", "std")
COVARIANCE_MODELS = ("exponential", "spherical", "gaussian")
FIT_KEYS = ("model", "sill_mm2", "range_m", "nugget_mm2")
#: Fallback when a pass has no usable interferogram: exponential, 5 km (SyInterferoPy default).
DEFAULT_FIT: dict[str, Any] = {
    "model": "exponential",
    "sill_mm2": 1.0,
    "range_m": 5000.0,
    "nugget_mm2": 0.0,
}
#: Half-width of the log-uniform range jitter (+-20%).
RANGE_JITTER = 0.2
#: Ranges are snapped to exp(k * RANGE_STEP): 10% log steps, spectra cached per step.
RANGE_STEP = 0.1
#: Noise levels are clipped below at this fraction of mu (N(mu, sigma) can go negative).
MIN_LEVEL_SHARE = 0.1
#: Fields per FFT batch: the padded grid (~4 H W float32) is cache-bound, so batches only pay
#: for small fields (measured on one core: 128 x 128 +5% with 4, 256 x 256 -7% with 2, -27% with
#: 16). Batch = clip(BATCH_PIXELS // (H W), 1, MAX_BATCH).
BATCH_PIXELS = 2**16
MAX_BATCH = 4


@dataclass(frozen=True)
class AtmosphereParameters:
    """One pass: fitted covariance rows, noise level (mu, sigma) in mm and its meaning.

    ``fits`` holds dicts with ``FIT_KEYS`` (model exponential|spherical, partial sill and
    nugget in mm^2, range parameter in m); ``source`` is "variograms" or "default" (no usable
    interferogram: ``DEFAULT_FIT``).
    """

    pass_direction: str
    noise_mm: tuple[float, float]
    fits: list[dict[str, Any]]
    noise_statistic: NoiseStatistic = "peak"
    range_jitter: float = RANGE_JITTER
    source: str = "variograms"

    def __post_init__(self) -> None:
        if self.noise_statistic not in NOISE_STATISTICS:
            raise ValueError(
                f"noise_statistic {self.noise_statistic!r} is not one of {NOISE_STATISTICS}"
            )
        if not self.fits:
            raise ValueError(f"pass {self.pass_direction!r}: no variogram fits")
        for fit in self.fits:
            bad = fit.get("model") not in COVARIANCE_MODELS or not (
                float(fit.get("range_m", 0)) > 0
                and float(fit.get("sill_mm2", -1)) >= 0
                and float(fit.get("nugget_mm2", -1)) >= 0
                and float(fit["sill_mm2"]) + float(fit["nugget_mm2"]) > 0
            )
            if bad:
                raise ValueError(f"pass {self.pass_direction!r}: invalid variogram fit {fit}")
        mu, sigma = self.noise_mm
        if not (mu > 0 and sigma >= 0):
            raise ValueError(f"pass {self.pass_direction!r}: noise_mm {self.noise_mm} invalid")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (plain floats, lists)."""
        return asdict(self) | {"noise_mm": [float(v) for v in self.noise_mm]}

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> AtmosphereParameters:
        """Inverse of ``to_dict``; optional keys fall back to their defaults."""
        return cls(
            pass_direction=str(entry["pass_direction"]),
            noise_mm=(float(entry["noise_mm"][0]), float(entry["noise_mm"][1])),
            fits=[{k: fit[k] for k in FIT_KEYS} for fit in entry["fits"]],
            noise_statistic=entry.get("noise_statistic", "peak"),
            range_jitter=float(entry.get("range_jitter", RANGE_JITTER)),
            source=str(entry.get("source", "variograms")),
        )


def atmosphere_parameters_from_table(
    table: pd.DataFrame,
    noise_mm_by_pass: Mapping[str, Sequence[float]],
    noise_statistic: NoiseStatistic = "peak",
) -> dict[str, AtmosphereParameters]:
    """Per-pass parameters from a variogram table (rows with status 'ok' only).

    ``noise_mm_by_pass`` maps each pass to (mu, sigma) in mm, e.g. the config's
    ``simulation.atmosphere_noise_mm``. A pass without a usable fit gets ``DEFAULT_FIT`` and a
    logged warning.
    """
    params = {}
    for pass_direction, noise in noise_mm_by_pass.items():
        rows = table[(table["pass"] == pass_direction) & (table["status"] == "ok")]
        fits = [
            {
                "model": str(r["model"]),
                "sill_mm2": float(r["sill_mm2"]),
                "range_m": float(r["range_m"]),
                "nugget_mm2": float(r["nugget_mm2"]),
            }
            for r in rows[list(FIT_KEYS)].to_dict("records")
        ]
        source = "variograms"
        if not fits:
            log.warning("pass %s: no fitted variogram, using %s", pass_direction, DEFAULT_FIT)
            fits, source = [dict(DEFAULT_FIT)], "default"
        params[pass_direction] = AtmosphereParameters(
            pass_direction,
            (float(noise[0]), float(noise[1])),
            fits,
            noise_statistic=noise_statistic,
            source=source,
        )
    return params


def save_atmosphere_parameters(params: Mapping[str, AtmosphereParameters], path: Path) -> None:
    """Write the per-pass parameter file read by the simulation stage (strict JSON)."""
    text = json.dumps({k: v.to_dict() for k, v in params.items()}, indent=2, allow_nan=False)
    Path(path).write_text(text + "\n")


def load_atmosphere_parameters(path: Path, pass_direction: str) -> AtmosphereParameters:
    """One pass's parameters from the file; KeyError names the missing pass."""
    doc = json.loads(Path(path).read_text())
    if pass_direction not in doc:
        raise KeyError(f"{path}: no atmosphere parameters for pass {pass_direction!r}")
    return AtmosphereParameters.from_dict(doc[pass_direction])


def snap_range_m(range_m: np.ndarray) -> np.ndarray:
    """Ranges rounded to the log grid exp(k * RANGE_STEP) (relative error <= 5.1%)."""
    return np.exp(np.round(np.log(range_m) / RANGE_STEP) * RANGE_STEP)


def draw_variogram_parameters(
    params: AtmosphereParameters, rng: np.random.Generator, n: int
) -> pd.DataFrame:
    """``n`` Monte Carlo draws: one row per field, columns model, fit_index, sill_mm2 (of the
    resampled fit), range_m (jittered and snapped), nugget_share and level_mm.

    Rows are resampled uniformly from ``params.fits`` (bootstrap), ranges jittered by a
    log-uniform factor exp(U(-j, j)), j = ``params.range_jitter``, then snapped to 10% log
    steps; level_mm ~ N(mu, sigma) clipped below at 0.1 mu.
    """
    index = rng.integers(len(params.fits), size=n)
    jitter = rng.uniform(-params.range_jitter, params.range_jitter, size=n)
    levels = rng.normal(params.noise_mm[0], params.noise_mm[1], size=n)
    fits = pd.DataFrame(params.fits).iloc[index].reset_index(drop=True)
    sill = fits["sill_mm2"].to_numpy(float)
    nugget = fits["nugget_mm2"].to_numpy(float)
    total = sill + nugget
    return pd.DataFrame(
        {
            "model": fits["model"].astype(str),
            "fit_index": index,
            "sill_mm2": sill,
            "range_m": snap_range_m(fits["range_m"].to_numpy(float) * np.exp(jitter)),
            "nugget_share": np.divide(nugget, total, out=np.zeros(n), where=total > 0),
            "level_mm": np.maximum(levels, MIN_LEVEL_SHARE * params.noise_mm[0]),
        }
    )


def _noise_statistic(fields: np.ndarray, statistic: NoiseStatistic) -> np.ndarray:
    """Per-field noise level of (k, H, W) mean-removed fields: max |f| or spatial std."""
    flat = fields.reshape(len(fields), -1)
    if statistic == "peak":
        return np.abs(flat).max(axis=1)
    return flat.std(axis=1, dtype=np.float64).astype(np.float32)


def simulate_atmosphere(
    params: AtmosphereParameters,
    n: int,
    shape: tuple[int, int],
    pixel_size_m: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``n`` residual-atmosphere fields in mm (float32, (n, H, W)) and each field's draw.

    Each field has zero spatial mean and exactly the drawn noise level (``level_mm``) in the
    pass's ``noise_statistic``. Fields with the same (model, snapped range) are synthesised
    together, a few per FFT call for small fields (see ``BATCH_PIXELS``). The same ``rng``
    state gives bit-identical fields. The returned dicts (model, range_m, nugget_share and the
    drawn level as ``peak_mm`` or ``std_mm``, after the statistic) become the
    ``atmosphere_*`` columns of the simulation tables.
    """
    draws = draw_variogram_parameters(params, rng, n)
    fields = np.empty((n, *shape), np.float32)
    batch_size = int(np.clip(BATCH_PIXELS // (shape[0] * shape[1]), 1, MAX_BATCH))
    nugget_share = draws["nugget_share"].to_numpy(np.float32)
    for (model, range_m), group in draws.groupby(["model", "range_m"], sort=True):
        indices = group.index.to_numpy()
        for start in range(0, len(indices), batch_size):
            batch = indices[start : start + batch_size]
            block = gaussian_random_field(
                shape, pixel_size_m, model, 1.0, float(range_m), rng, n_fields=len(batch)
            )
            share = nugget_share[batch][:, None, None]
            if np.any(share > 0):
                white = rng.standard_normal(block.shape, dtype=np.float32)
                block = np.sqrt(1 - share) * block + np.sqrt(share) * white
            fields[batch] = block
    fields -= fields.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(np.float32)
    level = _noise_statistic(fields, params.noise_statistic)
    target = draws["level_mm"].to_numpy(np.float32)
    fields *= (target / np.maximum(level, np.float32(1e-12)))[:, None, None]
    meta = [
        {
            "model": str(row.model),
            "range_m": float(row.range_m),
            "nugget_share": float(row.nugget_share),
            f"{params.noise_statistic}_mm": float(row.level_mm),
        }
        for row in draws.itertuples()
    ]
    return fields, meta


__all__: list[str] = [
    "AtmosphereParameters",
    "atmosphere_parameters_from_table",
    "draw_variogram_parameters",
    "load_atmosphere_parameters",
    "save_atmosphere_parameters",
    "simulate_atmosphere",
    "snap_range_m",
]
