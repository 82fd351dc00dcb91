"""Where the network runs: device choice, numeric precision per device and deterministic kernels.

Precision rules:

* CUDA: bf16 autocast where the GPU supports it (``torch.cuda.is_bf16_supported()``), else fp16
  autocast with a ``torch.amp.GradScaler`` (fp16 gradients underflow without loss scaling);
* CPU: fp32 by default, because bf16 CPU kernels differ between CPUs (AMX vs AVX-512) and so do
  the trained weights; ``training.cpu_precision: bf16`` opts into bf16 autocast + channels_last.
  The fp32 kernels themselves are pinned to one instruction set by ``cpu_kernels``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch

CpuPrecision = Literal["fp32", "bf16"]
CPU_PRECISIONS: tuple[CpuPrecision, ...] = ("fp32", "bf16")
_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class Precision:
    """Autocast dtype on one device ("fp32" = autocast off), and whether fp16 loss scaling runs."""

    device: torch.device
    mode: Literal["fp32", "bf16", "fp16"]

    def __post_init__(self) -> None:
        if self.mode not in _DTYPES:
            raise ValueError(f"precision {self.mode!r} is not one of {tuple(_DTYPES)}")

    @property
    def enabled(self) -> bool:
        """True when autocast runs (bf16 or fp16)."""
        return self.mode != "fp32"

    @property
    def memory_format(self) -> torch.memory_format:
        """channels_last for reduced precision on CPU (oneDNN's fast path), else contiguous."""
        if self.enabled and self.device.type == "cpu":
            return torch.channels_last
        return torch.contiguous_format

    def autocast(self) -> torch.autocast:
        """The autocast context of the forward pass (a no-op in fp32)."""
        dtype = _DTYPES[self.mode] or torch.float32
        return torch.autocast(self.device.type, dtype=dtype, enabled=self.enabled)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A loss scaler for fp16 (on whatever device), None otherwise."""
        return torch.amp.GradScaler(self.device.type) if self.mode == "fp16" else None


def choose_precision(device: torch.device, cpu_precision: CpuPrecision = "fp32") -> Precision:
    """bf16 on a CUDA GPU with bf16 support, fp16 (+ GradScaler) on one without; on CPU the
    configured ``cpu_precision`` (fp32 unless bf16 is asked for)."""
    if cpu_precision not in CPU_PRECISIONS:
        raise ValueError(f"training.cpu_precision {cpu_precision!r} is not one of {CPU_PRECISIONS}")
    if device.type == "cuda":
        return Precision(device, "bf16" if torch.cuda.is_bf16_supported() else "fp16")
    if device.type == "cpu":
        return Precision(device, cpu_precision)
    return Precision(device, "fp32")


def optimizer_step(
    loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None
) -> None:
    """Backward pass and optimiser step, through the loss scaler when there is one."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


@contextmanager
def deterministic_kernels(device: torch.device) -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for the block, restored afterwards.

    On CPU every kernel the classifier uses has a deterministic implementation, so it is strict;
    on CUDA some (e.g. the backward of adaptive pooling) have none, so it only warns there and
    cuDNN autotuning is switched off.
    """
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
