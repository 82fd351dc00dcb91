"""Images/s of a training step fed from a patch store (memmap + DataLoader + transform) vs. from
a tensor already in memory, per backbone, input size and CPU precision (issues 5 and 13): the
demo's resnet10t at 64 px (256 px patches averaged 4 x 4) and 128 px in fp32 (the default,
deterministic) and bf16, and inception_resnet_v2 at the paper's 256 px.

Run: .venv/bin/python benchmarks/bench_training_step.py [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from volcdet.data.stores import write_store
from volcdet.learning.datasets import StoreDataset
from volcdet.learning.device import Precision, optimizer_step
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

CPU = torch.device("cpu")


def _step(model, optimizer, precision: Precision, x, y):
    with precision.autocast():
        logits = model(x).float()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    optimizer_step(loss, optimizer, None)


def bench(
    backbone: str,
    downsample: int,
    batch: int,
    steps: int,
    precision: Precision,
    store: tuple[Path, Path],
) -> tuple[float, float]:
    size = 256 // downsample
    torch.manual_seed(0)
    model = VolcanoClassifier(ModelSpec(backbone, input_size_px=size)).to(
        memory_format=precision.memory_format
    )
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    transform = InputTransform(downsample=downsample, pixel_size_m=200.0)
    dataset = StoreDataset([store])
    x_mem = transform(torch.randn(batch, 256, 256) * 30).contiguous(
        memory_format=precision.memory_format
    )
    y_mem = torch.randint(0, 2, (batch,)).float()
    _step(model, optimizer, precision, x_mem, y_mem)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        _step(model, optimizer, precision, x_mem, y_mem)
    in_memory = steps * batch / (time.perf_counter() - start)
    loader = DataLoader(
        dataset, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    start = time.perf_counter()
    for done, (patches, labels) in enumerate(loader, start=1):
        x = transform(patches).contiguous(memory_format=precision.memory_format)
        _step(model, optimizer, precision, x, labels)
        if done == steps:
            break
    from_store = steps * batch / (time.perf_counter() - start)
    return in_memory, from_store


def main() -> None:
    quick = "--quick" in sys.argv
    torch.set_num_threads(2)
    steps = 6 if quick else 20
    cases = [
        ("resnet10t", 4, 32, "fp32"),
        ("resnet10t", 4, 32, "bf16"),
        ("resnet10t", 2, 32, "fp32"),
        ("resnet10t", 2, 32, "bf16"),
    ]
    if not quick:
        cases.append(("inception_resnet_v2", 1, 8, "bf16"))
    with tempfile.TemporaryDirectory() as tmp:
        n = 1024
        rng = np.random.default_rng(0)
        patches = rng.normal(0, 20, (n, 256, 256)).astype(np.float32)
        store = (Path(tmp) / "s.npy", Path(tmp) / "s.parquet")
        write_store(*store, patches, pd.DataFrame({"label": rng.integers(0, 2, n)}))
        print(
            f"{'backbone':20s} {'input':>5s} {'prec':>4s} {'batch':>5s} "
            f"{'in-memory img/s':>16s} {'from store img/s':>17s} {'pipeline cost':>14s}"
        )
        for backbone, downsample, batch, mode in cases:
            mem, store_rate = bench(backbone, downsample, batch, steps, Precision(CPU, mode), store)
            print(
                f"{backbone:20s} {256 // downsample:5d} {mode:>4s} {batch:5d} {mem:16.1f} "
                f"{store_rate:17.1f} {100 * (mem / store_rate - 1):13.1f}%"
            )


if __name__ == "__main__":
    main()
