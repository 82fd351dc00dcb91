"""TorchScript export: the model and its input transform in one module, for use outside Python."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from volcdet.learning.checkpoints import model_from_checkpoint


class ProbabilityModule(torch.nn.Module):
    """Displacement (B, H, W) in mm -> probability (B,): transform and network in one module."""

    def __init__(self, model: torch.nn.Module, transform: object) -> None:
        super().__init__()
        self.model = model
        self.transform = transform

    def forward(self, displacement_mm: torch.Tensor) -> torch.Tensor:
        """Probability of volcanic deformation per patch."""
        return torch.sigmoid(self.model(self.transform(displacement_mm)))


def export_torchscript(model_path: Path, out_path: Path) -> Path:
    """Trace the model with its input transform to TorchScript for use outside Python."""
    model, transform, checkpoint = model_from_checkpoint(model_path)
    size = model.spec.input_size_px * transform.downsample
    module = ProbabilityModule(model, transform).eval()
    example = torch.randn(2, size, size) * 20.0
    with torch.no_grad():
        traced = torch.jit.trace(module, example, check_trace=False)
    extra = {
        "volcdet.json": json.dumps(
            {
                "model_spec": checkpoint["model_spec"],
                "transform": checkpoint["transform"],
                "threshold": checkpoint.get("threshold", 0.5),
                "patch_size_px": size,
            }
        )
    }
    tmp = Path(out_path).with_name(f".{Path(out_path).name}.tmp")
    torch.jit.save(traced, str(tmp), _extra_files=extra)
    tmp.replace(out_path)
    return Path(out_path)
