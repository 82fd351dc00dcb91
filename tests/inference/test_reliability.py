"""What ``volcdet predict`` and ``volcdet export`` guarantee about the user's files
(docs/reliability.md): --overwrite replaces only what volcdet wrote, never an input; --compare
is checked completely before scoring; a full disk or a signal loses nothing and leaves nothing
half-written; leftovers of dead runs go; folders follow the umask. Real files, real processes,
real signals and (as root) a real full tmpfs."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from affine import Affine
from conftest import REPO, UTM19S

from volcdet.data.rasters import Grid, write_geotiff
from volcdet.inference.cli import main
from volcdet.learning.checkpoints import build_checkpoint, save_atomic
from volcdet.learning.model import ModelSpec, VolcanoClassifier
from volcdet.learning.transforms import InputTransform

MARKER = ".volcdet-written.json"  # what volcdet writes last into every folder it writes


def _model(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    spec = ModelSpec("test_resnet", input_size_px=32, hidden_units=8, dropout=0.0)
    save_atomic(
        build_checkpoint(
            VolcanoClassifier(spec).eval(), spec, InputTransform(pixel_size_m=200.0), {}, 1, 0.1
        ),
        path,
    )
    return path


def _map(path: Path, shape=(70, 80), seed: int = 0, x0: float = 500_000.0) -> Path:
    grid = Grid(UTM19S, Affine(200.0, 0, x0, 0, -200.0, 7_500_000.0), shape)
    write_geotiff(path, np.random.default_rng(seed).normal(0, 3, shape), grid, units="mm/yr")
    return path


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Two models, two small maps and one map that takes a minute to score."""
    root = tmp_path_factory.mktemp("reliability")
    _model(root / "model.pt")
    _model(root / "other_model.pt", seed=1)
    _map(root / "v.tif")
    _map(root / "elsewhere/v.tif", x0=520_000.0)
    _map(root / "slow.tif", shape=(600, 600))
    return root


def _predict(ws: Path, out: Path, *extra: str, map_path: Path | None = None) -> list[str]:
    return [
        "predict",
        str(map_path or ws / "v.tif"),
        "--model",
        str(ws / "model.pt"),
        "--out",
        str(out),
        "--period-yr",
        "5",
        "--stride",
        "16",
        *extra,
    ]


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its content."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in err if line.startswith("volcdet: ")]
    assert len(lines) == 1 and "Traceback" not in "\n".join(err), err
    return lines[0]


