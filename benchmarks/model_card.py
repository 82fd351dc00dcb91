"""The rows of the model card (docs/model_card.md), measured for several model files side by side.

Every model is scored on the same data of a finished demo run, each through its own backbone
and input transform and at its own threshold: the test patches (AUC with the frame-bootstrap
interval, clean AUC, TPR, FPR, frame metrics), the shortcut probes, the sensitivity test's
injections (detectable rates per depth bin, strong sources, clips), clips of the demo tracks
(``clip_detection.py``) and scans of every demo track (false alarms per 1,000 km2 outside the
deforming footprints). Prints Markdown tables and writes them to ``--out``.

Run after `make demo`:
  .venv/bin/python benchmarks/model_card.py . \\
      --models reference=src/volcdet/models/reference.pt demo=results/finetune/FT4/last/model.pt
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio.features
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from clip_detection import parse_models, score_clips, summarise

from volcdet.data.region import geometry_to_grid_crs, load_region
from volcdet.evaluation.false_alarms import track_false_alarms, with_rates
from volcdet.evaluation.metrics import to_markdown
from volcdet.evaluation.probes import ProbeSpec, run_probes
from volcdet.evaluation.sensitivity import (
    STRONG_MM,
    clip_comparison,
    detectable_rates,
    detection_curves,
    strong_detection,
)
from volcdet.evaluation.separation import model_metrics
from volcdet.inference.api import load_model, predict
from volcdet.inference.spec import ScanSpec
from volcdet.learning.features import pooled_features
from volcdet.learning.finetune import head_probabilities

QUIET = open(os.devnull, "w")  # noqa: SIM115


def probabilities(model_path: Path, store: tuple[Path, Path]) -> tuple[np.ndarray, float]:
    """Each sample's probability under the full model (its own backbone), and its threshold."""
    loaded = load_model(model_path)
    features, _ = pooled_features(loaded.model, loaded.transform, [store], device="cpu")
    return head_probabilities(loaded.model, features), loaded.threshold


def test_rows(run: Path, models: dict[str, Path], config: dict) -> pd.DataFrame:
    """Test-set metrics of every model at its threshold, with frame-bootstrap intervals."""
    store = (run / "results/patches/test.npy", run / "results/patches/test.parquet")
    table = pd.read_parquet(store[1])
    rows = []
    for name, path in models.items():
        p, threshold = probabilities(path, store)
        m = model_metrics(
            table.assign(probability=p),
            config["evaluation"]["bootstrap_resamples"],
            config["seed"],
            threshold,
        )
        low, high = m["AUC ROC 95% CI"]
        clow, chigh = m["AUC clean 95% CI"]
        rows.append(
            {
                "model": name,
                "threshold": round(threshold, 4),
                "AUC ROC [95% CI]": f"{m['AUC ROC']:.1f} [{low:.1f}, {high:.1f}]",
                "AUC clean [95% CI]": f"{m['AUC clean']:.1f} [{clow:.1f}, {chigh:.1f}]",
                "TPR": round(m["TPR"], 1),
                "FPR": round(m["FPR"], 1),
                "FPR clean": round(m["FPR clean"], 1),
                "Frame AUC": round(m["Frame AUC"], 1),
                "Frame TPR": round(m["Frame TPR"], 1),
                "Frame FPR": round(m["Frame FPR"], 1),
            }
        )
    return pd.DataFrame(rows)


def probe_rows(run: Path, models: dict[str, Path], config: dict) -> pd.DataFrame:
    """The shortcut probes of every model (models as columns)."""
    sim = config["simulation"]
    spec = ProbeSpec(
        negatives=config["probes"]["negatives"],
        positives=config["probes"]["positives"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        noise_mm=(
            tuple(sim["atmosphere_noise_mm"]["ascending"]),
            tuple(sim["atmosphere_noise_mm"]["descending"]),
        ),
        noise_statistic=sim.get("noise_statistic", "peak"),
        seed=config["seed"],
    )
    long = pd.concat(
        [
            run_probes(
                {name: path},
                (run / "results/patches/test.npy", run / "results/patches/test.parquet"),
                run / "data/demo/dem.tif",
                spec,
            )
            for name, path in models.items()
        ]
    )
    wide = long.pivot_table(
        index=["class", "probe", "level"], columns="model", values="flagged_percent", sort=False
    )
    return wide[list(models)].reset_index()


def sensitivity_rows(run: Path, models: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Detectable rates per depth bin, strong sources and clips of every model."""
    store = (run / "results/sensitivity/injected.npy", run / "results/sensitivity/injected.parquet")
    injected = pd.read_parquet(store[1])
    curves, strong = [], []
    for name, path in models.items():
        p, threshold = probabilities(path, store)
        detected = p >= threshold
        curves.append(detection_curves(injected, detected).assign(model=name))
        strong.append({"model": name, **strong_detection(injected, detected, STRONG_MM)})
    summary = detectable_rates(pd.concat(curves, ignore_index=True))
    pooled = summary[(summary.window == "full") & (summary.family == "all")]
    depths = pooled.pivot_table(
        index="depth_bin", columns="model", values="rate50_mm_yr", sort=False
    )[list(models)]
    first = pooled[pooled.depth_bin == "all"][["model", "false_alarm_percent", "rate90_mm_yr"]]
    return {
        "rate50 per depth (mm/yr)": depths.reset_index(),
        "untouched tiles flagged and rate90": first,
        f"strong sources (> {STRONG_MM:g} mm)": pd.DataFrame(strong),
        "clips": clip_comparison(summary, {m: m for m in models}),
    }


def false_alarm_rows(run: Path, models: dict[str, Path]) -> pd.DataFrame:
    """False alarms of scans of every demo track (whole maps and inside the ROI)."""
    region = load_region(run / "data/demo", check_rasters=False)
    rows = []
    for name, path in models.items():
        loaded = load_model(path)
        for track in region.tracks:
            result = predict(
                track.velocity_path,
                loaded,
                period_yr=track.period_yr,
                spec=ScanSpec(device="cpu"),
                progress=QUIET,
            )
            grid = result.model_grid
            roi = geometry_to_grid_crs(grid, region.roi_lonlat)
            zones = {
                "whole map": np.ones(grid.shape, bool),
                "inside ROI": rasterio.features.geometry_mask(
                    [roi], grid.shape, grid.transform, invert=True
                ),
            }
            probability = result.probability_model_grid.to_numpy()
            for row in track_false_alarms(probability, grid, result.flags, region.volcanoes, zones):
                rows.append({"model": name, **row})
    table = pd.DataFrame(rows)
    totals = table.groupby(["model", "zone"], sort=False)[
        ["scanned_km2", "alarm_windows", "alarm_clusters", "alarm_km2"]
    ].sum()
    return with_rates(totals.reset_index())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", default=Path("."), help="a finished demo run")
    parser.add_argument("--models", nargs="+", required=True, help="NAME=PATH model files")
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--out", type=Path, help="write the tables to this Markdown file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = yaml.safe_load(args.config.read_text())
    models = parse_models(args.run, args.models)
    sections = {"Test set (demo, 900 patches)": test_rows(args.run, models, config)}
    sections["Probes (percent flagged)"] = probe_rows(args.run, models, config)
    for title, table in sensitivity_rows(args.run, models).items():
        sections[f"Sensitivity: {title}"] = table
    sections["Clips of the demo tracks"] = summarise(score_clips(args.run, models, 12))
    sections["False alarms of the demo scans"] = false_alarm_rows(args.run, models)
    text = "\n\n".join(f"### {title}\n\n{to_markdown(table)}" for title, table in sections.items())
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
