"""The same CPU kernels on every x86-64 CPU, so that fp32 training and scoring give the same bits.

Deterministic algorithms (``torch.use_deterministic_algorithms``) make two runs on one machine
agree, not two machines: oneDNN's convolutions and MKL's matrix products pick their code path by
instruction set, and AVX-512 and AVX2 kernels sum in different orders. Measured on this project's
2-core AMD EPYC (AVX-512): five fp32 steps of the demo's resnet10t gave different weights with
oneDNN at AVX-512 and at AVX2, and a forward pass different probabilities (docs/invariance.md,
section 3). Pinning every library to AVX2, which every x86-64 server CPU since 2015 has, makes
the code path the same on all of them. The environment wins: a variable already set is kept
(e.g. ``ONEDNN_MAX_CPU_ISA=ALL`` for the full speed of ``training.cpu_precision: bf16``).

The libraries read these variables at their first kernel call, so :func:`pin_cpu_kernels` runs
when ``volcdet.learning`` is imported, before any network exists. No torch import here.
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


def pin_cpu_kernels(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """Set every variable of :data:`PINNED_CPU_KERNELS` that is not set yet; return those in force."""
    for name, value in PINNED_CPU_KERNELS.items():
        environ.setdefault(name, value)
    return {name: environ[name] for name in PINNED_CPU_KERNELS}