def _cli(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter; prints which heavy modules got imported."""
    code = (
        "import sys; from volcdet.inference.cli import main; rc = main(sys.argv[1:]); "
        "print('HEAVY', sorted(m for m in ('torch', 'rasterio', 'h5py') if m in sys.modules)); "
        "sys.exit(rc)"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        **kwargs,
    )


# --- --overwrite and --out -------------------------------------------------------------------


def test_overwrite_never_deletes_an_input_the_model_or_a_users_file(ws, tmp_path, capsys):
    folder = tmp_path / "D"
    (folder / "notes").mkdir(parents=True)
    shutil.copy(ws / "v.tif", folder / "v.tif")
    shutil.copy(ws / "model.pt", folder / "model.pt")
    (folder / "notes/field_notes.txt").write_text("Lascar, 3 March: fumarole temperatures")
    before = _files(folder)
    args = ["predict", str(folder / "v.tif"), "--model", str(folder / "model.pt")]
    status = main([*args, "--out", str(folder), "--overwrite", "--period-yr", "5"])
    line = _one_error_line(capsys)
    assert status == 2
    assert line.startswith(f"volcdet: error: {folder}: --out holds an input of this run (")
    assert _files(folder) == before


def test_overwrite_replaces_only_a_run_volcdet_wrote_unchanged(ws, tmp_path, capsys):
    users = tmp_path / "mine"
    users.mkdir()
    (users / "thesis.tex").write_text("\\chapter{Results}")
    assert main(_predict(ws, users, "--overwrite")) == 2
    assert _one_error_line(capsys) == (
        f"volcdet: error: {users}: --out exists and volcdet did not write it (no {MARKER}), so "
        "--overwrite will not replace it; move it away or name a new folder"
    )
    assert (users / "thesis.tex").read_text() == "\\chapter{Results}"

    run = tmp_path / "run"
    assert main(_predict(ws, run)) == 0
    listed = json.loads((run / MARKER).read_text())
    assert set(listed["files"]) == set(_files(run)) - {MARKER}
    (run / "v/my_notes.txt").write_text("keep me")
    assert main(_predict(ws, run, "--overwrite")) == 2
    assert "it holds v/my_notes.txt, which volcdet did not write" in _one_error_line(capsys)
    assert (run / "v/my_notes.txt").read_text() == "keep me"
    (run / "v/my_notes.txt").unlink()
    with open(run / "v/flagged.csv", "a") as file:
        file.write("# checked in the field\n")
    assert main(_predict(ws, run, "--overwrite")) == 2
    assert "v/flagged.csv changed since volcdet wrote it" in _one_error_line(capsys)
    (run / "v/flagged.csv").unlink()  # a file volcdet wrote may be gone: nothing is lost
    assert main(_predict(ws, run, "--overwrite")) == 0
    assert (run / "v/flagged.csv").is_file()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", ".: --out is the current folder or a folder above it; name a new folder"),
        ("..", "..: --out is the current folder or a folder above it; name a new folder"),
        ("data", "data: --out holds an input of this run (data/in/v.tif)"),
        ("data/in", "data/in: --out holds an input of this run (data/in/v.tif)"),
        ("models", "models: --out holds an input of this run (models/model.pt)"),
    ],
)
def test_out_that_would_hold_an_input_is_one_line_before_torch(ws, tmp_path, out, message):
    (tmp_path / "data/in").mkdir(parents=True)
    (tmp_path / "models").mkdir()
    shutil.copy(ws / "v.tif", tmp_path / "data/in/v.tif")
    shutil.copy(ws / "model.pt", tmp_path / "models/model.pt")
    before = _files(tmp_path)
    cwd = tmp_path / "data" if out == ".." else tmp_path
    map_path = "in/v.tif" if out == ".." else "data/in/v.tif"
    model = "../models/model.pt" if out == ".." else "models/model.pt"
    args = ["predict", map_path, "--model", model, "--out", out, "--overwrite", "--period-yr", "5"]
    result = _cli(args, cwd)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"volcdet: error: {message}"), lines
    assert "HEAVY []" in result.stdout  # before torch: nothing scored
    assert _files(tmp_path) == before


# --- --compare ---------------------------------------------------------------------------------


def _previous_run(ws: Path, folder: Path) -> Path:
    assert main(_predict(ws, folder)) == 0
    return folder


BROKEN_RUNS = {
    "flagged.csv without lon/lat": (
        "v/flagged.csv",
        b"input,probability\nv,0.9\n",
        "v/flagged.csv: lacks column(s) lon, lat",
    ),
    "flagged.csv of random bytes": (
        "v/flagged.csv",
        bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8)),
        "v/flagged.csv: not UTF-8 text (byte 0x",
    ),
    "flagged.csv with text as lon": (
        "v/flagged.csv",
        b"lon,lat\n-68.1,-22.5\nnorth,-22.6\n",
        "v/flagged.csv: row 3: lon 'north' is not a number",
    ),
    "flagged.csv missing": ("v/flagged.csv", None, "v/flagged.csv: --compare run is incomplete"),
    "summary not JSON": ("run_summary.json", b"{not json", "run_summary.json: not valid JSON"),
    "summary of random bytes": (
        "run_summary.json",
        b"\xff\xfe\x00garbage",
        "run_summary.json: not UTF-8 text (byte 0xff at offset 0)",
    ),
    "summary without inputs": (
        "run_summary.json",
        json.dumps({"format": "volcdet-run/1", "model": {"id": "sha256:0"}}).encode(),
        "run_summary.json: summary lacks the list of inputs",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_RUNS))
def test_a_bad_previous_run_is_one_line_naming_the_file_before_torch(ws, tmp_path, case):
    previous = _previous_run(ws, tmp_path / "before")
    name, content, message = BROKEN_RUNS[case]
    if content is None:
        (previous / name).unlink()
    else:
        (previous / name).write_bytes(content)
    result = _cli(_predict(ws, tmp_path / "now", "--compare", str(previous)), tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"volcdet: error: {previous}/{message}"), lines
    assert "HEAVY []" in result.stdout  # checked before torch was imported: nothing scored
    assert not (tmp_path / "now").exists()


def test_compare_stops_on_another_model_or_another_map_unless_compare_any(
    ws, tmp_path, capsys, caplog
):
    previous = _previous_run(ws, tmp_path / "before")
    other_model = [*_predict(ws, tmp_path / "a", "--compare", str(previous))]
    other_model[other_model.index("--model") + 1] = str(ws / "other_model.pt")
    assert main(other_model) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"volcdet: error: {previous / 'run_summary.json'}: not comparable: ")
    assert "the previous run was scored with model sha256:" in line
    assert line.endswith("; use --compare-any to compare anyway")
    assert not (tmp_path / "a").exists()

    other_map = _predict(
        ws, tmp_path / "b", "--compare", str(previous), map_path=ws / "elsewhere/v.tif"
    )
    assert main(other_map) == 2
    assert "input v was a map on another grid (EPSG:32719 70 x 80 px from (500000" in (
        _one_error_line(capsys)
    )
    renamed = tmp_path / "w.tif"
    shutil.copy(ws / "v.tif", renamed)
    assert main(_predict(ws, tmp_path / "c", "--compare", str(previous), map_path=renamed)) == 2
    assert "the previous run scored input(s) v, this run w" in _one_error_line(capsys)

    assert main([*other_map, "--compare-any"]) in (0, 3)
    assert "not comparable" in caplog.text  # a warning, and the comparison is made
    assert (tmp_path / "b/new_flags.csv").is_file()


# --- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real 3 MB tmpfs (root only; skipped elsewhere); unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
        check=False,
        capture_output=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> None:
    """Fill a file system until it has no byte left."""
    with open(disk / "filler", "wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC
    try:
        while True:
            with open(disk / "filler", "ab") as file:
                file.write(b"\0" * 512)
    except OSError as err:
        assert err.errno == errno.ENOSPC


def test_a_full_disk_is_one_line_and_the_previous_run_is_kept(ws, small_disk, capsys):
    run = small_disk / "run"
    assert main(_predict(ws, run)) == 0
    before = _files(run)
    assert main(["export", str(ws / "model.pt"), "--out", str(small_disk / "m.ts")]) == 0
    exported = (small_disk / "m.ts").read_bytes()
    _fill(small_disk)
    assert main(_predict(ws, run, "--overwrite")) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"volcdet: error: {run}: cannot write the outputs (No space left on")
    assert line.endswith(f"nothing was written and {run} is as it was")
    assert _files(run) == before
    status = main(
        ["export", str(ws / "model.pt"), "--out", str(small_disk / "m.ts"), "--overwrite"]
    )
    assert status == 2
    assert "m.ts: cannot write the export (" in _one_error_line(capsys)
    assert (small_disk / "m.ts").read_bytes() == exported
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "m.ts", "run"]


def test_a_failing_writer_loses_nothing(ws, tmp_path, capsys, monkeypatch):
    """The same without root: the output writer fails with ENOSPC half-way through a file."""
    from volcdet.inference import runs

    run = tmp_path / "run"
    assert main(_predict(ws, run)) == 0
    before = _files(run)

    def half_written(prediction, folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "probability.tif").write_bytes(b"II*\0")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "probability.tif"))

    monkeypatch.setattr(runs, "write_prediction", half_written)
    assert main(_predict(ws, run, "--overwrite")) == 2
    assert "cannot write the outputs (No space left on device: " in _one_error_line(capsys)
    assert _files(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# --- signals and leftovers of dead runs ---------------------------------------------------------


def _volcdet() -> list[str]:
    """The installed ``volcdet`` command of this interpreter (else ``python -m``)."""
    script = Path(sys.executable).parent / "volcdet"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "volcdet.inference.cli"]


def _start_slow_predict(ws: Path, out: Path, *extra: str) -> subprocess.Popen:
    """A real ``volcdet predict`` on a map that takes about a minute to score."""
    args = _predict(ws, out, "--stride", "8", *extra, map_path=ws / "slow.tif")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    # A shell's background job (``make test &``) starts with SIGINT ignored, and a child started
    # from it keeps ignoring it (Python then installs no KeyboardInterrupt handler): start the
    # child with the default disposition, as from a terminal.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        return subprocess.Popen(
            [*_volcdet(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _staging(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.staging-*"))


def _wait_for_staging(process: subprocess.Popen, out: Path, timeout_s: float = 240) -> None:
    """Wait until the run is scoring (its staging folder exists)."""
    deadline = time.monotonic() + timeout_s
    while not _staging(out):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no staging folder appeared: {process.communicate()[1][-2000:]}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_stops_predict_with_one_line_and_cleans_up(ws, tmp_path, signum, status):
    run = _previous_run(ws, tmp_path / "run")
    before = _files(run)
    process = _start_slow_predict(ws, run, "--overwrite")
    _wait_for_staging(process, run)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"volcdet: stopped by {signum.name}; nothing half-written was left, earlier outputs are "
        "as they were"
    )
    assert _staging(run) == []
    assert _files(run) == before


def test_leftovers_of_a_killed_run_are_removed_by_the_next_one(ws, tmp_path, caplog):
    out = tmp_path / "run"
    process = _start_slow_predict(ws, out)
    _wait_for_staging(process, out)
    process.kill()  # SIGKILL: no cleanup possible
    process.communicate(timeout=60)
    left = _staging(out)
    assert len(left) == 1
    from volcdet.core.folders import writer_tag

    live = tmp_path / f".run.staging-{writer_tag()}-abcdefgh"  # this test process: alive
    live.mkdir()
    foreign = tmp_path / ".run.staging-4242-17-some-other-host-abcdefgh"
    foreign.mkdir()
    assert main(_predict(ws, out)) == 0
    assert not left[0].exists()
    assert live.is_dir() and foreign.is_dir()
    assert "written on host some-other-host; kept" in caplog.text


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_output_folders_follow_the_umask(ws, tmp_path, umask):
    old = os.umask(umask)
    try:
        assert main(_predict(ws, tmp_path / "run")) == 0
        assert main(["export", str(ws / "model.pt"), "--out", str(tmp_path / "m.ts")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "run/v").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "run/v/flagged.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "m.ts").stat().st_mode & 0o777 == 0o666 & ~umask


# --- volcdet export ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("afolder", "afolder: --out is a folder; give the file to write (e.g. afolder/model.ts)"),
        ("missing/m.ts", "missing/m.ts: --out's folder {tmp}/missing does not exist"),
        ("model.pt", "model.pt: --out is the model file itself; name a new file"),
        ("notes.txt", "notes.txt: --out exists; use --overwrite to replace it"),
    ],
)
def test_export_destination_is_one_line_before_torch(ws, tmp_path, out, message):
    (tmp_path / "afolder").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    shutil.copy(ws / "model.pt", tmp_path / "model.pt")
    before = _files(tmp_path)
    result = _cli(["export", "model.pt", "--out", out], tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0] == f"volcdet: error: {message.format(tmp=tmp_path)}"
    assert "HEAVY []" in result.stdout
    assert _files(tmp_path) == before  # no temporary file anywhere


def test_export_is_quiet_replaces_only_an_export_and_leaves_no_temporary_file(ws, tmp_path):
    shutil.copy(ws / "model.pt", tmp_path / "model.pt")
    first = _cli(["export", "model.pt", "--out", "m.ts"], tmp_path)
    assert first.returncode == 0 and first.stderr == "", first.stderr  # no torch warnings
    again = _cli(["export", "model.pt", "--out", "m.ts", "--overwrite"], tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    (tmp_path / "notes.txt").write_text("mine")
    refused = _cli(["export", "model.pt", "--out", "notes.txt", "--overwrite"], tmp_path)
    assert refused.returncode == 2
    assert "notes.txt: --overwrite replaces only a TorchScript file volcdet exported" in (
        refused.stderr
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ts", "model.pt", "notes.txt"]


def test_run_summary_records_each_inputs_grid(ws, tmp_path):
    assert main(_predict(ws, tmp_path / "run")) == 0
    entry = json.loads((tmp_path / "run/run_summary.json").read_text())["inputs"][0]
    assert entry["input_transform"] == [200.0, 0.0, 500_000.0, 0.0, -200.0, 7_500_000.0]


def test_compare_may_name_the_run_it_replaces(ws, tmp_path):
    """The previous run is read into memory before scoring, so it can be the --out replaced."""
    run = _previous_run(ws, tmp_path / "run")
    assert main(_predict(ws, run, "--overwrite", "--compare", str(run))) == 0
    summary = json.loads((run / "run_summary.json").read_text())
    assert summary["new_flags"] == 0 and summary["compared_with"] == str(run)
