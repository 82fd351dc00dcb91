"""Simulated training sets, one per LOS geometry (paper section 2.2).

Each set holds ``samples`` patches, half with a volcanic source over residual atmosphere
(deformation class) and half with atmosphere only; every sample has its own atmosphere (twice
as many atmosphere as deformation simulations). A source is a library CDM field under one of
the 8 square symmetries, projected on the set's LOS and scaled to a LOS amplitude drawn
log-uniformly between the pass's minimum (at least mu + 3 sigma of its atmosphere) and the
maximum. The library is gone through in random permutations, so every source is used once
before any is used twice (the paper's 23,631 sources over 7 sets of 23,631 deformation samples
each: each source once per set). Both classes then get the realistic noise of
``volcdet.simulation.noise`` (ramps, stratified delay on the region's DEM, speckle, holes from
the region's own masks), from a stream of its own per sample, so switching it off leaves the
atmosphere and sources unchanged. Stored unwrapped (cumulative LOS mm, float16); wrapping
happens at load time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.random import Purpose, stream
from volcdet.data.stores import create_store, write_table
from volcdet.simulation.atmosphere import AtmosphereParameters, simulate_atmosphere
from volcdet.simulation.noise import NoiseSpec, RegionNoiseInputs, add_realistic_noise
from volcdet.simulation.source_library import SourceLibrary, dihedral_enu, source_order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationSpec:
    """Size and amplitude range of one simulated set; amplitudes are LOS peak |d| in mm."""

    samples: int
    size_px: int = 256
    pixel_size_m: float = field(kw_only=True)
    min_amplitude_mm: float = 15.0
    max_amplitude_mm: float = 100.0
    deflation_fraction: float = 0.2
    seed: int = 0
    batch: int = 64
    noise: NoiseSpec = field(default_factory=NoiseSpec)


def effective_min_amplitude_mm(spec: SimulationSpec, noise_mm: tuple[float, float]) -> float:
    """The configured minimum, raised to mu + 3 sigma of the pass's noise (paper section 2.2)."""
    floor = noise_mm[0] + 3.0 * noise_mm[1]
    if spec.min_amplitude_mm < floor:
        log.warning(
            "minimum amplitude %.2f mm raised to mu + 3 sigma = %.2f mm",
            spec.min_amplitude_mm,
            floor,
        )
    return max(spec.min_amplitude_mm, floor)


NO_SOURCE_ROW: dict[str, object] = {
    "amplitude_mm": 0.0,
    "source_index": -1,
    "source_kind": "none",
    "symmetry": -1,
    "source_depth_m": np.nan,
}


def _draw_source_mm(
    library: SourceLibrary,
    index: int,
    los_vector: np.ndarray,
    min_amp: float,
    spec: SimulationSpec,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, object]]:
    """Library source ``index`` under a random symmetry, projected on the LOS and scaled to a
    log-uniform peak LOS amplitude with a random sign (paper section 2.2), with its table row."""
    transform = int(rng.integers(8))
    enu_mm = dihedral_enu(library[index], transform)
    los_field = np.tensordot(los_vector, enu_mm, axes=1)
    amplitude = float(np.exp(rng.uniform(np.log(min_amp), np.log(spec.max_amplitude_mm))))
    sign = -1.0 if rng.random() < spec.deflation_fraction else 1.0
    if library.table is None:
        raise ValueError("the source library has no table of its sources")
    source = library.table.iloc[index]
    row = {
        "amplitude_mm": sign * amplitude,
        "source_index": index,
        "source_kind": source["kind"],
        "symmetry": transform,
        "source_depth_m": source["depth_m"],
    }
    return sign * amplitude * los_field / np.abs(los_field).max(), row


def simulate_los_set(
    los: dict,
    library: SourceLibrary,
    atmosphere: AtmosphereParameters,
    spec: SimulationSpec,
    array_path: Path,
    table_path: Path,
    noise_inputs: RegionNoiseInputs | None = None,
) -> pd.DataFrame:
    """Write one LOS set's store; deterministic from (seed, los_set).

    ``noise_inputs`` lends the region's NaN masks and DEM to the noise models (a model without
    its input is skipped; the masks must have the patch shape).
    """
    noise_inputs = noise_inputs or RegionNoiseInputs()
    shape = (spec.size_px, spec.size_px)
    bank = noise_inputs.mask_bank
    if bank is not None and len(bank) and bank.shape[1:] != shape:
        raise ValueError(f"missing-data masks of shape {bank.shape[1:]} for {shape} patches")
    rng = stream(spec.seed, Purpose.SIMULATION, int(los["los_set"]))
    n = spec.samples
    labels = rng.permutation(np.arange(n) < n // 2).astype(int)
    sources = iter(source_order(int(labels.sum()), len(library), rng))
    los_vector = np.array([los["los_east"], los["los_north"], los["los_up"]])
    noise_inputs = noise_inputs.for_los_set(los_vector, spec.size_px)
    min_amp = effective_min_amplitude_mm(spec, atmosphere.noise_mm)
    rows = []
    with create_store(array_path, n, (spec.size_px, spec.size_px)) as out:
        for start in range(0, n, spec.batch):
            stop = min(start + spec.batch, n)
            noise, atmosphere_meta = simulate_atmosphere(
                atmosphere, stop - start, shape, spec.pixel_size_m, rng
            )
            for k, i in enumerate(range(start, stop)):
                row = {
                    "sample": i,
                    "los_set": int(los["los_set"]),
                    "track_id": los["track_id"],
                    "pass": los["pass"],
                    "label": int(labels[i]),
                    **{f"atmosphere_{key}": value for key, value in atmosphere_meta[k].items()},
                }
                patch = noise[k]
                if labels[i]:
                    source_mm, source_row = _draw_source_mm(
                        library, int(next(sources)), los_vector, min_amp, spec, rng
                    )
                    patch = patch + source_mm
                    row |= source_row
                else:
                    row |= NO_SOURCE_ROW
                patch, noise_meta = add_realistic_noise(
                    patch,
                    stream(spec.seed, Purpose.SIMULATION_NOISE, int(los["los_set"]), i),
                    spec.noise,
                    noise_inputs,
                    spec.pixel_size_m,
                )
                out[i] = patch
                rows.append(row | noise_meta)
            if stop % (20 * spec.batch) < spec.batch:
                log.info("LOS set %s: %d / %d samples", los["los_set"], stop, n)
    table = pd.DataFrame(rows)
    write_table(
        table_path,
        table,
        {"kind": "simulation", "units": "mm", "seed": spec.seed, "los": {k: los[k] for k in los}},
    )
    return table
