"""Training noise that looks like real data, applied to every simulated sample (not in the paper;
docs/invariance.md).

Each model is a small module with one function taking a seeded ``numpy.random.Generator``:
ramps (``ramps``), stratified delay on the region's DEM (``stratified``), incoherent speckle
(``speckle``), flat basins and unwrapping steps (``confounders``), missing-data masks from the
region's own NaN patterns (``missing_data``) and partial-coverage windows: map clips, coasts,
map edges (``coverage``). ``add_realistic_noise`` adds them to a patch of residual atmosphere
(+ deformation) in this order, the no-data masks last; each model runs for a sample with its
configured probability. Both classes get the same noise, so none of it tells them apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from volcdet.core.errors import RegionError
from volcdet.data.rasters import read_raster
from volcdet.data.stores import open_store
from volcdet.simulation.confounders import (
    FlatBasinSpec,
    UnwrappingStepSpec,
    flat_basins_mm,
    unwrapping_step_mm,
)
from volcdet.simulation.coverage import CoverageSpec, draw_coverage_mask
from volcdet.simulation.missing_data import draw_missing_mask, nan_mask_bank
from volcdet.simulation.ramps import ramp_mm
from volcdet.simulation.slopes import SlopeCreepSpec, dem_cutout, dem_peaks, downslope_creep_mm
from volcdet.simulation.speckle import speckle_mm
from volcdet.simulation.stratified import draw_stratified_delay, stratified_delay_mm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingDataSpec:
    """Share of samples with holes and the largest missing share a sample's mask grows to."""

    probability: float = 1.0
    max_fraction: float = 0.2


@dataclass(frozen=True)
class RampSpec:
    """Share of samples with a ramp, its largest peak-to-peak (mm), share of quadratic ramps."""

    probability: float = 0.8
    max_mm: float = 35.0
    quadratic_share: float = 0.5


@dataclass(frozen=True)
class StratifiedSpec:
    """Share of samples with stratified delay, the std of its coefficient (mm per km) and the
    share of DEM cut-outs centred on a summit (``volcdet.simulation.slopes``)."""

    probability: float = 0.8
    coefficient_mm_per_km: float = 5.0
    peak_share: float = 0.0


@dataclass(frozen=True)
class SpeckleSpec:
    """Share of samples with speckle, largest low-coherence area share, largest noise std (mm)."""

    probability: float = 0.3
    max_area_fraction: float = 0.3
    max_std_mm: float = 8.0


@dataclass(frozen=True)
class NoiseSpec:
    """The noise models (config ``simulation.noise``); probability 0 switches one off. Flat
    basins, unwrapping steps and partial coverage are off unless configured."""

    missing_data: MissingDataSpec = field(default_factory=MissingDataSpec)
    ramp: RampSpec = field(default_factory=RampSpec)
    stratified: StratifiedSpec = field(default_factory=StratifiedSpec)
    speckle: SpeckleSpec = field(default_factory=SpeckleSpec)
    flat_basin: FlatBasinSpec = field(default_factory=FlatBasinSpec)
    unwrapping_step: UnwrappingStepSpec = field(default_factory=UnwrappingStepSpec)
    coverage: CoverageSpec = field(default_factory=CoverageSpec)
    slope_creep: SlopeCreepSpec = field(default_factory=SlopeCreepSpec)

    @classmethod
    def from_config(cls, entry: dict[str, Any] | None) -> NoiseSpec:
        """From the config's ``simulation.noise`` mapping (missing keys keep their defaults)."""
        entry = entry or {}

        def ranges(sub: dict[str, Any]) -> dict[str, Any]:
            return {k: tuple(v) if isinstance(v, list) else v for k, v in sub.items()}

        return cls(
            missing_data=MissingDataSpec(**entry.get("missing_data", {})),
            ramp=RampSpec(**entry.get("ramp", {})),
            stratified=StratifiedSpec(**entry.get("stratified", {})),
            speckle=SpeckleSpec(**entry.get("speckle", {})),
            flat_basin=FlatBasinSpec(**ranges(entry.get("flat_basin", {}))),
            unwrapping_step=UnwrappingStepSpec(**entry.get("unwrapping_step", {})),
            coverage=CoverageSpec(**ranges(entry.get("coverage", {}))),
            slope_creep=SlopeCreepSpec(**ranges(entry.get("slope_creep", {}))),
        )

    @classmethod
    def off(cls) -> NoiseSpec:
        """Every model switched off (the paper's simulation: turbulent atmosphere only)."""
        return cls(
            MissingDataSpec(probability=0.0),
            RampSpec(probability=0.0),
            StratifiedSpec(probability=0.0),
            SpeckleSpec(probability=0.0),
        )


