"""The four fine-tuning approaches of paper section 3.2 on cached backbone features.

* ``last``    ([last]): train the last dense layer, everything else frozen.
* ``m1last``  ([-1last]): train the second last dense layer only.
* ``last2``   ([last2]): train both dense layers together.
* ``m1last1`` ([-1&last1]): step fine-tuning: last layer, then second last, then last again.

The backbone is frozen and, like a frozen Keras model, runs in inference mode, so its pooled
features are a fixed function of the input: they are computed once (``volcdet.learning.features``) and
the head trains on them with dropout active, a small learning rate and early stopping on a
held-out part of the fine-tuning set. The result is a complete model file whose frozen
weights are bit-identical to the base model's.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from volcdet.core.atomic import atomic_path
from volcdet.core.random import Purpose, stream, torch_seed
from volcdet.data.background import SIMULATED_GROUP
from volcdet.learning.approaches import APPROACHES
from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
from volcdet.learning.datasets import split_indices
from volcdet.learning.device import optimizer_step
from volcdet.learning.early_stopping import EarlyStopping
from volcdet.learning.model import VolcanoClassifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneConfig:
    """Head training settings (one phase; the step approach runs three)."""

    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    batch_size: int = 32
    max_epochs: int = 300
    early_stopping_patience: int = 10
    holdout_fraction: float = 0.2
    seed: int = 0


def set_trainable(model: VolcanoClassifier, layers: tuple[str, ...]) -> list[nn.Parameter]:
    """Freeze every parameter except those of the named head layers; return the trainable ones."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    trainable = []
    for name in layers:
        for parameter in getattr(model, name).parameters():
            parameter.requires_grad_(True)
            trainable.append(parameter)
    return trainable


