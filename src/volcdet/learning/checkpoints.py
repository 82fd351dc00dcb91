"""Self-describing model files: written atomically, loaded with a format check (DESIGN.md)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

CHECKPOINT_FORMAT = "volcdet-model/1"


def versions() -> dict[str, str]:
    """Library versions recorded beside every model."""
    import timm

    from volcdet import __version__

    return {
        "volcdet": __version__,
        "torch": torch.__version__,
        "timm": timm.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cuda": torch.version.cuda or "none",
    }


def save_atomic(obj: object, path: Path) -> None:
    """torch.save to a temporary name, then rename: a kill never leaves a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    """Load a volcdet model file and check its format version."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        found = (
            checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        )
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} model file (found {found})")
    return checkpoint


def model_from_checkpoint(path: Path) -> tuple[VolcanoClassifier, InputTransform, dict]:
    """Rebuild the classifier and its input transform from a self-describing model file."""
    checkpoint = load_checkpoint(path)
    model = VolcanoClassifier(ModelSpec(**checkpoint["model_spec"]))
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    return model, InputTransform.from_dict(checkpoint["transform"]), checkpoint


def build_checkpoint(
    model: VolcanoClassifier,
    spec: ModelSpec,
    transform: InputTransform,
    run_info: dict,
    epoch: int,
    val_loss: float,
) -> dict:
    """The contents of a self-describing model file (format, spec, transform, weights, threshold)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model_spec": spec.to_dict(),
        "transform": transform.to_dict(),
        "state_dict": {
            k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()
        },
        "epoch": epoch,
        "val_loss": val_loss,
        "threshold": 0.5,
        "run_info": run_info,
    }
