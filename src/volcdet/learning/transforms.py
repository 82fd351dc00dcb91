"""The one input transform: cumulative LOS displacement (mm) -> wrapped phase -> CNN channels.

Training, fine-tuning (cached features), evaluation, Grad-CAM, scanning and the TorchScript
export all call ``InputTransform``; nothing else may re-implement it. Wrapping follows paper
section 2.1 (Sentinel-1 wavelength, 5-year cumulative displacement); the wrapped phase is scaled
to [-1, 1) and copied to every channel (Gaddes et al. 2021 found wrapped data in all three
channels best). ``downsample`` > 1 averages the displacement (ignoring NaN) over k x k blocks
before wrapping, which is exact for the smooth deformation fields and cuts the CNN cost by k^2.

``reference = "circular_mean"`` (docs/invariance.md) subtracts from every patch the
circular mean of its valid pixels' phase, arg(sum exp(i phi)), before wrapping. Every real map
is referenced to an arbitrary point or area, so a patch carries an arbitrary constant; adding a
constant c to the displacement turns phi into phi + 4 pi c / lambda and the circular mean by
the same angle, so the referenced phase, and everything the network sees, does not change (up
to float rounding of pixels at exactly +-pi). Missing pixels become ``nan_value`` of the
referenced phase, i.e. the patch's own reference level for the default 0.

``validity_channel`` (not in the paper; docs/invariance.md) makes the last channel the share of
valid pixels (1 valid, 0 no data; the valid share of each block after averaging), so the
network can tell no data from zero phase: users' maps are clips, coasts and islands where most
of a window can be no data. Model files written before it existed read as ``False``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch

from volcdet.core.constants import SENTINEL1_WAVELENGTH_MM

Reference = Literal["circular_mean", "none"]
REFERENCES: tuple[Reference, ...] = ("circular_mean", "none")


@dataclass(frozen=True)
class InputTransform:
    """Displacement (mm, shape (B, H, W) or (H, W)) to a float32 tensor (B, C, H, W).

    ``pixel_size_m`` (required, by keyword) is the pixel size of the displacement grids the
    model was trained on; the transform does not resample, so anything scanning a map must
    bring it to this pixel size.
    """

    channels: int = 3
    nan_value: float = 0.0
    wavelength_mm: float = SENTINEL1_WAVELENGTH_MM
    downsample: int = 1
    pixel_size_m: float = field(kw_only=True)
    reference: Reference = "circular_mean"
    validity_channel: bool = False

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise ValueError(f"input reference {self.reference!r} is not one of {REFERENCES}")
        if self.validity_channel and self.channels < 2:
            raise ValueError("a validity channel needs at least 2 input channels")

    def __call__(self, displacement_mm: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Average-pool (optional), reference (optional), wrap, scale to [-1, 1), fill NaN and
        repeat over channels."""
        d = torch.as_tensor(
            np.asarray(displacement_mm)
            if isinstance(displacement_mm, np.ndarray)
            else displacement_mm
        )
        d = d.to(torch.float32)
        if d.ndim == 2:
            d = d[None]
        if d.ndim != 3:
            raise ValueError(
                f"expected displacement of shape (B, H, W) or (H, W), got {tuple(d.shape)}"
            )
        valid = torch.isfinite(d).to(torch.float32)
        if self.downsample > 1:
            d = _nan_average_pool(d, self.downsample)
            valid = torch.nn.functional.avg_pool2d(valid[:, None], self.downsample)[:, 0]
        phase = d * (4.0 * math.pi / self.wavelength_mm)
        if self.reference == "circular_mean":
            phase = phase - circular_mean_phase(phase)[:, None, None]
        wrapped = torch.remainder(phase + math.pi, 2.0 * math.pi) - math.pi
        scaled = torch.nan_to_num(wrapped / math.pi, nan=self.nan_value)
        if not self.validity_channel:
            return scaled[:, None].expand(-1, self.channels, -1, -1).contiguous()
        phase_channels = scaled[:, None].expand(-1, self.channels - 1, -1, -1)
        return torch.cat([phase_channels, valid[:, None]], dim=1).contiguous()

    def to_dict(self) -> dict:
        """Parameters for the self-describing model file."""
        return asdict(self)


def circular_mean_phase(phase: torch.Tensor) -> torch.Tensor:
    """arg(sum of exp(i phi) over the finite pixels) of each (H, W) phase map in a (B, H, W) batch.

    Sums in float64 so the reference follows a constant shift to ~1e-12 rad; 0 for a patch with
    no finite pixel (atan2(0, 0) = 0).
    """
    valid = torch.isfinite(phase)
    p = torch.where(valid, phase, torch.zeros_like(phase)).to(torch.float64)
    sin = torch.where(valid, torch.sin(p), torch.zeros_like(p)).sum(dim=(-2, -1))
    cos = torch.where(valid, torch.cos(p), torch.zeros_like(p)).sum(dim=(-2, -1))
    return torch.atan2(sin, cos).to(phase.dtype)


def _nan_average_pool(d: torch.Tensor, k: int) -> torch.Tensor:
    """Mean of the finite values in each k x k block (NaN where a block has none)."""
    if d.shape[-1] % k or d.shape[-2] % k:
        raise ValueError(f"patch size {tuple(d.shape[-2:])} is not divisible by downsample {k}")
    valid = torch.isfinite(d)
    total = torch.nn.functional.avg_pool2d(torch.where(valid, d, 0.0)[:, None], k)[:, 0]
    count = torch.nn.functional.avg_pool2d(valid.to(d.dtype)[:, None], k)[:, 0]
    return torch.where(count > 0, total / count.clamp_min(1e-12), torch.nan)
