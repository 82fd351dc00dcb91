"""Metrics that separate models beyond Tables 1-2: clean negatives, the label-threshold
sweep and per-frame detection, each AUC with a frame-bootstrap interval.

* clean: test patches labelled negative although a deformation footprint cuts them
  (``label == 0`` and ``footprint_fraction > 0``, negative only by the containment rule of
  ``volcdet.data.patches``) are dropped, so the negatives hold no deformation at all.
* sweep: the patches are relabelled positive when ``footprint_fraction`` reaches each
  threshold, as if ``patches.min_footprint_fraction`` had been set to it.
* frames: a frame's score is the largest probability of its patches; a frame is positive
  when it holds a deformation-labelled patch ("is there a volcano in this frame?").
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.plotting import pyplot
from volcdet.evaluation.bootstrap import (
    auc_with_interval,
    frame_resample_weights,
    percentile_interval,
    weighted_auc,
)
from volcdet.evaluation.metrics import THRESHOLD, patch_metrics, to_markdown

log = logging.getLogger(__name__)

#: Columns of the separation table (percent), in order; each AUC has a 95% interval column.
SEPARATION_COLUMNS = (
    "AUC ROC",
    "AUC clean",
    "TPR",
    "FPR clean",
    "Frame AUC",
    "Frame TPR",
    "Frame FPR",
)


def clean_mask(labels: np.ndarray, footprint_fraction: np.ndarray) -> np.ndarray:
    """True for the patches kept when partial-footprint negatives are excluded."""
    return ~((np.asarray(labels) == 0) & (np.asarray(footprint_fraction) > 0))


def relabel(footprint_fraction: np.ndarray, min_footprint_fraction: float) -> np.ndarray:
    """Labels under another containment threshold (the rule of ``volcdet.data.patches``)."""
    return (np.asarray(footprint_fraction) >= min_footprint_fraction).astype(int)


def frame_scores(
    frame_ids: np.ndarray, labels: np.ndarray, probabilities: np.ndarray
) -> pd.DataFrame:
    """One row per frame (sorted by id): positive (holds a label-1 patch) and max probability."""
    table = pd.DataFrame(
        {"frame_id": frame_ids, "positive": np.asarray(labels) == 1, "score": probabilities}
    )
    return (
        table.groupby("frame_id", sort=True)
        .agg(positive=("positive", "any"), score=("score", "max"))
        .reset_index()
    )


def _auc_with_interval(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray
) -> tuple[float, list[float]]:
    point, low, high = auc_with_interval(labels, scores, weights)
    return 100 * point, [100 * low, 100 * high]


def _rate(flags: np.ndarray) -> float:
    return 100 * float(np.mean(flags)) if len(flags) else float("nan")


def model_metrics(
    predictions: pd.DataFrame, n_resamples: int, seed: int, threshold: float = THRESHOLD
) -> dict[str, object]:
    """The paper's metrics plus clean, per-frame and interval metrics of one model (percent).

    Every interval comes from the same frame resamples (stream (seed, 14)) for every model, so
    intervals of models scored on the same test set are paired.
    """
    labels = predictions.label.to_numpy().astype(int)
    probabilities = predictions.probability.to_numpy()
    frames = predictions.frame_id.to_numpy()
    metrics = patch_metrics(labels, probabilities, frames, threshold)
    weights = frame_resample_weights(frames, n_resamples, seed)
    _, metrics["AUC ROC 95% CI"] = _auc_with_interval(labels, probabilities, weights)
    keep = clean_mask(labels, predictions.footprint_fraction.to_numpy())
    metrics["AUC clean"], metrics["AUC clean 95% CI"] = _auc_with_interval(
        labels[keep], probabilities[keep], weights[:, keep]
    )
    metrics["FPR clean"] = _rate(probabilities[keep & (labels == 0)] >= threshold)
    metrics["clean negatives"] = int((keep & (labels == 0)).sum())
    per_frame = frame_scores(frames, labels, probabilities)
    frame_weights = frame_resample_weights(per_frame.frame_id.to_numpy(), n_resamples, seed)
    positive = per_frame.positive.to_numpy()
    score = per_frame.score.to_numpy()
    metrics["Frame AUC"], metrics["Frame AUC 95% CI"] = _auc_with_interval(
        positive, score, frame_weights
    )
    metrics["Frame TPR"] = _rate(score[positive] >= threshold)
    metrics["Frame FPR"] = _rate(score[~positive] >= threshold)
    metrics["Frames"] = f"{int(positive.sum())}+/{int((~positive).sum())}-"
    return metrics


def footprint_sweep(predictions: dict[str, pd.DataFrame], thresholds: list[float]) -> pd.DataFrame:
    """AUC (percent) of every model with the test patches relabelled at each threshold."""
    rows = []
    for model, frame in predictions.items():
        for threshold in thresholds:
            labels = relabel(frame.footprint_fraction.to_numpy(), threshold)
            auc = weighted_auc(labels, frame.probability.to_numpy(), np.ones(len(labels)))[0]
            rows.append(
                {
                    "model": model,
                    "min_footprint_fraction": threshold,
                    "AUC": round(100 * float(auc), 3),
                    "positives": int(labels.sum()),
                    "negatives": int(len(labels) - labels.sum()),
                }
            )
    return pd.DataFrame(rows)


def paired_clean_auc_difference(
    baseline: pd.DataFrame, other: pd.DataFrame, n_resamples: int, seed: int
) -> tuple[float, float, float]:
    """AUC clean of ``other`` minus the baseline's (percent) with a paired frame-bootstrap interval."""
    if not np.array_equal(baseline.patch_id.to_numpy(), other.patch_id.to_numpy()):
        raise ValueError("paired AUC difference: the two prediction tables hold other patches")
    labels = baseline.label.to_numpy().astype(int)
    keep = clean_mask(labels, baseline.footprint_fraction.to_numpy())
    weights = frame_resample_weights(baseline.frame_id.to_numpy(), n_resamples, seed)[:, keep]
    ones = np.ones(int(keep.sum()))
    a, b = (frame.probability.to_numpy()[keep] for frame in (baseline, other))
    point = weighted_auc(labels[keep], b, ones)[0] - weighted_auc(labels[keep], a, ones)[0]
    low, high = percentile_interval(
        weighted_auc(labels[keep], b, weights) - weighted_auc(labels[keep], a, weights)
    )
    return 100 * float(point), 100 * low, 100 * high


