"""The workflow's guarantees (docs/reliability.md): a dry run of the paper's configuration, and of
one at the schema's maxima, is bounded in time and memory; values that used to grow the DAG
without end stop at parse; a region file replaced by an older copy (``cp -p``) reruns its rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from affine import Affine
from conftest import REPO, UTM19S, snakemake

from volcdet.core.los import los_unit_vector
from volcdet.data.rasters import Grid, write_geotiff

pytestmark = pytest.mark.slow

#: Generous bounds for one dry run on a busy 2-core machine (measured: docs/reliability.md).
DRY_RUN_LIMIT_S = 60
MEMORY_LIMIT_BYTES = 4 << 30


def write_region(root: Path, n_tracks: int = 7, rows: int = 64, cols: int = 80) -> Path:
    """A small valid user region: ``n_tracks`` tracks (2 ascending), one interferogram each,
    catalogue, ROI and salt-lake polygons."""
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (rows, cols))
    rng = np.random.default_rng(0)
    tracks, ifgs = [], []
    for k in range(n_tracks):
        track, direction = f"T{k}", "ascending" if k < 2 else "descending"
        heading = -12.4 if k < 2 else -167.6
        write_geotiff(root / f"velocity/{track}.tif", rng.normal(0, 1, grid.shape), grid)
        los = np.moveaxis(los_unit_vector(np.full(grid.shape, 39.0), heading), -1, 0)
        write_geotiff(root / f"los/{track}.tif", los, grid, ["east", "north", "up"])
        write_geotiff(root / f"interferograms/{track}_a.tif", rng.normal(0, 5, grid.shape), grid)
        tracks.append(
            {
                "track_id": track,
                "pass": direction,
                "velocity": f"velocity/{track}.tif",
                "los": f"los/{track}.tif",
                "start": "2015-01-01",
                "end": "2020-01-01",
            }
        )
        ifgs.append(
            {
                "path": f"interferograms/{track}_a.tif",
                "track_id": track,
                "pass": direction,
                "date1": "2016-01-01",
                "date2": "2016-01-13",
            }
        )
    pd.DataFrame(tracks).to_csv(root / "tracks.csv", index=False)
    pd.DataFrame(ifgs).to_csv(root / "interferograms.csv", index=False)
    pd.DataFrame(
        [{"name": "V1", "lon": -69.0, "lat": -22.6, "deforming": 1, "deformation_radius_km": 5.0}]
    ).to_csv(root / "volcanoes.csv", index=False)
    ring = [[-69.1, -22.7], [-68.9, -22.7], [-68.9, -22.5], [-69.1, -22.5], [-69.1, -22.7]]
    polygon = json.dumps({"type": "Polygon", "coordinates": [ring]})
    (root / "roi.geojson").write_text(polygon)
    (root / "salt_lakes.geojson").write_text(polygon)
    return root


def bounded_dry_run(workdir: Path, config: dict) -> tuple[subprocess.CompletedProcess, float, int]:
    """``snakemake -n`` on ``config`` under a 4 GB address-space limit and a time limit:
    (result, seconds, peak resident memory in bytes), measured in a fresh process."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    measure = (
        "import resource, subprocess, sys, time\n"
        f"limit = {MEMORY_LIMIT_BYTES}\n"
        "start = time.monotonic()\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout="
        f"{DRY_RUN_LIMIT_S}, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, "
        "(limit, limit)))\n"
        "sys.stderr.write(r.stderr); sys.stdout.write(r.stdout)\n"
        "print('MEASURED', time.monotonic() - start, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
        "sys.exit(r.returncode)\n"
    )
    command = [
        *(sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")),
        *("--directory", str(workdir), "--configfile", str(workdir / "config.yaml")),
        *("--cores", "2", "--workflow-profile", "none", "-n"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", measure, *command],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=DRY_RUN_LIMIT_S + 30,
    )
    measured = [line for line in result.stdout.splitlines() if line.startswith("MEASURED")]
    assert measured, result.stderr[-3000:]  # the dry run ended within the time limit
    seconds, peak = measured[-1].split()[1:]
    return result, float(seconds), int(peak)


def _paper_config(region: Path) -> dict:
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    config["region"]["path"] = str(region)
    return config


def test_the_paper_dry_run_is_bounded_in_time_and_memory(tmp_path):
    region = write_region(tmp_path / "data/central_andes")
    result, seconds, peak = bounded_dry_run(tmp_path, _paper_config(region))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "source_library" in result.stdout and seconds < DRY_RUN_LIMIT_S
    assert peak < MEMORY_LIMIT_BYTES
    print(f"paper dry run: {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB")


def test_a_dry_run_at_the_schemas_maxima_is_bounded(tmp_path):
    """The most LOS sets times the most source_library jobs the schema allows."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["simulation"]["los_sets"] = 50
    config["simulation"]["sources_per_job"] = 100
    config["simulation"]["source_library_size"] = 200 * 100
    result, seconds, peak = bounded_dry_run(tmp_path, config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert seconds < DRY_RUN_LIMIT_S and peak < MEMORY_LIMIT_BYTES
    print(f"dry run at the maxima: {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "source_library_size",
            10**9,
            "config key simulation.source_library_size: 1000000000 is greater than the maximum",
        ),
        ("los_sets", 10**6, "config key simulation.los_sets: 1000000 is greater than the maximum"),
    ],
)
def test_values_that_grew_the_dag_without_end_stop_at_parse(tmp_path, key, value, message):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["simulation"][key] = value
    result, seconds, _ = bounded_dry_run(tmp_path, config)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output[-3000:]
    assert seconds < DRY_RUN_LIMIT_S
    assert not (tmp_path / "results").exists()


def _region_workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    write_region(work / "data/region")
    config = yaml.safe_load((REPO / "tests/fixtures/tiny_config.yaml").read_text())
    config["region"] = {"path": "data/region", "synthetic_demo": False}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    return work


def _would_run(work: Path, target: str) -> str:
    result = snakemake(work, "-n", target)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_a_raster_replaced_by_an_older_copy_reruns_its_rules(tmp_path):
    work = _region_workdir(tmp_path)
    target = "results/simulation/los_sets.csv"
    assert snakemake(work, target).returncode == 0
    assert "Nothing to be done" in _would_run(work, target)

    # Another LOS raster (other incidence), dated long before the run, copied with cp -p.
    los = work / "data/region/los/T3.tif"
    other = tmp_path / "T3_reprocessed.tif"
    grid = Grid(UTM19S, Affine(200.0, 0, 500_000.0, 0, -200.0, 7_500_000.0), (64, 80))
    vectors = np.moveaxis(los_unit_vector(np.full(grid.shape, 33.0), -167.6), -1, 0)
    write_geotiff(other, vectors, grid, ["east", "north", "up"])
    year_2001 = time.mktime((2001, 1, 1, 0, 0, 0, 0, 0, -1))
    os.utime(other, (year_2001, year_2001))
    subprocess.run(["cp", "-p", str(other), str(los)], check=True)
    assert los.stat().st_mtime < (work / target).stat().st_mtime  # invisible to mtime alone
    planned = _would_run(work, target)
    assert "los_geometries" in planned and "Nothing to be done" not in planned, planned
    before = pd.read_csv(work / target)
    assert snakemake(work, target).returncode == 0
    assert not pd.read_csv(work / target).equals(before)  # the new geometry was read

    # The same content under a new inode and change time (a copy of the region): no rerun.
    shutil.copy2(los, tmp_path / "same.tif")
    shutil.move(tmp_path / "same.tif", los)
    assert "Nothing to be done" in _would_run(work, target)
