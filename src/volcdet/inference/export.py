"""TorchScript export: the model and its input transform in one module, for use outside Python.

The file is written to a temporary file beside the destination and renamed into place, so a
failure or a signal leaves the destination as it was and no temporary file behind. An existing
destination is replaced only with ``overwrite`` and only when it is a file volcdet exported
(its ``volcdet.json`` entry), never a folder or the model itself (docs/reliability.md).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch

from volcdet.core.errors import OutputError
from volcdet.core.folders import current_umask, remove_dead_leftovers, writer_tag
from volcdet.inference.destinations import EXPORT_EXTRA_FILE, check_export_destination
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.transforms import InputTransform


class ProbabilityModule(torch.nn.Module):
    """Displacement (B, H, W) in mm -> probability (B,): transform and network in one module."""

    def __init__(self, model: torch.nn.Module, transform: InputTransform) -> None:
        super().__init__()
        self.model = model
        self.transform = transform

    def forward(self, displacement_mm: torch.Tensor) -> torch.Tensor:
        """Probability of volcanic deformation per patch."""
        return torch.sigmoid(self.model(self.transform(displacement_mm)))


def _traced(model_path: Path) -> tuple[torch.jit.ScriptModule, dict]:
    """The traced probability module of a model file and its ``volcdet.json`` entry; torch's
    notes on tracing (deprecation, constants in the trace) are not shown: they do not apply."""
    model, transform, checkpoint = model_from_checkpoint(model_path)
    size = int(checkpoint["window_px"])
    module = ProbabilityModule(model, transform).eval()
    example = torch.randn(2, size, size) * 20.0
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
    extra = {
        EXPORT_EXTRA_FILE: json.dumps(
            {
                "model_spec": checkpoint["model_spec"],
                "transform": checkpoint["transform"],
                "threshold": checkpoint.get("threshold", 0.5),
                "patch_size_px": size,
            }
        )
    }
    return traced, extra


def export_torchscript(model_path: Path, out_path: Path, overwrite: bool = False) -> Path:
    """Trace the model with its input transform to TorchScript for use outside Python."""
    out = Path(out_path)
    check_export_destination(model_path, out, overwrite)
    traced, extra = _traced(Path(model_path))
    remove_dead_leftovers(out)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.staging-{writer_tag()}-", dir=out.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())
        buffer = io.BytesIO()  # torch aborts the process when a write to a file fails
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.save(traced, buffer, _extra_files=extra)
        tmp.write_bytes(buffer.getvalue())
        check_export_destination(model_path, out, overwrite)
        tmp.replace(out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        reason = err.strerror or str(err)
        raise OutputError(
            f"{out}: cannot write the export ({reason.splitlines()[0]}); {out} is as it was"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
