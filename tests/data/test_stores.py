"""Patch store round trip and failure modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from volcdet.core.errors import StoreError
from volcdet.data.stores import create_store, open_store, read_table_attrs, write_store


def test_round_trip_keeps_values_nan_and_metadata(tmp_path):
    rng = np.random.default_rng(1)
    patches = rng.normal(0, 30, (5, 16, 16)).astype(np.float32)
    patches[2, 3:5, 4:9] = np.nan
    table = pd.DataFrame({"patch_id": [f"p{i}" for i in range(5)], "label": [0, 1, 0, 1, 1]})
    write_store(tmp_path / "s.npy", tmp_path / "s.parquet", patches, table, {"units": "mm"})
    array, meta = open_store(tmp_path / "s.npy", tmp_path / "s.parquet")
    assert isinstance(array, np.memmap) and array.dtype == np.float16
    np.testing.assert_array_equal(np.isnan(array), np.isnan(patches))
    np.testing.assert_allclose(array, patches, rtol=1e-3, atol=0.02)  # float16 resolution
    pd.testing.assert_frame_equal(meta, table)
    assert read_table_attrs(tmp_path / "s.parquet")["units"] == "mm"


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "s.npy"
    with pytest.raises(RuntimeError), create_store(target, 3, (8, 8)) as out:
        out[0] = 1.0
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_row_count_mismatch_is_reported(tmp_path):
    write_store(
        tmp_path / "s.npy",
        tmp_path / "s.parquet",
        np.zeros((3, 4, 4)),
        pd.DataFrame({"a": [1, 2, 3]}),
    )
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "s.parquet")
    with pytest.raises(StoreError, match=r"s\.parquet: 2 rows but s\.npy holds 3 patches"):
        open_store(tmp_path / "s.npy", tmp_path / "s.parquet")


def test_missing_store_is_named(tmp_path):
    with pytest.raises(StoreError, match=r"x\.npy: store file not found"):
        open_store(tmp_path / "x.npy", tmp_path / "x.parquet")
