"""Where the network runs: device choice and mixed precision (autocast) per device."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Autocast:
    """bf16 autocast + channels_last on CPU when enabled; AMP fp16 on CUDA."""

    def __init__(self, device: torch.device, cpu_bf16: bool) -> None:
        self.device = device
        self.enabled = cpu_bf16 if device.type == "cpu" else device.type == "cuda"
        self.dtype = torch.bfloat16 if device.type == "cpu" else torch.float16

    def __call__(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.enabled)
