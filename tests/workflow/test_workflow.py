"""End-to-end: the real Snakemake runs the region -> frames -> patches -> gallery DAG in a temp dir."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.warp
import yaml
from conftest import REPO, snakemake

from volcdet.data.stores import open_store
from volcdet.learning.checkpoints import model_from_checkpoint

pytestmark = pytest.mark.slow

#: Model ids of Tables 1-2 in the tiny config (the synthetic model and every fine-tuned one).
MODEL_IDS = {
    "synthetic",
    "FT1_last",
    "FT1_m1last",
    "FT1_last2",
    "FT1_m1last1",
    "FT2_last",
    "FT3_last",
    "FT4_last",
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "tests/fixtures/tiny_config.yaml", workdir / "config.yaml")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


def test_demo_dag_builds_every_store_and_the_gallery(demo_run):
    frames, frame_meta = open_store(
        demo_run / "results/frames/frames.npy", demo_run / "results/frames/frames.parquet"
    )
    test, test_meta = open_store(
        demo_run / "results/patches/test.npy", demo_run / "results/patches/test.parquet"
    )
    background, bg_meta = open_store(
        demo_run / "results/patches/background.npy", demo_run / "results/patches/background.parquet"
    )
    assert frames.shape[1:] == (256, 256) and test.shape[1:] == (128, 128) == background.shape[1:]
    assert len(test_meta) == 9 * len(frame_meta)  # (256 - 128) / 64 + 1 = 3 offsets per axis
    assert set(test_meta.label) == {0, 1}
    assert (frame_meta.missing_fraction <= 0.05).all() and (bg_meta.missing_fraction < 0.30).all()
    # Every test patch equals the window of its frame (indexing round trip through the stores).
    for row in test_meta.sample(10, random_state=0).itertuples():
        window = frames[
            row.frame_index,
            row.row_in_frame : row.row_in_frame + 128,
            row.col_in_frame : row.col_in_frame + 128,
        ]
        np.testing.assert_array_equal(test[row.Index], window)
    assert (demo_run / "results/figures/patch_gallery.png").stat().st_size > 10_000
    for rule in (
        "demo_region",
        "frames",
        "test_patches",
        "background_patches",
        "patch_gallery",
        "variograms",
        "los_geometries",
        "simulation_gallery",
        "train",
    ):
        assert (demo_run / f"results/logs/{rule}.log").is_file()
        assert (demo_run / f"results/benchmarks/{rule}.tsv").is_file()


def test_background_tiles_lie_outside_the_roi(demo_run):
    from shapely.geometry import box

    from volcdet.data.rasters import Grid, georef_from_row
    from volcdet.data.region import geometry_to_grid_crs, read_geometry_lonlat

    tiles = pd.read_parquet(demo_run / "results/patches/background.parquet")
    roi_lonlat = read_geometry_lonlat(demo_run / "data/demo/roi.geojson")
    assert len(tiles) > 0
    for row in tiles.to_dict("records"):
        crs, transform = georef_from_row(row)
        roi = geometry_to_grid_crs(Grid(crs, transform, (128, 128)), roi_lonlat)
        (x0, y0), (x1, y1) = transform @ (0, 0), transform @ (128, 128)
        assert not box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)).intersects(roi)


def test_report_builds(demo_run):
    result = snakemake(demo_run, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (demo_run / "results/report.html").read_text()
    for name in (
        "table1.csv",
        "table2.csv",
        "roc_table1.png",
        "gradcam_synthetic.png",
        "patch_gallery.png",
        "training_curve.png",
        "simulation_gallery.png",
        "separation.csv",
        "roc_frames.png",
        "auc_vs_footprint.png",
        "false_alarms.csv",
        "sensitivity.csv",
        "sensitivity.png",
        "probes.csv",
    ):
        assert name in html, name


def test_rerun_has_nothing_to_do(demo_run):
    result = snakemake(demo_run, "--dry-run")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def documented_stores() -> list[tuple[re.Pattern[str], set[str]]]:
    """(path pattern, words of "read by") of each row of the stores table in
    docs/architecture.md; ``<name>`` and ``*`` stand for one path part, ``{a,b}`` for either."""
    rows = []
    for line in (REPO / "docs/architecture.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        pattern = re.escape(cells[0].strip("`"))
        pattern = re.sub(r"<[^>]+>|\\\*", "[^/]+", pattern)
        pattern = re.sub(r"\\\{([^}]*)\\\}", lambda m: "(" + m[1].replace(",", "|") + ")", pattern)
        pattern = pattern.replace(r"\.\.\.", ".*")
        if pattern.endswith("/"):
            pattern += ".*"
        rows.append((re.compile(pattern), set(re.findall(r"[a-z_]+", cells[2]))))
    return rows


def store_readers(summary: str) -> dict[str, set[str]]:
    """Every file a rule of the run read, with the rules that read it (``--detailed-summary``)."""
    readers: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(summary), delimiter="\t"):
        for path in (row["input-file(s)"] or "").split(","):
            if path.strip():
                readers.setdefault(path.strip(), set()).add(row["rule"])
    return readers


def test_the_stores_table_lists_every_reader_of_every_store(demo_run):
    """docs/architecture.md names the rules that read each store, as the real DAG has them."""
    result = snakemake(demo_run, "--detailed-summary")
    assert result.returncode == 0, result.stderr[-2000:]
    readers = store_readers(result.stdout)
    assert "results/patches/test.npy" in readers
    stores = documented_stores()
    missing = []
    for path, rules in sorted(readers.items()):
        if path.startswith("results/seeds/"):
            continue  # a seed run repeats the layout of results/ (its own row)
        documented = next((words for pattern, words in stores if pattern.fullmatch(path)), None)
        if documented is None:
            missing.append(f"{path}: no row")
        elif rules - documented:
            missing.append(f"{path}: read by {sorted(rules - documented)}")
    assert missing == [], "docs/architecture.md, stores table:\n" + "\n".join(missing)


def test_user_region_folder_gives_the_same_stores(demo_run, tmp_path):
    """Pointing region.path at a region folder (here: a copy of the demo) reproduces the stores."""
    shutil.copytree(demo_run / "data/demo", tmp_path / "data/myregion")
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    config["region"] = {"path": "data/myregion", "synthetic_demo": False}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "results/patches/test.npy", "results/patches/background.npy")
    assert result.returncode == 0, result.stderr[-4000:]
    for name in ("test", "background"):
        mine = np.load(tmp_path / f"results/patches/{name}.npy")
        demo = np.load(demo_run / f"results/patches/{name}.npy")
        np.testing.assert_array_equal(mine, demo)
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / f"results/patches/{name}.parquet"),
            pd.read_parquet(demo_run / f"results/patches/{name}.parquet"),
        )


def test_broken_user_region_fails_before_any_job(demo_run, tmp_path):
    shutil.copytree(demo_run / "data/demo", tmp_path / "data/myregion")
    (tmp_path / "data/myregion/velocity/D083.tif").unlink()
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    config["region"] = {"path": "data/myregion", "synthetic_demo": False}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "velocity/D083.tif: file not found" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_config_typo_fails_before_any_job(tmp_path):
    config = yaml.safe_load((REPO / "tests/fixtures/tiny_config.yaml").read_text())
    config["patches"]["strides_px"] = 64
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--dry-run")
    assert result.returncode != 0
    assert "config key patches.strides_px is not a known key" in result.stdout + result.stderr


def test_simulated_sets_variograms_and_model(demo_run):
    """7 LOS sets of 32 samples, half with a source; the atmosphere file; a trained model."""
    los = pd.read_csv(demo_run / "results/simulation/los_sets.csv")
    assert los["pass"].tolist() == ["ascending"] * 2 + ["descending"] * 5
    for los_set in range(7):
        array, table = open_store(
            demo_run / f"results/simulation/los{los_set}.npy",
            demo_run / f"results/simulation/los{los_set}.parquet",
        )
        assert array.shape == (32, 128, 128) and table.label.sum() == 16
        assert (table.loc[table.label == 1, "amplitude_mm"].abs() >= 6.0).all()
        assert (table.track_id == los.track_id[los_set]).all()
    variograms = pd.read_csv(demo_run / "results/variograms/variograms.csv")
    assert len(variograms) == 14 and (variograms.status == "ok").all()
    assert set(json.loads((demo_run / "results/variograms/atmosphere.json").read_text())) == {
        "ascending",
        "descending",
    }
    _model, transform, checkpoint = model_from_checkpoint(
        demo_run / "results/models/synthetic/best.pt"
    )
    assert checkpoint["model_spec"]["backbone"] == "test_resnet" and transform.downsample == 2
    history = pd.read_csv(demo_run / "results/models/synthetic/history.csv")
    assert 1 <= len(history) <= 2


def _ground_centres_km(tiles: pd.DataFrame, size_px: int) -> np.ndarray:
    """Tile centres (n, 2) in km on a local plane: lon/lat through rasterio, then scaled."""
    centres = np.zeros((len(tiles), 2))
    for i, tile in enumerate(tiles.itertuples()):
        transform = rasterio.Affine(
            tile.transform_a, tile.transform_b, tile.transform_c,
            tile.transform_d, tile.transform_e, tile.transform_f,
        )  # fmt: skip
        x, y = transform * (size_px / 2, size_px / 2)
        lon, lat = rasterio.warp.transform(tile.crs, "EPSG:4326", [x], [y])
        centres[i] = lon[0], lat[0]
    scale = np.array([111.2 * np.cos(np.radians(centres[:, 1].mean())), 111.2])
    return centres * scale


def _shares_ground(background: pd.DataFrame, a: set[str], b: set[str], size_px: int) -> bool:
    """Whether a tile of ``a`` and a tile of ``b`` overlap by more than a fifth of a side (the
    library guards a tenth; the rest absorbs the difference between the two projections)."""
    side_km = size_px * abs(background.transform_a.iloc[0]) / 1000
    centres = _ground_centres_km(background, size_px)  # one plane for every tile
    first = centres[background.patch_id.isin(a).to_numpy()]
    second = centres[background.patch_id.isin(b).to_numpy()]
    apart = np.abs(first[:, None, :] - second[None, :, :]) >= 0.8 * side_km
    return bool((~apart.any(axis=2)).any())


def _patch_size(demo_run: Path) -> int:
    return yaml.safe_load((demo_run / "config.yaml").read_text())["patches"]["size_px"]


def test_finetuning_tables_and_gradcam(demo_run):
    """Every (set, approach) pair of Tables 1 and 2, both tables in the paper's layout, Grad-CAM."""
    background = pd.read_parquet(demo_run / "results/patches/background.parquet")
    sizes = {
        name: len(pd.read_parquet(demo_run / f"results/finetune_sets/{name}.parquet"))
        for name in ("FT1", "FT2", "FT3", "FT4")
    }
    ft1 = pd.read_parquet(demo_run / "results/finetune_sets/FT1.parquet")
    n = ft1.source.str.split("+").str[0].nunique()  # every fine-tuning tile once
    assert n == len(ft1) and n < len(background)  # less the held-out tiles and their ground
    assert sizes == {"FT1": n, "FT2": 2 * n, "FT3": 2 * n, "FT4": 4 * n}
    for ftset, approach in [
        ("FT1", "last"),
        ("FT1", "m1last"),
        ("FT1", "last2"),
        ("FT1", "m1last1"),
        ("FT2", "last"),
        ("FT3", "last"),
        ("FT4", "last"),
    ]:
        assert (demo_run / f"results/finetune/{ftset}/{approach}/model.pt").is_file()
    table1 = pd.read_csv(demo_run / "results/tables/table1.csv")
    assert table1.Approach.tolist() == [
        "Synthetic",
        "FT1 [last]",
        "FT1 [-1last]",
        "FT1 [last2]",
        "FT1 [-1&last1]",
    ]
    assert list(table1.columns)[1:] == [
        "TPR",
        "FPR",
        "AUC ROC",
        "Accuracy",
        "Precision",
        "F1",
        "Volcanoes",
        "AUC 95% CI",
    ]
    table2 = pd.read_csv(demo_run / "results/tables/table2.csv")
    assert table2["Data Set"].tolist() == [
        "Synthetic",
        "FT1 [last]",
        "FT2 [last]",
        "FT3 [last]",
        "FT4 [last]",
    ]
    for name in ("roc_table1", "roc_table2", "gradcam_synthetic", "gradcam_FT1_last"):
        assert (demo_run / f"results/figures/{name}.png").stat().st_size > 5_000


