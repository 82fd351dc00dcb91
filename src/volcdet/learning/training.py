"""Training from scratch with early stopping, atomic checkpoints and exact resume (paper section 4).

The loop follows timm's train.py: one CSV row per epoch, the best checkpoint by validation loss,
a ``last.pt`` for resume after a kill, the effective config and library versions beside the
model. Each epoch's shuffle, dropout and augmentation draw from (seed, epoch), the DataLoader
workers are seeded from them too, and on the CPU training runs in fp32 with
``torch.use_deterministic_algorithms(True)``: two runs of the same config give identical
weights, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import IO, cast

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from volcdet.core.atomic import atomic_path, write_text_atomic
from volcdet.core.constants import FRINGE_MM
from volcdet.core.errors import ModelFileError
from volcdet.core.plotting import pyplot
from volcdet.core.random import Purpose, stream, torch_seed
from volcdet.data.stores import store_digest
from volcdet.learning.checkpoints import (
    build_checkpoint,
    load_weights_only,
    plain,
    save_atomic,
    versions,
)
from volcdet.learning.cpu_kernels import PINNED_CPU_KERNELS
from volcdet.learning.datasets import StoreDataset, split_indices
from volcdet.learning.device import (
    CpuPrecision,
    Precision,
    choose_precision,
    deterministic_kernels,
    optimizer_step,
    resolve_device,
)
from volcdet.learning.early_stopping import EarlyStopping
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``device`` is auto|cpu|cuda."""

    max_epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    early_stopping_patience: int = 10
    validation_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    cpu_precision: str = "fp32"
    num_workers: int = 0
    random_offset: bool = False
    lr_schedule: str = "constant"

    def digest(self, extra: dict) -> str:
        """Hash of the settings that must match for a resume."""
        payload = json.dumps(
            {**asdict(self), **extra, "num_workers": None}, sort_keys=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


#: Entries of ``last.pt``, the state a killed training resumes from.
RESUME_KEYS = (
    "settings_digest",
    "data_digest",
    "state_dict",
    "optimizer",
    "scaler",
    "history",
    "best_val_loss",
    "bad_epochs",
    "epoch",
)
#: Entries of ``RESUME_KEYS`` that files of earlier versions may lack (the loss scaler's state
#: was saved later); a missing one reads as None.
OPTIONAL_RESUME_KEYS = ("scaler",)


@dataclass(frozen=True)
class ResumeState:
    """The contents of ``last.pt``: the digests it was written under, the weights, optimiser and
    loss-scaler states, the history and early-stopping counters after ``epoch``."""

    settings_digest: str
    data_digest: str
    state_dict: dict
    optimizer: dict
    scaler: dict | None
    history: list[dict]
    best_val_loss: float
    bad_epochs: int
    epoch: int

    @classmethod
    def capture(
        cls,
        digests: tuple[str, str],
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler | None,
        history: list[dict],
        stopping: EarlyStopping,
        epoch: int,
    ) -> ResumeState:
        """The state of a training after ``epoch`` (digests: settings, data)."""
        return cls(
            settings_digest=digests[0],
            data_digest=digests[1],
            state_dict=model.state_dict(),
            optimizer=optimizer.state_dict(),
            scaler=scaler.state_dict() if scaler is not None else None,
            history=cast("list[dict]", plain(history, "history")),
            best_val_loss=float(stopping.best_loss),
            bad_epochs=int(stopping.bad_epochs),
            epoch=int(epoch),
        )

    def to_dict(self) -> dict:
        """The dict saved as ``last.pt``, keyed by ``RESUME_KEYS``."""
        return {key: getattr(self, key) for key in RESUME_KEYS}

    @classmethod
    def from_dict(cls, state: dict) -> ResumeState:
        """The state of a loaded ``last.pt`` (None for missing ``OPTIONAL_RESUME_KEYS``)."""
        return cls(**{key: state.get(key) for key in RESUME_KEYS})  # type: ignore[arg-type]

    def restore(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler | None,
    ) -> None:
        """Load the weights, optimiser and (when both sides have one) loss-scaler states."""
        model.load_state_dict(self.state_dict)
        optimizer.load_state_dict(self.optimizer)
        if scaler is not None and self.scaler:
            scaler.load_state_dict(self.scaler)


def training_data_digest(stores: Sequence[tuple[Path, Path]]) -> str:
    """Hash of the training stores' contents (``volcdet.data.stores.store_digest``), in order."""
    digest = hashlib.sha256()
    for array_path, table_path in stores:
        digest.update(store_digest(array_path, table_path).encode())
    return digest.hexdigest()[:16]


def load_resume_state(
    last_path: Path, settings_digest: str, data_digest: str
) -> ResumeState | None:
    """The state in ``last_path`` if it was written with these settings on this data, else None
    (with a warning saying why). ModelFileError when the file is unsafe or unreadable."""
    if not last_path.is_file():
        return None
    try:
        state = load_weights_only(last_path, "training resume state")
    except ModelFileError as err:
        raise ModelFileError(f"{err}; delete it to train from scratch") from None
    required = [key for key in RESUME_KEYS if key not in OPTIONAL_RESUME_KEYS]
    if not isinstance(state, dict) or any(key not in state for key in required):
        log.warning("ignoring %s and training from scratch: written by another version", last_path)
        return None
    if state["settings_digest"] != settings_digest:
        log.warning("ignoring %s and training from scratch: written with other settings", last_path)
        return None
    if state["data_digest"] != data_digest:
        log.warning(
            "ignoring %s and training from scratch: written for other training data "
            "(the stores changed since)",
            last_path,
        )
        return None
    return ResumeState.from_dict(state)


@dataclass(frozen=True)
class CheckpointSaver:
    """The work files of a training in ``out_dir``: ``best_so_far.pt``, the model file of the
    best epoch, and ``last.pt``, the resume state after the latest one. Both are undeclared,
    so they survive a killed job (Snakemake deletes declared outputs only)."""

    out_dir: Path

    @property
    def last_path(self) -> Path:
        """``last.pt``, the resume state."""
        return self.out_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        """``best_so_far.pt``, the model file of the best epoch so far."""
        return self.out_dir / "best_so_far.pt"

    def save_epoch(
        self, state: ResumeState, improved: bool, model_file: Callable[[], dict]
    ) -> None:
        """After an epoch: the model file (built by ``model_file``) when the validation loss
        improved, then the resume state."""
        if improved:
            save_atomic(model_file(), self.best_path)
        save_atomic(state.to_dict(), self.last_path)

    def publish(self, best: Path) -> None:
        """Move the best epoch's model file to ``best`` and drop the resume state."""
        os.replace(self.best_path, best)
        self.last_path.unlink(missing_ok=True)


def evaluate_logits(
    model: VolcanoClassifier,
    transform: InputTransform,
    loader: DataLoader,
    precision: Precision,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of every sample a loader yields (eval mode, no grad)."""
    model.eval()
    logits, labels = [], []
    with torch.no_grad():
        for patches, targets in loader:
            x = transform(patches).to(precision.device, memory_format=precision.memory_format)
            with precision.autocast():
                logits.append(model(x).float().cpu())
            labels.append(targets)
    return torch.cat(logits).numpy(), torch.cat(labels).numpy()


def _bce(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy of logits against labels."""
    return float(
        nn.functional.binary_cross_entropy_with_logits(
            torch.from_numpy(logits), torch.from_numpy(labels)
        )
    )


@dataclass(frozen=True)
class EpochLoss:
    """Mean binary cross-entropy and accuracy over the samples of one pass."""

    loss: float
    accuracy: float
    samples: int


def train_one_epoch(
    model: VolcanoClassifier,
    transform: InputTransform,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    scaler: torch.amp.GradScaler | None = None,
    offsets_mm: torch.Tensor | None = None,
    desc: str = "train",
    progress: IO[str] | None = None,
) -> EpochLoss:
    """One pass over ``loader`` in train mode, an optimiser step per batch (through the loss
    scaler when there is one); ``offsets_mm`` adds one constant per sample, in loader order."""
    model.train()
    seen, loss_sum, correct = 0, 0.0, 0
    bar = tqdm(loader, desc=desc, file=progress or sys.stderr, mininterval=5.0, leave=True)
    for patches, targets in bar:
        if offsets_mm is not None:
            patches = patches + offsets_mm[seen : seen + len(targets), None, None]
        x = transform(patches).to(precision.device, memory_format=precision.memory_format)
        y = targets.to(precision.device)
        with precision.autocast():
            logits = model(x).float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        optimizer_step(loss, optimizer, scaler)
        seen += len(y)
        loss_sum += float(loss.detach()) * len(y)
        correct += int(((logits > 0).float() == y).sum())
        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
    return EpochLoss(loss_sum / seen, correct / seen, seen)


def validate(
    model: VolcanoClassifier,
    transform: InputTransform,
    loader: DataLoader,
    precision: Precision,
) -> EpochLoss:
    """Loss and accuracy on every sample a loader yields (eval mode, no grad: the weights stay)."""
    logits, labels = evaluate_logits(model, transform, loader, precision)
    accuracy = float(((logits > 0) == (labels > 0.5)).mean())
    return EpochLoss(_bce(logits, labels), accuracy, len(labels))


def _plot_history(history: list[dict], path: Path) -> None:
    """Loss and accuracy per epoch, training beside validation."""
    plt = pyplot()
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    ax_loss.plot(epochs, [r["train_loss"] for r in history], label="train")
    ax_loss.plot(epochs, [r["val_loss"] for r in history], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="binary cross-entropy", yscale="log")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in history], label="train")
    ax_acc.plot(epochs, [100 * r["val_accuracy"] for r in history], label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)")
    ax_acc.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def fit(
    stores: Sequence[tuple[Path, Path]],
    model_spec: ModelSpec,
    transform: InputTransform,
    cfg: TrainConfig,
    out_dir: Path,
    progress: IO[str] | None = None,
    stop_after_epochs: int | None = None,
    precision: Precision | None = None,
) -> list[dict]:
    """Train from scratch on the stores' samples; write best.pt, history.csv, run_info.json, PNG.

    ``out_dir/last.pt`` (full state) is rewritten after every epoch and ``best_so_far.pt`` after
    every epoch that improves the validation loss; a rerun with the same settings on the same
    data (``training_data_digest``) resumes from them; otherwise it starts fresh and logs why. ``stop_after_epochs`` ends the call early (to test
    resume), as a kill would. ``precision`` overrides the device's rule
    (``volcdet.learning.device.choose_precision``), e.g. to run the fp16 + GradScaler path on
    the CPU in tests.
    """
    device = resolve_device(cfg.device)
    precision = precision or choose_precision(device, cast(CpuPrecision, cfg.cpu_precision))
    with deterministic_kernels(device):
        return _fit(
            stores,
            model_spec,
            transform,
            cfg,
            Path(out_dir),
            progress,
            stop_after_epochs,
            precision,
        )


