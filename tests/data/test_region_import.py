"""``volcdet region import``: LiCSBAS / MintPy track products -> a valid region folder in UTM."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import UTM19S
from product_fixtures import (
    licsbas_cum_from_utm_track,
    mintpy_attributes,
    write_mintpy_geometry,
    write_mintpy_velocity,
)

from volcdet.core.errors import ProductError
from volcdet.core.los import los_unit_vector
from volcdet.data.products.region_import import import_region, parse_track_source
from volcdet.data.rasters import Grid, write_geotiff
from volcdet.data.region import load_region
from volcdet.inference.cli import main

ROI = {
    "type": "Polygon",
    "coordinates": [
        [[-68.95, -22.75], [-68.8, -22.75], [-68.8, -22.6], [-68.95, -22.6], [-68.95, -22.75]]
    ],
}


def _utm_track(root, name, heading, rows=120, cols=140, seed=0):
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (rows, cols))
    rng = np.random.default_rng(seed)
    velocity = rng.normal(0, 2, grid.shape).astype(np.float32)
    velocity[10:20, 10:30] = np.nan
    los = np.moveaxis(los_unit_vector(np.full(grid.shape, 38.0), heading), -1, 0)
    write_geotiff(root / f"{name}_v.tif", velocity, grid, units="mm/yr")
    write_geotiff(root / f"{name}_los.tif", los, grid)
    return root / f"{name}_v.tif", root / f"{name}_los.tif"


@pytest.fixture(scope="module")
def licsbas_tracks(tmp_path_factory):
    root = tmp_path_factory.mktemp("tracks")
    paths = {}
    for i, (track, heading) in enumerate((("A076", -12.4), ("021D_05266_252525", -167.6))):
        velocity, los = _utm_track(root, track, heading, seed=i)
        paths[track] = licsbas_cum_from_utm_track(
            velocity, los, "2016-01-01", "2020-12-31", root / track / "TS_GEOCml10/cum.h5", seed=i
        )
    pd.DataFrame({"name": ["V1"], "lon": [-68.9], "lat": [-22.7]}).to_csv(
        root / "volcanoes.csv", index=False
    )
    (root / "roi.geojson").write_text(json.dumps(ROI))
    return root, paths


def test_two_licsbas_tracks_become_a_valid_region(licsbas_tracks, tmp_path):
    root, paths = licsbas_tracks
    sources = [parse_track_source(f"{t}={p}") for t, p in paths.items()]
    out = import_region(
        sources,
        root / "volcanoes.csv",
        root / "roi.geojson",
        tmp_path / "region",
        200.0,
        max_interferograms=3,
    )
    region = load_region(out, check_rasters=True)
    assert [t.track_id for t in region.tracks] == ["A076", "021D_05266_252525"]
    # Pass from the LOS (east < 0: ascending) and from the LiCSAR frame id (D).
    assert [t.pass_direction for t in region.tracks] == ["ascending", "descending"]
    for track in region.tracks:
        with rasterio.open(track.velocity_path) as src:
            assert src.crs.to_epsg() == 32719 and src.res == (200.0, 200.0)
            assert src.transform.c % 200 == 0 and src.transform.f % 200 == 0  # shared lattice
        assert track.start == pd.Timestamp("2016-01-01") and track.end == pd.Timestamp("2020-12-31")
    ifgs = region.interferograms
    assert len(ifgs) == 6 and set(ifgs.track_id) == {"A076", "021D_05266_252525"}
    assert (pd.to_datetime(ifgs.date2) > pd.to_datetime(ifgs.date1)).all()
    catalogue = pd.read_csv(out / "volcanoes.csv")
    assert catalogue.deforming.tolist() == [0] and catalogue.deformation_radius_km.tolist() == [0]
    assert not list(tmp_path.glob(".region*"))  # staging removed


def test_region_import_from_the_command_line(licsbas_tracks, tmp_path, capsys):
    root, paths = licsbas_tracks
    args = [
        "region",
        "import",
        str(tmp_path / "r"),
        "--volcanoes",
        str(root / "volcanoes.csv"),
        "--roi",
        str(root / "roi.geojson"),
        "--max-interferograms",
        "2",
    ]
    for track, path in paths.items():
        args += ["--track", f"{track}={path}"]
    assert main(args) == 0, capsys.readouterr().err
    assert load_region(tmp_path / "r").tracks[0].track_id == "A076"
    assert main(args) == 2
    assert "output folder exists; use --overwrite" in capsys.readouterr().err


def test_mintpy_track_with_geometry_and_given_interferograms(tmp_path, licsbas_tracks):
    root, _ = licsbas_tracks
    shape = (90, 100)
    attrs = mintpy_attributes(-68.95, -22.6, 0.002, -0.002, shape)
    rng = np.random.default_rng(5)
    velocity = write_mintpy_velocity(
        tmp_path / "geo_velocity.h5", rng.normal(0, 0.002, shape), attrs, "20170101", "20210101"
    )
    geometry = write_mintpy_geometry(
        tmp_path / "geometryGeo.h5", np.full(shape, 40.0), np.full(shape, 102.4), attrs
    )
    transform = Affine(0.002, 0, -68.95, 0, -0.002, -22.6)
    for d1, d2 in (("20170105", "20170117"), ("20180105", "20180117")):
        with rasterio.open(
            tmp_path / f"{d1}_{d2}.geo.unw.tif",
            "w",
            driver="GTiff",
            height=shape[0],
            width=shape[1],
            count=1,
            dtype="float32",
            crs="EPSG:4326",
            transform=transform,
        ) as dst:
            dst.write(rng.normal(0, 3, (1, *shape)).astype(np.float32))
    source = parse_track_source(
        f"T1={velocity},los={geometry},ifgs={tmp_path}/*.geo.unw.tif,ifg_units=rad"
    )
    out = import_region(
        [source], root / "volcanoes.csv", root / "roi.geojson", tmp_path / "m", 200.0
    )
    region = load_region(out)
    assert region.tracks[0].pass_direction == "ascending"  # MintPy azimuth 102.4 = heading -12.4
    assert len(region.interferograms) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("T1", "expected ID=PATH"),
        ("../x=cum.h5", "track_id '../x' may only hold letters, digits, _ and -"),
        ("T1={missing}", "file not found (--track T1)"),
        ("T1={cum},colour=red", "unknown or empty key 'colour'"),
        ("T1={cum},pass=north", "pass must be ascending or descending"),
    ],
)
def test_bad_track_specifications(licsbas_tracks, tmp_path, text, message):
    _, paths = licsbas_tracks
    with pytest.raises(ProductError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_track_source(text.format(missing=tmp_path / "none.h5", cum=paths["A076"]))


def test_a_track_without_los_stops_the_import(tmp_path, licsbas_tracks):
    root, _ = licsbas_tracks
    velocity, _ = _utm_track(tmp_path, "X", -12.4)
    with pytest.raises(ProductError, match=r"X_v\.tif: no LOS in the product.*add ,los=PATH"):
        import_region(
            [parse_track_source(f"X={velocity}")],
            root / "volcanoes.csv",
            root / "roi.geojson",
            tmp_path / "r",
            200.0,
        )
    assert not (tmp_path / "r").exists()


def test_tracks_without_dates_interferograms_or_a_pass(tmp_path, licsbas_tracks):
    root, _ = licsbas_tracks
    velocity, los = _utm_track(tmp_path, "X", -12.4)
    args = (root / "volcanoes.csv", root / "roi.geojson", tmp_path / "r", 200.0)
    with pytest.raises(ProductError, match=r"X_v\.tif: no stack dates; add ,start="):
        import_region([parse_track_source(f"X={velocity},los={los}")], *args)
    with pytest.raises(ProductError, match=r"X_v\.tif: no interferograms: add ,ifgs=GLOB"):
        import_region(
            [parse_track_source(f"X={velocity},los={los},start=2016-01-01,end=2020-01-01")], *args
        )
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (120, 140))
    north_only = np.zeros((3, *grid.shape))
    north_only[1], north_only[2] = 0.6, 0.8  # no east component: the pass cannot be told
    write_geotiff(tmp_path / "north.tif", north_only, grid)
    source = parse_track_source(
        f"X={velocity},los={tmp_path / 'north.tif'},start=2016-01-01,end=2020-01-01"
    )
    with pytest.raises(ProductError, match=r"--track X: cannot tell the pass; add ,pass="):
        import_region([source], *args)
    assert not (tmp_path / "r").exists()
