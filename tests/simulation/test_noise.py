"""Training noise that looks like real data: each model on its own, and their composition."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.simulation.missing_data import draw_missing_mask, nan_mask_bank, square_symmetry
from volcdet.simulation.noise import (
    MissingDataSpec,
    NoiseSpec,
    RampSpec,
    RegionNoiseInputs,
    add_realistic_noise,
)
from volcdet.simulation.ramps import ramp_mm
from volcdet.simulation.source_library import source_order
from volcdet.simulation.speckle import speckle_mm
from volcdet.simulation.stratified import draw_stratified_delay, stratified_delay_mm


def test_linear_ramp_is_a_plane_within_the_drawn_span():
    for seed in range(20):
        ramp, info = ramp_mm((64, 48), np.random.default_rng(seed), 30.0, quadratic_share=0.0)
        assert info["kind"] == "linear" and 0 <= info["peak_to_peak_mm"] <= 30.0
        assert np.ptp(ramp) == pytest.approx(info["peak_to_peak_mm"], rel=1e-5, abs=1e-5)
        # A plane has zero second differences along both axes.
        assert np.abs(np.diff(ramp, 2, axis=0)).max() < 1e-4
        assert np.abs(np.diff(ramp, 2, axis=1)).max() < 1e-4
        assert abs(ramp.mean()) < 1e-3


def test_quadratic_ramp_is_curved():
    ramp, info = ramp_mm((64, 64), np.random.default_rng(3), 30.0, quadratic_share=1.0)
    assert info["kind"] == "quadratic"
    assert (
        np.abs(np.diff(ramp, 2, axis=0)).max() > 1e-4
        or np.abs(np.diff(ramp, 2, axis=1)).max() > 1e-4
    )


def test_stratified_delay_is_proportional_to_elevation():
    dem = np.array([[1000.0, 2000.0], [3000.0, 4000.0]])
    delay = stratified_delay_mm(dem, 5.0)  # 5 mm per km, reference the median 2500 m
    np.testing.assert_allclose(delay, [[-7.5, -2.5], [2.5, 7.5]], rtol=1e-6)


def test_stratified_draw_uses_a_dem_cutout_and_a_per_sample_coefficient():
    rng = np.random.default_rng(0)
    dem = np.add.outer(np.arange(100.0), np.arange(80.0)) * 10.0  # a tilted plane, 10 m / px
    coefficients = []
    for _ in range(200):
        delay, info = draw_stratified_delay(dem, 32, rng, 5.0)
        assert delay.shape == (32, 32)
        assert info["relief_m"] == pytest.approx(620.0)
        coefficients.append(info["coefficient_mm_per_km"])
    assert np.std(coefficients) == pytest.approx(5.0, rel=0.2)
    with pytest.raises(ValueError, match="smaller than a 128-px patch"):
        draw_stratified_delay(dem, 128, rng, 5.0)


def test_speckle_stays_inside_the_low_coherence_area():
    rng = np.random.default_rng(1)
    for _ in range(10):
        noise, info = speckle_mm((64, 64), 200.0, rng, 0.4, 8.0)
        inside = noise != 0
        assert inside.mean() == pytest.approx(info["area_fraction"], abs=1e-9)
        assert info["area_fraction"] <= 0.4 + 1 / 64**2
        if inside.sum() > 100:
            assert noise[inside].std() == pytest.approx(info["std_mm"], rel=0.25)


def test_missing_masks_are_unions_of_the_banks_own_masks():
    # One distinctive real mask: an L-shaped hole. Every drawn mask is a union of its 8 images.
    real = np.full((1, 16, 16), 1.0)
    real[0, 2:6, 3] = np.nan
    real[0, 5, 3:9] = np.nan
    bank = nan_mask_bank(real)
    images = [square_symmetry(bank[0], k) for k in range(8)]
    rng = np.random.default_rng(2)
    for _ in range(30):
        mask, fraction = draw_missing_mask(bank, rng, max_fraction=0.3)
        assert fraction == pytest.approx(mask.mean())
        covered = np.zeros_like(mask)
        for image in images:
            if (image <= mask).all():
                covered |= image
        np.testing.assert_array_equal(covered, mask)


def test_missing_share_follows_the_drawn_target():
    bank = np.zeros((3, 32, 32), bool)
    bank[:, 10:12, 10:14] = True  # 0.8% each
    rng = np.random.default_rng(3)
    fractions = [draw_missing_mask(bank, rng, max_fraction=0.0)[1] for _ in range(5)]
    assert fractions == [pytest.approx(8 / 1024)] * 5  # target 0: one real mask as it is


def test_noise_models_draw_from_their_own_streams():
    """Switching one model off leaves the other models' draws for the sample unchanged."""
    bank = np.zeros((2, 32, 32), bool)
    bank[0, :4, :8] = True
    bank[1, 20:30, 5:9] = True
    inputs = RegionNoiseInputs(
        mask_bank=bank, dem_m=np.random.default_rng(0).normal(3000, 500, (64, 64))
    )
    patch = np.zeros((32, 32), np.float32)
    on = NoiseSpec()
    no_ramp = NoiseSpec(ramp=RampSpec(probability=0.0))
    a, meta_a = add_realistic_noise(patch, np.random.default_rng([5, 1]), on, inputs, 200.0)
    b, meta_b = add_realistic_noise(patch, np.random.default_rng([5, 1]), no_ramp, inputs, 200.0)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    assert meta_a["noise_missing_fraction"] == meta_b["noise_missing_fraction"]
    assert np.isnan(meta_b["noise_ramp_mm"])
    off, meta_off = add_realistic_noise(
        patch, np.random.default_rng(0), NoiseSpec.off(), inputs, 200.0
    )
    np.testing.assert_array_equal(off, patch)
    assert meta_off["noise_missing_fraction"] == 0.0


def test_noise_config_mapping_and_defaults():
    spec = NoiseSpec.from_config(
        {"missing_data": {"max_fraction": 0.1}, "ramp": {"probability": 0.0}}
    )
    assert spec.missing_data == MissingDataSpec(probability=1.0, max_fraction=0.1)
    assert spec.ramp.probability == 0.0 and spec.stratified.probability > 0


@pytest.mark.parametrize(("n", "size"), [(10, 4), (8, 8), (3, 10), (25, 7)])
def test_each_source_is_used_once_before_any_twice(n, size):
    order = source_order(n, size, np.random.default_rng(0))
    assert len(order) == n
    counts = np.bincount(order, minlength=size)
    assert counts.max() - counts.min() <= 1 if n >= size else counts.max() == 1
    for start in range(0, n - size + 1, size):
        assert sorted(order[start : start + size]) == list(range(size))
