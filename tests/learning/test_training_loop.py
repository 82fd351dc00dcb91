"""The pieces of the training loop, each alone: early stopping, one epoch of training,
validation, the resume state and the checkpoint saver."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from volcdet.learning.checkpoints import build_checkpoint, load_weights_only
from volcdet.learning.device import Precision
from volcdet.learning.early_stopping import EarlyStopping
from volcdet.learning.finetune import head_loss, set_trainable, train_head_one_epoch
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.training import (
    OPTIONAL_RESUME_KEYS,
    RESUME_KEYS,
    CheckpointSaver,
    ResumeState,
    load_resume_state,
    train_one_epoch,
    validate,
)
from volcdet.learning.transforms import InputTransform

SIZE = 16
SPEC = ModelSpec("test_resnet", input_size_px=SIZE, hidden_units=8, dropout=0.2)
TRANSFORM = InputTransform(channels=3, pixel_size_m=200.0)
CPU = Precision(torch.device("cpu"), "fp32")
DIGESTS = ("settings", "data")


def _model() -> VolcanoClassifier:
    torch.manual_seed(0)
    return VolcanoClassifier(SPEC)


def _loader(n: int = 24, seed: int = 1) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    patches = torch.randn(n, SIZE, SIZE, generator=generator) * 20.0
    labels = (torch.arange(n) % 2).float()
    return DataLoader(TensorDataset(patches, labels), batch_size=8)


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping_counts_epochs_without_improvement():
    stopping = EarlyStopping(patience=2)
    assert stopping.update(0.9)  # the first epoch always improves on infinity
    assert stopping.update(0.7) and stopping.bad_epochs == 0
    assert not stopping.update(0.7)  # equal is no improvement
    assert not stopping.should_stop
    assert not stopping.update(0.8)
    assert stopping.should_stop and stopping.best_loss == 0.7
    assert stopping.update(0.6) and not stopping.should_stop and stopping.bad_epochs == 0


def test_early_stopping_needs_an_improvement_larger_than_min_delta():
    stopping = EarlyStopping(patience=1, min_delta=0.01)
    assert stopping.update(1.0)
    assert not stopping.update(0.995) and stopping.best_loss == 1.0 and stopping.should_stop
    assert stopping.update(0.98) and stopping.best_loss == 0.98
    assert EarlyStopping(patience=3, best_loss=0.5, bad_epochs=3).should_stop
    assert not EarlyStopping(patience=3).update(math.nan)


def test_train_one_epoch_changes_the_weights_and_reports_the_epoch():
    model = _model()
    before = _state(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    torch.manual_seed(3)
    result = train_one_epoch(model, TRANSFORM, _loader(), optimizer, CPU, progress=io.StringIO())
    assert model.training
    assert result.samples == 24 and 0.0 <= result.accuracy <= 1.0 and result.loss > 0.0
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert "classifier.weight" in changed and "penultimate.weight" in changed
    assert any(k.startswith("backbone.") and k.endswith("running_mean") for k in changed)


def test_train_one_epoch_steps_through_the_loss_scaler():
    model = _model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    fp16 = Precision(torch.device("cpu"), "fp16")
    scaler = fp16.grad_scaler()
    before = _state(model)
    train_one_epoch(model, TRANSFORM, _loader(), optimizer, fp16, scaler, progress=io.StringIO())
    assert scaler.state_dict()["_growth_tracker"] == 3  # a scaled step per batch
    assert not _same(before, _state(model))


def test_validate_returns_the_loss_and_leaves_the_weights_alone():
    model = _model()
    model.train()
    before = _state(model)
    loader = _loader(n=20)
    result = validate(model, TRANSFORM, loader, CPU)
    assert not model.training
    assert _same(before, _state(model))  # weights and batch-norm statistics
    patches, labels = loader.dataset.tensors
    with torch.no_grad():
        logits = model(TRANSFORM(patches))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    assert result.samples == 20
    assert result.loss == pytest.approx(float(expected), rel=1e-6)
    assert result.accuracy == pytest.approx(float(((logits > 0).float() == labels).float().mean()))
    assert validate(model, TRANSFORM, loader, CPU) == result


def _trained_scaler_state() -> tuple[VolcanoClassifier, torch.optim.Optimizer, object]:
    model = _model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    fp16 = Precision(torch.device("cpu"), "fp16")
    scaler = fp16.grad_scaler()
    train_one_epoch(model, TRANSFORM, _loader(), optimizer, fp16, scaler, progress=io.StringIO())
    return model, optimizer, scaler


def test_resume_state_round_trip_keeps_weights_optimiser_scaler_and_counters(tmp_path):
    model, optimizer, scaler = _trained_scaler_state()
    history = [{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.4}]
    stopping = EarlyStopping(patience=5, best_loss=0.3, bad_epochs=1)
    state = ResumeState.capture(DIGESTS, model, optimizer, scaler, history, stopping, 2)
    saved = state.to_dict()
    assert tuple(saved) == RESUME_KEYS and "scaler" in RESUME_KEYS
    torch.save(saved, tmp_path / "last.pt")
    loaded = load_resume_state(tmp_path / "last.pt", *DIGESTS)
    assert loaded is not None
    assert (loaded.epoch, loaded.bad_epochs, loaded.best_val_loss) == (2, 1, 0.3)
    assert loaded.history == history and loaded.scaler == scaler.state_dict()

    fresh_model = VolcanoClassifier(SPEC)
    fresh_optimizer = torch.optim.AdamW(fresh_model.parameters(), lr=1e-2)
    fresh_scaler = Precision(torch.device("cpu"), "fp16").grad_scaler()
    loaded.restore(fresh_model, fresh_optimizer, fresh_scaler)
    assert _same(_state(model), _state(fresh_model))
    assert fresh_scaler.state_dict() == scaler.state_dict()
    moments = fresh_optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(moments, optimizer.state_dict()["state"][0]["exp_avg"])


def test_resume_file_without_a_scaler_entry_still_resumes(tmp_path):
    """Files written before the loss scaler's state was saved lack ``scaler``."""
    model, optimizer, scaler = _trained_scaler_state()
    state = ResumeState.capture(DIGESTS, model, optimizer, None, [], EarlyStopping(3), 1)
    old = state.to_dict()
    del old["scaler"]
    assert OPTIONAL_RESUME_KEYS == ("scaler",)
    torch.save(old, tmp_path / "last.pt")
    loaded = load_resume_state(tmp_path / "last.pt", *DIGESTS)
    assert loaded is not None and loaded.scaler is None and loaded.epoch == 1
    scale = scaler.get_scale()
    loaded.restore(VolcanoClassifier(SPEC), optimizer, scaler)  # the scaler keeps its state
    assert scaler.get_scale() == scale
    del old["bad_epochs"]
    torch.save(old, tmp_path / "last.pt")
    assert load_resume_state(tmp_path / "last.pt", *DIGESTS) is None


