"""The one input transform: cumulative LOS displacement (mm) -> wrapped phase -> CNN channels.

Training, fine-tuning, evaluation and inference all call ``InputTransform``; nothing else may
re-implement it. Wrapping follows paper section 2.1 (Sentinel-1 wavelength, 5-year cumulative
displacement); the wrapped phase is scaled to [-1, 1) and copied to every channel (Gaddes et al.
2021 found wrapped data in all three channels best). Missing values become ``nan_value``.
``downsample`` > 1 averages the displacement (ignoring NaN) over k x k blocks before wrapping,
which is exact for the smooth deformation fields and cuts the CNN cost by k^2.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from volcdet.core.constants import SENTINEL1_WAVELENGTH_MM


@dataclass(frozen=True)
class InputTransform:
    """Displacement (mm, shape (B, H, W) or (H, W)) to a float32 tensor (B, C, H, W).

    ``pixel_size_m`` is the pixel size of the displacement grids the model was trained on; the
    transform does not resample, so anything scanning a map must bring it to this pixel size.
    """

    channels: int = 3
    nan_value: float = 0.0
    wavelength_mm: float = SENTINEL1_WAVELENGTH_MM
    downsample: int = 1
    pixel_size_m: float = 200.0

    def __call__(self, displacement_mm: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Average-pool (optional), wrap, scale to [-1, 1), fill NaN and repeat over channels."""
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
        if self.downsample > 1:
            d = _nan_average_pool(d, self.downsample)
        phase = d * (4.0 * math.pi / self.wavelength_mm)
        wrapped = torch.remainder(phase + math.pi, 2.0 * math.pi) - math.pi
        scaled = torch.nan_to_num(wrapped / math.pi, nan=self.nan_value)
        return scaled[:, None].expand(-1, self.channels, -1, -1).contiguous()

    def to_dict(self) -> dict:
        """Parameters for the self-describing model file."""
        return asdict(self)


def _nan_average_pool(d: torch.Tensor, k: int) -> torch.Tensor:
    """Mean of the finite values in each k x k block (NaN where a block has none)."""
    if d.shape[-1] % k or d.shape[-2] % k:
        raise ValueError(f"patch size {tuple(d.shape[-2:])} is not divisible by downsample {k}")
    valid = torch.isfinite(d)
    total = torch.nn.functional.avg_pool2d(torch.where(valid, d, 0.0)[:, None], k)[:, 0]
    count = torch.nn.functional.avg_pool2d(valid.to(d.dtype)[:, None], k)[:, 0]
    return torch.where(count > 0, total / count.clamp_min(1e-12), torch.nan)
