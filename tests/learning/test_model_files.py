"""Model files are loaded weights-only: a crafted file runs nothing, every bad file is one line."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import write_small_region

from volcdet.core.errors import ModelFileError
from volcdet.data.stores import write_store
from volcdet.inference.cli import main
from volcdet.learning.checkpoints import (
    CHECKPOINT_FORMAT,
    build_checkpoint,
    load_checkpoint,
    model_from_checkpoint,
    save_atomic,
)
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.training import TrainConfig, fit
from volcdet.learning.transforms import InputTransform

SPEC = ModelSpec("test_resnet", input_size_px=32, hidden_units=8, dropout=0.0)


class CreatesAFile:
    """Unpickling this object runs ``touch <marker>`` (what a hostile model file would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_files(tmp_path: Path) -> tuple[list[Path], Path]:
    """A torch zip file and two plain pickles that would create ``marker`` when loaded unsafely."""
    marker = tmp_path / "CODE_RAN"
    payload = {"format": CHECKPOINT_FORMAT, "run_info": CreatesAFile(marker)}
    files = [tmp_path / "crafted.pt", tmp_path / "crafted_p2.pt", tmp_path / "crafted_p5.pt"]
    torch.save(payload, files[0])
    files[1].write_bytes(pickle.dumps(payload, protocol=2))
    files[2].write_bytes(pickle.dumps(payload, protocol=5))
    return files, marker


def _one_line_naming(message: str, path: Path) -> None:
    assert "\n" not in message.strip(), message
    assert str(path) in message, message


def good_checkpoint(**changes: object) -> dict:
    torch.manual_seed(0)
    checkpoint = build_checkpoint(
        VolcanoClassifier(SPEC).eval(), SPEC, InputTransform(pixel_size_m=200.0), {}, 1, 0.1
    )
    checkpoint.update(changes)
    return checkpoint


def test_crafted_pickle_runs_nothing_in_the_loader(tmp_path):
    files, marker = crafted_files(tmp_path)
    messages = []
    for path in files:
        with pytest.raises(ModelFileError, match="refused to load") as err:
            try:
                model_from_checkpoint(path)
            finally:
                assert not marker.exists(), f"loading {path.name} ran its command"
        _one_line_naming(str(err.value), path)
        messages.append(str(err.value))
    assert f"asks for the Python object {os.system.__module__}.system" in messages[0]


def test_crafted_pickle_runs_nothing_in_export(tmp_path, capsys):
    files, marker = crafted_files(tmp_path)
    for path in files:
        status = main(["export", str(path), "--out", str(tmp_path / "model.ts")])
        assert not marker.exists(), f"loading {path.name} ran its command"
        assert status == 2
        _one_line_naming(capsys.readouterr().err, path)
    assert not (tmp_path / "model.ts").exists()


def test_crafted_pickle_runs_nothing_in_predict(tmp_path, capsys):
    region = write_small_region(tmp_path / "region")
    files, marker = crafted_files(tmp_path)
    for path in files:
        status = main(
            [
                "predict",
                str(region / "velocity/T1.tif"),
                "--los",
                str(region / "los/T1.tif"),
                "--model",
                str(path),
                "--period-yr",
                "5",
                "--out",
                str(tmp_path / f"scan_{path.stem}"),
            ]
        )
        assert not marker.exists(), f"loading {path.name} ran its command"
        assert status == 2
        _one_line_naming(capsys.readouterr().err, path)


def test_crafted_resume_state_runs_nothing_in_training(tmp_path):
    rng = np.random.default_rng(0)
    write_store(
        tmp_path / "s.npy",
        tmp_path / "s.parquet",
        rng.normal(0, 5, (8, 32, 32)).astype(np.float32),
        pd.DataFrame({"label": np.arange(8) % 2}),
    )
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "CODE_RAN"
    torch.save({"settings_digest": CreatesAFile(marker)}, out / "last.pt")
    cfg = TrainConfig(max_epochs=1, batch_size=4, device="cpu")
    with pytest.raises(ModelFileError, match="refused to load") as err:
        try:
            fit(
                [(tmp_path / "s.npy", tmp_path / "s.parquet")],
                SPEC,
                InputTransform(pixel_size_m=200.0),
                cfg,
                out,
            )
        finally:
            assert not marker.exists(), "loading last.pt ran its command"
    _one_line_naming(str(err.value), out / "last.pt")
    assert "delete it to train from scratch" in str(err.value)


def _write(path: Path, content: object) -> Path:
    torch.save(content, path)
    return path


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = tmp_path / "good.pt"
    save_atomic(good_checkpoint(), good)
    data = good.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "text.pt").write_text("this is not a model\n")
    state = good_checkpoint()["state_dict"]
    wide = ModelSpec("test_resnet", input_size_px=32, hidden_units=16, dropout=0.0)
    return {
        "truncated": (tmp_path / "truncated.pt", "truncated or corrupt"),
        "empty": (tmp_path / "empty.pt", "empty file"),
        "text": (tmp_path / "text.pt", "truncated or corrupt"),
        "not a dict": (_write(tmp_path / "list.pt", [1, 2, 3]), r"model file \(found list\)"),
        "other format": (
            _write(tmp_path / "v2.pt", good_checkpoint(format="volcdet-model/2")),
            r"not a volcdet-model/1 model file \(found volcdet-model/2\)",
        ),
        "no format": (_write(tmp_path / "weights.pt", {"weights": 1}), r"\(found None\)"),
        "missing entries": (
            _write(tmp_path / "partial.pt", {"format": CHECKPOINT_FORMAT}),
            "lacks model_spec, transform, state_dict",
        ),
        "missing weights": (
            _write(
                tmp_path / "missing.pt",
                good_checkpoint(
                    state_dict={k: v for k, v in state.items() if not k.startswith("classifier")}
                ),
            ),
            r"weights do not fit a test_resnet model: 2 missing \(e\.g\. classifier\.weight\)",
        ),
        "mismatched weights": (
            _write(tmp_path / "wide.pt", good_checkpoint(model_spec=wide.to_dict())),
            r"\d of another shape \(e\.g\. penultimate\.weight \(8, \d+\) instead of \(16, \d+\)\)",
        ),
        "unknown backbone": (
            _write(
                tmp_path / "backbone.pt",
                good_checkpoint(model_spec={**SPEC.to_dict(), "backbone": "resnet_nope"}),
            ),
            r"unknown backbone 'resnet_nope': timm \S+ has no such model",
        ),
        "unknown spec field": (
            _write(
                tmp_path / "field.pt",
                good_checkpoint(model_spec={**SPEC.to_dict(), "depth": 3}),
            ),
            "entry model_spec has unknown field",
        ),
        "missing file": (tmp_path / "absent.pt", "model file not found"),
        "window disagrees": (
            _write(tmp_path / "window.pt", good_checkpoint(window_px=64)),
            r"window_px 64 disagrees with its input size 32 px x downsampling 1",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated",
        "empty",
        "text",
        "not a dict",
        "other format",
        "no format",
        "missing entries",
        "missing weights",
        "mismatched weights",
        "unknown backbone",
        "unknown spec field",
        "missing file",
        "window disagrees",
    ],
)
def test_bad_model_file_is_one_line_naming_the_file(tmp_path, case):
    path, message = _bad_files(tmp_path)[case]
    with pytest.raises(ModelFileError, match=message) as err:
        model_from_checkpoint(path)
    _one_line_naming(str(err.value), path)


