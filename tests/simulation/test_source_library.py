"""The source library: symmetries give exact fields of rotated/mirrored sources; chunks agree."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.simulation.source_library import (
    build_source_library,
    dihedral_enu,
    patch_coordinates_m,
    source_field_enu,
)
from volcdet.simulation.sources import SOURCE_KINDS, cdm_displacement, random_source

SOURCE = {"depth_m": 3000.0, "semi_axes_m": (1500.0, 700.0, 400.0), "opening_m": 1.0, "nu": 0.25}


def _field(omega):
    east, north = patch_coordinates_m(32, 600.0)
    return np.stack(
        cdm_displacement(
            east, north, 0.0, 0.0, SOURCE["depth_m"], omega, SOURCE["semi_axes_m"], 1.0, 0.25
        )
    )


@pytest.mark.parametrize(
    ("transform", "omega"),
    [
        (1, (20.0, 0.0, 35.0 - 90.0)),  # counterclockwise on the map = clockwise angle -90
        (2, (20.0, 0.0, 35.0 - 180.0)),
        (3, (20.0, 0.0, 35.0 - 270.0)),
        (4, (20.0, 0.0, -35.0)),  # mirror east-west: omega_z -> -omega_z
        (5, (20.0, 0.0, -35.0 - 90.0)),
    ],
)
def test_symmetry_equals_the_transformed_source(transform, omega):
    expected = _field(omega)
    got = dihedral_enu(_field((20.0, 0.0, 35.0)), transform)
    np.testing.assert_allclose(got, expected, atol=1e-10 * np.abs(expected).max())


def test_identity_and_grid_centring():
    field = _field((20.0, 0.0, 35.0))
    np.testing.assert_array_equal(dihedral_enu(field, 0), field)
    east, north = patch_coordinates_m(4, 200.0)
    assert east[0].tolist() == [-300.0, -100.0, 100.0, 300.0]
    assert north[:, 0].tolist() == [300.0, 100.0, -100.0, -300.0]


def test_chunks_give_the_same_library(tmp_path):
    args = {
        "seed": 5,
        "size_px": 16,
        "pixel_size_m": 800.0,
        "nu": 0.25,
        "depth_range_m": (1000.0, 5000.0),
    }
    whole = build_source_library(
        4, 0, array_path=tmp_path / "w.npy", table_path=tmp_path / "w.parquet", **args
    )
    part = build_source_library(
        2, 2, array_path=tmp_path / "p.npy", table_path=tmp_path / "p.parquet", **args
    )
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy")[2:], np.load(tmp_path / "p.npy"))
    assert whole.source_index.tolist()[2:] == part.source_index.tolist()
    library = np.load(tmp_path / "w.npy").astype(np.float32)
    assert library.shape == (4, 3, 16, 16)
    np.testing.assert_allclose(np.abs(library).reshape(4, -1).max(axis=1), 1.0, rtol=1e-3)
    assert list(whole.kind) == ["sphere", "oblate", "pipe", "dyke"]


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_coarse_grid_interpolation_error_bound(kind):
    """Step 4 (800 m grid) stays within 2e-3 of the peak of the exact field (256 px at 200 m)."""
    source = random_source(
        np.random.default_rng([3, len(kind)]),
        kind,
        depth_range_m=(2000.0, 12000.0),
        radius_range_m=(500.0, 5000.0),
    )
    exact = source_field_enu(source, 256, 200.0, 0.25, step_px=1)
    coarse = source_field_enu(source, 256, 200.0, 0.25, step_px=4)
    assert np.abs(coarse - exact).max() <= 2e-3 * np.abs(exact).max()
