"""Shortcut probes: does a model flag things that are not volcanic deformation? (not in the paper)

Per model, the share flagged at the model's threshold of atmosphere-only negatives under
perturbations that real maps carry but that are not deformation, and of deformation positives
under the perturbations they must survive:

* negatives: (none), (a) a constant offset at 8 values over one fringe, (b) a planar ramp of 0.5
  and 1 fringe across the patch, (c) stratified delay k (h - median h) on random cut-outs of the
  region's ``dem.tif`` (5 and 10 mm per km; skipped with the reason when there is no DEM),
  (d) 5% and 20% of the pixels missing in blob-shaped holes, (e) a salt-lake-like sharp-edged
  plateau of 5, 15 and 40 mm, (f) the window clipped to a centred 16 or 30 km square (a map
  smaller than a window, as the scan places it), (g) a coastline with 50% of the window at sea,
  or an island in an 80% sea;
* positives: the test set's deformation-labelled patches (the region's own data), under (a),
  (d), (f) and (g).

The inputs come from ``volcdet.evaluation.probe_inputs``, which shares no code with the
simulator (``tests/test_architecture.py``). A negative row above ``NEGATIVE_BAR_PERCENT`` is
marked in its note. All models of one backbone (the fine-tuned heads share the synthetic
model's frozen backbone) are scored on one pass of backbone features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from volcdet.core.constants import FRINGE_MM
from volcdet.core.random import Purpose, stream
from volcdet.data.rasters import read_raster
from volcdet.data.stores import open_store
from volcdet.evaluation.metrics import to_markdown
from volcdet.evaluation.probe_inputs import (
    CLIP_SIDES_KM,
    COAST_FRACTIONS,
    HOLE_FRACTIONS,
    OFFSETS_FRINGE,
    PLATEAUS_MM,
    RAMPS_FRINGE,
    STRATIFIED_MM_PER_KM,
    Perturbation,
    make_clip,
    make_coast,
    make_holes,
    make_offset,
    make_plateau,
    make_ramp,
    make_stratified,
    turbulence_mm,
)
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.finetune import backbone_digest, head_probabilities
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)

PROBE_COLUMNS = ("model", "class", "probe", "level", "n", "flagged_percent", "note")
#: Largest share (percent) of atmosphere-only negatives a probe may flag (docs/invariance.md).
NEGATIVE_BAR_PERCENT = 5.0
Probe = tuple[str, str, Perturbation | None, str]


@dataclass(frozen=True)
class ProbeSpec:
    """Probe sizes and the atmosphere level of the negatives (per pass, as in the config)."""

    negatives: int = 128
    positives: int = 64
    size_px: int = 256
    pixel_size_m: float = field(kw_only=True)
    noise_mm: tuple[tuple[float, float], ...] = ((8.299, 1.9365), (4.6025, 0.1719))
    noise_statistic: str = "peak"
    seed: int = 0
    batch_size: int = 64


def _coverage_probes(spec: ProbeSpec) -> list[Probe]:
    size = spec.size_px
    probes: list[Probe] = [
        ("clip", f"{side:g} km", make_clip(size, spec.pixel_size_m, side), "")
        for side in CLIP_SIDES_KM
    ]
    probes += [
        (
            "coast" if fraction <= 0.5 else "island",
            f"{fraction:.0%} sea",
            make_coast(size, fraction),
            "",
        )
        for fraction in COAST_FRACTIONS
    ]
    return probes


def negative_probes(spec: ProbeSpec, dem_m: np.ndarray | None) -> list[Probe]:
    """(probe, level, perturbation, note) of the negatives; a None perturbation is skipped."""
    size = spec.size_px
    probes: list[Probe] = []
    for share in OFFSETS_FRINGE:
        probes.append(("offset", f"{share:.3f} fringe", make_offset(share * FRINGE_MM), ""))
    for fringes in RAMPS_FRINGE:
        probes.append(("ramp", f"{fringes:g} fringe", make_ramp(size, fringes * FRINGE_MM), ""))
    for k in STRATIFIED_MM_PER_KM:
        if dem_m is None:
            probes.append(("stratified", f"{k:g} mm/km", None, "skipped: region has no dem.tif"))
        elif min(dem_m.shape) < size:
            probes.append(("stratified", f"{k:g} mm/km", None, "skipped: DEM smaller than a patch"))
        else:
            probes.append(("stratified", f"{k:g} mm/km", make_stratified(dem_m, size, k), ""))
    for fraction in HOLE_FRACTIONS:
        probes.append(("holes", f"{fraction:.0%}", make_holes(size, fraction), ""))
    for height in PLATEAUS_MM:
        probes.append(("plateau", f"{height:g} mm", make_plateau(size, height), ""))
    return probes + _coverage_probes(spec)


def positive_probes(spec: ProbeSpec) -> list[Probe]:
    """(probe, level, perturbation, note) of the positives: offsets, holes, clips, coasts."""
    probes: list[Probe] = [
        ("offset", f"{share:.3f} fringe", make_offset(share * FRINGE_MM), "")
        for share in OFFSETS_FRINGE
    ]
    probes += [
        ("holes", f"{fraction:.0%}", make_holes(spec.size_px, fraction), "")
        for fraction in HOLE_FRACTIONS
    ]
    return probes + _coverage_probes(spec)


def probe_negatives(spec: ProbeSpec) -> np.ndarray:
    """The atmosphere-only negatives (n, H, W) in mm, the passes' levels in turn."""
    rng = stream(spec.seed, Purpose.PROBE_NEGATIVES)
    out = np.empty((spec.negatives, spec.size_px, spec.size_px), np.float32)
    for i in range(spec.negatives):
        mu, sigma = spec.noise_mm[i % len(spec.noise_mm)]
        level = max(rng.normal(mu, sigma), 0.1 * mu)
        out[i] = turbulence_mm(spec.size_px, spec.pixel_size_m, rng, level, spec.noise_statistic)
    return out


