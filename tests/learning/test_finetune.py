"""Fine-tuning sets FT1-FT4 and the four approaches on cached features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from affine import Affine
from rasterio.crs import CRS

from volcdet.core.phase import wrap_phase
from volcdet.data.background import SIMULATED_GROUP
from volcdet.data.rasters import georef_columns
from volcdet.data.stores import write_store
from volcdet.learning.checkpoints import build_checkpoint, model_from_checkpoint, save_atomic
from volcdet.learning.features import cache_features
from volcdet.learning.finetune import (
    APPROACHES,
    FinetuneConfig,
    finetune,
    head_probabilities,
    holdout_split,
)
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform
from volcdet.simulation.coverage import CoverageSpec
from volcdet.simulation.finetune_sets import build_ft_set, median_filtered
from volcdet.simulation.source_library import SourceLibrary, build_source_library

SIZE = 32
LOS = {"A1": np.array([-0.6, -0.13, 0.79]), "D1": np.array([0.6, -0.13, 0.79])}


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ft")
    rng = np.random.default_rng(0)
    n_bg = 10
    background = (
        rng.normal(0, 3, (n_bg, SIZE, SIZE)).astype(np.float32),
        pd.DataFrame(
            {
                "patch_id": [f"bg{i}" for i in range(n_bg)],
                "track_id": ["A1", "D1"] * (n_bg // 2),
                # Pairs of tracks over the same ground: five ground cells of two tiles each.
                **{
                    k: [v] * n_bg
                    for k, v in georef_columns(CRS.from_epsg(32719), Affine.identity()).items()
                    if k != "transform_c"
                },
                "transform_c": [500_000.0 + (i // 2) * SIZE * 1.0 for i in range(n_bg)],
            }
        ).assign(transform_a=1.0, transform_e=-1.0, transform_f=7_500_000.0),
    )
    simulation = []
    for pass_direction in ("ascending", "descending"):
        labels = np.arange(20) % 2
        table = pd.DataFrame(
            {
                "pass": pass_direction,
                "label": labels,
                "amplitude_mm": labels * 20.0,
                "track_id": "A1" if pass_direction == "ascending" else "D1",
            }
        )
        simulation.append((rng.normal(0, 2, (20, SIZE, SIZE)).astype(np.float32), table))
    build_source_library(
        4, 0, 1, SIZE, 1600.0, 0.25, (2000.0, 8000.0), tmp / "lib.npy", tmp / "lib.parquet"
    )
    return background, simulation, SourceLibrary([tmp / "lib.npy"])


@pytest.mark.parametrize(("name", "factor"), [("FT1", 1), ("FT2", 2), ("FT3", 2), ("FT4", 4)])
def test_set_sizes_and_class_balance(parts, name, factor):
    background, simulation, library = parts
    patches, table = build_ft_set(
        name,
        background,
        simulation,
        LOS,
        library,
        seed=3,
        max_amplitude_mm=100.0,
        pixel_size_m=200.0,
    )
    assert len(patches) == len(table) == factor * 10
    assert table.label.sum() == factor * 5
    volcanic = table[(table.label == 1) & (table.origin == "background")]
    assert (volcanic.amplitude_mm > 15.0).all()  # FT1: "deformations larger than 1.5 cm"
    if name in ("FT3", "FT4"):
        simulated = table[table.origin == "simulated"]
        assert len(simulated) == (10 if name == "FT3" else 20)
    if name == "FT3":
        assert (table[table.origin == "background"].label == 0).all()


def test_sets_are_deterministic(parts):
    a = build_ft_set(
        "FT4", *parts[:2], LOS, parts[2], seed=3, max_amplitude_mm=100.0, pixel_size_m=200.0
    )
    b = build_ft_set(
        "FT4", *parts[:2], LOS, parts[2], seed=3, max_amplitude_mm=100.0, pixel_size_m=200.0
    )
    np.testing.assert_array_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def test_ft2_filters_the_unwrapped_displacement_before_wrapping(parts):
    """The filtered half equals median20(FT1), and wrapping comes after (at load time)."""
    background, simulation, library = parts
    ft1, _ = build_ft_set(
        "FT1",
        background,
        simulation,
        LOS,
        library,
        seed=3,
        max_amplitude_mm=100.0,
        pixel_size_m=200.0,
    )
    ft2, meta = build_ft_set(
        "FT2",
        background,
        simulation,
        LOS,
        library,
        seed=3,
        max_amplitude_mm=100.0,
        pixel_size_m=200.0,
    )
    np.testing.assert_array_equal(ft2[:10], ft1)
    np.testing.assert_allclose(ft2[10:], np.stack([median_filtered(p) for p in ft1]))
    assert (meta.origin[10:].str.endswith("+median20")).all()
    # Filtering then wrapping differs from wrapping then filtering on a patch with fringes.
    ramp = np.tile(np.linspace(0, 120, SIZE, dtype=np.float32), (SIZE, 1))
    filter_then_wrap = wrap_phase(median_filtered(ramp) * 4 * np.pi / 55.465763)
    wrap_then_filter = median_filtered(wrap_phase(ramp * 4 * np.pi / 55.465763))
    assert not np.allclose(filter_then_wrap, wrap_then_filter, atol=0.1)


def test_median_filter_keeps_missing_values_missing():
    patch = np.random.default_rng(1).normal(size=(40, 40)).astype(np.float32)
    patch[5:9, 5:9] = np.nan
    out = median_filtered(patch)
    assert np.isnan(out[5:9, 5:9]).all() and np.isfinite(out[~np.isnan(patch)]).all()


@pytest.fixture(scope="module")
def base_and_features(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    spec = ModelSpec("test_resnet", input_size_px=SIZE, hidden_units=32, dropout=0.2)
    model = VolcanoClassifier(spec).eval()
    transform = InputTransform(pixel_size_m=200.0)
    save_atomic(build_checkpoint(model, spec, transform, {}, 1, 0.5), tmp / "base.pt")
    rng = np.random.default_rng(2)
    labels = np.arange(40) % 2
    patches = rng.normal(0, 3, (40, SIZE, SIZE)).astype(np.float32) + labels[:, None, None] * 9.0
    write_store(tmp / "ft.npy", tmp / "ft.parquet", patches, pd.DataFrame({"label": labels}))
    cache_features(
        tmp / "base.pt",
        [(tmp / "ft.npy", tmp / "ft.parquet")],
        tmp / "f.npy",
        tmp / "f.parquet",
        device="cpu",
    )
    return tmp


@pytest.mark.parametrize("approach", list(APPROACHES))
def test_frozen_layers_stay_bit_identical(base_and_features, approach):
    tmp = base_and_features
    cfg = FinetuneConfig(learning_rate=1e-2, max_epochs=5, early_stopping_patience=50, seed=1)
    history = finetune(
        tmp / "base.pt",
        tmp / "f.npy",
        tmp / "f.parquet",
        approach,
        cfg,
        tmp / f"{approach}.pt",
        tmp / f"{approach}.csv",
    )
    base, _, _ = model_from_checkpoint(tmp / "base.pt")
    tuned, _, checkpoint = model_from_checkpoint(tmp / f"{approach}.pt")
    trained = {layer for phase in APPROACHES[approach][1] for layer in phase}
    for name, value in base.state_dict().items():
        layer = name.split(".")[0]
        if layer in trained:
            continue
        assert torch.equal(value, tuned.state_dict()[name]), name
    for layer in trained:
        before = torch.cat([p.flatten() for p in getattr(base, layer).parameters()])
        after = torch.cat([p.flatten() for p in getattr(tuned, layer).parameters()])
        assert not torch.equal(before, after), layer
    phases = sorted({row["phase"] for row in history})
    assert phases == list(range(1, len(APPROACHES[approach][1]) + 1))
    assert checkpoint["run_info"]["finetune"]["paper_name"] == APPROACHES[approach][0]


def test_step_finetuning_runs_three_phases_in_order(base_and_features):
    tmp = base_and_features
    cfg = FinetuneConfig(learning_rate=1e-2, max_epochs=3, early_stopping_patience=50, seed=1)
    history = pd.DataFrame(
        finetune(
            tmp / "base.pt",
            tmp / "f.npy",
            tmp / "f.parquet",
            "m1last1",
            cfg,
            tmp / "step.pt",
            tmp / "step.csv",
        )
    )
    assert history.groupby("phase").layers.first().tolist() == [
        "classifier",
        "penultimate",
        "classifier",
    ]


def test_cached_features_predict_like_the_full_network(base_and_features):
    tmp = base_and_features
    finetune(
        tmp / "base.pt",
        tmp / "f.npy",
        tmp / "f.parquet",
        "last2",
        FinetuneConfig(max_epochs=3, seed=1),
        tmp / "l2.pt",
        tmp / "l2.csv",
    )
    model, transform, _ = model_from_checkpoint(tmp / "l2.pt")
    from_features = head_probabilities(model, np.load(tmp / "f.npy"))
    patches = torch.from_numpy(np.load(tmp / "ft.npy").astype(np.float32))
    with torch.no_grad():
        full = torch.sigmoid(model(transform(patches))).numpy()
    np.testing.assert_allclose(from_features, full, rtol=1e-5, atol=1e-6)


def test_unknown_approach(base_and_features):
    tmp = base_and_features
    with pytest.raises(ValueError, match="unknown fine-tuning approach 'first'"):
        finetune(
            tmp / "base.pt",
            tmp / "f.npy",
            tmp / "f.parquet",
            "first",
            FinetuneConfig(),
            tmp / "x.pt",
            tmp / "x.csv",
        )


def test_hold_out_keeps_a_tile_and_its_copies_on_one_side_in_every_set(parts):
    """Grouped by ground cell: FT2's median-filtered copy of a tile sits on the same side as
    the tile, and every set holds out the same tiles (the calibration negatives)."""
    background, simulation, library = parts
    held_tiles = []
    for name in ("FT1", "FT2", "FT3", "FT4"):
        _, table = build_ft_set(
            name,
            background,
            simulation,
            LOS,
            library,
            seed=3,
            max_amplitude_mm=100.0,
            pixel_size_m=200.0,
        )
        assert set(table.group[table.origin.str.startswith("background")]) == {
            f"{k}" for k in set(table.group) if k != SIMULATED_GROUP
        }
        train, held = holdout_split(table, 0.2, 7)
        assert len(set(train) | set(held)) == len(table) and not set(train) & set(held)
        tile = table.source.str.split("+").str[0]
        background_rows = ~(table.group == SIMULATED_GROUP).to_numpy()
        held_mask = np.isin(np.arange(len(table)), held)
        for _, sides in pd.Series(held_mask[background_rows]).groupby(
            tile[background_rows].to_numpy()
        ):
            assert sides.nunique() == 1
        held_tiles.append(set(tile[held_mask & background_rows]))
        simulated = ~background_rows
        if simulated.any():
            assert 0 < held_mask[simulated].sum() < simulated.sum()
    assert all(tiles == held_tiles[0] for tiles in held_tiles) and held_tiles[0]


def test_coverage_masks_reach_the_background_samples(parts):
    background, simulation, library = parts
    coverage = CoverageSpec(probability=1.0)
    patches, table = build_ft_set(
        "FT1", background, simulation, LOS, library, 3, 100.0, coverage, pixel_size_m=1600.0
    )
    assert set(table.coverage) <= {"clip", "coast", "edge"}
    assert np.isnan(patches).mean() > 0.2
    plain, _ = build_ft_set(
        "FT1", background, simulation, LOS, library, 3, 100.0, pixel_size_m=200.0
    )
    assert not np.isnan(plain).any()