def epoch_learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """The learning rate of an epoch (1-based): constant, or cosine annealing from the
    configured rate towards 0 over ``max_epochs`` (Loshchilov & Hutter 2017, SGDR, without
    restarts); a function of the epoch alone, so a resumed run follows the same schedule."""
    if cfg.lr_schedule == "constant":
        return cfg.learning_rate
    if cfg.lr_schedule == "cosine":
        return cfg.learning_rate * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / cfg.max_epochs))
    raise ValueError(f"unknown learning-rate schedule {cfg.lr_schedule!r} (constant or cosine)")


def random_offsets_mm(seed: int, epoch: int, indices: np.ndarray) -> np.ndarray:
    """One constant per sample, uniform over one fringe (0 to lambda / 2), redrawn each epoch.

    Drawn from the stream (seed, ``TRAIN_RANDOM_OFFSET``, epoch, sample index), so it depends on neither the batch
    order nor the number of DataLoader workers.
    """
    return np.array(
        [
            stream(seed, Purpose.TRAIN_RANDOM_OFFSET, epoch, int(i)).uniform(0.0, FRINGE_MM)
            for i in indices
        ],
        np.float32,
    )


def _loader(
    dataset: torch.utils.data.Dataset, cfg: TrainConfig, purpose: Purpose, *keys: int
) -> DataLoader:
    """A DataLoader in the given order (no shuffling: the order is explicit) whose workers'
    torch seeds come from the stream ``purpose``; the dataset itself draws nothing random (the
    offsets are drawn in the main process), so the batches do not depend on ``num_workers``."""
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        num_workers=cfg.num_workers,
        generator=torch.Generator().manual_seed(torch_seed(cfg.seed, purpose, *keys)),
    )