def test_checkpoint_saver_writes_the_model_file_only_on_improvement(tmp_path):
    model = _model()
    optimizer = torch.optim.AdamW(model.parameters())
    saver = CheckpointSaver(tmp_path)
    built = []

    def model_file(epoch: int) -> dict:
        built.append(epoch)
        return build_checkpoint(model, SPEC, TRANSFORM, {}, epoch, 0.5)

    def state(epoch: int) -> ResumeState:
        return ResumeState.capture(DIGESTS, model, optimizer, None, [], EarlyStopping(3), epoch)

    saver.save_epoch(state(1), False, lambda: model_file(1))
    assert not saver.best_path.exists() and built == []
    assert load_weights_only(saver.last_path)["epoch"] == 1
    saver.save_epoch(state(2), True, lambda: model_file(2))
    assert load_weights_only(saver.best_path)["epoch"] == 2
    saver.save_epoch(state(3), False, lambda: model_file(3))
    assert load_weights_only(saver.best_path)["epoch"] == 2 and built == [2]
    assert load_weights_only(saver.last_path)["epoch"] == 3
    saver.publish(tmp_path / "best.pt")
    assert load_weights_only(tmp_path / "best.pt")["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"]


def test_head_epoch_trains_only_the_named_layer_with_the_backbone_in_inference_mode():
    model = _model()
    features = torch.randn(20, model.backbone.num_features, generator=torch.Generator())
    labels = (torch.arange(20) % 2).float()
    optimizer = torch.optim.AdamW(set_trainable(model, ("classifier",)), lr=1e-2)
    before = _state(model)
    loss = head_loss(model, features, labels)
    assert _same(before, _state(model))
    order = torch.Generator().manual_seed(0)
    torch.manual_seed(1)
    train_head_one_epoch(model, (features, labels), optimizer, order, 8)
    assert model.training and not model.backbone.training
    after = _state(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"classifier.weight", "classifier.bias"}
    assert head_loss(model, features, labels) != loss