def test_probes_of_every_model(demo_run):
    """One probe job over every model, one table; the referenced input makes offsets change
    nothing."""
    probes = pd.read_csv(demo_run / "results/tables/probes.csv")
    assert set(probes.model) == MODEL_IDS
    negatives = probes[probes["class"] == "negative"]
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
    assert (negatives.n == 8).all()
    offsets = negatives[negatives.probe == "offset"].groupby("model").flagged_percent.nunique()
    assert (offsets == 1).all()
    assert "| class (n) | probe | level |" in (demo_run / "results/tables/probes.md").read_text()


def test_simulated_sets_carry_the_realistic_noise(demo_run):
    table = pd.read_parquet(demo_run / "results/simulation/los0.parquet")
    array, _ = open_store(
        demo_run / "results/simulation/los0.npy", demo_run / "results/simulation/los0.parquet"
    )
    assert (table.noise_missing_fraction > 0).mean() > 0.5
    np.testing.assert_allclose(
        np.isnan(array).mean(axis=(1, 2)), table.noise_missing_fraction, atol=1e-3
    )
    assert table.noise_ramp_mm.notna().any() and table.noise_stratified_mm_per_km.notna().any()
    # Each library source once before any twice (6 sources, 16 deformation samples per set).
    counts = table[table.label == 1].source_index.value_counts()
    assert counts.max() - counts.min() <= 1 and len(counts) == 6


