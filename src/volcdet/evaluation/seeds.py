"""Several training seeds: mean +- sd of every metric per model, and frame-bootstrap intervals.

A seed run repeats training and fine-tuning with another learning seed on the same data (the
same region, simulated sets, fine-tuning sets and test patches), so the spread is that of the
learning alone: weight initialisation, the train/validation split, batch order, dropout, and the
fine-tuning hold-out split, batch order and dropout. The sd is the sample standard deviation over
seeds (ddof = 1). The interval of an AUC is a frame bootstrap of the seed-mean AUC: each
resample of frames scores every seed's model on the same frames and averages them, so it
reflects the test set's finite number of frames, while the sd reflects training.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.evaluation.bootstrap import frame_resample_weights, percentile_interval, weighted_auc
from volcdet.evaluation.metrics import to_markdown
from volcdet.evaluation.separation import clean_mask

log = logging.getLogger(__name__)

#: Scalar metrics (percent) summarised over seeds, in table order.
SEED_METRICS = (
    "TPR",
    "FPR",
    "AUC ROC",
    "Accuracy",
    "Precision",
    "F1",
    "AUC clean",
    "FPR clean",
    "Frame AUC",
    "Frame TPR",
    "Frame FPR",
)
RATE_COLUMNS = ("rate50_mm_yr", "rate90_mm_yr")


def seed_mean_auc_interval(
    predictions: list[pd.DataFrame], n_resamples: int, seed: int, clean: bool = False
) -> tuple[float, float, float]:
    """(mean AUC over seeds, low, high) in percent; the interval resamples frames together for
    every seed (paired). ``clean`` drops the partial-footprint negatives first."""
    first = predictions[0]
    for other in predictions[1:]:
        if not np.array_equal(first.patch_id.to_numpy(), other.patch_id.to_numpy()):
            raise ValueError("seed runs scored different test patches")
    labels = first.label.to_numpy().astype(int)
    keep = (
        clean_mask(labels, first.footprint_fraction.to_numpy())
        if clean
        else np.ones(len(labels), bool)
    )
    weights = frame_resample_weights(first.frame_id.to_numpy(), n_resamples, seed)[:, keep]
    ones = np.ones(int(keep.sum()))
    point = np.mean(
        [weighted_auc(labels[keep], p.probability.to_numpy()[keep], ones)[0] for p in predictions]
    )
    replicates = np.mean(
        [weighted_auc(labels[keep], p.probability.to_numpy()[keep], weights) for p in predictions],
        axis=0,
    )
    low, high = percentile_interval(replicates)
    return 100 * float(point), 100 * low, 100 * high


def _mean_sd(values: list[float]) -> tuple[float, float, int]:
    finite = np.asarray([v for v in values if np.isfinite(v)], float)
    if not len(finite):
        return float("nan"), float("nan"), 0
    sd = float(finite.std(ddof=1)) if len(finite) > 1 else float("nan")
    return float(finite.mean()), sd, len(finite)


def seeds_summary(
    names: dict[str, str],
    runs: dict[int, dict[str, dict]],
    n_resamples: int,
    bootstrap_seed: int,
) -> pd.DataFrame:
    """One row per model over the seed runs.

    ``runs[seed][model]`` holds 'metrics' (the metrics rule's dict), 'predictions' (DataFrame)
    and 'sensitivity' (the pooled row of sensitivity.csv as a dict).
    """
    seeds = sorted(runs)
    rows = []
    for model, name in names.items():
        row: dict[str, object] = {"Model": name, "model_id": model, "seeds": len(seeds)}
        for metric in SEED_METRICS:
            mean, sd, _ = _mean_sd([float(runs[s][model]["metrics"][metric]) for s in seeds])
            row[f"{metric} mean"], row[f"{metric} sd"] = round(mean, 3), round(sd, 3)
        for column, clean in (("AUC ROC", False), ("AUC clean", True)):
            _, low, high = seed_mean_auc_interval(
                [runs[s][model]["predictions"] for s in seeds], n_resamples, bootstrap_seed, clean
            )
            row[f"{column} low"], row[f"{column} high"] = round(low, 3), round(high, 3)
        for column in RATE_COLUMNS:
            mean, sd, reached = _mean_sd(
                [float(runs[s][model]["sensitivity"][column]) for s in seeds]
            )
            row[f"{column} mean"], row[f"{column} sd"] = round(mean, 3), round(sd, 3)
            row[f"{column} reached"] = reached
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(table: pd.DataFrame, metric: str) -> list[str]:
    """'mean ± sd' cells; the mean alone where the sd is undefined (one seed)."""
    return [
        f"{m:.1f}" if np.isnan(s) else f"{m:.1f} ± {s:.1f}"
        for m, s in zip(table[f"{metric} mean"], table[f"{metric} sd"], strict=True)
    ]


def seeds_markdown(table: pd.DataFrame, max_rate: float) -> str:
    """Mean ± sd per metric; AUCs with the frame-bootstrap interval of the seed mean."""
    shown = pd.DataFrame({"Model": table.Model})
    for metric in ("TPR", "FPR", "AUC ROC", "AUC clean", "F1", "Frame AUC", "Frame FPR"):
        shown[metric] = _cell(table, metric)
        if metric in ("AUC ROC", "AUC clean"):
            shown[metric] = [
                f"{c} [{lo:.1f}, {hi:.1f}]"
                for c, lo, hi in zip(
                    shown[metric], table[f"{metric} low"], table[f"{metric} high"], strict=True
                )
            ]
    for column, title in zip(RATE_COLUMNS, ("50% rate (mm/yr)", "90% rate (mm/yr)"), strict=True):
        cells = []
        for mean, sd, reached, n in zip(
            table[f"{column} mean"],
            table[f"{column} sd"],
            table[f"{column} reached"],
            table.seeds,
            strict=True,
        ):
            if reached == 0:
                cells.append(f">{max_rate:g}")
            else:
                text = f"{mean:.2f} ± {sd:.2f}" if reached > 1 else f"{mean:.2f}"
                cells.append(text if reached == n else f"{text} ({n - reached}/{n} >{max_rate:g})")
        shown[title] = cells
    shown.insert(1, "seeds", table.seeds)
    return to_markdown(shown)


def write_seeds_summary(
    names: dict[str, str],
    seeds: list[int],
    metric_paths: list[str],
    prediction_paths: list[str],
    sensitivity_paths: list[str],
    n_resamples: int,
    bootstrap_seed: int,
    out_csv: Path,
    out_md: Path,
) -> pd.DataFrame:
    """Read every seed run (paths ordered seed-major, then model as in ``names``) and write the
    summary as CSV and Markdown."""
    models = list(names)
    runs: dict[int, dict[str, dict]] = {}
    max_rate = float("nan")
    for k, seed in enumerate(seeds):
        sensitivity = pd.read_csv(sensitivity_paths[k])
        max_rate = float(sensitivity.max_rate_mm_yr.max())
        pooled = sensitivity[(sensitivity.family == "all") & (sensitivity.depth_bin == "all")]
        if "window" in pooled:
            pooled = pooled[pooled.window == "full"]
        runs[seed] = {}
        for j, model in enumerate(models):
            i = k * len(models) + j
            runs[seed][model] = {
                "metrics": json.loads(Path(metric_paths[i]).read_text()),
                "predictions": pd.read_parquet(prediction_paths[i]),
                "sensitivity": pooled[pooled.model == model].iloc[0].to_dict(),
            }
    table = seeds_summary(names, runs, n_resamples, bootstrap_seed)
    table.to_csv(out_csv, index=False)
    markdown = seeds_markdown(table, max_rate)
    Path(out_md).write_text(markdown)
    log.info("%d seeds %s\n%s", len(seeds), seeds, markdown)
    return table
