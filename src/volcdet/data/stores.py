"""Patch stores between stages: a float16 ``.npy`` memmap (n, H, W) plus a parquet metadata table.

Values are cumulative LOS displacement in mm (NaN = no data); row i of the table describes
sample i of the array. Both files are written to temporary names and renamed only when
complete, so an interrupted job never leaves a half-written store behind (DESIGN.md, Stores).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from volcdet.core.atomic import atomic_path
from volcdet.core.errors import StoreError

STORE_FORMAT = "volcdet-patch-store/1"
STORE_DTYPE = np.float16


def write_table(path: Path, table: pd.DataFrame, attrs: dict[str, Any] | None = None) -> None:
    """Write a parquet table atomically, with JSON ``attrs`` in the file's key-value metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[b"volcdet"] = json.dumps({"format": STORE_FORMAT, **(attrs or {})}).encode()
    with atomic_path(path) as tmp:
        pq.write_table(arrow.replace_schema_metadata(meta), tmp)


def read_table_attrs(path: Path) -> dict[str, Any]:
    """The ``attrs`` a table was written with (empty if none)."""
    meta = pq.read_schema(path).metadata or {}
    attrs: dict[str, Any] = json.loads(meta.get(b"volcdet", b"{}"))
    return attrs


@contextmanager
def create_store(
    array_path: Path, n_samples: int, patch_shape: tuple[int, ...]
) -> Iterator[np.memmap]:
    """Yield a writable float16 memmap; it is renamed into place only if the block succeeds."""
    with atomic_path(Path(array_path)) as tmp:
        array = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=STORE_DTYPE, shape=(n_samples, *patch_shape)
        )
        yield array
        array.flush()
        del array


def write_store(
    array_path: Path,
    table_path: Path,
    patches: np.ndarray,
    table: pd.DataFrame,
    attrs: dict[str, Any] | None = None,
) -> None:
    """Write an in-memory patch array and its metadata table as a store."""
    if len(table) != len(patches):
        raise StoreError(f"{table_path}: {len(table)} metadata rows for {len(patches)} patches")
    with create_store(array_path, len(patches), patches.shape[1:]) as out:
        out[:] = patches.astype(STORE_DTYPE)
    write_table(table_path, table, attrs)


def open_store(array_path: Path, table_path: Path) -> tuple[np.memmap, pd.DataFrame]:
    """Open a store read-only (memmap) and check it against its table."""
    array_path, table_path = Path(array_path), Path(table_path)
    for path in (array_path, table_path):
        if not path.is_file():
            raise StoreError(f"{path}: store file not found")
    try:
        array = np.load(array_path, mmap_mode="r")
    except ValueError as err:
        raise StoreError(f"{array_path}: not a readable .npy array ({err})") from err
    table = pd.read_parquet(table_path)
    if array.ndim != 3 or array.dtype != STORE_DTYPE:
        raise StoreError(
            f"{array_path}: expected a float16 (n, H, W) array, got {array.dtype} {array.shape}"
        )
    if len(table) != array.shape[0]:
        raise StoreError(
            f"{table_path}: {len(table)} rows but {array_path.name} holds {array.shape[0]} patches"
        )
    return array, table


#: Rows of a store's array that enter its digest (evenly spaced, first and last included).
DIGEST_ROWS = 64


def store_digest(array_path: Path, table_path: Path, rows: int | None = DIGEST_ROWS) -> str:
    """Content hash of a store that is cheap at the paper's scale: the array's dtype, shape and
    ``rows`` evenly spaced samples (all with None) plus every byte of the metadata table, which
    holds each sample's label and source and noise parameters."""
    digest = hashlib.blake2b(digest_size=16)
    array = np.load(array_path, mmap_mode="r")
    digest.update(f"{array.dtype.str} {array.shape}".encode())
    n = len(array)
    picked = range(n) if rows is None or n <= rows else np.linspace(0, n - 1, rows).round()
    for index in picked:
        digest.update(np.ascontiguousarray(array[int(index)]).tobytes())
    with Path(table_path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
