"""End to end: LiCSBAS cum.h5 files of two tracks (EPSG:4326) -> ``volcdet region import`` ->
the tiny workflow runs on the imported region, scans included."""

from __future__ import annotations

import pandas as pd
import pytest
import rasterio
import yaml
from conftest import REPO, snakemake
from product_fixtures import licsbas_cum_from_utm_track

from volcdet.demo.region import DemoRegionSpec, generate_demo_region
from volcdet.inference.cli import main

pytestmark = pytest.mark.slow

TRACKS = ("A076", "D083")


def test_imported_licsbas_region_runs_the_tiny_workflow(tmp_path):
    config = yaml.safe_load((REPO / "tests/fixtures/tiny_config.yaml").read_text())
    size = config["demo_region"]
    source = tmp_path / "source"
    generate_demo_region(source, DemoRegionSpec(seed=config["seed"], pixel_size_m=200.0, **size))
    tracks = pd.read_csv(source / "tracks.csv").set_index("track_id")
    args = [
        "region",
        "import",
        str(tmp_path / "work/data/imported"),
        "--max-interferograms",
        "2",
        "--volcanoes",
        str(source / "volcanoes.csv"),
        "--roi",
        str(source / "roi.geojson"),
        "--salt-lakes",
        str(source / "salt_lakes.geojson"),
        "--pixel-size-m",
        "200",
    ]
    for i, track in enumerate(TRACKS):
        row = tracks.loc[track]
        cum = licsbas_cum_from_utm_track(
            source / row.velocity,
            source / row.los,
            row.start,
            row.end,
            tmp_path / f"licsbas/{track}/TS_GEOCml10/cum.h5",
            seed=i,
        )
        with rasterio.open(source / row.velocity) as src:
            assert src.crs.to_epsg() == 32719
        args += ["--track", f"{track}={cum}"]
    assert main(args) == 0

    config["region"] = {"path": "data/imported", "synthetic_demo": False}
    config["simulation"]["los_sets"] = len(TRACKS)
    # FT3/FT4 draw as many descending simulated samples of each class as there are background
    # tiles (48 here), and only one of the two imported tracks is descending.
    config["simulation"]["samples_per_set"] = 128
    (tmp_path / "work/config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "work", timeout_s=1500)
    assert result.returncode == 0, result.stderr[-4000:]
    work = tmp_path / "work"
    imported = pd.read_csv(work / "data/imported/tracks.csv")
    assert imported["pass"].tolist() == ["ascending", "descending"]
    assert (work / "results/tables/table1.md").is_file() and (
        work / "results/tables/table2.md"
    ).is_file()
    assert len(pd.read_parquet(work / "results/patches/test.parquet")) > 0
    for track in TRACKS:
        assert (work / f"results/scan/{track}/probability_utm.tif").is_file()
