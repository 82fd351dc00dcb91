"""One check for every folder volcdet writes (a predict run, an imported region)."""

from __future__ import annotations

from pathlib import Path

import pytest

from volcdet.core.errors import OutputError
from volcdet.core.folders import check_output_folder, write_marker

KIND = "volcdet predict run"


def test_a_new_folder_may_be_written(tmp_path: Path) -> None:
    check_output_folder(tmp_path / "new", [], False, KIND, "--out")


@pytest.mark.parametrize(
    ("setup", "overwrite", "message"),
    [
        ("file", True, "out: --out is a file, not a folder"),
        ("empty", False, "out: output folder exists; use --overwrite to replace it"),
        ("foreign", True, "volcdet did not write it"),
        ("other kind", True, "was written as 'volcdet region import'"),
    ],
)
def test_an_existing_destination_is_refused_unless_volcdet_wrote_it_as_that_kind(
    tmp_path: Path, setup: str, overwrite: bool, message: str
) -> None:
    out = tmp_path / "out"
    if setup == "file":
        out.write_text("x")
    else:
        out.mkdir()
    if setup == "other kind":
        write_marker(out, "volcdet region import")
    with pytest.raises(OutputError, match=message):
        check_output_folder(out, [], overwrite, KIND, "--out")


def test_a_folder_volcdet_wrote_as_that_kind_may_be_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("a")
    write_marker(out, KIND)
    check_output_folder(out, [], True, KIND, "--out")


def test_a_folder_holding_an_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="holds an input of this run"):
        check_output_folder(tmp_path, [tmp_path / "map.tif"], True, KIND, "--out")


def test_a_signal_while_a_staging_folder_is_set_up_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between creating the staging folder and handing it to the caller removes it."""
    from volcdet.core import folders

    def interrupted(folder: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(folders, "follow_umask", interrupted)
    with pytest.raises(KeyboardInterrupt):
        folders.make_staging(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []
