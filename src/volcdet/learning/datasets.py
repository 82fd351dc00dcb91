"""Training data: patch stores as a torch Dataset, and the seeded train/validation split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from volcdet.core.random import Purpose, stream
from volcdet.data.stores import open_store


class StoreDataset(Dataset):
    """Samples of one or more patch stores: (displacement mm float32 (H, W), label float32).

    Stores without a ``label`` column are refused unless ``require_labels`` is False (label -1).
    """

    def __init__(self, stores: Sequence[tuple[Path, Path]], require_labels: bool = True) -> None:
        self.arrays, labels = [], []
        for array_path, table_path in stores:
            array, table = open_store(array_path, table_path)
            if "label" in table.columns:
                labels.append(table["label"].to_numpy(np.float32))
            elif require_labels:
                raise ValueError(f"{table_path}: store has no 'label' column")
            else:
                labels.append(np.full(len(table), -1.0, np.float32))
            self.arrays.append(array)
        self.labels = np.concatenate(labels)
        self.offsets = np.cumsum([0] + [len(a) for a in self.arrays])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        store = int(np.searchsorted(self.offsets, index, side="right") - 1)
        patch = np.asarray(self.arrays[store][index - self.offsets[store]], dtype=np.float32)
        return torch.from_numpy(patch), torch.tensor(self.labels[index])


def split_indices(
    n: int, validation_fraction: float, seed: int, purpose: Purpose = Purpose.TRAIN_SPLIT
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split into a kept part and a held-out share (paper: 90/10 for training);
    ``purpose`` names the stream (training split or fine-tuning hold-out)."""
    order = stream(seed, purpose).permutation(n)
    n_val = max(1, round(n * validation_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])