INTERVALS = {
    "AUC ROC": "AUC ROC 95% CI",
    "AUC clean": "AUC clean 95% CI",
    "Frame AUC": "Frame AUC 95% CI",
}


def separation_table(
    names: dict[str, str],
    metrics: dict[str, dict],
    predictions: dict[str, pd.DataFrame],
    n_resamples: int,
    seed: int,
) -> pd.DataFrame:
    """One row per model: the separating metrics, AUC intervals (low/high columns) and the paired
    AUC-clean gain over the first model (the synthetic-only baseline)."""
    baseline = next(iter(names))
    rows = []
    for model, name in names.items():
        m = metrics[model]
        gain = paired_clean_auc_difference(
            predictions[baseline], predictions[model], n_resamples, seed
        )
        row: dict[str, object] = {"Model": name, "model_id": model}
        for column in SEPARATION_COLUMNS:
            row[column] = round(float(m[column]), 3)
            if column in INTERVALS:
                low, high = m[INTERVALS[column]]
                row[f"{column} low"], row[f"{column} high"] = round(low, 3), round(high, 3)
        row["dAUC clean"], row["dAUC clean low"], row["dAUC clean high"] = (
            round(v, 3) for v in gain
        )
        row["Frames"] = m["Frames"]
        rows.append(row)
    return pd.DataFrame(rows)


def _with_interval(table: pd.DataFrame, column: str) -> list[str]:
    return [
        f"{v:.1f} [{lo:.1f}, {hi:.1f}]"
        for v, lo, hi in zip(
            table[column], table[f"{column} low"], table[f"{column} high"], strict=True
        )
    ]


