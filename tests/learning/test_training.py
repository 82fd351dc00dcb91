"""Training from scratch: learns a tiny task, resumes exactly, round-trips checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from volcdet.core.errors import ModelFileError
from volcdet.data.stores import write_store
from volcdet.learning.checkpoints import load_checkpoint, model_from_checkpoint
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.training import TrainConfig, fit
from volcdet.learning.transforms import InputTransform

SIZE = 64
SPEC = ModelSpec(backbone="test_resnet", input_size_px=SIZE, hidden_units=16, dropout=0.1)
TRANSFORM = InputTransform(channels=3, pixel_size_m=200.0)


def _tiny_store(tmp_path, n=160, seed=0):
    """Half the patches hold a 4-fringe Gaussian uplift, half only smooth noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    patches = rng.normal(0, 2.0, (n, SIZE, SIZE)).astype(np.float32)
    labels = np.arange(n) % 2
    for i in np.nonzero(labels)[0]:
        cy, cx = rng.uniform(20, 44, 2)
        patches[i] += 110.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 8.0**2))
    write_store(
        tmp_path / "s.npy", tmp_path / "s.parquet", patches, pd.DataFrame({"label": labels})
    )
    return [(tmp_path / "s.npy", tmp_path / "s.parquet")]


CFG = TrainConfig(
    max_epochs=4,
    batch_size=16,
    learning_rate=3e-3,
    early_stopping_patience=10,
    seed=3,
    device="cpu",
)


def test_trains_clearly_better_than_chance(tmp_path):
    history = fit(_tiny_store(tmp_path), SPEC, TRANSFORM, CFG, tmp_path / "run")
    assert history[-1]["val_accuracy"] >= 0.8
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    for name in ("best.pt", "history.csv", "run_info.json", "training_curve.png"):
        assert (tmp_path / "run" / name).is_file()
    assert not (tmp_path / "run/last.pt").exists()
    assert not list((tmp_path / "run").glob(".*")), "a temporary file was left"
    assert len(pd.read_csv(tmp_path / "run/history.csv")) == len(history)


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path):
    stores = _tiny_store(tmp_path)
    full = fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "full")
    partial = fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "resumed", stop_after_epochs=2)
    assert len(partial) == 2 and (tmp_path / "resumed/last.pt").is_file()
    resumed = fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "resumed")
    assert [r["epoch"] for r in resumed] == [1, 2, 3, 4]
    for a, b in zip(full, resumed, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-6)
    state_full = load_checkpoint(tmp_path / "full/best.pt")["state_dict"]
    state_resumed = load_checkpoint(tmp_path / "resumed/best.pt")["state_dict"]
    for key, value in state_full.items():
        torch.testing.assert_close(state_resumed[key], value, rtol=1e-5, atol=1e-6)


def test_resume_after_the_data_changed_starts_fresh(tmp_path, caplog):
    """A kill after epoch 1, new simulated sets of the same shape: the rerun must not resume."""
    stores = _tiny_store(tmp_path)
    fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "run", stop_after_epochs=1)
    assert (tmp_path / "run/last.pt").is_file()
    stores = _tiny_store(tmp_path, seed=1)  # same paths, shapes and settings, other samples
    with caplog.at_level("WARNING", logger="volcdet.learning.training"):
        rerun = fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "run")
    assert "training from scratch: written for other training data" in caplog.text
    fresh = fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "fresh")
    assert [r["epoch"] for r in rerun] == [1, 2, 3, 4]
    for a, b in zip(fresh, rerun, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-6)
    state_fresh = load_checkpoint(tmp_path / "fresh/best.pt")["state_dict"]
    state_rerun = load_checkpoint(tmp_path / "run/best.pt")["state_dict"]
    for key, value in state_fresh.items():
        torch.testing.assert_close(state_rerun[key], value, rtol=1e-5, atol=1e-6)


def test_resume_with_other_settings_starts_fresh(tmp_path, caplog):
    stores = _tiny_store(tmp_path)
    fit(stores, SPEC, TRANSFORM, CFG, tmp_path / "run", stop_after_epochs=1)
    other = TrainConfig(**{**CFG.__dict__, "max_epochs": 2, "learning_rate": 1e-3})
    with caplog.at_level("WARNING", logger="volcdet.learning.training"):
        history = fit(stores, SPEC, TRANSFORM, other, tmp_path / "run")
    assert "training from scratch: written with other settings" in caplog.text
    assert [r["epoch"] for r in history] == [1, 2]


def test_store_digest_sees_a_changed_sample_and_a_changed_table(tmp_path):
    from volcdet.data.stores import store_digest

    ((array_path, table_path),) = _tiny_store(tmp_path)
    before = store_digest(array_path, table_path)
    array = np.load(array_path, mmap_mode="r+")
    array[0] += 1
    array.flush()
    del array
    changed_sample = store_digest(array_path, table_path)
    pd.DataFrame({"label": np.arange(160) % 2 == 0}).to_parquet(table_path)
    assert len({before, changed_sample, store_digest(array_path, table_path)}) == 3


def test_checkpoint_round_trip_gives_same_predictions(tmp_path):
    fit(
        _tiny_store(tmp_path),
        SPEC,
        TRANSFORM,
        TrainConfig(**{**CFG.__dict__, "max_epochs": 1}),
        tmp_path / "run",
    )
    model, transform, checkpoint = model_from_checkpoint(tmp_path / "run/best.pt")
    assert transform == TRANSFORM and checkpoint["model_spec"]["backbone"] == "test_resnet"
    fresh = VolcanoClassifier(SPEC)
    fresh.load_state_dict(checkpoint["state_dict"])
    fresh.eval()
    x = transform(torch.randn(4, SIZE, SIZE) * 40)
    with torch.no_grad():
        torch.testing.assert_close(model(x), fresh(x))


def test_wrong_input_shape_is_a_clear_error():
    model = VolcanoClassifier(SPEC)
    with pytest.raises(
        ValueError, match=r"expects input \(batch, 3, 64, 64\), got \(2, 3, 32, 32\)"
    ):
        model(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"expected displacement of shape \(B, H, W\)"):
        TRANSFORM(torch.zeros(1, 1, 8, 8))


def test_not_a_model_file(tmp_path):
    torch.save({"weights": 1}, tmp_path / "x.pt")
    with pytest.raises(ModelFileError, match=r"x\.pt: not a volcdet-model/1 model file"):
        load_checkpoint(tmp_path / "x.pt")
