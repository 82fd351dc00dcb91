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
from volcdet.evaluation.probes import (
    PROBE_COLUMNS,
    ProbeSpec,
    blob_holes,
    negative_probes,
    planar_ramp_mm,
    plateau_mask,
    probe_negatives,
    probe_table,
    run_probes,
    turbulence_mm,
)
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
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
    probes = negative_probes(ProbeSpec(size_px=32), None)
    skipped = [p for p in probes if p[2] is None]
    assert [p[0] for p in skipped] == ["stratified", "stratified"]
    assert all("no dem.tif" in p[3] for p in skipped)
    assert [p[0] for p in probes].count("offset") == 8


def test_negatives_are_the_same_for_every_call():
    spec = ProbeSpec(negatives=4, size_px=32, seed=5)
    np.testing.assert_array_equal(probe_negatives(spec), probe_negatives(spec))


def test_probe_table_of_a_model(tmp_path):
    size = 32
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=size, hidden_units=8, dropout=0.0)
    model_path = tmp_path / "m.pt"
    save_atomic(
        build_checkpoint(VolcanoClassifier(spec).eval(), spec, InputTransform(), {}, 1, 0.1),
        model_path,
    )
    patches, labels = tiny_deformation_patches(12, size, seed=1)
    write_store(
        tmp_path / "t.npy", tmp_path / "t.parquet", patches, pd.DataFrame({"label": labels})
    )
    dem = np.random.default_rng(0).normal(4000.0, 300.0, (48, 48))
    write_geotiff(tmp_path / "dem.tif", dem, small_grid(48, 48))
    probe_spec = ProbeSpec(negatives=6, positives=4, size_px=size, seed=2)
    table = run_probes(
        "m",
        model_path,
        (tmp_path / "t.npy", tmp_path / "t.parquet"),
        tmp_path / "dem.tif",
        probe_spec,
    )
    assert list(table.columns) == list(PROBE_COLUMNS)
    negatives = table[table["class"] == "negative"]
    assert set(negatives.probe) == {"offset", "ramp", "stratified", "holes", "plateau"}
    assert (negatives.n == 6).all() and (table[table["class"] == "positive"].n == 4).all()
    assert table.flagged_percent.between(0, 100).all()
    # The referenced input makes the offsets identical for any model, trained or not.
    offsets = negatives[negatives.probe == "offset"].flagged_percent
    assert offsets.nunique() == 1
    long = probe_table([table, table.assign(model="m2")], tmp_path / "p.csv", tmp_path / "p.md")
    assert len(long) == 2 * len(table)
    markdown = (tmp_path / "p.md").read_text()
    assert "| class (n) | probe | level | m | m2 | note |" in markdown
