"""Shortcut probes: does a model flag things that are not volcanic deformation? (issue 13)

Per model, the share flagged at the model's threshold of atmosphere-only negatives under
perturbations that real maps carry but that are not deformation, and of deformation positives
under the perturbations they must survive:

* negatives: (none), (a) a constant offset at 8 values over one fringe, (b) a planar ramp of 0.5
  and 1 fringe across the patch, (c) stratified delay k (h - median h) on random cut-outs of the
  region's ``dem.tif`` (5 and 10 mm per km; skipped with the reason when there is no DEM),
  (d) 5% and 20% of the pixels missing in blob-shaped holes, (e) a salt-lake-like sharp-edged
  plateau of 5 and 15 mm;
* positives: the test set's deformation-labelled patches (the region's own data), under (a) and
  (d).

Everything here is drawn by this module from its own seed stream and its own code: the
negatives' atmosphere is a Kolmogorov power-law field (P(k) ~ k^-8/3, Hanssen 2001 sect. 4.7;
wavelengths over 50 km removed as in SyInterferoPy's FFT method, physics notes 1.1) synthesised
here, not the simulator's variogram-fitted covariance fields, and the ramps, holes, plateaus and
stratified delay are separate implementations, so a model cannot pass a probe because the probe
reproduces its training noise. ``tests/test_architecture.py`` forbids this module from importing
the simulator's noise modules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from volcdet.core.constants import FRINGE_MM
from volcdet.core.random import Purpose, stream
from volcdet.data.rasters import read_raster
from volcdet.data.stores import open_store
from volcdet.evaluation.metrics import to_markdown
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)

#: Turbulence spectrum exponent (2-D Kolmogorov, Hanssen 2001) and the longest kept wavelength.
TURBULENCE_BETA = 8.0 / 3.0
LONGEST_WAVELENGTH_M = 50_000.0
OFFSETS_FRINGE = tuple(k / 8 for k in range(8))
RAMPS_FRINGE = (0.5, 1.0)
STRATIFIED_MM_PER_KM = (5.0, 10.0)
HOLE_FRACTIONS = (0.05, 0.20)
PLATEAUS_MM = (5.0, 15.0)
PROBE_COLUMNS = ("model", "class", "probe", "level", "n", "flagged_percent", "note")


@dataclass(frozen=True)
class ProbeSpec:
    """Probe sizes and the atmosphere level of the negatives (per pass, as in the config)."""

    negatives: int = 128
    positives: int = 64
    size_px: int = 256
    pixel_size_m: float = 200.0
    noise_mm: tuple[tuple[float, float], ...] = ((8.299, 1.9365), (4.6025, 0.1719))
    noise_statistic: str = "peak"
    seed: int = 0
    batch_size: int = 64


def turbulence_mm(
    size_px: int,
    pixel_size_m: float,
    rng: np.random.Generator,
    level_mm: float,
    statistic: str,
) -> np.ndarray:
    """A Kolmogorov power-law field (float32 mm, zero mean) scaled to ``level_mm`` as its peak
    |value| (``statistic`` "peak") or standard deviation ("std").

    Synthesised on a grid of twice the size and cropped, so it is not periodic over the patch.
    """
    n = 2 * size_px
    freq = np.fft.fftfreq(n, d=pixel_size_m)
    k = np.hypot(freq[:, None], freq[None, :])
    with np.errstate(divide="ignore"):
        amplitude = np.where(k >= 1.0 / LONGEST_WAVELENGTH_M, k ** (-TURBULENCE_BETA / 2), 0.0)
    white = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    field = np.fft.ifft2(white * amplitude).real[:size_px, :size_px]
    field -= field.mean()
    current = np.abs(field).max() if statistic == "peak" else field.std()
    return (field * (level_mm / max(current, 1e-12))).astype(np.float32)


def planar_ramp_mm(size_px: int, rng: np.random.Generator, peak_to_peak_mm: float) -> np.ndarray:
    """A plane in a random direction whose values span ``peak_to_peak_mm`` across the patch."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    angle = rng.uniform(0.0, 2.0 * np.pi)
    plane = np.cos(angle) * x + np.sin(angle) * y
    plane = (plane - plane.min()) / max(np.ptp(plane), 1e-12)
    return (peak_to_peak_mm * (plane - 0.5)).astype(np.float32)


