"""The same CPU kernels on every x86-64 CPU, so that fp32 training and scoring give the same bits.

Deterministic algorithms (``torch.use_deterministic_algorithms``) make two runs on one machine
agree, not two machines: oneDNN's convolutions and MKL's matrix products pick their code path by
instruction set, and AVX-512 and AVX2 kernels sum in different orders. Measured on this project's
2-core AMD EPYC (AVX-512): five fp32 steps of the demo's resnet10t gave different weights with
oneDNN at AVX-512 and at AVX2, and a forward pass different probabilities (docs/invariance.md,
section 3). Pinning every library to AVX2, which every x86-64 server CPU since 2015 has, makes
the code path the same on all of them, whatever the machine or its environment offers.

The libraries read these variables at their first kernel call, so :func:`pin_cpu_kernels` runs
when ``volcdet.learning`` is imported, before any network exists. The only way out is
``training.cpu_precision: bf16`` (the workflow then sets :data:`NATIVE_CPU_KERNELS` to 1 for
every job), whose speed comes from the CPU's own bf16 units. No torch import here.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Library -> variable that caps its instruction set at AVX2 (oneDNN convolutions, ATen's
#: vectorised kernels, MKL's conditional numerical reproducibility mode for BLAS).
PINNED_CPU_KERNELS: dict[str, str] = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
}

#: Environment variable that, set to 1, leaves every library its native kernels (bf16 mode).
NATIVE_CPU_KERNELS = "VOLCDET_NATIVE_CPU_KERNELS"


def pin_cpu_kernels(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """Cap every library at AVX2 (overriding the environment) unless native kernels are asked
    for; return the pinned variables (empty when native)."""
    if environ.get(NATIVE_CPU_KERNELS) == "1":
        return {}
    environ.update(PINNED_CPU_KERNELS)
    return dict(PINNED_CPU_KERNELS)


def use_native_cpu_kernels(environ: MutableMapping[str, str] = os.environ) -> None:
    """Undo :func:`pin_cpu_kernels` for this process's children (set before they start)."""
    environ[NATIVE_CPU_KERNELS] = "1"
    for name, value in PINNED_CPU_KERNELS.items():
        if environ.get(name) == value:
            del environ[name]
