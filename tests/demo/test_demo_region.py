"""The written demo region: deterministic, in the data contract, built from its own time series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio

from volcdet.data.region import load_region
from volcdet.demo.region import (
    DECORRELATION_NOISE_MM,
    build_scene,
    generate_demo_region,
    track_series,
)
from volcdet.demo.spec import DEMO_TRACKS, DemoRegionSpec
from volcdet.demo.timeseries import linear_rate

TINY = {
    "pixel_size_m": 200.0,
    "rows": 768,
    "cols": 1024,
    "track_width_px": 768,
    "frame_size_px": 256,
    "epochs_per_track": 8,
    "interferograms_per_track": 2,
    "interferogram_size_px": 128,
}
TABLES = (
    "tracks.csv",
    "volcanoes.csv",
    "confounders.csv",
    "interferograms.csv",
    "roi.geojson",
    "salt_lakes.geojson",
)


@pytest.fixture(scope="module")
def spec() -> DemoRegionSpec:
    return DemoRegionSpec(seed=11, **TINY)


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory, spec):
    roots = [tmp_path_factory.mktemp(name) for name in ("a", "b")]
    for root in roots:
        generate_demo_region(root, spec)
    return roots


@pytest.fixture(scope="module")
def scene(spec):
    return build_scene(spec)


def _series(spec, scene, track_id):
    index = [t for t, _ in DEMO_TRACKS].index(track_id)
    pass_direction = DEMO_TRACKS[index][1]
    return track_series(spec, scene, index, pass_direction, spec.track_offsets_px()[index])[0]


def _rasters(root):
    return sorted(p.relative_to(root) for p in root.rglob("*.tif"))


def test_same_seed_gives_identical_region(two_regions):
    a, b = two_regions
    assert _rasters(a) == _rasters(b)
    for rel in _rasters(a):
        with rasterio.open(a / rel) as src_a, rasterio.open(b / rel) as src_b:
            np.testing.assert_array_equal(src_a.read(), src_b.read())
            assert src_a.transform == src_b.transform and src_a.crs == src_b.crs
    for table in TABLES:
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
    assert volcanoes.deforming.sum() == 3 and (volcanoes.deforming == 0).sum() >= 3
    assert (volcanoes.loc[volcanoes.deforming == 1, "deformation_radius_km"] > 0).all()
    assert (volcanoes.loc[volcanoes.deforming == 0, "deformation_radius_km"] == 0).all()
    assert region.salt_lakes_lonlat is not None
    tracks = pd.read_csv(two_regions[0] / "tracks.csv")
    assert (tracks.acquisitions == TINY["epochs_per_track"]).all()
    assert (region.interferograms.groupby("track_id").size() == 2).all()


def test_confounders_are_catalogued_apart_from_the_volcanoes(two_regions):
    table = pd.read_csv(two_regions[0] / "confounders.csv")
    assert list(table.columns[:5]) == ["name", "kind", "lon", "lat", "radius_km"]
    assert set(table.kind) <= {"fault_creep", "landslide", "aquifer_subsidence", "salt_lake"}
    assert {"landslide", "salt_lake", "aquifer_subsidence"} <= set(table.kind)
    assert table.in_roi.any() and (~table.in_roi.astype(bool)).any()
    assert (table.radius_km > 0).all()
    volcanoes = pd.read_csv(two_regions[0] / "volcanoes.csv")
    assert not set(table.name) & set(volcanoes.name)


def test_los_vectors_follow_the_pass(two_regions):
    """Ascending looks east (ground-to-satellite vector points west), descending the opposite."""
    tracks = pd.read_csv(two_regions[0] / "tracks.csv")
    for row in tracks.to_dict("records"):
        with rasterio.open(two_regions[0] / row["los"]) as src:
            east, north, up = (np.nanmean(band) for band in src.read())
        assert (east < 0) if row["pass"] == "ascending" else (east > 0)
        assert north < 0 and 0.7 < up < 0.88


def test_velocity_raster_is_the_least_squares_rate_of_the_acquisitions(two_regions, spec, scene):
    series = _series(spec, scene, "D156")
    stack = np.stack([series.epoch(i) for i in range(spec.epochs_per_track)])
    with rasterio.open(two_regions[0] / "velocity/D156.tif") as src:
        velocity = src.read(1)
    np.testing.assert_allclose(
        velocity, linear_rate(series.times_yr, stack), atol=2e-4, equal_nan=True
    )


def test_interferograms_are_epoch_differences_of_the_same_series(two_regions, spec, scene):
    """Each written interferogram is epoch2 - epoch1 of its track's series plus white noise of
    std DECORRELATION_NOISE_MM (uncorrelated between neighbouring pixels)."""
    table = pd.read_csv(two_regions[0] / "interferograms.csv")
    for track_id, rows in table.groupby("track_id"):
        series = _series(spec, scene, track_id)
        for row in rows.to_dict("records"):
            with rasterio.open(two_regions[0] / row["path"]) as src:
                ifg = src.read(1)
            window = (
                slice(row["row0"], row["row0"] + spec.interferogram_size_px),
                slice(row["col0"], row["col0"] + spec.interferogram_size_px),
            )
            difference = (series.epoch(row["epoch2"]) - series.epoch(row["epoch1"]))[window]
            np.testing.assert_array_equal(np.isnan(ifg), np.isnan(difference))
            residual = (ifg - difference)[np.isfinite(ifg)]
            assert residual.std() == pytest.approx(DECORRELATION_NOISE_MM, rel=0.1)
            assert abs(residual.mean()) < 0.2
            pairs = (ifg - difference)[:, :-1], (ifg - difference)[:, 1:]
            both = np.isfinite(pairs[0]) & np.isfinite(pairs[1])
            assert abs(np.corrcoef(pairs[0][both], pairs[1][both])[0, 1]) < 0.1
            assert np.nanstd(difference) > 2.0  # the atmosphere of the two acquisitions


def test_velocity_noise_is_that_of_real_stacks():
    """With the default 130 acquisitions, velocity minus the true ground rate per 128 px tile
    (25.6 km) has a std of 0.1-1.5 mm/yr (physics notes 1.2), smaller on descending tracks."""
    spec = DemoRegionSpec(
        **TINY | {"epochs_per_track": DemoRegionSpec(pixel_size_m=200.0).epochs_per_track}
    )
    scene = build_scene(spec)
    medians: dict[str, list[float]] = {"ascending": [], "descending": []}
    for track_id, pass_direction in DEMO_TRACKS:
        series = _series(spec, scene, track_id)
        noise = series.velocity() - series.terms[0].field
        tiles = [
            np.nanstd(noise[r : r + 128, c : c + 128])
            for r in range(0, spec.rows - 127, 128)
            for c in range(0, spec.track_width_px - 127, 128)
        ]
        medians[pass_direction].append(float(np.median(tiles)))
        assert 0.1 < medians[pass_direction][-1] < 1.5, (track_id, medians)
    assert np.mean(medians["descending"]) < np.mean(medians["ascending"])
