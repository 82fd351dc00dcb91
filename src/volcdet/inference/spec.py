"""Scan settings, checked when made (light module: the CLI builds it before importing torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from volcdet.core.errors import VolcdetError


@dataclass(frozen=True)
class ScanSpec:
    """Window stride, batch, missing-value limit, device; threshold (None: the model's)."""

    stride_px: int = 64
    batch_size: int = 32
    max_missing_fraction: float = 0.9
    device: str = "auto"
    threshold: float | None = None

    def __post_init__(self) -> None:
        """One-line errors naming the option, before any work."""
        if not isinstance(self.stride_px, int) or self.stride_px < 1:
            raise VolcdetError(
                f"--stride: must be a whole number of pixels >= 1, got {self.stride_px}"
            )
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise VolcdetError(f"--batch-size: must be a whole number >= 1, got {self.batch_size}")
        if not (0.0 <= self.max_missing_fraction <= 1.0):
            raise VolcdetError(
                f"--max-missing: must be a fraction in [0, 1], got {self.max_missing_fraction}"
            )
        if self.threshold is not None and not (
            math.isfinite(self.threshold) and 0.0 <= self.threshold <= 1.0
        ):
            raise VolcdetError(
                f"--threshold: must be a probability in [0, 1], got {self.threshold}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise VolcdetError(f"--device: must be auto, cpu or cuda, got {self.device!r}")
