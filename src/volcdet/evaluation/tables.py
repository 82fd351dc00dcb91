"""The paper's Tables 1 and 2 (CSV + Markdown), their ROC figures and the false-positive breakdown."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from volcdet.evaluation.metrics import (
    false_positive_breakdown,
    metrics_table,
    patch_metrics,
    plot_roc,
    to_markdown,
)

log = logging.getLogger(__name__)


def _row_metrics(
    rows: list[list[str]],
    predictions: dict[str, pd.DataFrame],
    thresholds: dict[str, float] | None = None,
) -> list[tuple[str, dict[str, object]]]:
    """(row name, patch metrics) of each (name, model) row of a table, at the model's threshold
    in ``thresholds`` (none: ``patch_metrics``' own)."""
    metrics = []
    for name, model in rows:
        table = predictions[model]
        scores = (
            table.label.to_numpy(),
            table.probability.to_numpy(),
            table.frame_id.to_numpy(),
        )
        at = () if thresholds is None else (thresholds[model],)
        metrics.append((name, patch_metrics(*scores, *at)))
    return metrics


def fixed_fpr_tables(
    table1: list[list[str]],
    table2: list[list[str]],
    predictions: dict[str, pd.DataFrame],
    thresholds: pd.DataFrame,
    outputs: Any,
) -> None:
    """Tables 1 and 2 at each model's calibrated threshold (``volcdet.evaluation.calibration``:
    the same false-alarm rate on held-out negatives), with the threshold as a column."""
    by_model = thresholds.set_index("model")
    for rows, first_column, csv, markdown in (
        (table1, "Approach", outputs.table1_fixed_fpr, outputs.table1_fixed_fpr_md),
        (table2, "Data Set", outputs.table2_fixed_fpr, outputs.table2_fixed_fpr_md),
    ):
        at = {m: float(by_model.loc[m, "threshold"]) for _, m in rows}
        table = metrics_table(_row_metrics(rows, predictions, at), first_column)
        table["Threshold"] = [round(float(by_model.loc[m, "threshold"]), 4) for _, m in rows]
        table.to_csv(csv, index=False)
        target = float(thresholds.target_fpr_percent.iloc[0])
        count = int(thresholds.calibration_negatives.iloc[0])
        Path(markdown).write_text(
            f"Each model at the threshold that flags {target:g}% of {count} held-out background "
            "tiles (held out from fine-tuning for the sensitivity test, untouched; the same "
            "tiles for every model).\n\n" + to_markdown(table)
        )
        log.info("%s at %g%% calibration FPR\n%s", first_column, target, to_markdown(table))


def write_tables(
    table1: list[list[str]],
    table2: list[list[str]],
    prediction_paths: dict[str, str],
    outputs: Any,
    metric_paths: dict[str, str] | None = None,
    thresholds_path: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1 and 2 (CSV + Markdown, baseline first, paper column order) and ROC figures.

    With ``metric_paths`` (the metrics rule's JSON files) a last column gives each AUC's 95%
    frame-bootstrap interval; with ``thresholds_path`` (the thresholds rule's CSV) both tables
    are also written at the calibrated thresholds (``fixed_fpr_tables``).
    """
    predictions = {model: pd.read_parquet(path) for model, path in prediction_paths.items()}
    if thresholds_path is not None:
        fixed_fpr_tables(table1, table2, predictions, pd.read_csv(thresholds_path), outputs)
    intervals = {
        model: json.loads(Path(path).read_text())["AUC ROC 95% CI"]
        for model, path in (metric_paths or {}).items()
    }
    results = []
    for rows, first_column, csv, markdown, roc, title in (
        (
            table1,
            "Approach",
            outputs.table1,
            outputs.table1_md,
            outputs.roc1,
            "Fine-tuning approaches (Table 1)",
        ),
        (
            table2,
            "Data Set",
            outputs.table2,
            outputs.table2_md,
            outputs.roc2,
            "Fine-tuning sets (Table 2)",
        ),
    ):
        table = metrics_table(_row_metrics(rows, predictions), first_column)
        if intervals:
            table["AUC 95% CI"] = [
                f"[{intervals[m][0]:.1f}, {intervals[m][1]:.1f}]" for _, m in rows
            ]
        table.to_csv(csv, index=False)
        Path(markdown).write_text(to_markdown(table))
        plot_roc(
            [
                (name, predictions[m].label.to_numpy(), predictions[m].probability.to_numpy())
                for name, m in rows
            ],
            roc,
            title,
        )
        log.info("%s\n%s", title, to_markdown(table))
        results.append(table)
    breakdown = false_positive_breakdown(predictions)
    breakdown.to_csv(outputs.false_positives, index=False)
    log.info("false positives by patch content (%%)\n%s", to_markdown(breakdown))
    return results[0], results[1]