def head_loss(model: VolcanoClassifier, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Binary cross-entropy of the head on cached features (eval mode, no grad)."""
    model.eval()
    with torch.no_grad():
        return float(nn.functional.binary_cross_entropy_with_logits(model.head(features), labels))


def train_head_one_epoch(
    model: VolcanoClassifier,
    train: tuple[torch.Tensor, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    order_generator: torch.Generator,
    batch_size: int,
) -> None:
    """One pass over the cached features in an order drawn from ``order_generator``, head in
    train mode (dropout from torch's global generator, seeded by the caller) and the backbone in inference mode."""
    model.train()
    model.backbone.eval()
    order = torch.randperm(len(train[1]), generator=order_generator)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        loss = nn.functional.binary_cross_entropy_with_logits(
            model.head(train[0][batch]), train[1][batch]
        )
        optimizer_step(loss, optimizer, None)


def train_phase(
    model: VolcanoClassifier,
    layers: tuple[str, ...],
    train: tuple[torch.Tensor, torch.Tensor],
    holdout: tuple[torch.Tensor, torch.Tensor],
    cfg: FinetuneConfig,
    phase: int,
) -> list[dict]:
    """Train the named layers on features with early stopping on the held-out loss; keep the best
    epoch (at least one epoch of training is always kept)."""
    parameters = set_trainable(model, layers)
    optimizer = torch.optim.AdamW(parameters, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(torch_seed(cfg.seed, Purpose.FINETUNE_ORDER, phase))
    # Start from infinity, not the base model's loss: the first epoch is always kept.
    stopping = EarlyStopping(cfg.early_stopping_patience, min_delta=1e-7)
    best_state, history = None, []
    for epoch in range(1, cfg.max_epochs + 1):
        torch.manual_seed(torch_seed(cfg.seed, Purpose.FINETUNE_DROPOUT, phase, epoch))
        train_head_one_epoch(model, train, optimizer, generator, cfg.batch_size)
        holdout_loss = head_loss(model, *holdout)
        history.append(
            {
                "phase": phase,
                "layers": "+".join(layers),
                "epoch": epoch,
                "train_loss": head_loss(model, *train),
                "holdout_loss": holdout_loss,
            }
        )
        if stopping.update(holdout_loss):
            best_state = copy.deepcopy(model.state_dict())
        elif stopping.should_stop:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    set_trainable(model, ())
    return history


def holdout_split(
    table: pd.DataFrame, holdout_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, hold-out) sample indices of a fine-tuning set.

    With a ``group`` column (``volcdet.simulation.finetune_sets``) the background groups (ground
    cells) are taken in a seeded order (``FINETUNE_HOLDOUT``) until they hold
    ``holdout_fraction`` of the background samples, so a tile and its copies stay on one side,
    and every set holds out the same tiles; simulated samples are split at random
    (``FINETUNE_HOLDOUT_SIMULATED``). Without one, samples are split at random.
    """
    if "group" not in table.columns:
        return split_indices(len(table), holdout_fraction, seed, Purpose.FINETUNE_HOLDOUT)
    groups = table["group"].astype(str).to_numpy()
    simulated = groups == SIMULATED_GROUP
    held = np.zeros(len(table), bool)
    background = np.flatnonzero(~simulated)
    if len(background):
        target = max(1, round(holdout_fraction * len(background)))
        for group in stream(seed, Purpose.FINETUNE_HOLDOUT).permutation(
            np.unique(groups[background])
        ):
            if held.sum() >= target:
                break
            held |= groups == group
    sim_index = np.flatnonzero(simulated)
    if len(sim_index):
        _, sim_held = split_indices(
            len(sim_index), holdout_fraction, seed, Purpose.FINETUNE_HOLDOUT_SIMULATED
        )
        held[sim_index[sim_held]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def finetune(
    base_model_path: Path,
    features_path: Path,
    features_table_path: Path,
    approach: str,
    cfg: FinetuneConfig,
    out_model: Path,
    out_history: Path,
) -> list[dict]:
    """Fine-tune a copy of the base model's head by one approach; write the model and history."""
    if approach not in APPROACHES:
        raise ValueError(
            f"unknown fine-tuning approach {approach!r} (expected one of {list(APPROACHES)})"
        )
    model, transform, base = model_from_checkpoint(base_model_path)
    features = torch.from_numpy(np.load(features_path)).float()
    table = pd.read_parquet(features_table_path)
    labels = torch.from_numpy(table["label"].to_numpy(np.float32))
    train_idx, holdout_idx = holdout_split(table, cfg.holdout_fraction, cfg.seed)
    train = (features[train_idx], labels[train_idx])
    holdout = (features[holdout_idx], labels[holdout_idx])
    history: list[dict] = []
    for phase, layers in enumerate(APPROACHES[approach][1], start=1):
        history += train_phase(model, layers, train, holdout, cfg, phase)
    run_info = {
        **base["run_info"],
        "finetune": {
            "base_model": str(base_model_path),
            "approach": approach,
            "paper_name": APPROACHES[approach][0],
            "features": str(features_path),
            **asdict(cfg),
        },
    }
    checkpoint = build_checkpoint(
        model, model.spec, transform, run_info, base["epoch"], base["val_loss"]
    )
    save_atomic(checkpoint, Path(out_model))
    with atomic_path(out_history) as tmp:
        pd.DataFrame(history).to_csv(tmp, index=False)
    log.info(
        "%s: %d epochs over %d phase(s), final held-out loss %.4f",
        APPROACHES[approach][0],
        len(history),
        len(APPROACHES[approach][1]),
        history[-1]["holdout_loss"] if history else float("nan"),
    )
    return history


def head_probabilities(model: VolcanoClassifier, features: np.ndarray) -> np.ndarray:
    """Probabilities of deformation from cached features (eval mode)."""
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model.head(torch.from_numpy(features).float())).numpy()


def backbone_digest(model: VolcanoClassifier) -> str:
    """Hash of the backbone weights: cached features are valid only for the same backbone."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in sorted(model.backbone.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
