"""Patch-level metrics, the volcano-level count, the paper's tables and ROC figures (section 4).

At the 0.5 threshold: TPR = TP/(TP+FN), FPR = FP/(FP+TN), accuracy, precision = TP/(TP+FP),
F1 = 2 precision TPR / (precision + TPR); AUC ROC from scikit-learn. "Volcanoes k/N": of the N
frames holding a deformation-labelled patch, k have at least one such patch predicted positive
("every frame containing a volcanic deformation has at least one patch marking it").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from volcdet.core.plotting import pyplot

THRESHOLD = 0.5
METRIC_COLUMNS = ("TPR", "FPR", "AUC ROC", "Accuracy", "Precision", "F1", "Volcanoes")


def patch_metrics(
    labels: np.ndarray,
    probabilities: np.ndarray,
    frame_ids: np.ndarray,
    threshold: float = THRESHOLD,
) -> dict[str, object]:
    """The paper's metrics (percent) and the volcano-level count at a threshold (0.5 in the
    paper's tables)."""
    labels = np.asarray(labels).astype(int)
    predicted = np.asarray(probabilities) >= threshold
    tp = int(np.sum(predicted & (labels == 1)))
    fp = int(np.sum(predicted & (labels == 0)))
    fn = int(np.sum(~predicted & (labels == 1)))
    tn = int(np.sum(~predicted & (labels == 0)))
    tpr = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * tpr / (precision + tpr) if precision + tpr else 0.0
    auc = roc_auc_score(labels, probabilities) if 0 < labels.sum() < len(labels) else float("nan")
    frames = pd.DataFrame(
        {"frame": frame_ids, "positive": labels == 1, "hit": predicted & (labels == 1)}
    )
    per_frame = frames.groupby("frame")[["positive", "hit"]].any()
    deforming = per_frame[per_frame.positive]
    return {
        "TPR": 100 * tpr,
        "FPR": 100 * fpr,
        "AUC ROC": 100 * auc,
        "Accuracy": 100 * (tp + tn) / len(labels),
        "Precision": 100 * precision,
        "F1": 100 * f1,
        "Volcanoes": f"{int(deforming.hit.sum())}/{len(deforming)}",
        "TP": tp,
        "FP": fp,
        "FN": fn,
        "TN": tn,
    }


def metrics_table(rows: list[tuple[str, dict]], first_column: str) -> pd.DataFrame:
    """A paper table: one row per model, the paper's column order, values rounded to 3 decimals."""
    table = pd.DataFrame(
        [{first_column: name, **{c: m[c] for c in METRIC_COLUMNS}} for name, m in rows]
    )
    for column in METRIC_COLUMNS[:-1]:
        table[column] = table[column].astype(float).round(3)
    return table


def to_markdown(table: pd.DataFrame) -> str:
    """GitHub-flavoured Markdown of a table (no extra dependency)."""
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def plot_roc(curves: list[tuple[str, np.ndarray, np.ndarray]], out_png: Path, title: str) -> None:
    """ROC curves (labels, probabilities per model) with the 0.5-threshold point marked."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5.2, 5.0), layout="constrained")
    for name, labels, probabilities in curves:
        fpr, tpr, _ = roc_curve(labels, probabilities)
        auc = roc_auc_score(labels, probabilities)
        (line,) = ax.plot(100 * fpr, 100 * tpr, label=f"{name} (AUC {100 * auc:.1f}%)")
        m = patch_metrics(labels, probabilities, np.zeros(len(labels)))
        ax.plot(m["FPR"], m["TPR"], "o", color=line.get_color(), ms=6)
    ax.plot([0, 100], [0, 100], ":", color="0.6")
    ax.set(
        xlabel="false positive rate (%)",
        ylabel="true positive rate (%)",
        title=title,
        xlim=(0, 100),
        ylim=(0, 101),
    )
    ax.legend(fontsize=7, loc="lower right", title="dots: threshold 0.5", title_fontsize=7)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def false_positive_breakdown(
    predictions: dict[str, pd.DataFrame], salt_lake_min_fraction: float = 0.02
) -> pd.DataFrame:
    """Share (%) of negative test patches flagged at 0.5, by what they hold.

    Groups: no deformation footprint at all, split into patches with at least
    ``salt_lake_min_fraction`` salt-lake cover and the rest (slope-induced signal, troposphere),
    and patches cut through a deformation footprint (labelled negative by the containment rule).
    """
    rows = []
    for model, frame in predictions.items():
        negative = frame[frame.label == 0]
        clean = negative[negative.footprint_fraction == 0]
        lake = clean.salt_lake_fraction.fillna(0) >= salt_lake_min_fraction
        groups = {
            "no deformation": clean,
            "no deformation, salt lake": clean[lake],
            "no deformation, no salt lake": clean[~lake],
            "partial footprint": negative[negative.footprint_fraction > 0],
        }
        row: dict[str, object] = {"model": model}
        for name, group in groups.items():
            row[f"{name} (n={len(group)})"] = (
                round(100 * float((group.probability >= THRESHOLD).mean()), 1)
                if len(group)
                else float("nan")
            )
        rows.append(row)
    return pd.DataFrame(rows)
