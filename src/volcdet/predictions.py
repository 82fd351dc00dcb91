"""Test-set predictions from cached features, and the paper's tables with their ROC figures."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.evaluation import (
    false_positive_breakdown,
    metrics_table,
    patch_metrics,
    plot_roc,
    to_markdown,
)
from volcdet.finetune import backbone_digest, head_probabilities
from volcdet.stores import read_table_attrs
from volcdet.training import model_from_checkpoint

log = logging.getLogger(__name__)


def predict_test_patches(
    model_path: Path, features_path: Path, features_table: Path, test_table: Path, out_path: Path
) -> pd.DataFrame:
    """Probabilities of every test patch: the model's head on the cached backbone features.

    The features are valid only for the backbone they were computed with; a model with other
    backbone weights is refused (fine-tuned models keep the synthetic model's backbone).
    """
    model, _, _ = model_from_checkpoint(model_path)
    expected = read_table_attrs(features_table).get("backbone_digest")
    if expected != backbone_digest(model):
        raise ValueError(f"{features_path}: computed with another backbone than {model_path}")
    probabilities = head_probabilities(model, np.load(features_path))
    patches = pd.read_parquet(test_table)
    columns = [
        "patch_id",
        "frame_id",
        "volcano",
        "track_id",
        "pass",
        "label",
        "footprint_fraction",
        "salt_lake_fraction",
    ]
    predictions = patches[columns].assign(probability=probabilities)
    predictions.to_parquet(out_path, index=False)
    log.info(
        "%s: %d patches, %d above 0.5",
        model_path,
        len(predictions),
        int((probabilities >= 0.5).sum()),
    )
    return predictions


def write_tables(
    table1: list[list[str]],
    table2: list[list[str]],
    prediction_paths: dict[str, str],
    outputs: object,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1 and 2 (CSV + Markdown, baseline first, paper column order) and ROC figures."""
    predictions = {model: pd.read_parquet(path) for model, path in prediction_paths.items()}
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
        metrics = [
            (
                name,
                patch_metrics(
                    predictions[m].label.to_numpy(),
                    predictions[m].probability.to_numpy(),
                    predictions[m].frame_id.to_numpy(),
                ),
            )
            for name, m in rows
        ]
        table = metrics_table(metrics, first_column)
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