def _epoch_batches(
    dataset: StoreDataset, train_idx: np.ndarray, cfg: TrainConfig, epoch: int
) -> tuple[DataLoader, torch.Tensor | None]:
    """An epoch's seeded draws (torch's global seed for dropout, the shuffle of the training
    samples, their random offsets) and the DataLoader in that order."""
    torch.manual_seed(torch_seed(cfg.seed, Purpose.TRAIN_EPOCH_TORCH, epoch))
    order = stream(cfg.seed, Purpose.TRAIN_EPOCH_ORDER, epoch).permutation(train_idx)
    offsets = (
        torch.from_numpy(random_offsets_mm(cfg.seed, epoch, order)) if cfg.random_offset else None
    )
    subset = Subset(dataset, order)  # type: ignore[arg-type]  # an index array works
    return _loader(subset, cfg, Purpose.TRAIN_EPOCH_LOADER, epoch), offsets


@dataclass(frozen=True)
class _Training:
    """What stays fixed through a training: settings, data, model, optimiser and loss scaler."""

    cfg: TrainConfig
    transform: InputTransform
    precision: Precision
    dataset: StoreDataset
    train_idx: np.ndarray
    val_loader: DataLoader
    model: VolcanoClassifier
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    progress: IO[str] | None

    def run_epoch(self, epoch: int) -> dict:
        """Train one epoch at its learning rate, then validate; the epoch's history row."""
        for group in self.optimizer.param_groups:
            group["lr"] = epoch_learning_rate(self.cfg, epoch)
        loader, offsets = _epoch_batches(self.dataset, self.train_idx, self.cfg, epoch)
        started = time.perf_counter()
        train = train_one_epoch(
            self.model,
            self.transform,
            loader,
            self.optimizer,
            self.precision,
            self.scaler,
            offsets,
            f"epoch {epoch}",
            self.progress,
        )
        val = validate(self.model, self.transform, self.val_loader, self.precision)
        return {
            "epoch": epoch,
            "train_loss": train.loss,
            "train_accuracy": train.accuracy,
            "val_loss": val.loss,
            "val_accuracy": val.accuracy,
            "seconds": time.perf_counter() - started,
            "images_per_s": train.samples / (time.perf_counter() - started),
        }


