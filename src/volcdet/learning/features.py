"""Pooled backbone features of a patch store under a trained model (the frozen part).

Fine-tuning trains only head layers (paper section 3.2), so the backbone's pooled features are
computed once per (model, dataset) and cached; heads then train in seconds. Features go
through the model's own input transform, exactly as the full network would see them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from volcdet.core.atomic import atomic_path
from volcdet.data.stores import write_table
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.datasets import StoreDataset
from volcdet.learning.device import resolve_device
from volcdet.learning.finetune import backbone_digest
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)


def pooled_features(
    model: VolcanoClassifier,
    transform: InputTransform,
    stores: list[tuple[Path, Path]],
    batch_size: int = 64,
    device: str = "auto",
    progress: object | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(features float32 (n, F), labels) of every sample of the stores, in store order."""
    target = resolve_device(device)
    model = model.to(target).eval()
    dataset = StoreDataset(stores, require_labels=False)
    loader = DataLoader(dataset, batch_size=batch_size)
    features, labels = [], []
    with torch.no_grad():
        for patches, targets in tqdm(loader, desc="features", file=progress, mininterval=10.0):
            features.append(model.features(transform(patches).to(target)).float().cpu())
            labels.append(targets)
    return torch.cat(features).numpy(), torch.cat(labels).numpy()


def cache_features(
    model_path: Path,
    stores: list[tuple[Path, Path]],
    features_path: Path,
    table_path: Path,
    device: str = "auto",
) -> None:
    """Write the features (.npy float32) and a table of labels and sample ids for one dataset."""
    model, transform, _ = model_from_checkpoint(model_path)
    features, labels = pooled_features(model, transform, stores, device=device)
    with atomic_path(features_path) as tmp, tmp.open("wb") as handle:
        np.save(handle, features)
    table = pd.DataFrame({"sample": np.arange(len(labels)), "label": labels.astype(int)})
    carried = _carried_columns(stores)
    if carried is not None:
        table = pd.concat([table, carried], axis=1)
    write_table(
        table_path,
        table,
        {"kind": "features", "model": str(model_path), "backbone_digest": backbone_digest(model)},
    )
    log.info("%d x %d features of %s", *features.shape, ", ".join(str(a) for a, _ in stores))


#: Store columns the features table carries along (the fine-tuning split groups by them).
CARRIED_COLUMNS = ("group", "origin")


def _carried_columns(stores: list[tuple[Path, Path]]) -> pd.DataFrame | None:
    """The stores' ``CARRIED_COLUMNS`` that every store has, in sample order (None if none)."""
    tables = [pd.read_parquet(table) for _, table in stores]
    columns = [c for c in CARRIED_COLUMNS if all(c in t.columns for t in tables)]
    if not columns:
        return None
    return pd.concat([t[columns] for t in tables], ignore_index=True)
