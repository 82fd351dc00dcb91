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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from volcdet.core.constants import FRINGE_MM
from volcdet.core.errors import ModelFileError
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
    Precision,
    choose_precision,
    deterministic_kernels,
    optimizer_step,
    resolve_device,
)
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
    "history",
    "best_val_loss",
    "bad_epochs",
    "epoch",
)


def training_data_digest(stores: Sequence[tuple[Path, Path]]) -> str:
    """Hash of the training stores' contents (``volcdet.data.stores.store_digest``), in order."""
    digest = hashlib.sha256()
    for array_path, table_path in stores:
        digest.update(store_digest(array_path, table_path).encode())
    return digest.hexdigest()[:16]


def load_resume_state(last_path: Path, settings_digest: str, data_digest: str) -> dict | None:
    """The state in ``last_path`` if it was written with these settings on this data, else None
    (with a warning saying why). ModelFileError when the file is unsafe or unreadable."""
    if not last_path.is_file():
        return None
    try:
        state = load_weights_only(last_path, "training resume state")
    except ModelFileError as err:
        raise ModelFileError(f"{err}; delete it to train from scratch") from None
    if not isinstance(state, dict) or any(key not in state for key in RESUME_KEYS):
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
    return state


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
    return float(
        nn.functional.binary_cross_entropy_with_logits(
            torch.from_numpy(logits), torch.from_numpy(labels)
        )
    )


def _plot_history(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.savefig(path, dpi=100)
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

    ``out_dir/last.pt`` (full state) and ``best_so_far.pt`` are rewritten after every epoch; a
    rerun with the same settings on the same data (``training_data_digest``) resumes from them;
    otherwise it starts fresh and logs why. ``stop_after_epochs`` ends the call early (to test
    resume), as a kill would. ``precision`` overrides the device's rule
    (``volcdet.learning.device.choose_precision``), e.g. to run the fp16 + GradScaler path on
    the CPU in tests.
    """
    device = resolve_device(cfg.device)
    precision = precision or choose_precision(device, cfg.cpu_precision)
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
    out_dir.mkdir(parents=True, exist_ok=True)
    device = precision.device
    dataset = StoreDataset(stores)
    train_idx, val_idx = split_indices(len(dataset), cfg.validation_fraction, cfg.seed)
    settings_digest = cfg.digest(
        {
            "model": model_spec.to_dict(),
            "transform": transform.to_dict(),
            "n": len(dataset),
            "precision": precision.mode,
        }
    )
    data_digest = training_data_digest(stores)

    torch.manual_seed(torch_seed(cfg.seed, Purpose.TRAIN_INIT))
    model = VolcanoClassifier(model_spec).to(device, memory_format=precision.memory_format)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    scaler = precision.grad_scaler()
    history: list[dict] = []
    best_loss, bad_epochs, start_epoch = float("inf"), 0, 1
    # Undeclared work files survive a killed job (Snakemake deletes declared outputs only).
    last_path, best_work = out_dir / "last.pt", out_dir / "best_so_far.pt"
    state = load_resume_state(last_path, settings_digest, data_digest)
    if state is not None:
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        history, best_loss, bad_epochs = (
            list(state["history"]),
            state["best_val_loss"],
            state["bad_epochs"],
        )
        start_epoch = state["epoch"] + 1
        log.info("resuming from %s at epoch %d", last_path, start_epoch)

    val_loader = _loader(
        torch.utils.data.Subset(dataset, val_idx),
        cfg,
        Purpose.TRAIN_VALIDATION_LOADER,
    )
    run_info = {
        "train_config": asdict(cfg),
        "model_spec": model_spec.to_dict(),
        "transform": transform.to_dict(),
        "stores": [[str(a), str(t)] for a, t in stores],
        "data_digest": data_digest,
        "n_train": len(train_idx),
        "n_validation": len(val_idx),
        "device": str(device),
        "precision": precision.mode,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "cpu_kernels": {name: os.environ.get(name, "") for name in PINNED_CPU_KERNELS},
        "torch_threads": torch.get_num_threads(),
        "versions": versions(),
    }
    log.info(
        "training on %s in %s (deterministic algorithms: %s; %d threads; CPU kernels %s)",
        device,
        precision.mode,
        run_info["deterministic"],
        run_info["torch_threads"],
        run_info["cpu_kernels"],
    )
    for epochs_run, epoch in enumerate(range(start_epoch, cfg.max_epochs + 1)):
        if bad_epochs >= cfg.early_stopping_patience:
            break
        if stop_after_epochs is not None and epochs_run >= stop_after_epochs:
            return history
        for group in optimizer.param_groups:
            group["lr"] = epoch_learning_rate(cfg, epoch)
        torch.manual_seed(torch_seed(cfg.seed, Purpose.TRAIN_EPOCH_TORCH, epoch))
        order = stream(cfg.seed, Purpose.TRAIN_EPOCH_ORDER, epoch).permutation(train_idx)
        offsets = (
            torch.from_numpy(random_offsets_mm(cfg.seed, epoch, order))
            if cfg.random_offset
            else None
        )
        loader = _loader(
            torch.utils.data.Subset(dataset, order),
            cfg,
            Purpose.TRAIN_EPOCH_LOADER,
            epoch,
        )
        model.train()
        started, seen, loss_sum, correct = time.perf_counter(), 0, 0.0, 0
        bar = tqdm(
            loader, desc=f"epoch {epoch}", file=progress or sys.stderr, mininterval=5.0, leave=True
        )
        for patches, targets in bar:
            if offsets is not None:
                patches = patches + offsets[seen : seen + len(targets), None, None]
            x = transform(patches).to(device, memory_format=precision.memory_format)
            y = targets.to(device)
            with precision.autocast():
                logits = model(x).float()
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
            optimizer_step(loss, optimizer, scaler)
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int(((logits > 0).float() == y).sum())
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
        val_logits, val_labels = evaluate_logits(model, transform, val_loader, precision)
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "val_loss": _bce(val_logits, val_labels),
            "val_accuracy": float(((val_logits > 0) == (val_labels > 0.5)).mean()),
            "seconds": time.perf_counter() - started,
            "images_per_s": seen / (time.perf_counter() - started),
        }
        history.append(row)
        improved = row["val_loss"] < best_loss
        if improved:
            best_loss, bad_epochs = row["val_loss"], 0
            save_atomic(
                build_checkpoint(model, model_spec, transform, run_info, epoch, best_loss),
                best_work,
            )
        else:
            bad_epochs += 1
        log.info(
            "epoch %d: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | %.1f img/s%s",
            epoch,
            row["train_loss"],
            100 * row["train_accuracy"],
            row["val_loss"],
            100 * row["val_accuracy"],
            row["images_per_s"],
            " (best)" if improved else "",
        )
        save_atomic(
            {
                "settings_digest": settings_digest,
                "data_digest": data_digest,
                "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "history": plain(history, "history"),
                "best_val_loss": float(best_loss),
                "bad_epochs": int(bad_epochs),
                "epoch": int(epoch),
            },
            last_path,
        )
        _write_history(history, out_dir / "history.csv")

    _write_history(history, out_dir / "history.csv")
    (out_dir / "run_info.json").write_text(
        json.dumps({**run_info, "epochs": len(history), "best_val_loss": best_loss}, indent=2)
    )
    _plot_history(history, out_dir / "training_curve.png")
    os.replace(best_work, out_dir / "best.pt")
    last_path.unlink(missing_ok=True)
    return history


def _write_history(history: list[dict], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]) if history else ["epoch"])
        writer.writeheader()
        writer.writerows(history)
    os.replace(tmp, path)
