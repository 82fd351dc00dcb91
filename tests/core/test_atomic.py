"""Atomic writes keep the old file when the write fails, and leave no temporary file."""

from pathlib import Path

import numpy as np
import pytest

from volcdet.core.atomic import atomic_path, temporary_path, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_a_write_replaces_the_target_and_creates_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "run_info.json"
    write_text_atomic(target, "{}")
    assert target.read_text() == "{}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["run_info.json"]


def test_the_temporary_name_keeps_the_suffix_for_writers_that_go_by_it(tmp_path: Path) -> None:
    target = tmp_path / "features.npy"
    assert temporary_path(target).suffix == ".npy"
    with atomic_path(target) as tmp:
        np.save(tmp, np.arange(3))
    assert np.load(target).tolist() == [0, 1, 2]
