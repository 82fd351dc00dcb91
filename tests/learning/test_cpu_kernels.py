"""The CPU kernels are pinned to AVX2 so that fp32 numbers do not depend on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from volcdet.learning.cpu_kernels import (
    NATIVE_CPU_KERNELS,
    PINNED_CPU_KERNELS,
    pin_cpu_kernels,
    use_native_cpu_kernels,
)

FORWARD = """
import hashlib, torch, timm
import volcdet.learning
torch.manual_seed(0)
model = timm.create_model("resnet10t", num_classes=2).eval()
with torch.no_grad():
    out = model(torch.randn(8, 3, 64, 64))
print(torch.backends.cpu.get_cpu_capability(), hashlib.sha256(out.numpy().tobytes()).hexdigest())
"""


def _forward(**env: str) -> tuple[str, str]:
    """Capability and digest of a forward pass in a fresh process with the given environment."""
    clean = {k: v for k, v in os.environ.items() if k not in PINNED_CPU_KERNELS}
    result = subprocess.run(
        [sys.executable, "-c", FORWARD],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    capability, digest = result.stdout.split()
    return capability, digest


def test_pin_overrides_the_environment_unless_native_kernels_are_asked_for():
    environ = {"ONEDNN_MAX_CPU_ISA": "ALL", "PATH": "/bin"}
    assert pin_cpu_kernels(environ) == PINNED_CPU_KERNELS
    assert environ == {**PINNED_CPU_KERNELS, "PATH": "/bin"}
    use_native_cpu_kernels(environ)
    assert environ == {NATIVE_CPU_KERNELS: "1", "PATH": "/bin"}
    assert pin_cpu_kernels(environ) == {} and environ == {NATIVE_CPU_KERNELS: "1", "PATH": "/bin"}


def test_importing_learning_pins_the_kernels_whatever_the_environment_asks():
    capability, pinned = _forward()
    assert capability == "AVX2"
    asks_for_avx512 = {"ONEDNN_MAX_CPU_ISA": "ALL", "ATEN_CPU_CAPABILITY": "avx512"}
    assert _forward(**asks_for_avx512) == (capability, pinned)


def _has_avx512() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512f" in flags


@pytest.mark.skipif(not _has_avx512(), reason="shows the difference only on a CPU with AVX-512")
def test_native_kernels_of_an_avx512_cpu_compute_other_bits():
    """What the pin removes: the same forward pass on AVX-512 kernels differs in its last bits."""
    native = _forward(**{NATIVE_CPU_KERNELS: "1"})
    assert native[0] == "AVX512"
    assert native[1] != _forward()[1]