def test_scan_of_every_track(demo_run):
    tracks = pd.read_csv(demo_run / "data/demo/tracks.csv").track_id
    for track in tracks:
        folder = demo_run / "results/scan" / track
        for name in ("probability.tif", "flagged.csv", "flagged.geojson", "quicklook.png"):
            assert (folder / name).is_file(), folder / name
        with (
            rasterio.open(folder / "probability.tif") as probability,
            rasterio.open(demo_run / "data/demo/velocity" / f"{track}.tif") as velocity,
        ):
            assert (probability.crs, probability.transform, probability.shape) == (
                velocity.crs,
                velocity.transform,
                velocity.shape,
            )


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake dry run as {rule: count}."""
    lines = output.splitlines()
    heading = [i for i, line in enumerate(lines) if line.startswith("Job stats:")]
    if not heading:
        return {}  # nothing to be done
    start = heading[0] + 3
    counts = {}
    for line in lines[start:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_one_finetuning_pair_reruns_alone(demo_run):
    result = snakemake(
        demo_run, "--forcerun", "finetune", "--dry-run", "results/finetune/FT2/last/model.pt"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert job_counts(result.stdout + result.stderr) == {"finetune": 1}


def test_paper_config_dry_run_builds_the_paper_scale(demo_run, tmp_path):
    """config/paper.yaml on a region folder: 7 simulation jobs of 47,262 samples (330,834 in all)."""
    shutil.copytree(demo_run / "data/demo", tmp_path / "data/central_andes")
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    assert config["simulation"]["los_sets"] * config["simulation"]["samples_per_set"] == 330_834
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    assert counts["simulate"] == 7 and counts["train"] == 1
    assert counts["source_library"] == -(-23_631 // config["simulation"]["sources_per_job"])
    assert counts["finetune"] == 7 and counts["predict"] == 8 and counts["probes"] == 1


def test_metrics_that_separate_models(demo_run):
    """Separation table with frame-bootstrap intervals, the footprint sweep, frame ROC figure."""
    table = pd.read_csv(demo_run / "results/tables/separation.csv")
    assert table.model_id.tolist()[0] == "synthetic" and len(table) == 8
    for column in ("AUC ROC", "AUC clean", "dAUC clean"):
        assert (table[f"{column} low"] <= table[column] + 1e-9).all()
        assert (table[column] <= table[f"{column} high"] + 1e-9).all()
    sweep = pd.read_csv(demo_run / "results/tables/footprint_sweep.csv")
    assert sorted(set(sweep.min_footprint_fraction)) == [0.5, 0.9, 1.0] and len(sweep) == 24
    # A stricter label rule can only make positives fewer.
    counts = sweep[sweep.model == "synthetic"].set_index("min_footprint_fraction").positives
    assert counts[0.5] >= counts[0.9] >= counts[1.0]
    table1 = pd.read_csv(demo_run / "results/tables/table1.csv")
    assert np.allclose(table1["AUC ROC"].iloc[0], table["AUC ROC"].iloc[0], atol=1e-3)
    for name in ("roc_frames", "auc_vs_footprint"):
        assert (demo_run / f"results/figures/{name}.png").stat().st_size > 5_000


def test_false_alarms_of_the_scans(demo_run):
    table = pd.read_csv(demo_run / "results/tables/false_alarms.csv")
    tracks = pd.read_csv(demo_run / "data/demo/tracks.csv").track_id
    assert set(table.track_id) == {*tracks, "all tracks"} and len(table) == 2 * (len(tracks) + 1)
    total = table[(table.track_id == "all tracks") & (table.zone == "whole map")].iloc[0]
    per_track = table[(table.track_id != "all tracks") & (table.zone == "whole map")]
    assert total.alarm_windows == per_track.alarm_windows.sum()
    flagged = sum(len(pd.read_csv(demo_run / f"results/scan/{t}/flagged.csv")) for t in tracks)
    assert total.alarm_windows <= flagged


def test_sensitivity_uses_held_out_tiles_only(demo_run):
    injected = pd.read_parquet(demo_run / "results/sensitivity/injected.parquet")
    held = set(injected.tile)
    used = set()
    for name in ("FT1", "FT2"):
        sources = pd.read_parquet(demo_run / f"results/finetune_sets/{name}.parquet").source
        used |= set(sources.str.split("+").str[0])
    background = pd.read_parquet(demo_run / "results/patches/background.parquet")
    assert held and not held & used and held | used <= set(background.patch_id)
    assert not _shares_ground(background, held, used, _patch_size(demo_run))
    summary = pd.read_csv(demo_run / "results/tables/sensitivity.csv")
    assert set(summary.model) == MODEL_IDS
    assert {"rate50_mm_yr", "rate90_mm_yr", "false_alarm_percent"} <= set(summary.columns)
    curves = pd.read_csv(demo_run / "results/tables/sensitivity_curves.csv")
    assert sorted(set(curves.rate_mm_yr)) == [0.0, 1.0, 5.0, 20.0]
    assert (demo_run / "results/figures/sensitivity.png").stat().st_size > 5_000


def test_seed_runs(demo_run):
    """Another seed trains under results/seeds/seed8/ through the same rules; the summary."""
    dry = snakemake(demo_run, "--dry-run", "seeds_summary")
    assert dry.returncode == 0, dry.stderr[-2000:]
    counts = job_counts(dry.stdout + dry.stderr)
    assert (counts["train"], counts["finetune"], counts["predict"], counts["features"]) == (
        1,
        7,
        8,
        6,
    )
    assert "ftset" not in counts and "simulate" not in counts  # the data are shared
    result = snakemake(demo_run, "results/seeds/seed8/metrics/FT1_last.json")
    assert result.returncode == 0, result.stderr[-3000:]
    _, _, seed7 = model_from_checkpoint(demo_run / "results/models/synthetic/best.pt")
    _, _, seed8 = model_from_checkpoint(demo_run / "results/seeds/seed8/models/synthetic/best.pt")
    assert (
        seed7["run_info"]["train_config"]["seed"],
        seed8["run_info"]["train_config"]["seed"],
    ) == (7, 8)
    _, _, tuned = model_from_checkpoint(demo_run / "results/seeds/seed8/finetune/FT1/last/model.pt")
    assert tuned["run_info"]["finetune"]["seed"] == 8
    assert (demo_run / "results/seeds/seed8/logs/train.log").is_file()
    # The summary over the default seed alone (a second full seed run would double the test).
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    (demo_run / "one_seed.yaml").write_text(
        yaml.safe_dump({**config, "seeds": [7]}, sort_keys=False)
    )
    summary = snakemake(demo_run, "seeds_summary", "--configfile", str(demo_run / "one_seed.yaml"))
    assert summary.returncode == 0, summary.stderr[-3000:]
    table = pd.read_csv(demo_run / "results/tables/seeds_summary.csv")
    assert len(table) == 8 and (table.seeds == 1).all()
    assert "| Synthetic | 1 |" in (demo_run / "results/tables/seeds_summary.md").read_text()


def _copy_run(demo_run: Path, tmp_path: Path) -> Path:
    """A copy of the finished demo run (results, region and Snakemake's records, times kept)."""
    workdir = tmp_path / "copy"
    shutil.copytree(demo_run, workdir, symlinks=True)
    return workdir


def _rewrite_raster(path: Path, factor: float) -> None:
    """Multiply a GeoTIFF's values in place (a user replacing a map with new numbers)."""
    with rasterio.open(path, "r+") as dst:
        dst.write(dst.read() * np.float32(factor))


def test_reordered_config_keys_rerun_nothing(demo_run, tmp_path):
    """Same values, every mapping's keys in reverse order: Snakemake has nothing to do."""
    workdir = _copy_run(demo_run, tmp_path)

    def reversed_keys(value):
        if isinstance(value, dict):
            return {key: reversed_keys(value[key]) for key in reversed(list(value))}
        return value

    config = yaml.safe_load((workdir / "config.yaml").read_text())
    (workdir / "config.yaml").write_text(yaml.safe_dump(reversed_keys(config), sort_keys=False))
    result = snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changed_demo_velocity_raster_reruns_the_rules_that_read_it(demo_run, tmp_path):
    workdir = _copy_run(demo_run, tmp_path)
    _rewrite_raster(workdir / "data/demo/velocity/D083.tif", 10.0)
    result = snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    for rule in ("frames", "test_patches", "background_patches", "los_geometries", "scan"):
        assert counts.get(rule, 0) >= 1, (rule, counts)
    assert "demo_region" not in counts


def test_changed_demo_interferogram_reruns_the_variograms(demo_run, tmp_path):
    workdir = _copy_run(demo_run, tmp_path)
    first = pd.read_csv(workdir / "data/demo/interferograms.csv").path[0]
    _rewrite_raster(workdir / "data/demo" / first, 2.0)
    result = snakemake(workdir, "--dry-run", "results/variograms/atmosphere.json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout + result.stderr) == {"variograms": 1}


def _user_region(demo_run: Path, tmp_path: Path, **config_changes: object) -> Path:
    shutil.copytree(demo_run / "data/demo", tmp_path / "data/myregion")
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    config["region"] = {"path": "data/myregion", "synthetic_demo": False}
    config.update(config_changes)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path / "data/myregion"


def test_changed_user_region_rasters_rerun_the_rules_that_read_them(demo_run, tmp_path):
    region = _user_region(demo_run, tmp_path)
    targets = ("results/patches/test.npy", "results/patches/background.npy")
    targets += ("results/variograms/atmosphere.json", "results/simulation/los_sets.csv")
    result = snakemake(tmp_path, *targets)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Nothing to be done" in snakemake(tmp_path, "--dry-run", *targets).stdout
    _rewrite_raster(region / "velocity/A076.tif", 10.0)
    counts = job_counts(snakemake(tmp_path, "--dry-run", *targets).stdout)
    assert counts == {"frames": 1, "test_patches": 1, "background_patches": 1, "los_geometries": 1}
    snakemake(tmp_path, "--touch", *targets)
    first = pd.read_csv(region / "interferograms.csv").path[0]
    _rewrite_raster(region / first, 2.0)
    assert job_counts(snakemake(tmp_path, "--dry-run", *targets).stdout) == {"variograms": 1}


def test_track_id_with_a_path_in_it_stops_before_any_job(demo_run, tmp_path):
    """A tracks.csv naming a track ../../../x: nothing is written anywhere, one line names it."""
    workdir = tmp_path / "deep/er/work"
    workdir.mkdir(parents=True)
    region = _user_region(demo_run, workdir)
    tracks = pd.read_csv(region / "tracks.csv")
    tracks.loc[0, "track_id"] = "../../../x"
    tracks.to_csv(region / "tracks.csv", index=False)
    before = sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts)
    result = snakemake(workdir)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"{Path('data/myregion/tracks.csv')}: track_id '../../../x' may only hold" in output
    assert "Traceback" not in output
    after = sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts)
    assert after == before and not (workdir / "results").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"frames": {"size_px": 96}}, "config keys frames.size_px (96) and patches.size_px (128)"),
        (
            {"model": {"backbone": "resnet_nope"}},
            "config key model.backbone: unknown backbone",
        ),
    ],
)
def test_conflicting_config_fails_the_dry_run(tmp_path, changes, message):
    config = yaml.safe_load((REPO / "tests/fixtures/tiny_config.yaml").read_text())
    for section, values in changes.items():
        config[section].update(values)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--dry-run")
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_user_region_at_another_pixel_size_fails_before_any_job(demo_run, tmp_path):
    _user_region(demo_run, tmp_path, pixel_size_m=100)
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "pixel size 200 m differs from pixel_size_m 100 m" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()