@dataclass(frozen=True)
class RegionNoiseInputs:
    """What the region lends the noise models: NaN masks of its background tiles, its DEM (m),
    the DEM's summits (``slopes.dem_peaks``) and the set's LOS unit vector (east, north, up).

    A model whose input is missing (no DEM, an empty bank, no LOS) is skipped.
    """

    mask_bank: np.ndarray | None = None
    dem_m: np.ndarray | None = None
    dem_peaks: np.ndarray | None = None
    los_enu: np.ndarray | None = None

    def for_los_set(self, los_enu: np.ndarray, size_px: int) -> RegionNoiseInputs:
        """These inputs with a set's LOS vector and the DEM's summits for size_px cut-outs."""
        peaks = self.dem_peaks
        if peaks is None and self.dem_m is not None and min(self.dem_m.shape) >= size_px:
            peaks = dem_peaks(self.dem_m, size_px)
        return RegionNoiseInputs(self.mask_bank, self.dem_m, peaks, np.asarray(los_enu, float))


def load_region_noise_inputs(
    background_store: tuple[Path, Path] | None, dem_path: Path | None, pixel_size_m: float
) -> RegionNoiseInputs:
    """NaN masks of the background tiles and the region's DEM (either may be absent: the model
    that needs it is then skipped, and the log says so)."""
    bank = None
    if background_store is not None:
        array, _ = open_store(*background_store)
        bank = nan_mask_bank(array)
        log.info(
            "missing-data masks: %d background tiles, %.2f%% missing on average",
            len(bank),
            100 * float(bank.mean()) if len(bank) else 0.0,
        )
    dem = None
    if dem_path is None:
        log.info("no dem.tif in the region: stratified delay is not simulated")
    else:
        values, grid = read_raster(Path(dem_path), expected_bands=1)
        if not np.isclose(grid.pixel_size_m, pixel_size_m, rtol=0.01):
            raise RegionError(
                f"{dem_path}: pixel size {grid.pixel_size_m:g} m differs from the configured "
                f"{pixel_size_m:g} m (resample the DEM)"
            )
        dem = values[0]
    return RegionNoiseInputs(mask_bank=bank, dem_m=dem)


def _dem_of(inputs: RegionNoiseInputs, term: str) -> np.ndarray:
    """The region's DEM (m), which ``term`` is drawn on; ValueError when the region has none."""
    if inputs.dem_m is None:
        raise ValueError(f"{term} needs a DEM: the region has no dem.tif")
    return inputs.dem_m


def _stratified_mm(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    spec: StratifiedSpec,
    inputs: RegionNoiseInputs,
) -> tuple[np.ndarray, float]:
    """A stratified delay on a DEM cutout (near a peak with probability ``peak_share``) and its
    coefficient in mm per km of height."""
    dem_m = _dem_of(inputs, "stratified delay")
    if spec.peak_share > 0:
        cutout = dem_cutout(dem_m, shape[0], rng, inputs.dem_peaks, spec.peak_share)
        k = float(rng.normal(0.0, spec.coefficient_mm_per_km))
        return stratified_delay_mm(cutout, k), k
    delay, info = draw_stratified_delay(dem_m, shape[0], rng, spec.coefficient_mm_per_km)
    return delay, info["coefficient_mm_per_km"]