class HeadScorer:
    """Probabilities of every model of one backbone and transform, from one pass of features."""

    def __init__(self, backbone: VolcanoClassifier, transform: InputTransform, batch: int) -> None:
        self.backbone, self.transform, self.batch = backbone.eval(), transform, batch

    def features(self, patches_mm: np.ndarray) -> np.ndarray:
        """Pooled backbone features (n, F) of the patches."""
        out = []
        with torch.no_grad():
            for start in range(0, len(patches_mm), self.batch):
                x = self.transform(patches_mm[start : start + self.batch])
                out.append(self.backbone.features(x).numpy())
        return np.concatenate(out)


def _load_groups(models: dict[str, Path]) -> list[tuple[HeadScorer, dict[str, tuple]]]:
    """Models grouped by backbone weights and transform: (scorer, name -> (model, threshold))."""
    groups: dict[tuple, tuple[HeadScorer, dict[str, tuple]]] = {}
    for name, path in models.items():
        model, transform, checkpoint = model_from_checkpoint(Path(path))
        key = (backbone_digest(model), tuple(sorted(transform.to_dict().items())))
        if key not in groups:
            groups[key] = (HeadScorer(model, transform, 64), {})
        groups[key][1][name] = (model, float(checkpoint.get("threshold", 0.5)))
    return list(groups.values())


def probe_rows(
    label: str,
    base: np.ndarray,
    probes: list[Probe],
    c: int,
    spec: ProbeSpec,
    groups: list[tuple[HeadScorer, dict[str, tuple]]],
) -> list[list]:
    """Rows (``PROBE_COLUMNS``) of every model for one class's probes."""
    rows = []
    for k, (probe, level, perturb, note) in enumerate(probes):
        if perturb is None:
            rows += [
                [name, label, probe, level, 0, np.nan, note]
                for _, heads in groups
                for name in heads
            ]
            continue
        rng = stream(spec.seed, Purpose.PROBE_PERTURBATION, c, k)
        inputs = np.stack([perturb(patch, rng) for patch in base]).astype(np.float32)
        for scorer, heads in groups:
            features = scorer.features(inputs)
            for name, (model, threshold) in heads.items():
                share = 100.0 * float((head_probabilities(model, features) >= threshold).mean())
                mark = note
                if label == "negative" and share > NEGATIVE_BAR_PERCENT:
                    mark = f"fails: over {NEGATIVE_BAR_PERCENT:g}% of negatives flagged"
                rows.append([name, label, probe, level, len(base), round(share, 1), mark])
    return rows


def run_probes(
    models: dict[str, Path],
    test_store: tuple[Path, Path],
    dem_path: Path | None,
    spec: ProbeSpec,
) -> pd.DataFrame:
    """Every model's probe rows (``PROBE_COLUMNS``): flagged percent per (class, probe, level).

    Inputs are identical for every model (drawn from ``spec.seed`` only), so the rows compare.
    """
    groups = _load_groups(models)
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
    rows = probe_rows("negative", negatives, negative_probes(spec, dem_m), 0, spec, groups)
    rows += probe_rows("positive", positives, positive_probes(spec), 1, spec, groups)
    order = {name: i for i, name in enumerate(models)}
    result = pd.DataFrame(rows, columns=list(PROBE_COLUMNS))
    result = result.sort_values("model", key=lambda m: m.map(order), kind="stable")
    log.info("probes of %d models in %d backbone group(s)", len(models), len(groups))
    return result.reset_index(drop=True)


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


def probe_table(long: pd.DataFrame, csv_path: Path, markdown_path: Path) -> pd.DataFrame:
    """All models' probe rows as one CSV (long) and a Markdown table (models as columns), whose
    note names the models that fail a negative row's bar."""
    long = long.assign(note=long["note"].fillna(""))
    long.to_csv(csv_path, index=False)
    models = list(dict.fromkeys(long.model))
    keys = list(dict.fromkeys(zip(long["class"], long.probe, long.level, strict=True)))
    counts = long.groupby("class")["n"].max()
    indexed = long.set_index(["class", "probe", "level", "model"])
    rows = []
    for label, probe, level in keys:
        cells = indexed.loc[(label, probe, level)]
        notes = {note for note in cells["note"] if note and not note.startswith("fails")}
        failing = [m for m in models if str(cells.loc[m, "note"]).startswith("fails")]
        if failing:
            notes.add(f"fails (over {NEGATIVE_BAR_PERCENT:g}% flagged): {', '.join(failing)}")
        rows.append(
            {
                "class (n)": f"{label} ({counts[label]})",
                "probe": probe,
                "level": level,
                **{m: _percent(cells.loc[m, "flagged_percent"]) for m in models},
                "note": "; ".join(sorted(notes)),
            }
        )
    Path(markdown_path).write_text(
        "Percent flagged at each model's threshold (atmosphere-only negatives: lower is better, "
        f"at most {NEGATIVE_BAR_PERCENT:g}%; positives: should stay as high as unperturbed, "
        "offset 0).\n\n" + to_markdown(pd.DataFrame(rows))
    )
    return long


def _percent(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"
