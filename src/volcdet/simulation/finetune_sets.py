"""Hybrid synthetic-real fine-tuning sets FT1-FT4 (paper section 3.1, Figure 3).

With N background (slope-induced-signal) patches from outside the ROI (the paper's 836):

* FT1 (N): half the background patches get a simulated volcano of more than 1.5 cm LOS added
  (deformation class), the other half stay as they are (no deformation).
* FT2 (2N): FT1 plus FT1 low-pass filtered by a 20-pixel median filter (filtered, then wrapped
  at load time like every store).
* FT3 (2N): all N background patches as the no-deformation class, plus N descending simulated
  volcanoes over simulated atmosphere (amplitude > 0.6 cm) as the deformation class.
* FT4 (4N): FT2 plus N descending atmosphere-only samples and N descending volcano-plus-
  atmosphere samples from the simulated sets.

Volcanoes added to background patches come from the CDM source library in random
permutations (each source once before any twice), projected on the patch's own track LOS, under
a random square symmetry and a log-uniform amplitude.

Realistic noise (not in the paper): the background patches are real data and already carry the
region's holes, ramps, stratified delay and speckle, so FT1/FT2 add none of those; the
simulated samples of FT3/FT4 come from the simulated sets, which carry the noise of
``volcdet.simulation.noise``. Partial-coverage windows (map clips, coasts, map edges,
``volcdet.simulation.coverage``) are drawn for the background samples of every set as for the
simulated ones, both classes alike, each sample from its own stream.

Every row names its ``group``: the one-tile ground cell of its background tile (tiles of
different tracks over the same ground share it; ``volcdet.data.background.tile_ground_cells``),
or ``simulated`` for simulated samples. Fine-tuning splits its hold-out by group, so a tile,
its volcano-added and its median-filtered copies never sit on both sides of the split
(overlapping neighbours, ``background.stride_px`` < size, may).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

from volcdet.core.random import Purpose, stream
from volcdet.data.background import SIMULATED_GROUP, fine_tuning_tiles, tile_ground_cells
from volcdet.data.stores import open_store, write_store
from volcdet.simulation.coverage import CoverageSpec, draw_coverage_mask
from volcdet.simulation.source_library import SourceLibrary, dihedral_enu, source_order

log = logging.getLogger(__name__)

FT_SETS = ("FT1", "FT2", "FT3", "FT4")
MEDIAN_FILTER_PX = 20
FT1_MIN_AMPLITUDE_MM = 15.0


def median_filtered(patch_mm: np.ndarray, size_px: int = MEDIAN_FILTER_PX) -> np.ndarray:
    """20-pixel median low-pass of a displacement patch; NaN pixels are ignored and kept NaN.

    NaNs are filled with the patch median before filtering (scipy's filter has no NaN rule),
    then put back, so missing areas stay missing.
    """
    patch = np.asarray(patch_mm, np.float32)
    missing = ~np.isfinite(patch)
    filled = np.where(missing, np.nanmedian(patch) if (~missing).any() else 0.0, patch)
    out = median_filter(filled, size=size_px, mode="reflect")
    out[missing] = np.nan
    return out


def volcano_on_background(
    background_mm: np.ndarray,
    los_enu: np.ndarray,
    library: SourceLibrary,
    rng: np.random.Generator,
    min_amplitude_mm: float,
    max_amplitude_mm: float,
    index: int,
) -> tuple[np.ndarray, dict]:
    """Add library source ``index`` (random symmetry, log-uniform LOS amplitude) to a background
    patch."""
    symmetry = int(rng.integers(8))
    field = dihedral_enu(library[index], symmetry)
    los_field = np.tensordot(los_enu, field, axes=1)
    amplitude = float(np.exp(rng.uniform(np.log(min_amplitude_mm), np.log(max_amplitude_mm))))
    volcano = amplitude * los_field / np.abs(los_field).max()
    return background_mm + volcano, {
        "source_index": index,
        "symmetry": symmetry,
        "amplitude_mm": amplitude,
    }


def _descending_samples(
    simulation: list[tuple[np.memmap, pd.DataFrame]], label: int, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """n random samples of one class from the descending simulated sets."""
    pool = [
        (k, i)
        for k, (_, table) in enumerate(simulation)
        for i in np.nonzero(
            ((table["pass"] == "descending") & (table["label"] == label)).to_numpy()
        )[0]
    ]
    if len(pool) < n:
        raise ValueError(
            f"need {n} descending simulated samples of label {label}, the sets hold {len(pool)}"
        )
    picks = [pool[j] for j in rng.choice(len(pool), size=n, replace=False)]
    patches = np.stack([np.asarray(simulation[k][0][i], np.float32) for k, i in picks])
    meta = pd.DataFrame(
        [
            {
                "origin": "simulated",
                "label": label,
                "amplitude_mm": float(simulation[k][1].amplitude_mm.iloc[i]),
                "source": f"{simulation[k][1].track_id.iloc[i]}#{i}",
                "group": SIMULATED_GROUP,
            }
            for k, i in picks
        ]
    )
    return patches, meta


def with_coverage(
    patches: np.ndarray, coverage: CoverageSpec, seed: int, pixel_size_m: float
) -> tuple[np.ndarray, list[str]]:
    """Background-derived patches with partial-coverage masks drawn per sample (stream
    (seed, ``FT_COVERAGE``, sample)), and each sample's kind."""
    out, kinds = np.array(patches, np.float32), []
    for i in range(len(out)):
        rng = stream(seed, Purpose.FT_COVERAGE, i)
        mask, kind = draw_coverage_mask(out.shape[-1], pixel_size_m, rng, coverage)
        if mask is not None:
            out[i][mask] = np.nan
        kinds.append(kind)
    return out, kinds


def build_ft1(
    background: tuple[np.ndarray, pd.DataFrame],
    los_by_track: dict[str, np.ndarray],
    library: SourceLibrary,
    rng: np.random.Generator,
    max_amplitude_mm: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    """FT1: half the background with a > 1.5 cm volcano (label 1), half untouched (label 0)."""
    array, table = background
    n = len(table)
    groups = tile_ground_cells(table, array.shape[-1], cell_tiles=1)
    with_volcano = np.zeros(n, bool)
    with_volcano[rng.choice(n, size=n // 2, replace=False)] = True
    sources = iter(source_order(n // 2, len(library), rng))
    patches, rows = [], []
    for i in range(n):
        patch = np.asarray(array[i], np.float32)
        row = {
            "origin": "background",
            "label": int(with_volcano[i]),
            "amplitude_mm": 0.0,
            "source": table.patch_id.iloc[i],
            "group": str(groups[i]),
        }
        if with_volcano[i]:
            patch, info = volcano_on_background(
                patch,
                los_by_track[table.track_id.iloc[i]],
                library,
                rng,
                FT1_MIN_AMPLITUDE_MM,
                max_amplitude_mm,
                int(next(sources)),
            )
            row |= {
                "amplitude_mm": info["amplitude_mm"],
                "source": f"{row['source']}+cdm{info['source_index']}",
            }
        patches.append(patch)
        rows.append(row)
    return np.stack(patches), pd.DataFrame(rows)


def build_ft_set(
    name: str,
    background: tuple[np.ndarray, pd.DataFrame],
    simulation: list[tuple[np.memmap, pd.DataFrame]],
    los_by_track: dict[str, np.ndarray],
    library: SourceLibrary,
    seed: int,
    max_amplitude_mm: float,
    coverage: CoverageSpec | None = None,
    *,
    pixel_size_m: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Assemble one of FT1-FT4 (module docstring) in memory; deterministic from the seed.

    With ``coverage`` the background-derived samples get partial-coverage masks (the same mask
    for a tile in every set: FT1's sample i and FT3's background tile i share a stream)."""
    if name not in FT_SETS:
        raise ValueError(f"unknown fine-tuning set {name!r} (expected one of {FT_SETS})")
    coverage = coverage or CoverageSpec()
    n = len(background[1])
    ft1_patches, ft1_meta = build_ft1(
        background, los_by_track, library, stream(seed, Purpose.FT1_VOLCANOES), max_amplitude_mm
    )
    ft1_patches, kinds = with_coverage(ft1_patches, coverage, seed, pixel_size_m)
    ft1 = (ft1_patches, ft1_meta.assign(coverage=kinds))
    if name == "FT1":
        return ft1
    ft2_patches = np.concatenate([ft1[0], np.stack([median_filtered(p) for p in ft1[0]])])
    ft2_meta = pd.concat(
        [ft1[1], ft1[1].assign(origin=ft1[1].origin + "+median20")], ignore_index=True
    )
    rng = stream(seed, Purpose.FT_SIMULATED_PICKS)
    if name == "FT2":
        return ft2_patches, ft2_meta
    if name == "FT3":
        volcanoes, meta = _descending_samples(simulation, 1, n, rng)
        slope_patches, kinds = with_coverage(
            np.asarray(background[0], np.float32), coverage, seed, pixel_size_m
        )
        slope = pd.DataFrame(
            {
                "origin": "background",
                "label": 0,
                "amplitude_mm": 0.0,
                "source": background[1].patch_id,
                "group": ft1[1].group,
                "coverage": kinds,
            }
        )
        return np.concatenate([slope_patches, volcanoes]), pd.concat(
            [slope, meta], ignore_index=True
        )
    atmosphere, atm_meta = _descending_samples(simulation, 0, n, rng)
    volcanoes, volc_meta = _descending_samples(simulation, 1, n, rng)
    return (
        np.concatenate([ft2_patches, atmosphere, volcanoes]),
        pd.concat([ft2_meta, atm_meta, volc_meta], ignore_index=True),
    )


def write_ft_set(
    name: str,
    background_store: tuple[Path, Path],
    simulation_stores: list[tuple[Path, Path]],
    los_table: pd.DataFrame,
    library_arrays: list[Path],
    seed: int,
    max_amplitude_mm: float,
    array_path: Path,
    table_path: Path,
    holdout_fraction: float | None = None,
    coverage: CoverageSpec | None = None,
    *,
    pixel_size_m: float,
) -> pd.DataFrame:
    """Build a fine-tuning set from the stores and write it as a patch store.

    With ``holdout_fraction`` the background tiles held out for the sensitivity test, and every
    tile sharing ground with one (``volcdet.data.background.fine_tuning_tiles``), are left out.
    """
    background: tuple[np.ndarray, pd.DataFrame] = open_store(*background_store)
    if holdout_fraction:
        size_px = background[0].shape[-1]
        keep = np.flatnonzero(fine_tuning_tiles(background[1], holdout_fraction, seed, size_px))
        background = (background[0][keep], background[1].iloc[keep].reset_index(drop=True))
    simulation = [open_store(*store) for store in simulation_stores]
    library = SourceLibrary(library_arrays)
    los_by_track = {
        row["track_id"]: np.array([row["los_east"], row["los_north"], row["los_up"]])
        for row in los_table.to_dict("records")
    }
    patches, table = build_ft_set(
        name,
        background,
        simulation,
        los_by_track,
        library,
        seed,
        max_amplitude_mm,
        coverage,
        pixel_size_m=pixel_size_m,
    )
    table = table.assign(ftset=name)
    write_store(
        array_path,
        table_path,
        patches,
        table,
        {"kind": "finetune_set", "units": "mm", "ftset": name},
    )
    log.info("%s: %d samples, %d with deformation", name, len(table), int(table.label.sum()))
    return table
