"""The synthetic stand-in region: deterministic from its seed, valid under the data contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio

from volcdet.data.region import load_region
from volcdet.demo.region import DemoRegionSpec, generate_demo_region

TINY = {
    "rows": 768,
    "cols": 1024,
    "track_width_px": 768,
    "interferograms_per_track": 1,
    "interferogram_size_px": 128,
}


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory):
    roots = [tmp_path_factory.mktemp(name) for name in ("a", "b")]
    for root in roots:
        generate_demo_region(root, DemoRegionSpec(seed=11, **TINY))
    return roots


def _rasters(root):
    return sorted(p.relative_to(root) for p in root.rglob("*.tif"))


def test_same_seed_gives_identical_region(two_regions):
    a, b = two_regions
    assert _rasters(a) == _rasters(b)
    for rel in _rasters(a):
        with rasterio.open(a / rel) as src_a, rasterio.open(b / rel) as src_b:
            np.testing.assert_array_equal(src_a.read(), src_b.read())
            assert src_a.transform == src_b.transform and src_a.crs == src_b.crs
    for table in (
        "tracks.csv",
        "volcanoes.csv",
        "interferograms.csv",
        "roi.geojson",
        "salt_lakes.geojson",
    ):
        assert (a / table).read_text() == (b / table).read_text()


def test_other_seed_gives_other_region(two_regions, tmp_path):
    generate_demo_region(tmp_path, DemoRegionSpec(seed=12, **TINY))
    with (
        rasterio.open(tmp_path / "velocity/A076.tif") as one,
        rasterio.open(two_regions[0] / "velocity/A076.tif") as two,
    ):
        assert not np.allclose(one.read(), two.read(), equal_nan=True)


def test_demo_region_honours_the_data_contract(two_regions):
    region = load_region(two_regions[0])
    passes = [t.pass_direction for t in region.tracks]
    assert passes.count("ascending") == 2 and passes.count("descending") == 5
    volcanoes = region.volcanoes
    assert 3 <= volcanoes.deforming.sum() < len(volcanoes) / 2
    assert (volcanoes.loc[volcanoes.deforming == 1, "deformation_radius_km"] > 0).all()
    assert (volcanoes.loc[volcanoes.deforming == 0, "deformation_radius_km"] == 0).all()


def test_los_vectors_follow_the_pass(two_regions):
    """Ascending looks east (ground-to-satellite vector points west), descending the opposite."""
    tracks = pd.read_csv(two_regions[0] / "tracks.csv")
    for row in tracks.to_dict("records"):
        with rasterio.open(two_regions[0] / row["los"]) as src:
            east, north, up = (np.nanmean(band) for band in src.read())
        assert (east < 0) if row["pass"] == "ascending" else (east > 0)
        assert north < 0 and 0.7 < up < 0.88


def test_velocity_magnitudes_are_those_of_the_paper(two_regions):
    """Background within a few mm/yr; salt lakes and volcanoes within -20..+20 mm/yr."""
    with rasterio.open(two_regions[0] / "velocity/D083.tif") as src:
        velocity = src.read(1)
    finite = velocity[np.isfinite(velocity)]
    assert 0.002 < np.isnan(velocity).mean() < 0.1
    assert np.percentile(np.abs(finite), 50) < 3.0
    assert 5.0 < np.abs(finite).max() < 25.0