def test_bad_model_file_in_export_is_one_line(tmp_path, capsys):
    path, _ = _bad_files(tmp_path)["mismatched weights"]
    assert main(["export", str(path), "--out", str(tmp_path / "m.ts")]) == 2
    err = capsys.readouterr().err
    _one_line_naming(err, path)
    assert "Traceback" not in err


def test_written_files_hold_plain_values_only(tmp_path):
    """What volcdet writes loads with torch's own weights-only loader and no allow-list."""
    run_info = {
        "torch": torch.__version__,
        "path": tmp_path / "x",
        "loss": np.float32(0.25),
        "count": np.int64(3),
        "pair": (1, 2),
        "nested": [{"a": np.bool_(True)}],
    }
    path = tmp_path / "m.pt"
    checkpoint = build_checkpoint(
        VolcanoClassifier(SPEC),
        SPEC,
        InputTransform(pixel_size_m=200.0),
        run_info,
        np.int64(2),
        np.float32(0.5),
    )
    save_atomic(checkpoint, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded["run_info"] == {
        "torch": str(torch.__version__),
        "path": str(tmp_path / "x"),
        "loss": 0.25,
        "count": 3,
        "pair": (1, 2),
        "nested": [{"a": True}],
    }
    assert type(loaded["run_info"]["torch"]) is str and type(loaded["epoch"]) is int


def test_model_files_of_earlier_versions_still_load(tmp_path):
    """Files written before run info held plain strings keep torch's TorchVersion there."""
    checkpoint = good_checkpoint(run_info={"versions": {"torch": torch.__version__}})
    assert type(checkpoint["run_info"]["versions"]["torch"]) is not str
    torch.save(checkpoint, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["run_info"]["versions"]["torch"] == str(
        torch.__version__
    )


def test_a_saved_model_file_holds_no_run_specific_name(tmp_path):
    """Model ids hash the file's bytes: the same model under the same name is the same file in
    every run (torch names the folder inside the zip after the file it writes)."""
    checkpoint = good_checkpoint()
    save_atomic(checkpoint, tmp_path / "a" / "model.pt")
    save_atomic(checkpoint, tmp_path / "b" / "model.pt")
    assert (tmp_path / "a/model.pt").read_bytes() == (tmp_path / "b/model.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / "model.pt") as archive:
        assert {name.split("/")[0] for name in archive.namelist()} == {".model.pt"}


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "m.pt"
    save_atomic(good_checkpoint(), path)
    before = path.read_bytes()
    with pytest.raises(AttributeError, match="Can't pickle local object"):
        save_atomic({"state_dict": lambda: None}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_a_model_file_records_its_window_and_pixel_size(tmp_path):
    """Readers take the window side and pixel size from the file; they re-derive nothing."""
    transform = InputTransform(pixel_size_m=400.0, downsample=2)
    checkpoint = build_checkpoint(VolcanoClassifier(SPEC), SPEC, transform, {}, 1, 0.1)
    assert checkpoint["window_px"] == 64
    assert checkpoint["transform"]["pixel_size_m"] == 400.0
    _, _, loaded = model_from_checkpoint(_write(tmp_path / "m.pt", checkpoint))
    assert loaded["window_px"] == 64


def test_a_model_file_without_a_recorded_window_reads_as_before(tmp_path):
    """Files written before the window side was recorded get it from their spec and transform."""
    checkpoint = good_checkpoint()
    del checkpoint["window_px"]
    _, _, loaded = model_from_checkpoint(_write(tmp_path / "old.pt", checkpoint))
    assert loaded["window_px"] == SPEC.input_size_px
