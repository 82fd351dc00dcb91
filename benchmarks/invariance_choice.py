"""The measurement behind docs/invariance.md: random-offset augmentation vs a referenced input.

Trains the demo's classifier (deterministic fp32 on the CPU) on simulated sets built from a
finished demo run's stores, once per variant, and measures what a constant does to it:

* ``none``: wrapped phase as it is (the old transform), no augmentation;
* ``offset``: (A) a constant uniform over one fringe added to every training sample, redrawn
  each epoch (``TrainConfig.random_offset``);
* ``reference``: (B) the input referenced to the circular mean of its valid pixels' phase
  (``InputTransform.reference = "circular_mean"``);
* ``both``: A and B.

Per variant: validation accuracy; detection of small simulated signals (validation positives
under 15 mm); percent flagged of the validation negatives and of the probes' own atmosphere-only
negatives (``volcdet.evaluation.probes``) at 8 offsets over one fringe; on the demo test set
AUC, TPR and the FPR on clean negatives (``footprint_fraction == 0``); the windows of one demo
track flagged after adding +0..+3 mm/yr and how many differ from +0.

Run (after a demo run in BASE, e.g. ``snakemake --cores 2`` in a copy of the repo):
  PYTHONPATH=src .venv/bin/python benchmarks/invariance_choice.py BASE OUT \
      --samples 300 --epochs 4 --variants none,offset,reference
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scan_shift import flags_per_shift
from sklearn.metrics import roc_auc_score

from volcdet.core.constants import FRINGE_MM
from volcdet.data.rasters import read_raster
from volcdet.data.region import load_region
from volcdet.data.stores import open_store
from volcdet.evaluation.probes import ProbeSpec, probe_negatives
from volcdet.inference.api import load_model
from volcdet.learning.datasets import StoreDataset, split_indices
from volcdet.learning.model import ModelSpec
from volcdet.learning.training import TrainConfig, fit
from volcdet.learning.transforms import InputTransform
from volcdet.simulation.atmosphere import load_atmosphere_parameters
from volcdet.simulation.noise import NoiseSpec, load_region_noise_inputs
from volcdet.simulation.simulate import SimulationSpec, simulate_los_set
from volcdet.simulation.source_library import SourceLibrary

VARIANTS = {
    "none": ("none", False),
    "offset": ("none", True),
    "reference": ("circular_mean", False),
    "both": ("circular_mean", True),
}
SEED = 20231
SCAN_TRACK = "D156"


def simulate_sets(base: Path, out: Path, samples: int, noise: NoiseSpec) -> list[tuple[Path, Path]]:
    """The 7 LOS sets of the demo with ``samples`` each, from the base run's stores."""
    los_table = pd.read_csv(base / "results/simulation/los_sets.csv")
    chunks = sorted((base / "results/simulation/source_library").glob("chunk*.npy"))
    library = SourceLibrary(chunks, [c.with_suffix(".parquet") for c in chunks])
    inputs = load_region_noise_inputs(
        (base / "results/patches/background.npy", base / "results/patches/background.parquet"),
        base / "data/demo/dem.tif",
        200.0,
    )
    stores = []
    for los in los_table.to_dict("records"):
        array, table = out / f"los{los['los_set']}.npy", out / f"los{los['los_set']}.parquet"
        if not array.is_file():
            minimum = 15.0 if los["pass"] == "ascending" else 6.0
            simulate_los_set(
                los,
                library,
                load_atmosphere_parameters(
                    base / "results/variograms/atmosphere.json", los["pass"]
                ),
                SimulationSpec(
                    samples=samples,
                    pixel_size_m=200.0,
                    min_amplitude_mm=minimum,
                    seed=SEED,
                    noise=noise,
                ),
                array,
                table,
                inputs,
            )
        stores.append((array, table))
    return stores


def probabilities(model, transform, patches: np.ndarray, batch: int = 64) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(patches), batch):
            out.append(torch.sigmoid(model(transform(patches[start : start + batch]))).numpy())
    return np.concatenate(out)


def evaluate(model_path: Path, stores, base: Path, offsets_n: int) -> dict:
    loaded = load_model(model_path)
    model, transform = loaded.model, loaded.transform
    result: dict = {}
    dataset = StoreDataset(stores)
    tables = pd.concat([pd.read_parquet(t) for _, t in stores], ignore_index=True)
    _, val_idx = split_indices(len(dataset), 0.1, SEED)
    val = np.stack([dataset[i][0].numpy() for i in val_idx])
    val_table = tables.iloc[val_idx].reset_index(drop=True)
    p_val = probabilities(model, transform, val)
    labels = val_table.label.to_numpy()
    result["val_accuracy"] = float(((p_val >= 0.5) == (labels == 1)).mean())
    small = (labels == 1) & (val_table.amplitude_mm.abs().to_numpy() < 15.0)
    result["val_tpr_small"] = float((p_val[small] >= 0.5).mean())
    result["val_n_small"] = int(small.sum())
    result["val_tpr"] = float((p_val[labels == 1] >= 0.5).mean())
    negatives = val[labels == 0][:offsets_n]
    probe = probe_negatives(ProbeSpec(negatives=offsets_n, pixel_size_m=200.0, seed=SEED))
    for name, base_patches in (("val_negatives", negatives), ("probe_negatives", probe)):
        result[f"{name}_flagged_by_offset"] = [
            round(
                100
                * float(
                    (
                        probabilities(model, transform, base_patches + k * FRINGE_MM / 8) >= 0.5
                    ).mean()
                ),
                1,
            )
            for k in range(8)
        ]
    test, test_table = open_store(
        base / "results/patches/test.npy", base / "results/patches/test.parquet"
    )
    p_test = probabilities(model, transform, np.asarray(test, np.float32))
    y = test_table.label.to_numpy()
    clean = (y == 0) & (test_table.footprint_fraction.to_numpy() == 0)
    result["test_auc"] = float(roc_auc_score(y, p_test))
    result["test_tpr"] = float((p_test[y == 1] >= 0.5).mean())
    result["test_clean_fpr"] = float((p_test[clean] >= 0.5).mean())
    result["test_n_clean"] = int(clean.sum())
    track = load_region(base / "data/demo", check_rasters=False).track(SCAN_TRACK)
    bands, _ = read_raster(track.velocity_path, expected_bands=1)
    flagged = flags_per_shift(loaded, bands[0], track.period_yr)
    result["scan_windows"] = len(flagged[0])
    result["scan_flagged"] = [int(f.sum()) for f in flagged]
    result["scan_differ_from_0"] = [int((f != flagged[0]).sum()) for f in flagged[1:]]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--downsample", type=int, default=2)
    parser.add_argument("--variants", default="none,offset,reference")
    parser.add_argument("--offsets-n", type=int, default=128)
    parser.add_argument("--no-noise", action="store_true", help="simulate without the new noise")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(2)
    noise = NoiseSpec.off() if args.no_noise else NoiseSpec()
    sim_dir = args.out / ("sim_nonoise" if args.no_noise else "sim") / str(args.samples)
    sim_dir.mkdir(parents=True, exist_ok=True)
    stores = simulate_sets(args.base, sim_dir, args.samples, noise)
    results = {}
    for variant in args.variants.split(","):
        reference, offset = VARIANTS[variant]
        run = (
            args.out
            / f"{variant}_{sim_dir.parent.name}_{args.samples}_e{args.epochs}_d{args.downsample}"
        )
        started = time.perf_counter()
        if not (run / "best.pt").is_file():
            fit(
                stores,
                ModelSpec("resnet10t", input_size_px=256 // args.downsample),
                InputTransform(downsample=args.downsample, reference=reference, pixel_size_m=200.0),
                TrainConfig(
                    max_epochs=args.epochs,
                    early_stopping_patience=args.epochs,
                    seed=SEED,
                    device="cpu",
                    random_offset=offset,
                ),
                run,
            )
        train_s = time.perf_counter() - started
        result = evaluate(run / "best.pt", stores, args.base, args.offsets_n)
        history = pd.read_csv(run / "history.csv")
        result |= {
            "epochs": len(history),
            "best_val_loss": float(history.val_loss.min()),
            "train_seconds": round(train_s, 1),
        }
        results[variant] = result
        (run / "evaluation.json").write_text(json.dumps(result, indent=2))
        print(variant, json.dumps(result), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
