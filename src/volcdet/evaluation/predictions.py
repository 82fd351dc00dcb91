"""Test-set predictions: each model's head on the cached backbone features of the test patches."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.data.stores import read_table_attrs
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.finetune import backbone_digest, head_probabilities

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
