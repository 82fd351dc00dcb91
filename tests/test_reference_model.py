"""The reference model shipped with volcdet: the file the card names, it loads and scores, it is
the default of `volcdet predict`, and its configuration still parses and dry-runs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, small_grid

from volcdet.data.rasters import write_geotiff
from volcdet.models import REFERENCE, reference_model_path, resolve_model

CARD = REPO / "docs/model_card.md"


def card_sha256() -> str:
    """The SHA-256 the model card gives for the shipped file."""
    found = re.search(r"SHA-256 `([0-9a-f]{64})`", CARD.read_text())
    assert found, "docs/model_card.md names no SHA-256 of the shipped file"
    return found.group(1)


def test_the_shipped_file_is_the_one_the_card_names():
    path = reference_model_path()
    assert path.is_file(), f"{path} is not shipped"
    assert path.stat().st_size <= 25 * 2**20
    assert hashlib.sha256(path.read_bytes()).hexdigest() == card_sha256()


def test_reference_is_the_default_and_a_name():
    assert resolve_model(None) == reference_model_path()
    assert resolve_model(REFERENCE) == reference_model_path()
    assert resolve_model("./reference").name == "reference"


def test_it_loads_weights_only_and_scores_a_small_map(tmp_path):
    from volcdet.inference.api import load_model, predict

    loaded = load_model()
    assert loaded.path == reference_model_path()
    assert 0.0 < loaded.threshold < 1.0
    assert loaded.checkpoint["run_info"]["model_card"]["calibration"]["threshold"] == pytest.approx(
        loaded.threshold
    )
    rows, cols = 120, 140
    yy, xx = np.mgrid[:rows, :cols]
    velocity = 12.0 * np.exp(-((yy - 60.0) ** 2 + (xx - 70.0) ** 2) / 200.0)
    velocity += np.random.default_rng(0).normal(0.0, 0.3, velocity.shape)
    write_geotiff(tmp_path / "v.tif", velocity.astype(np.float32), small_grid(rows, cols))
    result = predict(tmp_path / "v.tif", period_yr=5.0)
    probability = result.probability.to_numpy()
    assert np.nanmax(probability) <= 1.0 and np.nanmin(probability) >= 0.0
    assert result.model_id.startswith("sha256:")


def test_volcdet_predict_without_model_names_the_reference(tmp_path):
    write_geotiff(
        tmp_path / "v.tif",
        np.random.default_rng(1).normal(0.0, 1.0, (90, 90)).astype(np.float32),
        small_grid(90, 90),
        units="mm/yr",
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "volcdet.inference.cli", "predict", str(tmp_path / "v.tif")),
            *("--period-yr", "5", "--out", str(tmp_path / "scans")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 3), done.stderr
    summary = json.loads((tmp_path / "scans/run_summary.json").read_text())
    assert summary["model"]["name"] == "reference"
    digest = hashlib.sha256(reference_model_path().read_bytes()).hexdigest()
    assert summary["model"]["id"] == f"sha256:{digest[:16]}"


def test_the_reference_config_parses_and_its_dag_dry_runs(tmp_path):
    """Snakemake merges the two config files and the workflow validates the result against its
    schema (workflow/rules/common.smk) before the dry run."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")),
            *("--directory", str(tmp_path), "--workflow-profile", "none", "-n", "--cores", "2"),
            *(
                "--configfile",
                str(REPO / "config/config.yaml"),
                str(REPO / "config/reference.yaml"),
            ),
            *("--", "reference_model"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reference_model" in done.stdout
