"""Images/s of a training step fed from a patch store (memmap + DataLoader + transform) vs. from
a tensor already in memory, for the demo backbone and inception_resnet_v2 at 256 px (issue 5).

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
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform


def _step(model, optimizer, x, y):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x).float()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def bench(
    backbone: str, size: int, batch: int, steps: int, store: tuple[Path, Path]
) -> tuple[float, float]:
    torch.manual_seed(0)
    model = VolcanoClassifier(ModelSpec(backbone, input_size_px=size)).to(
        memory_format=torch.channels_last
    )
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    transform = InputTransform()
    dataset = StoreDataset([store])
    x_mem = transform(torch.randn(batch, size, size) * 30).contiguous(
        memory_format=torch.channels_last
    )
    y_mem = torch.randint(0, 2, (batch,)).float()
    _step(model, optimizer, x_mem, y_mem)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        _step(model, optimizer, x_mem, y_mem)
    in_memory = steps * batch / (time.perf_counter() - start)
    loader = DataLoader(
        dataset, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    start = time.perf_counter()
    for done, (patches, labels) in enumerate(loader, start=1):
        x = transform(patches).contiguous(memory_format=torch.channels_last)
        _step(model, optimizer, x, labels)
        if done == steps:
            break
    from_store = steps * batch / (time.perf_counter() - start)
    return in_memory, from_store


def main() -> None:
    quick = "--quick" in sys.argv
    torch.set_num_threads(2)
    cases = [
        ("resnet10t", 256, 32, 6 if quick else 20),
        ("inception_resnet_v2", 256, 8, 2 if quick else 6),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        n = 512
        rng = np.random.default_rng(0)
        patches = rng.normal(0, 20, (n, 256, 256)).astype(np.float32)
        store = (Path(tmp) / "s.npy", Path(tmp) / "s.parquet")
        write_store(*store, patches, pd.DataFrame({"label": rng.integers(0, 2, n)}))
        print(
            f"{'backbone':22s} {'batch':>5s} {'in-memory img/s':>16s} {'from store img/s':>17s} {'pipeline cost':>14s}"
        )
        for backbone, size, batch, steps in cases:
            mem, store_rate = bench(backbone, size, batch, steps, store)
            print(
                f"{backbone:22s} {batch:5d} {mem:16.1f} {store_rate:17.1f} {100 * (mem / store_rate - 1):13.1f}%"
            )


if __name__ == "__main__":
    main()
