"""The background store split: held-out sensitivity tiles never reach a fine-tuning set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from background_tiles import TILE_PX, tile_table, write_background

from volcdet.core.errors import VolcdetError
from volcdet.data.background import sensitivity_holdout
from volcdet.simulation.finetune_sets import write_ft_set


def test_split_is_disjoint_complete_and_near_the_share():
    table = tile_table(("A1", "D1", "D2"), side=5)
    held = sensitivity_holdout(table, 0.3, seed=1, size_px=TILE_PX)
    held_ids, kept_ids = set(table.patch_id[held]), set(table.patch_id[~held])
    assert held_ids and kept_ids and not held_ids & kept_ids
    assert held_ids | kept_ids == set(table.patch_id)
    # Whole ground cells of up to 2 x 2 tiles on 3 tracks: 0.3 x 75 = 22.5 -> at least 23,
    # less than 23 + 12.
    assert 23 <= held.sum() < 35


def test_the_same_ground_on_every_track_falls_on_one_side():
    table = tile_table(("A1", "D1", "D2"), side=5)
    held = pd.Series(sensitivity_holdout(table, 0.4, seed=3, size_px=TILE_PX))
    ground = table.patch_id.str.split("_").str[1]
    assert (held.groupby(ground).nunique() == 1).all()


def test_split_is_seeded():
    table = tile_table(side=6)
    first = sensitivity_holdout(table, 0.25, seed=5, size_px=TILE_PX)
    np.testing.assert_array_equal(first, sensitivity_holdout(table, 0.25, seed=5, size_px=TILE_PX))
    assert not np.array_equal(first, sensitivity_holdout(table, 0.25, seed=6, size_px=TILE_PX))


@pytest.mark.parametrize("fraction", [0.0, 1.0, 0.99])
def test_a_share_that_leaves_one_side_empty_is_refused(fraction):
    with pytest.raises(VolcdetError, match=r"sensitivity\.holdout_fraction"):
        sensitivity_holdout(tile_table(side=2), fraction, seed=0, size_px=TILE_PX)


def test_fine_tuning_sets_leave_the_held_out_tiles_out(tmp_path):
    table = tile_table(side=4)
    background = write_background(tmp_path, table)
    library = tmp_path / "chunk0.npy"
    field = np.zeros((2, 3, TILE_PX, TILE_PX), np.float16)
    field[:, 2, 12:20, 12:20] = 1.0
    np.save(library, field)
    los = pd.DataFrame(
        [{"track_id": t, "los_east": -0.6, "los_north": -0.1, "los_up": 0.78} for t in ("A1", "D1")]
    )
    written = write_ft_set(
        "FT1",
        background,
        [],
        los,
        [library],
        11,
        100.0,
        tmp_path / "FT1.npy",
        tmp_path / "FT1.parquet",
        holdout_fraction=0.25,
        pixel_size_m=200.0,
    )
    held = set(table.patch_id[sensitivity_holdout(table, 0.25, seed=11, size_px=TILE_PX)])
    used = set(written.source.str.split("+").str[0])
    assert held and not used & held
    assert used | held == set(table.patch_id)
    assert len(written) == len(table) - len(held)
