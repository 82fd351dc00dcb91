"""Hand-made background-tile stores for the sensitivity and split tests (no volcdet code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.data.stores import write_store

TILE_PX = 32
PIXEL_M = 200.0


def tile_table(tracks: tuple[str, ...] = ("A1", "D1"), side: int = 4) -> pd.DataFrame:
    """side x side non-overlapping tiles per track, every track over the same ground (UTM 19S)."""
    rows = []
    for track in tracks:
        for r in range(side):
            for c in range(side):
                rows.append(
                    {
                        "patch_id": f"{track}_r{r}c{c}",
                        "track_id": track,
                        "pass": "ascending" if track.startswith("A") else "descending",
                        "period_yr": 5.0 if track.startswith("A") else 4.0,
                        "crs": "EPSG:32719",
                        "transform_a": PIXEL_M,
                        "transform_b": 0.0,
                        "transform_c": 500_000.0 + c * TILE_PX * PIXEL_M,
                        "transform_d": 0.0,
                        "transform_e": -PIXEL_M,
                        "transform_f": 7_500_000.0 - r * TILE_PX * PIXEL_M,
                    }
                )
    return pd.DataFrame(rows)


def write_background(root: Path, table: pd.DataFrame, seed: int = 0) -> tuple[Path, Path]:
    """A background store of random tiles (mm) with a few missing pixels."""
    rng = np.random.default_rng(seed)
    tiles = rng.normal(0, 5, (len(table), TILE_PX, TILE_PX)).astype(np.float32)
    tiles[:, :3, :3] = np.nan
    paths = root / "background.npy", root / "background.parquet"
    write_store(*paths, tiles, table)
    return paths