def blob_holes(size_px: int, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """A mask with about ``fraction`` of the pixels missing, in random elliptical blobs."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    mask = np.zeros((size_px, size_px), bool)
    while mask.mean() < fraction:
        cy, cx = rng.uniform(0, size_px, 2)
        ry, rx = rng.uniform(0.02, 0.12, 2) * size_px
        angle = rng.uniform(0, np.pi)
        u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
        v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        mask |= (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    return mask


def plateau_mask(size_px: int, rng: np.random.Generator) -> np.ndarray:
    """A salt-lake-like flat basin: an irregular star-shaped polygon with sharp edges covering
    about 5-25% of the patch (salars fill flat basins with edges that follow their outline,
    physics notes 5.2)."""
    axis = np.arange(size_px, dtype=np.float64)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    cy, cx = rng.uniform(0.3, 0.7, 2) * size_px
    mean_radius = np.sqrt(rng.uniform(0.05, 0.25) * size_px**2 / np.pi)
    harmonics = rng.normal(0.0, 0.15, (4, 2))
    theta = np.arctan2(y - cy, x - cx)
    radius = mean_radius * (
        1.0
        + sum(
            a * np.cos((m + 2) * theta) + b * np.sin((m + 2) * theta)
            for m, (a, b) in enumerate(harmonics)
        )
    )
    return np.hypot(y - cy, x - cx) <= radius


def dem_cutout_m(dem_m: np.ndarray, size_px: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of the DEM (m), NaN set to the window's median."""
    r0 = int(rng.integers(dem_m.shape[0] - size_px + 1))
    c0 = int(rng.integers(dem_m.shape[1] - size_px + 1))
    window = np.asarray(dem_m[r0 : r0 + size_px, c0 : c0 + size_px], np.float64)
    return np.where(np.isfinite(window), window, np.nanmedian(window))


Perturbation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def negative_probes(
    spec: ProbeSpec, dem_m: np.ndarray | None
) -> list[tuple[str, str, Perturbation | None, str]]:
    """(probe, level, perturbation, note) of the negatives; a None perturbation is skipped."""
    size = spec.size_px
    probes: list[tuple[str, str, Perturbation | None, str]] = []
    for share in OFFSETS_FRINGE:
        probes.append(("offset", f"{share:.3f} fringe", _offset(share * FRINGE_MM), ""))
    for fringes in RAMPS_FRINGE:
        probes.append(("ramp", f"{fringes:g} fringe", _ramp(size, fringes * FRINGE_MM), ""))
    for k in STRATIFIED_MM_PER_KM:
        if dem_m is None:
            probes.append(("stratified", f"{k:g} mm/km", None, "skipped: region has no dem.tif"))
        elif min(dem_m.shape) < size:
            probes.append(("stratified", f"{k:g} mm/km", None, "skipped: DEM smaller than a patch"))
        else:
            probes.append(("stratified", f"{k:g} mm/km", _stratified(dem_m, size, k), ""))
    for fraction in HOLE_FRACTIONS:
        probes.append(("holes", f"{fraction:.0%}", _holes(size, fraction), ""))
    for height in PLATEAUS_MM:
        probes.append(("plateau", f"{height:g} mm", _plateau(size, height), ""))
    return probes


def positive_probes(spec: ProbeSpec) -> list[tuple[str, str, Perturbation | None, str]]:
    """(probe, level, perturbation, note) of the positives: offsets and holes."""
    probes: list[tuple[str, str, Perturbation | None, str]] = [
        ("offset", f"{share:.3f} fringe", _offset(share * FRINGE_MM), "")
        for share in OFFSETS_FRINGE
    ]
    probes += [
        ("holes", f"{fraction:.0%}", _holes(spec.size_px, fraction), "")
        for fraction in HOLE_FRACTIONS
    ]
    return probes


def _offset(mm: float) -> Perturbation:
    return lambda patch, rng: patch + np.float32(mm)


def _ramp(size: int, mm: float) -> Perturbation:
    return lambda patch, rng: patch + planar_ramp_mm(size, rng, mm)


def _stratified(dem_m: np.ndarray, size: int, k_mm_per_km: float) -> Perturbation:
    def perturb(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h = dem_cutout_m(dem_m, size, rng)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return patch + (sign * k_mm_per_km * (h - np.median(h)) / 1000.0).astype(np.float32)

    return perturb


def _holes(size: int, fraction: float) -> Perturbation:
    return lambda patch, rng: np.where(blob_holes(size, rng, fraction), np.nan, patch)


def _plateau(size: int, mm: float) -> Perturbation:
    def perturb(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return patch + np.where(plateau_mask(size, rng), np.float32(sign * mm), np.float32(0))

    return perturb


def probe_negatives(spec: ProbeSpec) -> np.ndarray:
    """The atmosphere-only negatives (n, H, W) in mm, the passes' levels in turn."""
    rng = stream(spec.seed, Purpose.PROBE_NEGATIVES)
    out = np.empty((spec.negatives, spec.size_px, spec.size_px), np.float32)
    for i in range(spec.negatives):
        mu, sigma = spec.noise_mm[i % len(spec.noise_mm)]
        level = max(rng.normal(mu, sigma), 0.1 * mu)
        out[i] = turbulence_mm(spec.size_px, spec.pixel_size_m, rng, level, spec.noise_statistic)
    return out


def flagged_share(
    model: VolcanoClassifier,
    transform: InputTransform,
    patches_mm: np.ndarray,
    threshold: float,
    batch_size: int,
) -> float:
    """Percent of patches whose probability reaches the threshold."""
    model.eval()
    probabilities = []
    with torch.no_grad():
        for start in range(0, len(patches_mm), batch_size):
            x = transform(patches_mm[start : start + batch_size])
            probabilities.append(torch.sigmoid(model(x)).numpy())
    return float(100.0 * (np.concatenate(probabilities) >= threshold).mean())


def run_probes(
    model_name: str,
    model_path: Path,
    test_store: tuple[Path, Path],
    dem_path: Path | None,
    spec: ProbeSpec,
) -> pd.DataFrame:
    """One model's probe table (``PROBE_COLUMNS``): flagged percent per (class, probe, level).

    Inputs are identical for every model (drawn from ``spec.seed`` only), so the rows compare.
    """
    model, transform, checkpoint = model_from_checkpoint(model_path)
    threshold = float(checkpoint.get("threshold", 0.5))
    dem_m = _read_dem(dem_path, spec.pixel_size_m)
    negatives = probe_negatives(spec)
    test, table = open_store(*test_store)
    positive_index = np.flatnonzero(table.label.to_numpy() == 1)
    pick = stream(spec.seed, Purpose.PROBE_POSITIVE_PICK).permutation(positive_index)
    positives = np.asarray(test[np.sort(pick[: spec.positives])], np.float32)
    if positives.shape[1:] != negatives.shape[1:]:
        raise ValueError(
            f"{test_store[0]}: test patches of {positives.shape[1:]} px, probes of "
            f"{negatives.shape[1:]} px (patches.size_px)"
        )
    rows = []
    for c, (label, base, probes) in enumerate(
        (
            ("negative", negatives, negative_probes(spec, dem_m)),
            ("positive", positives, positive_probes(spec)),
        )
    ):
        for k, (probe, level, perturb, note) in enumerate(probes):
            if perturb is None:
                rows.append([model_name, label, probe, level, 0, np.nan, note])
                continue
            rng = stream(spec.seed, Purpose.PROBE_PERTURBATION, c, k)
            inputs = np.stack([perturb(patch, rng) for patch in base]).astype(np.float32)
            share = flagged_share(model, transform, inputs, threshold, spec.batch_size)
            rows.append([model_name, label, probe, level, len(base), round(share, 1), note])
    result = pd.DataFrame(rows, columns=list(PROBE_COLUMNS))
    log.info("%s probes (threshold %.2f):\n%s", model_name, threshold, to_markdown(result))
    return result


def _read_dem(dem_path: Path | None, pixel_size_m: float) -> np.ndarray | None:
    """The region's DEM (m) or None; a DEM on another pixel size is refused."""
    if dem_path is None:
        return None
    dem, grid = read_raster(Path(dem_path), expected_bands=1)
    if not np.isclose(grid.pixel_size_m, pixel_size_m, rtol=0.01):
        raise ValueError(
            f"{dem_path}: pixel size {grid.pixel_size_m:g} m differs from {pixel_size_m:g} m"
        )
    return dem[0]


def probe_table(per_model: list[pd.DataFrame], csv_path: Path, markdown_path: Path) -> pd.DataFrame:
    """All models' probe rows as one CSV (long) and a Markdown table (models as columns)."""
    long = pd.concat(per_model, ignore_index=True)
    long["note"] = long["note"].fillna("")
    long.to_csv(csv_path, index=False)
    models = list(dict.fromkeys(long.model))
    keys = list(dict.fromkeys(zip(long["class"], long.probe, long.level, strict=True)))
    counts = long.groupby("class")["n"].max()
    indexed = long.set_index(["class", "probe", "level", "model"])
    rows = []
    for label, probe, level in keys:
        first = indexed.loc[(label, probe, level, models[0])]
        rows.append(
            {
                "class (n)": f"{label} ({counts[label]})",
                "probe": probe,
                "level": level,
                **{
                    m: _percent(indexed.loc[(label, probe, level, m), "flagged_percent"])
                    for m in models
                },
                "note": first["note"],
            }
        )
    Path(markdown_path).write_text(
        "Percent flagged at each model's threshold (atmosphere-only negatives: lower is better; "
        "positives: should stay as high as unperturbed, offset 0).\n\n"
        + to_markdown(pd.DataFrame(rows))
    )
    return long


def _percent(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"
