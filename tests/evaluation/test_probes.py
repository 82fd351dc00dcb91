"""Shortcut probes: their own noise and perturbations, and the per-model table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import small_grid, tiny_deformation_patches

from volcdet.core.constants import FRINGE_MM
from volcdet.data.rasters import write_geotiff
from volcdet.data.stores import write_store
from volcdet.evaluation.probe_inputs import (
    blob_holes,
    centred_clip,
    coast,
    planar_ramp_mm,
    plateau_mask,
    turbulence_mm,
)
from volcdet.evaluation.probes import (
    NEGATIVE_BAR_PERCENT,
    PROBE_COLUMNS,
    ProbeSpec,
    _load_groups,
    negative_probes,
    probe_negatives,
    probe_table,
    run_probes,
)
from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
from volcdet.learning.finetune import head_probabilities
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform


@pytest.mark.parametrize(("statistic", "level"), [("peak", 6.0), ("std", 1.5)])
def test_turbulence_is_scaled_to_the_level(statistic, level):
    field = turbulence_mm(64, 200.0, np.random.default_rng(0), level, statistic)
    measured = np.abs(field).max() if statistic == "peak" else field.std()
    assert measured == pytest.approx(level, rel=1e-4)
    assert abs(field.mean()) < 1e-4


def test_turbulence_is_smooth_and_red():
    field = turbulence_mm(128, 200.0, np.random.default_rng(1), 1.0, "std")
    lag1 = np.corrcoef(field[:, :-1].ravel(), field[:, 1:].ravel())[0, 1]
    lag20 = np.corrcoef(field[:, :-20].ravel(), field[:, 20:].ravel())[0, 1]
    assert lag1 > 0.9 and lag1 > lag20


def test_ramp_spans_its_peak_to_peak_in_any_direction():
    for seed in range(5):
        ramp = planar_ramp_mm(64, np.random.default_rng(seed), FRINGE_MM)
        assert np.ptp(ramp) == pytest.approx(FRINGE_MM, rel=1e-5)


def test_holes_reach_the_fraction_in_blobs():
    mask = blob_holes(128, np.random.default_rng(2), 0.2)
    assert 0.2 <= mask.mean() < 0.3
    # Blobs, not salt and pepper: most missing pixels have missing neighbours.
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    assert inner.sum() > 0.7 * mask.sum()


def test_plateau_is_one_sharp_edged_region():
    from scipy.ndimage import label

    mask = plateau_mask(128, np.random.default_rng(3))
    assert 0.02 < mask.mean() < 0.4
    assert label(mask)[1] == 1


def test_stratified_probe_is_skipped_without_a_dem():
    probes = negative_probes(ProbeSpec(size_px=32, pixel_size_m=200.0), None)
    skipped = [p for p in probes if p[2] is None]
    assert [p[0] for p in skipped] == ["stratified", "stratified"]
    assert all("no dem.tif" in p[3] for p in skipped)
    assert [p[0] for p in probes].count("offset") == 8


def test_negatives_are_the_same_for_every_call():
    spec = ProbeSpec(negatives=4, size_px=32, pixel_size_m=200.0, seed=5)
    np.testing.assert_array_equal(probe_negatives(spec), probe_negatives(spec))


def _model(path, size, seed):
    torch.manual_seed(seed)
    spec = ModelSpec("test_resnet", input_size_px=size, hidden_units=8, dropout=0.0)
    save_atomic(
        build_checkpoint(
            VolcanoClassifier(spec).eval(), spec, InputTransform(pixel_size_m=200.0), {}, 1, 0.1
        ),
        path,
    )
    return path


def test_probe_table_of_every_model(tmp_path):
    size = 32
    models = {"m": _model(tmp_path / "m.pt", size, 0), "m2": _model(tmp_path / "m2.pt", size, 1)}
    patches, labels = tiny_deformation_patches(12, size, seed=1)
    write_store(
        tmp_path / "t.npy", tmp_path / "t.parquet", patches, pd.DataFrame({"label": labels})
    )
    dem = np.random.default_rng(0).normal(4000.0, 300.0, (48, 48))
    write_geotiff(tmp_path / "dem.tif", dem, small_grid(48, 48))
    probe_spec = ProbeSpec(negatives=6, positives=4, size_px=size, pixel_size_m=200.0, seed=2)
    table = run_probes(
        models, (tmp_path / "t.npy", tmp_path / "t.parquet"), tmp_path / "dem.tif", probe_spec
    )
    assert list(table.columns) == list(PROBE_COLUMNS)
    assert list(dict.fromkeys(table.model)) == ["m", "m2"]
    negatives = table[table["class"] == "negative"]
    assert set(negatives.probe) == {
        "offset",
        "ramp",
        "stratified",
        "holes",
        "plateau",
        "clip",
        "coast",
        "island",
    }
    positives = table[table["class"] == "positive"]
    assert set(positives.probe) == {"offset", "holes", "clip", "coast", "island"}
    assert (negatives.n == 6).all() and (positives.n == 4).all()
    assert table.flagged_percent.between(0, 100).all()
    # The referenced input makes the offsets identical for any model, trained or not.
    offsets = negatives[negatives.probe == "offset"].groupby("model").flagged_percent.nunique()
    assert (offsets == 1).all()
    # A negative row over the bar is marked, per model and in the table's note.
    failing = negatives[negatives.flagged_percent > NEGATIVE_BAR_PERCENT]
    assert failing.note.str.startswith("fails").all()
    assert not negatives[negatives.flagged_percent <= 5.0].note.str.startswith("fails").any()
    long = probe_table(table, tmp_path / "p.csv", tmp_path / "p.md")
    assert len(long) == len(table)
    markdown = (tmp_path / "p.md").read_text()
    assert "| class (n) | probe | level | m | m2 | note |" in markdown
    if len(failing):
        assert "fails (over 5% flagged)" in markdown


def test_models_of_one_backbone_share_one_pass_of_features(tmp_path):
    """Heads fine-tuned on one backbone score like full forward passes of each model."""
    size = 32
    base = _model(tmp_path / "base.pt", size, 0)
    model, transform, _ = model_from_checkpoint(base)
    torch.manual_seed(9)
    model.classifier.reset_parameters()
    save_atomic(build_checkpoint(model, model.spec, transform, {}, 1, 0.1), tmp_path / "tuned.pt")
    groups = _load_groups({"base": base, "tuned": tmp_path / "tuned.pt"})
    assert len(groups) == 1
    patches = probe_negatives(ProbeSpec(negatives=5, size_px=size, pixel_size_m=200.0, seed=1))
    scorer, heads = groups[0]
    features = scorer.features(patches)
    for name, path in (("base", base), ("tuned", tmp_path / "tuned.pt")):
        full, full_transform, _ = model_from_checkpoint(path)
        with torch.no_grad():
            expected = torch.sigmoid(full.eval()(full_transform(patches))).numpy()
        np.testing.assert_allclose(
            head_probabilities(heads[name][0], features), expected, atol=1e-6
        )


def test_clip_and_coast_probes_keep_the_centre():
    clip = centred_clip(64, 400.0, 16.0)
    assert not clip[32, 32] and clip.mean() == pytest.approx(1 - (40 / 64) ** 2, abs=0.01)
    for seed in range(10):
        for fraction in (0.5, 0.8):
            sea = coast(64, np.random.default_rng(seed), fraction)
            assert not sea[32, 32] and fraction - 0.1 < sea.mean() <= fraction + 0.01
