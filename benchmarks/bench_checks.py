"""Cost of the safety checks: the training-data digest a resume compares, the region
check made before any job, and the config check of the backbone name (timm source scan vs
``import timm``).

Run: .venv/bin/python benchmarks/bench_checks.py [region folder]
(without a folder, the default demo region is generated into a temporary folder first)
"""

from __future__ import annotations

import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.config import timm_model_names
from volcdet.data.region import check_region_before_run, load_region
from volcdet.data.stores import create_store, store_digest, write_table
from volcdet.learning.training import training_data_digest

REPEATS = 5


def timed(function: Callable[[], object], repeats: int = REPEATS) -> str:
    """Median (min-max) seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return f"{statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f})"


def demo_sized_stores(folder: Path) -> list[tuple[Path, Path]]:
    """Seven stores of 600 float16 patches of 256 x 256 (the demo's simulated sets)."""
    rng = np.random.default_rng(0)
    stores = []
    for k in range(7):
        array, table = folder / f"los{k}.npy", folder / f"los{k}.parquet"
        with create_store(array, 600, (256, 256)) as out:
            for start in range(0, 600, 100):
                out[start : start + 100] = rng.normal(0, 10, (100, 256, 256))
        write_table(table, pd.DataFrame({"label": np.arange(600) % 2, "x": rng.random(600)}))
        stores.append((array, table))
    return stores


def full_file_hash(stores: list[tuple[Path, Path]]) -> None:
    """The alternative not taken: sha256 of every byte of every store."""
    for array, table in stores:
        digest = hashlib.sha256()
        for path in (array, table):
            with path.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 22), b""):
                    digest.update(block)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = demo_sized_stores(Path(tmp))
        print("training-data digest, 7 stores x 600 x 256 x 256 float16 (550 MB):")
        print("  sampled (64 rows + table per store):", timed(lambda: training_data_digest(stores)))
        print("  256 rows per store:", timed(lambda: [store_digest(*s, rows=256) for s in stores]))
        print("  sha256 of every byte:", timed(lambda: full_file_hash(stores)))
        region = Path(sys.argv[1]) if len(sys.argv) > 1 else None
        if region is None:
            from volcdet.demo.region import DemoRegionSpec, generate_demo_region

            region = Path(tmp) / "demo"
            generate_demo_region(region, DemoRegionSpec(pixel_size_m=200.0))
        n_ifg = len(pd.read_csv(region / "interferograms.csv"))
        print(f"region checks, {region} ({n_ifg} interferograms):")
        print("  tables only:", timed(lambda: load_region(region, check_rasters=False)))
        print(
            "  before any job (headers + 2 windows):",
            timed(lambda: check_region_before_run(region, 200.0)),
        )
        print("  every pixel of velocity + LOS:", timed(lambda: load_region(region)))
    print("backbone name check:")
    print(
        "  timm source scan:", timed(lambda: (timm_model_names.cache_clear(), timm_model_names()))
    )
    print(
        "  python -c 'import timm' (whole process):",
        timed(lambda: subprocess.run([sys.executable, "-c", "import timm"], check=True), 3),
    )


if __name__ == "__main__":
    main()
