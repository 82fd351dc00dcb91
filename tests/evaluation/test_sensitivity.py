"""Minimum detectable rate: injection, the sensitivity store, detection curves, 50/90% rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from background_tiles import TILE_PX, tile_table, write_background

from volcdet.core.errors import VolcdetError
from volcdet.data.background import sensitivity_holdout
from volcdet.data.stores import open_store, write_table
from volcdet.evaluation.injection import (
    SensitivitySpec,
    build_sensitivity_set,
    centred_clip_mask,
    footprint_radius_km,
    inject,
    los_projection,
    source_families,
)
from volcdet.evaluation.sensitivity import detectable_rate, detectable_rates, detection_curves
from volcdet.simulation.source_library import SourceLibrary

LOS = pd.DataFrame(
    [
        {"track_id": "A1", "los_east": -0.62, "los_north": -0.14, "los_up": 0.77},
        {"track_id": "D1", "los_east": 0.61, "los_north": -0.13, "los_up": 0.78},
    ]
)


def test_injected_minus_tile_is_the_scaled_field():
    rng = np.random.default_rng(0)
    tile = rng.normal(0, 4, (16, 16))
    tile[2:5, 3:7] = np.nan
    field = np.zeros((16, 16))
    field[8, 8], field[8, 9], field[0, 0] = -3.0, 1.5, 0.5  # peak |LOS| 3, negative
    injected = inject(tile, field, rate_mm_yr=2.0, period_yr=5.0)
    valid = np.isfinite(tile)
    # rate 2 mm/yr x 5 yr = 10 mm at the peak: the field scaled by 10 / 3.
    np.testing.assert_allclose((injected - tile)[valid], (field * 10.0 / 3.0)[valid], atol=1e-12)
    assert injected[8, 8] - tile[8, 8] == pytest.approx(-10.0)
    assert np.isnan(injected[~valid]).all()


def test_los_projection_is_the_dot_product_with_the_los_vector():
    field = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 2.0), np.full((2, 2), 3.0)])
    np.testing.assert_allclose(los_projection(field, np.array([0.5, -0.25, 1.0])), 0.5 - 0.5 + 3.0)


def write_library(root, depths_km):
    """Hand-made ENU fields: an uplift bump (peak 1) with a small eastward component."""
    n = len(depths_km)
    y, x = np.mgrid[:TILE_PX, :TILE_PX] - (TILE_PX - 1) / 2
    bump = np.exp(-(x**2 + y**2) / 40.0)
    fields = np.zeros((n, 3, TILE_PX, TILE_PX), np.float16)
    fields[:, 0], fields[:, 2] = 0.3 * bump, bump
    np.save(root / "lib.npy", fields)
    write_table(
        root / "lib.parquet",
        pd.DataFrame(
            {"source_index": range(n), "kind": "sphere", "depth_m": np.array(depths_km) * 1e3}
        ),
    )
    return SourceLibrary([root / "lib.npy"], [root / "lib.parquet"])


SPEC = SensitivitySpec(
    rates_mm_yr=(1.0, 4.0, 20.0),
    depth_bins_km=(2.0, 6.0, 12.0),
    samples_per_cell=3,
    holdout_fraction=0.25,
    seed=9,
    pixel_size_m=200.0,
)


def test_sensitivity_store_holds_held_out_tiles_and_scaled_injections(tmp_path):
    table = tile_table(side=4)
    background = write_background(tmp_path, table)
    library = write_library(tmp_path, [3.0, 5.0, 8.0, 11.0])
    families = source_families(["library", "demo_shapes"], library, TILE_PX, 200.0)
    build_sensitivity_set(
        background, LOS, families, SPEC, tmp_path / "s.npy", tmp_path / "s.parquet"
    )
    patches, meta = open_store(tmp_path / "s.npy", tmp_path / "s.parquet")
    tiles, _ = open_store(*background)
    held = set(table.patch_id[sensitivity_holdout(table, 0.25, 9, TILE_PX)])
    index = {p: i for i, p in enumerate(table.patch_id)}
    controls = meta[meta.rate_mm_yr == 0]
    assert set(controls.tile) == held and (controls.label == 0).all()
    for i, tile in zip(controls.index, controls.tile, strict=True):
        np.testing.assert_array_equal(patches[i], tiles[index[tile]])
    pairs = meta[meta.pair >= 0]
    assert set(pairs.tile) <= held and (pairs.label == 1).all()
    assert len(pairs) == 2 * 2 * 3 * 3  # 2 families x 2 depth bins x 3 pairs x 3 rates
    assert set(pairs.family) == {"library", "demo_shapes"}
    assert pairs[pairs.family == "demo_shapes"].source.str.startswith("demo:").all()
    for _, rows in pairs.groupby("pair"):
        tile = tiles[index[rows.tile.iloc[0]]].astype(np.float64)
        low, high = (float(v) for v in rows.depth_bin.iloc[0].removesuffix(" km").split("-"))
        assert low <= rows.depth_km.iloc[0] <= high
        unit = []
        for i, rate, period in zip(rows.index, rows.rate_mm_yr, rows.period_yr, strict=True):
            difference = patches[i].astype(np.float64) - tile
            # float16 storage: about 3 significant digits of the injected tile.
            assert np.nanmax(np.abs(difference)) == pytest.approx(rate * period, rel=2e-2, abs=0.05)
            unit.append(difference / (rate * period))
        np.testing.assert_allclose(unit[2], unit[1], atol=0.02)


def test_an_empty_depth_bin_is_refused_before_any_work(tmp_path):
    background = write_background(tmp_path, tile_table(side=4))
    library = write_library(tmp_path, [3.0, 4.0])
    families = source_families(["library"], library, TILE_PX, 200.0)
    with pytest.raises(VolcdetError, match=r"depth_bins_km: no library source .*\[6.0, 12.0\]"):
        build_sensitivity_set(
            background, LOS, families, SPEC, tmp_path / "s.npy", tmp_path / "s.parquet"
        )
    assert not (tmp_path / "s.npy").exists()


def test_detectable_rate_interpolates_the_first_crossing():
    rates = np.array([0.0, 1.0, 2.0, 5.0, 10.0, 20.0])
    detection = np.array([0.0, 0.1, 0.3, 0.7, 0.95, 1.0])
    assert detectable_rate(rates, detection, 0.5) == pytest.approx(3.5)  # 2 + 0.2 / 0.4 x 3
    assert detectable_rate(rates, detection, 0.9) == pytest.approx(9.0)  # 5 + 0.2 / 0.25 x 5
    assert np.isnan(detectable_rate(rates, np.array([0, 0.1, 0.2, 0.4, 0.45, 0.49]), 0.5))
    assert detectable_rate(rates, np.array([0.6, 0.7, 0.8, 0.9, 1, 1]), 0.5) == 0.0
    # A dip after the crossing does not move it.
    assert detectable_rate(rates, np.array([0, 0.5, 0.4, 0.9, 1, 1]), 0.5) == pytest.approx(1.0)


def injected_table():
    """Two held-out tiles t1, t2; pairs 0 (library, 2-6 km, on t1) and 1 (library, 6-12 km, on t2)
    at rates 1 and 5; the control rows come first, as in the store."""
    rows = [
        {"family": "none", "depth_bin": "none", "rate_mm_yr": 0.0, "tile": "t1", "pair": -1},
        {"family": "none", "depth_bin": "none", "rate_mm_yr": 0.0, "tile": "t2", "pair": -1},
    ]
    for pair, (depth_bin, tile) in enumerate([("2-6 km", "t1"), ("6-12 km", "t2")]):
        rows += [
            {
                "family": "library",
                "depth_bin": depth_bin,
                "rate_mm_yr": r,
                "tile": tile,
                "pair": pair,
            }
            for r in (1.0, 5.0)
        ]
    return pd.DataFrame(rows)


def test_detection_curves_start_from_the_untouched_tiles():
    #            t1 t2 | pair 0 at 1, 5 | pair 1 at 1, 5
    detected = np.array([1, 0, 1, 1, 0, 1], bool)
    curves = (
        detection_curves(injected_table(), detected)
        .set_index(["family", "depth_bin", "rate_mm_yr"])
        .sort_index()
    )
    assert curves.loc[("library", "2-6 km", 0.0), "detection_percent"] == 100.0  # t1 flagged as is
    assert curves.loc[("library", "6-12 km", 0.0), "detection_percent"] == 0.0
    assert curves.loc[("library", "6-12 km", 5.0), "detection_percent"] == 100.0
    pooled = curves.loc[("all", "all")]
    assert pooled.detection_percent.tolist() == [50.0, 50.0, 100.0]
    assert pooled.n.tolist() == [2, 2, 2]


def test_detectable_rates_per_model_and_group():
    curves = detection_curves(injected_table(), np.array([0, 0, 0, 1, 0, 1], bool)).assign(
        model="m"
    )
    summary = detectable_rates(curves).set_index(["family", "depth_bin"])
    # Pooled: 0% at 0, 0% at 1, 100% at 5 -> 50% at 3, 90% at 4.6.
    assert summary.loc[("all", "all"), "rate50_mm_yr"] == pytest.approx(3.0)
    assert summary.loc[("all", "all"), "rate90_mm_yr"] == pytest.approx(4.6)
    assert summary.loc[("all", "all"), "false_alarm_percent"] == 0.0
    assert summary.loc[("all", "all"), "max_rate_mm_yr"] == 5.0


def test_clipped_injections_hold_the_pairs_that_fit_the_clip(tmp_path):
    """Under a centred clip the pairs whose footprint fits enter again with everything outside
    the clip missing, and the untouched tiles too (the clip's false-alarm baseline)."""
    table = tile_table(side=4)
    background = write_background(tmp_path, table)
    library = write_library(tmp_path, [3.0, 5.0, 8.0, 11.0])
    families = source_families(["library", "demo_shapes"], library, TILE_PX, 200.0)
    spec = SensitivitySpec(
        rates_mm_yr=(1.0, 4.0),
        depth_bins_km=(2.0, 6.0, 12.0),
        samples_per_cell=4,
        holdout_fraction=0.25,
        seed=9,
        clip_sides_km=(3.2, 6.0),
        pixel_size_m=200.0,
    )
    build_sensitivity_set(
        background, LOS, families, spec, tmp_path / "s.npy", tmp_path / "s.parquet"
    )
    patches, meta = open_store(tmp_path / "s.npy", tmp_path / "s.parquet")
    assert set(meta.window) == {"full", "clip 3.2 km", "clip 6 km"}
    full = meta[(meta.window == "full") & (meta.pair >= 0)]
    assert (meta[meta.window == "clip 6 km"].pair >= 0).any()
    for side in (3.2, 6.0):
        clipped = meta[meta.window == f"clip {side:g} km"]
        pairs = clipped[clipped.pair >= 0]
        expected = full[full.footprint_radius_km <= side / 2]
        assert set(pairs.pair) == set(expected.pair)
        assert (clipped.rate_mm_yr == 0).sum() == (
            meta[meta.window == "full"].rate_mm_yr == 0
        ).sum()
        mask = centred_clip_mask(TILE_PX, 200.0, side)
        for i in clipped.index:
            assert np.isnan(patches[i][mask]).all()
    curves = detection_curves(meta, np.ones(len(meta), bool))
    assert "full, pairs of clip 6 km" in set(curves.window)


def test_footprint_radius_is_where_the_field_falls_to_a_fifth():
    yy, xx = np.mgrid[0:65, 0:65] - 32.0
    field = np.exp(-np.hypot(yy, xx) / 10.0)  # 20% at r = 10 ln 5 = 16.1 px
    assert footprint_radius_km(field, 200.0) == pytest.approx(16.0 * 0.2, abs=0.2)
