"""Precision per device and deterministic CPU training."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from conftest import tiny_deformation_patches

from volcdet.data.stores import write_store
from volcdet.learning.checkpoints import load_checkpoint
from volcdet.learning.device import Precision, choose_precision, optimizer_step
from volcdet.learning.model import ModelSpec
from volcdet.learning.training import TrainConfig, fit, random_offsets_mm
from volcdet.learning.transforms import InputTransform

SPEC = ModelSpec(backbone="test_resnet", input_size_px=32, hidden_units=8, dropout=0.1)
CFG = TrainConfig(max_epochs=2, batch_size=16, learning_rate=3e-3, seed=1, device="cpu")
CPU = torch.device("cpu")


@pytest.fixture
def stores(tmp_path):
    patches, labels = tiny_deformation_patches(64, 32, seed=4)
    write_store(
        tmp_path / "s.npy", tmp_path / "s.parquet", patches, pd.DataFrame({"label": labels})
    )
    return [(tmp_path / "s.npy", tmp_path / "s.parquet")]


def test_cpu_is_fp32_unless_bf16_is_asked_for():
    assert choose_precision(CPU).mode == "fp32"
    assert not choose_precision(CPU).enabled
    bf16 = choose_precision(CPU, "bf16")
    assert bf16.mode == "bf16" and bf16.memory_format == torch.channels_last
    assert bf16.grad_scaler() is None
    with pytest.raises(ValueError, match=r"training\.cpu_precision 'fp16' is not one of"):
        choose_precision(CPU, "fp16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_uses_bf16_where_supported_else_fp16_with_a_scaler():
    precision = choose_precision(torch.device("cuda"))
    if torch.cuda.is_bf16_supported():
        assert precision.mode == "bf16" and precision.grad_scaler() is None
    else:
        assert precision.mode == "fp16" and precision.grad_scaler() is not None


def test_fp16_gradscaler_step_on_cpu():
    """The fp16 + GradScaler path (what CUDA without bf16 runs) works on the CPU too."""
    precision = Precision(CPU, "fp16")
    scaler = precision.grad_scaler()
    assert isinstance(scaler, torch.amp.GradScaler)
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    x, y = torch.randn(64, 8), (torch.randn(64) > 0).float()
    losses = []
    for _ in range(20):
        with precision.autocast():
            logits = layer(x).squeeze(-1)
        assert logits.dtype == torch.float16
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), y)
        optimizer_step(loss, optimizer, scaler)
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    assert scaler.get_scale() > 0


@pytest.mark.parametrize("mode", ["fp16", "bf16"])
def test_reduced_precision_training_runs_on_cpu(stores, tmp_path, mode):
    history = fit(
        stores,
        SPEC,
        InputTransform(pixel_size_m=200.0),
        CFG,
        tmp_path / mode,
        precision=Precision(CPU, mode),
    )
    assert len(history) == 2 and all(torch.isfinite(torch.tensor(r["train_loss"])) for r in history)
    info = (tmp_path / mode / "run_info.json").read_text()
    assert f'"precision": "{mode}"' in info


def test_two_trainings_of_the_same_config_give_identical_weights(stores, tmp_path):
    cfg = TrainConfig(**{**CFG.__dict__, "random_offset": True})
    fit(stores, SPEC, InputTransform(pixel_size_m=200.0), cfg, tmp_path / "a")
    fit(stores, SPEC, InputTransform(pixel_size_m=200.0), cfg, tmp_path / "b")
    a = load_checkpoint(tmp_path / "a/best.pt")
    b = load_checkpoint(tmp_path / "b/best.pt")
    assert a["run_info"]["deterministic"] is True and a["run_info"]["precision"] == "fp32"
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    assert not torch.are_deterministic_algorithms_enabled()  # restored after training


def test_random_offsets_cover_one_fringe_and_change_each_epoch():
    import numpy as np

    indices = np.arange(2000)
    first, second = random_offsets_mm(3, 1, indices), random_offsets_mm(3, 2, indices)
    assert first.min() >= 0 and first.max() < 55.465763 / 2
    assert abs(first.mean() - 55.465763 / 4) < 0.5
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(first[[5, 7]], random_offsets_mm(3, 1, np.array([5, 7])))