def _slope_creep_mm(
    shape: tuple[int, ...],
    pixel_size_m: float,
    rng: np.random.Generator,
    spec: SlopeCreepSpec,
    inputs: RegionNoiseInputs,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Downslope creep on a DEM cutout, seen along the LOS, and its draw."""
    cutout = dem_cutout(
        _dem_of(inputs, "slope creep"), shape[0], rng, inputs.dem_peaks, spec.peak_share
    )
    if inputs.los_enu is None:
        raise ValueError("slope creep needs the LOS vectors of the region's tracks")
    return downslope_creep_mm(cutout, pixel_size_m, inputs.los_enu, rng, spec)


def add_realistic_noise(
    patch_mm: np.ndarray,
    rng: np.random.Generator,
    spec: NoiseSpec,
    inputs: RegionNoiseInputs,
    pixel_size_m: float,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The patch with ramp, stratified delay, speckle, flat basins, an unwrapping step, holes and
    a partial-coverage mask added, and each model's draw (``noise_*`` metadata columns; NaN or
    'none' where a model did not run)."""
    shape = patch_mm.shape
    out = np.array(patch_mm, np.float32)
    meta: dict[str, Any] = {
        "noise_ramp_mm": np.nan,
        "noise_stratified_mm_per_km": np.nan,
        "noise_speckle_std_mm": np.nan,
        "noise_flat_basin_mm": np.nan,
        "noise_slope_creep_mm": np.nan,
        "noise_unwrapping_step_mm": np.nan,
        "noise_coverage": "none",
        "noise_missing_fraction": 0.0,
    }
    # One child stream per model: switching a model off leaves the others' draws unchanged, and
    # models added later take children after the first four.
    (
        ramp_rng,
        stratified_rng,
        speckle_rng,
        missing_rng,
        basin_rng,
        step_rng,
        coverage_rng,
        creep_rng,
    ) = rng.spawn(8)
    if ramp_rng.random() < spec.ramp.probability:
        ramp, info = ramp_mm(shape, ramp_rng, spec.ramp.max_mm, spec.ramp.quadratic_share)
        out += ramp
        meta["noise_ramp_mm"] = info["peak_to_peak_mm"]
    if stratified_rng.random() < spec.stratified.probability and inputs.dem_m is not None:
        delay, k = _stratified_mm(shape, stratified_rng, spec.stratified, inputs)
        out += delay
        meta["noise_stratified_mm_per_km"] = k
    if speckle_rng.random() < spec.speckle.probability:
        speckle, info = speckle_mm(
            shape,
            pixel_size_m,
            speckle_rng,
            spec.speckle.max_area_fraction,
            spec.speckle.max_std_mm,
        )
        out += speckle
        meta["noise_speckle_std_mm"] = info["std_mm"]
    if basin_rng.random() < spec.flat_basin.probability:
        basins, info = flat_basins_mm(shape, pixel_size_m, basin_rng, spec.flat_basin, inputs.dem_m)
        out += basins
        meta["noise_flat_basin_mm"] = info["largest_mm"]
    if (
        creep_rng.random() < spec.slope_creep.probability
        and inputs.dem_m is not None
        and inputs.los_enu is not None
    ):
        creep_mm, info = _slope_creep_mm(shape, pixel_size_m, creep_rng, spec.slope_creep, inputs)
        out += creep_mm
        meta["noise_slope_creep_mm"] = info["magnitude_mm"]
    if step_rng.random() < spec.unwrapping_step.probability:
        step, info = unwrapping_step_mm(shape, pixel_size_m, step_rng)
        out += step
        meta["noise_unwrapping_step_mm"] = info["step_mm"]
    bank = inputs.mask_bank
    if missing_rng.random() < spec.missing_data.probability and bank is not None and len(bank):
        mask, _ = draw_missing_mask(bank, missing_rng, spec.missing_data.max_fraction)
        out[mask] = np.nan
    coverage, kind = draw_coverage_mask(shape[0], pixel_size_m, coverage_rng, spec.coverage)
    if coverage is not None:
        out[coverage] = np.nan
    meta["noise_coverage"] = kind
    meta["noise_missing_fraction"] = float(np.isnan(out).mean())
    return out, meta
