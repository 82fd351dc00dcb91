"""The previous run of ``volcdet predict --compare``: read and checked completely up front.

Its ``run_summary.json`` and the ``flagged.csv`` of every input it lists are read into memory
before anything is scored (so a bad previous run costs no scoring time, and the previous run
may even be the ``--out`` that this run replaces). Every message names the file. Only the
standard library is used, so the command line checks it before torch is imported.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

from volcdet.core.errors import VolcdetError

RUN_FORMAT = "volcdet-run/1"
SUMMARY_FILE = "run_summary.json"
FLAGS_FILE = "flagged.csv"
#: Columns of a previous run's flagged.csv that the comparison reads.
FLAG_COLUMNS = ("lon", "lat")


class PreviousRunError(VolcdetError):
    """A ``--compare`` folder that is not a complete, readable volcdet predict run."""


@dataclass(frozen=True)
class PreviousRun:
    """A previous run: its folder, summary, and the (lon, lat) of every flag per input name."""

    path: Path
    summary: dict
    flags: dict[str, list[tuple[float, float]]]

    @property
    def summary_path(self) -> Path:
        """Where the summary was read from (named in every message about the comparison)."""
        return self.path / SUMMARY_FILE

    @property
    def model_id(self) -> str:
        """Id of the model that scored the previous run."""
        return str(self.summary["model"]["id"])

    @property
    def inputs(self) -> dict[str, dict]:
        """The previous run's input records by folder name."""
        return {entry["name"]: entry for entry in self.summary["inputs"]}


def _text(path: Path) -> str:
    """A file's content as UTF-8 text; PreviousRunError naming the file otherwise."""
    if not path.is_file():
        raise PreviousRunError(f"{path}: --compare run is incomplete (file not found)")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PreviousRunError(f"{path}: cannot read it ({err.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PreviousRunError(
            f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "not a file volcdet wrote"
        ) from None


def read_summary(folder: Path) -> dict:
    """The checked ``run_summary.json`` of a previous run."""
    path = folder / SUMMARY_FILE
    if not folder.is_dir():
        raise PreviousRunError(f"{folder}: --compare folder not found")
    if not path.is_file():
        raise PreviousRunError(
            f"{folder}: --compare is not a volcdet predict run (no {SUMMARY_FILE})"
        )
    try:
        summary = json.loads(_text(path))
    except json.JSONDecodeError as err:
        raise PreviousRunError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(summary, dict) or summary.get("format") != RUN_FORMAT:
        found = summary.get("format") if isinstance(summary, dict) else type(summary).__name__
        raise PreviousRunError(f"{path}: not a {RUN_FORMAT} summary (found {found})")
    model, inputs = summary.get("model"), summary.get("inputs")
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        raise PreviousRunError(f"{path}: summary lacks the model id (model.id)")
    if not isinstance(inputs, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in inputs
    ):
        raise PreviousRunError(f"{path}: summary lacks the list of inputs (inputs[].name)")
    for entry in inputs:
        if not entry["name"] or "/" in entry["name"] or entry["name"].startswith("."):
            raise PreviousRunError(f"{path}: input name {entry['name']!r} is not a folder name")
    return summary


def _coordinate(value: str, path: Path, row: int, column: str, limit: float) -> float:
    """A finite lon or lat within +-limit from a CSV cell, or PreviousRunError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PreviousRunError(f"{path}: row {row}: {column} {value!r} is not a number") from None
    if not (math.isfinite(number) and abs(number) <= limit):
        raise PreviousRunError(f"{path}: row {row}: {column} {value!r} is out of range")
    return number


def read_flags(path: Path) -> list[tuple[float, float]]:
    """(lon, lat) of every row of a previous run's ``flagged.csv``, checked."""
    text = _text(path)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise PreviousRunError(f"{path}: not a readable CSV table ({err})") from None
    if not rows:
        raise PreviousRunError(f"{path}: empty file, not a flagged.csv volcdet wrote")
    header = rows[0]
    missing = [c for c in FLAG_COLUMNS if c not in header]
    if missing:
        raise PreviousRunError(f"{path}: lacks column(s) {', '.join(missing)}")
    lon, lat = header.index("lon"), header.index("lat")
    flags = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise PreviousRunError(
                f"{path}: row {number} has {len(row)} field(s), the header {len(header)}"
            )
        flags.append(
            (
                _coordinate(row[lon], path, number, "lon", 360.0),
                _coordinate(row[lat], path, number, "lat", 90.0),
            )
        )
    return flags


def read_previous_run(folder: Path | str) -> PreviousRun:
    """A previous run read completely: its summary and every input's flags."""
    folder = Path(folder)
    summary = read_summary(folder)
    flags = {e["name"]: read_flags(folder / e["name"] / FLAGS_FILE) for e in summary["inputs"]}
    return PreviousRun(folder, summary, flags)


def _grid_text(entry: dict) -> str:
    """'EPSG:32719 70 x 80 px' (+ origin when recorded) of a run-summary input record."""
    rows, cols = (entry.get("input_shape") or [None, None])[:2]
    text = f"{entry.get('input_crs')} {rows} x {cols} px"
    transform = entry.get("input_transform")
    return f"{text} from ({transform[2]:g}, {transform[5]:g})" if transform else text


def comparison_problems(
    previous: PreviousRun, model_id: str, current: dict[str, dict]
) -> list[str]:
    """Why this run and a previous one do not compare: another model, other input names, or a
    map of the same name on another grid (``current``: this run's input records by name)."""
    problems = []
    if previous.model_id != model_id:
        problems.append(
            f"the previous run was scored with model {previous.model_id}, this run with {model_id}"
        )
    before = previous.inputs
    if set(before) != set(current):
        problems.append(
            f"the previous run scored input(s) {', '.join(sorted(before)) or 'none'}, this run "
            f"{', '.join(sorted(current))}"
        )
    for name in sorted(set(before) & set(current)):
        keys = [k for k in ("input_crs", "input_shape", "input_transform") if k in before[name]]
        if any(before[name][k] != current[name][k] for k in keys):
            problems.append(
                f"input {name} was a map on another grid ({_grid_text(before[name])}, now "
                f"{_grid_text(current[name])})"
            )
    return problems