def separation_markdown(table: pd.DataFrame) -> str:
    """The separation table with each AUC as 'value [low, high]' (percent)."""
    shown = pd.DataFrame(
        {
            "Model": table.Model,
            "AUC ROC [95% CI]": _with_interval(table, "AUC ROC"),
            "AUC clean [95% CI]": _with_interval(table, "AUC clean"),
            "dAUC clean vs first [95% CI]": _with_interval(table, "dAUC clean"),
            "TPR": table.TPR.round(1),
            "FPR clean": table["FPR clean"].round(1),
            "Frame AUC [95% CI]": _with_interval(table, "Frame AUC"),
            "Frame TPR": table["Frame TPR"].round(1),
            "Frame FPR": table["Frame FPR"].round(1),
            "Frames": table.Frames,
        }
    )
    return to_markdown(shown)


def plot_frame_roc(
    names: dict[str, str], predictions: dict[str, pd.DataFrame], out_png: Path | str
) -> None:
    """ROC over frames (max probability in the frame) of every model, threshold point marked."""
    from sklearn.metrics import roc_curve

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 5.0), layout="constrained")
    for model, name in names.items():
        frame = predictions[model]
        per_frame = frame_scores(
            frame.frame_id.to_numpy(), frame.label.to_numpy(), frame.probability.to_numpy()
        )
        positive, score = per_frame.positive.to_numpy(), per_frame.score.to_numpy()
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, score)
        auc = 100 * weighted_auc(positive, score, np.ones(len(score)))[0]
        (line,) = ax.plot(100 * fpr, 100 * tpr, label=f"{name} (AUC {auc:.1f}%)")
        ax.plot(
            _rate(score[~positive] >= THRESHOLD),
            _rate(score[positive] >= THRESHOLD),
            "o",
            color=line.get_color(),
            ms=6,
        )
    ax.plot([0, 100], [0, 100], ":", color="0.6")
    ax.set(
        xlabel="negative frames flagged (%)",
        ylabel="positive frames flagged (%)",
        title="Per-frame detection (max probability in the frame)",
        xlim=(-1, 100),
        ylim=(0, 101),
    )
    ax.legend(fontsize=7, loc="lower right", title="dots: threshold 0.5", title_fontsize=7)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def plot_footprint_sweep(names: dict[str, str], sweep: pd.DataFrame, out_png: Path | str) -> None:
    """AUC of every model against the containment threshold of the test labels."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2), layout="constrained")
    for model, name in names.items():
        rows = sweep[sweep.model == model]
        ax.plot(rows.min_footprint_fraction, rows.AUC, "o-", ms=3, label=name)
    ax.set(
        xlabel="patches.min_footprint_fraction used to label the test patches",
        ylabel="AUC ROC (%)",
        title="AUC against the label rule's footprint threshold",
    )
    ax.legend(fontsize=7)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def write_separation(
    names: dict[str, str],
    prediction_paths: dict[str, str],
    metric_paths: dict[str, str],
    sweep_thresholds: list[float],
    n_resamples: int,
    seed: int,
    outputs: dict[str, str],
) -> pd.DataFrame:
    """The separation table (CSV + Markdown), the footprint sweep table and both figures."""
    predictions = {m: pd.read_parquet(path) for m, path in prediction_paths.items()}
    metrics = {m: json.loads(Path(path).read_text()) for m, path in metric_paths.items()}
    table = separation_table(names, metrics, predictions, n_resamples, seed)
    table.to_csv(outputs["table"], index=False)
    markdown = separation_markdown(table)
    Path(outputs["markdown"]).write_text(markdown)
    sweep = footprint_sweep(predictions, sweep_thresholds)
    sweep.to_csv(outputs["sweep"], index=False)
    plot_frame_roc(names, predictions, outputs["roc_frames"])
    plot_footprint_sweep(names, sweep, outputs["sweep_figure"])
    log.info("metrics that separate models (%%)\n%s", markdown)
    return table
