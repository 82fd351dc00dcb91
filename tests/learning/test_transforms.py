"""The one input transform: wrapping, NaN handling and invariance to a constant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from volcdet.core.constants import FRINGE_MM
from volcdet.core.errors import ModelFileError
from volcdet.learning.transforms import InputTransform, circular_mean_phase

RAW = InputTransform(channels=3, reference="none", pixel_size_m=200.0)
REFERENCED = InputTransform(channels=3, pixel_size_m=200.0)


def _fields(n=6, size=64, seed=0):
    """Smooth random displacement with a few fringes, some NaN holes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    fields = []
    for _ in range(n):
        a, b, c = rng.normal(0, 30, 3)
        field = a * x + b * y + c * np.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) / 0.02)
        field += rng.normal(0, 1.5, (size, size))
        field[rng.random((size, size)) < 0.03] = np.nan
        fields.append(field)
    return np.stack(fields).astype(np.float32)


def test_raw_transform_wraps_one_fringe_to_the_same_value():
    """27.73 mm of LOS (half the wavelength) is one full fringe: the wrapped value repeats."""
    d = torch.tensor([[[0.0, 5.0, 5.0 + 55.465763 / 2]]])
    out = RAW(d)
    assert out.shape == (1, 3, 1, 3)
    assert out[0, 0, 0, 1].item() == pytest.approx(out[0, 0, 0, 2].item(), abs=1e-5)
    assert out[0, 0, 0, 0].item() == 0.0
    nan_in = RAW(torch.tensor([[[float("nan")]]]))
    assert nan_in.flatten().tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("downsample", [1, 2])
def test_referenced_input_does_not_depend_on_a_constant(downsample):
    fields = _fields()
    transform = InputTransform(downsample=downsample, pixel_size_m=200.0)
    base = transform(fields)
    for constant in np.linspace(-40.0, 40.0, 17):
        shifted = transform(fields + np.float32(constant))
        # Equal except pixels within float rounding of +-pi, which may jump to the other end.
        different = (shifted - base).abs() > 1e-4
        assert different.float().mean() < 1e-3, constant
        near_edge = base.abs() > 1 - 1e-4
        assert not (different & ~near_edge).any(), constant


def test_raw_input_does_depend_on_a_constant():
    fields = _fields()
    assert (RAW(fields + FRINGE_MM / 4) - RAW(fields)).abs().max() > 0.4


def test_reference_is_the_circular_mean_and_nan_fills_it():
    phase = torch.tensor([[[0.1, 0.3], [float("nan"), 0.2]]])
    assert circular_mean_phase(phase).item() == pytest.approx(0.2, abs=1e-6)
    out = REFERENCED(torch.full((1, 4, 4), 7.0))  # a constant patch is all reference level
    assert out.abs().max().item() < 1e-5
    holes = torch.full((1, 4, 4), 7.0)
    holes[0, 0, 0] = float("nan")
    assert REFERENCED(holes)[0, 0, 0, 0].item() == 0.0
    assert circular_mean_phase(torch.full((1, 2, 2), float("nan"))).item() == 0.0


def test_model_files_without_reference_keep_the_raw_transform(tmp_path):
    """Model files written before the input reference existed were trained on the plain wrap:
    they keep it."""
    from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
    from volcdet.learning.model import ModelSpec, VolcanoClassifier

    spec = ModelSpec("test_resnet", input_size_px=16, hidden_units=4, dropout=0.0)
    checkpoint = build_checkpoint(VolcanoClassifier(spec), spec, REFERENCED, {}, 1, 0.1)
    save_atomic(checkpoint, tmp_path / "new.pt")
    assert model_from_checkpoint(tmp_path / "new.pt")[1] == REFERENCED
    del checkpoint["transform"]["reference"]
    save_atomic(checkpoint, tmp_path / "old.pt")
    assert model_from_checkpoint(tmp_path / "old.pt")[1] == InputTransform(
        reference="none", pixel_size_m=200.0
    )
    checkpoint["transform"]["reference"] = "median"
    save_atomic(checkpoint, tmp_path / "bad.pt")
    with pytest.raises(
        ModelFileError, match=r"bad\.pt: entry transform is invalid \(ValueError: input reference"
    ):
        model_from_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="input reference 'median' is not one of"):
        InputTransform(reference="median", pixel_size_m=200.0)


def test_pixel_size_is_required_and_older_model_files_read_as_200_m(tmp_path):
    """The pixel size has no default; files written before it was recorded were trained at
    200 m and keep it."""
    from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
    from volcdet.learning.model import ModelSpec, VolcanoClassifier

    with pytest.raises(TypeError, match="pixel_size_m"):
        InputTransform(channels=3)
    coarse = InputTransform(channels=3, pixel_size_m=400.0)
    spec = ModelSpec("test_resnet", input_size_px=16, hidden_units=4, dropout=0.0)
    checkpoint = build_checkpoint(VolcanoClassifier(spec), spec, coarse, {}, 1, 0.1)
    save_atomic(checkpoint, tmp_path / "new.pt")
    assert model_from_checkpoint(tmp_path / "new.pt")[1].pixel_size_m == 400.0
    del checkpoint["transform"]["pixel_size_m"]
    save_atomic(checkpoint, tmp_path / "old.pt")
    assert model_from_checkpoint(tmp_path / "old.pt")[1] == InputTransform(
        channels=3, pixel_size_m=200.0
    )


#: Largest change of a trained model's probability under an added constant: the referenced input
#: is exactly invariant but for float rounding (~1e-6 rad) of pixels at +-pi.
PROBABILITY_TOLERANCE = 1e-4


def test_trained_model_probabilities_do_not_depend_on_a_constant(trained_model_file):
    from conftest import tiny_deformation_patches

    from volcdet.learning.checkpoints import model_from_checkpoint

    model, transform, _ = model_from_checkpoint(trained_model_file)
    assert transform.reference == "circular_mean"
    patches, labels = tiny_deformation_patches(64, 64, seed=99)
    with torch.no_grad():
        base = torch.sigmoid(model(transform(patches))).numpy()
        # It is a trained model: it separates the held-out patches.
        assert ((base >= 0.5) == (labels == 1)).mean() >= 0.8
        for constant in [0.7, 3.0, FRINGE_MM / 2, 11.1, FRINGE_MM, -250.0, 1234.5]:
            shifted = torch.sigmoid(model(transform(patches + np.float32(constant)))).numpy()
            np.testing.assert_allclose(shifted, base, atol=PROBABILITY_TOLERANCE, rtol=0)


@pytest.mark.parametrize("downsample", [1, 2])
def test_validity_channel_tells_no_data_from_zero_phase(downsample):
    d = np.zeros((1, 8, 8), np.float32)
    d[0, :, :4] = np.nan
    plain = InputTransform(channels=3, downsample=downsample, pixel_size_m=200.0)(d)
    with_mask = InputTransform(
        channels=3, downsample=downsample, validity_channel=True, pixel_size_m=200.0
    )(d)
    # Without the mask no data and zero phase look alike; with it the last channel differs.
    assert torch.equal(plain[0, 0], plain[0, 2])
    assert torch.equal(with_mask[:, :2], plain[:, :2])
    cols = 8 // downsample
    expected = torch.zeros(cols, cols)
    expected[:, cols // 2 :] = 1.0
    assert torch.equal(with_mask[0, 2], expected)
    with pytest.raises(ValueError, match="at least 2 input channels"):
        InputTransform(channels=1, validity_channel=True, pixel_size_m=200.0)