def _initial_model(
    model_spec: ModelSpec, cfg: TrainConfig, precision: Precision
) -> tuple[VolcanoClassifier, torch.optim.Optimizer, torch.amp.GradScaler | None]:
    """The seeded initial model on the precision's device, its AdamW optimiser and loss scaler."""
    torch.manual_seed(torch_seed(cfg.seed, Purpose.TRAIN_INIT))
    model = VolcanoClassifier(model_spec).to(  # type: ignore[call-overload]
        precision.device, memory_format=precision.memory_format
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    return model, optimizer, precision.grad_scaler()


def _resume(
    last_path: Path,
    digests: tuple[str, str],
    cfg: TrainConfig,
    model: VolcanoClassifier,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
) -> tuple[list[dict], EarlyStopping, int]:
    """History, early-stopping state and first epoch: from ``last_path`` (restoring the model,
    optimiser and scaler) when it was written under these digests, else a fresh start."""
    state = load_resume_state(last_path, *digests)
    if state is None:
        return [], EarlyStopping(cfg.early_stopping_patience), 1
    state.restore(model, optimizer, scaler)
    log.info("resuming from %s at epoch %d", last_path, state.epoch + 1)
    stopping = EarlyStopping(
        cfg.early_stopping_patience, best_loss=state.best_val_loss, bad_epochs=state.bad_epochs
    )
    return list(state.history), stopping, state.epoch + 1


def _run_info(
    stores: Sequence[tuple[Path, Path]],
    model_spec: ModelSpec,
    transform: InputTransform,
    cfg: TrainConfig,
    precision: Precision,
    data_digest: str,
    split: tuple[np.ndarray, np.ndarray],
) -> dict:
    """What the model file and ``run_info.json`` record about the run (logged once)."""
    run_info = {
        "train_config": asdict(cfg),
        "model_spec": model_spec.to_dict(),
        "transform": transform.to_dict(),
        "stores": [[str(a), str(t)] for a, t in stores],
        "data_digest": data_digest,
        "n_train": len(split[0]),
        "n_validation": len(split[1]),
        "device": str(precision.device),
        "precision": precision.mode,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "cpu_kernels": {name: os.environ.get(name, "") for name in PINNED_CPU_KERNELS},
        "torch_threads": torch.get_num_threads(),
        "versions": versions(),
    }
    log.info(
        "training on %s in %s (deterministic algorithms: %s; %d threads; CPU kernels %s)",
        precision.device,
        precision.mode,
        run_info["deterministic"],
        run_info["torch_threads"],
        run_info["cpu_kernels"],
    )
    return run_info


def _log_epoch(row: dict, improved: bool) -> None:
    """One log line per epoch, marked "(best)" when it improved the validation loss."""
    log.info(
        "epoch %d: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | %.1f img/s%s",
        row["epoch"],
        row["train_loss"],
        100 * row["train_accuracy"],
        row["val_loss"],
        100 * row["val_accuracy"],
        row["images_per_s"],
        " (best)" if improved else "",
    )


def _fit(
    stores: Sequence[tuple[Path, Path]],
    model_spec: ModelSpec,
    transform: InputTransform,
    cfg: TrainConfig,
    out_dir: Path,
    progress: IO[str] | None,
    stop_after_epochs: int | None,
    precision: Precision,
) -> list[dict]:
    """``fit`` under deterministic kernels: set up or resume, run the epochs, write the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = StoreDataset(stores)
    split = split_indices(len(dataset), cfg.validation_fraction, cfg.seed)
    settings = {"model": model_spec.to_dict(), "transform": transform.to_dict()}
    digests = (
        cfg.digest({**settings, "n": len(dataset), "precision": precision.mode}),
        training_data_digest(stores),
    )
    model, optimizer, scaler = _initial_model(model_spec, cfg, precision)
    saver = CheckpointSaver(out_dir)
    history, stopping, start_epoch = _resume(
        saver.last_path, digests, cfg, model, optimizer, scaler
    )
    validation = Subset(dataset, split[1])  # type: ignore[arg-type]  # an index array works
    val_loader = _loader(validation, cfg, Purpose.TRAIN_VALIDATION_LOADER)
    training = _Training(
        cfg, transform, precision, dataset, split[0], val_loader, model, optimizer, scaler, progress
    )
    run_info = _run_info(stores, model_spec, transform, cfg, precision, digests[1], split)
    for epochs_run, epoch in enumerate(range(start_epoch, cfg.max_epochs + 1)):
        if stopping.should_stop:
            break
        if stop_after_epochs is not None and epochs_run >= stop_after_epochs:
            return history
        history.append(training.run_epoch(epoch))
        improved = stopping.update(history[-1]["val_loss"])
        saver.save_epoch(
            ResumeState.capture(digests, model, optimizer, scaler, history, stopping, epoch),
            improved,
            partial(
                build_checkpoint, model, model_spec, transform, run_info, epoch, stopping.best_loss
            ),
        )
        _log_epoch(history[-1], improved)
        _write_history(history, out_dir / "history.csv")
    _write_final_files(history, run_info, stopping.best_loss, out_dir)
    saver.publish(out_dir / "best.pt")
    return history


def _write_final_files(
    history: list[dict], run_info: dict, best_loss: float, out_dir: Path
) -> None:
    """``history.csv``, ``run_info.json`` and the training curve of a finished training."""
    _write_history(history, out_dir / "history.csv")
    write_text_atomic(
        out_dir / "run_info.json",
        json.dumps({**run_info, "epochs": len(history), "best_val_loss": best_loss}, indent=2),
    )
    _plot_history(history, out_dir / "training_curve.png")


def _write_history(history: list[dict], path: Path) -> None:
    """One CSV row per epoch, written atomically."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]) if history else ["epoch"])
        writer.writeheader()
        writer.writerows(history)
