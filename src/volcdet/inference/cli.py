"""Command line: ``volcdet predict``, ``volcdet export`` and ``volcdet region import``.

Every argument is checked before torch or any raster library is imported, so a typo is answered
at once; every failure is one line ``volcdet: error: <file or option>: <problem>`` with exit
status 2. ``predict --compare`` exits 3 when there are flags new since the previous run. SIGINT
(Ctrl-C) and SIGTERM stop a command with one line and exit 130 / 143, after removing what it had
begun to write (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import csv
import glob
import logging
import math
import os
import re
import signal
import sys
import threading
from pathlib import Path

from volcdet.core.errors import VolcdetError
from volcdet.core.folders import check_output_folder
from volcdet.data.contract import (
    CATALOGUE_COLUMNS,
    REGION_KIND,
    SCAN_TRACK_COLUMNS,
    ProductSource,
    period_yr_of_iso_dates,
    track_id_problem,
)
from volcdet.inference.destinations import check_export_destination, check_run_out
from volcdet.inference.previous_run import read_previous_run
from volcdet.inference.spec import ScanSpec
from volcdet.models import is_reference, resolve_model

EXIT_BAD_INPUT = 2
EXIT_NEW_FLAGS = 3
#: Exit status after a signal: 128 + its number, as shells report it.
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM
UNITS = ("mm/yr", "cm/yr", "m/yr")


class UsageError(VolcdetError):
    """A bad command-line argument (named in the message)."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that a command removes what it began to write."""


def _raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM handler: unwind like Ctrl-C does (staging folders and temporary files go)."""
    raise Terminated


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``volcdet: error: <message>`` and exit 2 (no usage block)."""
        print(f"volcdet: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _positive_years(text: str) -> float:
    """argparse type of --period-yr: a positive, finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of years, got {text}")
    return value


def _nodata(text: str) -> float | str:
    """argparse type of --nodata: a number, or 'none' (no value stands for missing data)."""
    if text.strip().lower() == "none":
        return "none"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number or 'none', got {text!r}") from None
    return "none" if math.isnan(value) else value


def _parser() -> argparse.ArgumentParser:
    """The volcdet argument parser (predict, export, region import)."""
    parser = _Parser(
        prog="volcdet", description="Flag volcanic deformation in InSAR velocity maps."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_predict(commands)
    export = commands.add_parser(
        "export", help="export a model with its input transform to TorchScript"
    )
    export.add_argument("model", type=Path)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument(
        "--overwrite", action="store_true", help="replace a file volcdet exported before"
    )
    region = commands.add_parser("region", help="region folders of the data contract")
    region_commands = region.add_subparsers(
        dest="region_command", required=True, parser_class=_Parser
    )
    _add_region_import(region_commands)
    return parser


def _add_predict(commands: argparse._SubParsersAction) -> None:
    """Arguments of ``volcdet predict``."""
    predict = commands.add_parser(
        "predict",
        help="scan velocity maps (LiCSBAS cum.h5/.nc/.tif, MintPy .h5, any GeoTIFF) with a model",
    )
    predict.add_argument(
        "inputs",
        type=Path,
        nargs="*",
        help="velocity products (a file, a LiCSBAS TS_* folder, a DISP-S1 stack folder or quoted "
        "glob), one output folder each",
    )
    predict.add_argument(
        "--tracks", type=Path, help="tracks.csv (track_id, velocity[, los, start, end]) to scan"
    )
    predict.add_argument(
        "--los",
        type=Path,
        action="append",
        help="LOS raster per input, in input order (3-band GeoTIFF, one file of an E/N/U set: "
        "LiCSAR .geo.E.tif, LiCSBAS E.geo or E.geo.tif; MintPy geometryGeo.h5; OPERA "
        "line_of_sight_enu.tif or los_east.tif); optional, found beside LiCSBAS and OPERA inputs",
    )
    predict.add_argument(
        "--mask",
        type=Path,
        action="append",
        help="MintPy mask file per input (maskTempCoh.h5; 0 = no data); default: the one "
        "beside the velocity file",
    )
    _add_reading_options(predict)
    _add_scan_options(predict)


def _add_reading_options(predict: argparse.ArgumentParser) -> None:
    """How ``volcdet predict`` reads its inputs: no-data value, checks, unit, period."""
    predict.add_argument(
        "--nodata",
        type=_nodata,
        default=None,
        help="the value that marks missing data in the inputs, or 'none' (default: common "
        "no-data values such as -9999 the file does not declare become no data)",
    )
    predict.add_argument(
        "--force",
        action="store_true",
        help="score maps that fail the plausibility checks (scale, unit, DEM-like values)",
    )
    predict.add_argument(
        "--units", choices=UNITS, help="velocity unit of inputs that do not state it"
    )
    predict.add_argument(
        "--period-yr",
        type=_positive_years,
        default=None,
        help="stack period (default: from the file's dates; required for plain GeoTIFFs)",
    )


def _add_scan_options(predict: argparse.ArgumentParser) -> None:
    """The model, outputs and scanning options of ``volcdet predict``."""
    predict.add_argument(
        "--model",
        default=None,
        help="volcdet model file (.pt); default or 'reference': the reference model shipped "
        "with volcdet (docs/model_card.md)",
    )
    predict.add_argument("--out", type=Path, required=True, help="output folder of the run")
    predict.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out, only if volcdet wrote all of it",
    )
    predict.add_argument(
        "--stride", type=int, default=64, help="window step in pixels (default 64)"
    )
    predict.add_argument("--batch-size", type=int, default=32)
    predict.add_argument(
        "--max-missing",
        type=float,
        default=0.9,
        help="skip windows with a larger share of the map's pixels missing (default 0.9)",
    )
    predict.add_argument(
        "--threshold", type=float, default=None, help="flag threshold (default: the model's)"
    )
    predict.add_argument("--catalogue", type=Path, help="volcano CSV (name, lon, lat)")
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    predict.add_argument(
        "--compare", type=Path, help="previous run folder: list new flags, exit 3 if any"
    )
    predict.add_argument(
        "--compare-any",
        action="store_true",
        help="compare even when the previous run used another model or scored other maps",
    )


def _add_region_import(commands: argparse._SubParsersAction) -> None:
    """Arguments of ``volcdet region import``."""
    region_import = commands.add_parser(
        "import", help="build a region folder from LiCSBAS/MintPy outputs of several tracks"
    )
    region_import.add_argument("out", type=Path, help="region folder to create")
    region_import.add_argument(
        "--track",
        action="append",
        required=True,
        metavar="ID=PATH[,key=value...]",
        help="a track: its id and product (LiCSBAS cum.h5, MintPy geo_velocity.h5, GeoTIFF); "
        "keys: los, pass, ifgs (glob of YYYYMMDD_YYYYMMDD GeoTIFFs), ifg_units (mm|m|rad), "
        "units, start, end",
    )
    region_import.add_argument("--volcanoes", type=Path, required=True, help="catalogue CSV")
    region_import.add_argument("--roi", type=Path, required=True, help="ROI polygon GeoJSON")
    region_import.add_argument("--salt-lakes", type=Path, help="optional salt-lake polygons")
    region_import.add_argument(
        "--pixel-size-m",
        type=float,
        default=200.0,
        help="pixel size of the region's grids in metres (default 200, the paper's)",
    )
    region_import.add_argument(
        "--max-interferograms",
        type=int,
        default=10,
        help="epoch-difference interferograms per LiCSBAS track (default 10)",
    )
    region_import.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a region folder volcdet imported before, only if it holds nothing else",
    )


def _require_file(path: Path, option: str) -> None:
    """UsageError unless ``path`` is an existing file."""
    if not path.exists():
        raise UsageError(f"{path}: file not found ({option})")
    if not path.is_file():
        raise UsageError(f"{path}: not a file ({option})")


def _require_input(path: Path) -> None:
    """UsageError unless an input map exists: a file, a folder, or a glob matching a file."""
    if path.exists():
        return
    if any(c in path.name for c in "*?[") and any(Path(p).is_file() for p in glob.glob(str(path))):
        return
    raise UsageError(f"{path}: file not found (input)")


def _csv_header(path: Path, option: str) -> list[str]:
    """The header row of a CSV file (csv module: no pandas import)."""
    _require_file(path, option)
    try:
        with open(path, newline="") as file:
            return next(csv.reader(file), [])
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not a readable CSV table ({err})") from err


def _check_writable(out: Path, option: str = "--out") -> None:
    """An output folder's nearest existing parent must be a writable folder."""
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{out}: {option} is not writable ({parent} is a file)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{out}: {option} is not writable ({parent} does not allow writing)")


def _input_name(path: Path) -> str:
    """A path-safe folder name from a product file name (a glob: its folder's name)."""
    name = path.parent.resolve().name if any(c in path.name for c in "*?[") else path.name
    for suffix in (".tif", ".tiff", ".h5", ".he5", ".nc", ".geo"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name) or "map"


def input_names(paths: list[Path]) -> list[str]:
    """Folder names of the inputs: file stems, prefixed by their folder where stems repeat."""
    names = [_input_name(p) for p in paths]
    if len(set(names)) < len(names):
        names = [
            f"{_input_name(p.resolve().parent)}_{n}" for p, n in zip(paths, names, strict=True)
        ]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def _track_period(record: dict, period_given: float | None, where: str) -> float | None:
    """A --tracks row's period: the one given, else from its start and end dates, else None."""
    if period_given is not None or not (record.get("start") and record.get("end")):
        return period_given
    try:
        return period_yr_of_iso_dates(record["start"], record["end"])
    except ValueError as err:
        raise UsageError(f"{where}: {err}") from None


def _track_inputs(
    tracks: Path, period_given: float | None, units: str | None
) -> list[ProductSource]:
    """The maps of a tracks table given to --tracks (mm/yr unless ``units``), paths relative to
    the table's folder."""
    header = _csv_header(tracks, "--tracks")
    missing = [c for c in SCAN_TRACK_COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{tracks}: --tracks table lacks column(s) {', '.join(missing)}")
    sources = []
    with open(tracks, newline="") as file:
        for record in csv.DictReader(file):
            track = record["track_id"]
            problem = track_id_problem(track)
            if problem:
                raise UsageError(f"{tracks}: {problem}")
            velocity = tracks.parent / record["velocity"]
            _require_file(velocity, f"--tracks {track}")
            los = tracks.parent / record["los"] if record.get("los") else None
            if los is not None:
                _require_file(los, f"--tracks {track} los")
            period = _track_period(record, period_given, f"{tracks}: track {track}")
            sources.append(ProductSource(track, velocity, los, units or "mm/yr", period))
    if not sources:
        raise UsageError(f"{tracks}: --tracks table has no rows")
    return sources


def check_predict_args(args: argparse.Namespace) -> tuple[list[ProductSource], ScanSpec]:
    """Every check of ``volcdet predict`` that needs no heavy import; (inputs, spec) or UsageError."""
    from volcdet.inference.spec import ScanSpec

    spec = ScanSpec(args.stride, args.batch_size, args.max_missing, args.device, args.threshold)
    if not args.inputs and args.tracks is None:
        raise UsageError("predict: give at least one input map or --tracks")
    for path in args.inputs:
        _require_input(path)
    los = list(args.los or [])
    if los and len(los) != len(args.inputs):
        raise UsageError(
            f"--los: given {len(los)} time(s) for {len(args.inputs)} input(s); give one per input"
        )
    for path in los:
        _require_file(path, "--los")
    masks = list(args.mask or [])
    if masks and len(masks) != len(args.inputs):
        raise UsageError(
            f"--mask: given {len(masks)} time(s) for {len(args.inputs)} input(s); give one per "
            "input"
        )
    for path in masks:
        _require_file(path, "--mask")
    args.model = resolve_model(args.model)
    if is_reference(args.model) and not args.model.is_file():
        raise UsageError(
            f"--model: the reference model is not installed ({args.model}); run "
            "`make reference-model` or give --model FILE"
        )
    _require_file(args.model, "--model")
    if args.catalogue is not None:
        missing = [
            c for c in CATALOGUE_COLUMNS if c not in _csv_header(args.catalogue, "--catalogue")
        ]
        if missing:
            raise UsageError(f"{args.catalogue}: --catalogue lacks column(s) {', '.join(missing)}")
    items = [
        ProductSource(
            name,
            path,
            los=los[i] if los else None,
            period_yr=args.period_yr,
            mask=masks[i] if masks else None,
        )
        for i, (name, path) in enumerate(zip(input_names(args.inputs), args.inputs, strict=True))
    ]
    if args.tracks is not None:
        items += _track_inputs(args.tracks, args.period_yr, args.units)
    names = [item.name for item in items]
    if len(set(names)) < len(names):
        raise UsageError(f"predict: two inputs would share the output folder name ({names})")
    _check_predict_out(args, items)
    return items, spec


def _check_predict_out(args: argparse.Namespace, items: list[ProductSource]) -> None:
    """--out, --overwrite, --compare and --compare-any, before anything is read or scored."""
    reads = [args.model, *(p for item in items for p in (item.path, item.los) if p is not None)]
    reads += [p for p in (args.catalogue, args.tracks) if p is not None]
    check_run_out(args.out, args.overwrite, reads)
    _check_writable(args.out)
    if args.compare_any and args.compare is None:
        raise UsageError("--compare-any: only with --compare")
    if args.compare is not None:
        read_previous_run(args.compare)  # completely, so a bad previous run costs no scoring


def _predict(args: argparse.Namespace) -> int:
    """``volcdet predict``: check everything, then import the scanner and run."""
    items, spec = check_predict_args(args)
    from volcdet.inference.runs import run_predict

    result = run_predict(
        items,
        args.model,
        args.out,
        spec,
        units=args.units,
        catalogue_path=args.catalogue,
        overwrite=args.overwrite,
        compare_to=args.compare,
        nodata=args.nodata,
        force=args.force,
        compare_any=args.compare_any,
    )
    print(
        f"{result.summary['flagged']} window(s) flagged in {len(items)} map(s); outputs in {args.out}"
    )
    if result.new_flags is not None and len(result.new_flags):
        print(f"{len(result.new_flags)} flag(s) new since {args.compare}:")
        print(result.new_flags.to_string(index=False))
        return EXIT_NEW_FLAGS
    return 0


def _region_import(args: argparse.Namespace) -> int:
    """``volcdet region import``: check the arguments, then build the region."""
    reads = [p for p in (args.volcanoes, args.roi, args.salt_lakes) if p is not None]
    check_output_folder(args.out, reads, args.overwrite, REGION_KIND, "region folder")
    _check_writable(args.out, "region folder")
    for path, option in ((args.volcanoes, "--volcanoes"), (args.roi, "--roi")):
        _require_file(path, option)
    if args.salt_lakes is not None:
        _require_file(args.salt_lakes, "--salt-lakes")
    if not (math.isfinite(args.pixel_size_m) and args.pixel_size_m > 0):
        raise UsageError(
            f"--pixel-size-m: must be a positive number of metres, got {args.pixel_size_m}"
        )
    if args.max_interferograms < 1:
        raise UsageError(f"--max-interferograms: must be >= 1, got {args.max_interferograms}")
    from volcdet.data.products.region_import import import_region, parse_track_source

    sources = [parse_track_source(text) for text in args.track]
    import_region(
        sources,
        args.volcanoes,
        args.roi,
        args.out,
        args.pixel_size_m,
        max_interferograms=args.max_interferograms,
        salt_lakes=args.salt_lakes,
        overwrite=args.overwrite,
    )
    print(f"region folder written to {args.out} ({len(sources)} track(s))")
    return 0


def _export(args: argparse.Namespace) -> int:
    """``volcdet export``: TorchScript of a model file."""
    _require_file(args.model, "model")
    check_export_destination(args.model, args.out, args.overwrite)
    from volcdet.inference.export import export_torchscript

    path = export_torchscript(args.model, args.out, overwrite=args.overwrite)
    print(f"TorchScript model written to {path}")
    return 0


class _OneLine(logging.Filter):
    """Fold a GDAL message (logged by rasterio) onto one line, prefixed 'GDAL:'."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record; rewrite those of rasterio's loggers."""
        if record.name.startswith("rasterio"):
            message = " ".join(record.getMessage().split())
            record.msg, record.args = f"GDAL: {message}", None
        return True


def _gdal_messages_one_line() -> None:
    """GDAL's messages reach the terminal as one line each and only from WARNING up: the
    errors it signals while volcdet opens a file are already in volcdet's own one-line error."""
    logging.getLogger("rasterio").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _OneLine) for f in handler.filters):
            handler.addFilter(_OneLine())


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad input with a one-line message, 3 on new flags)."""
    parser = _parser()
    try:
        args, rest = parser.parse_known_args(argv)
        if rest and (args.command != "predict" or any(a.startswith("-") for a in rest)):
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if rest:  # input maps given after options: argparse leaves them over
            args.inputs = [*args.inputs, *map(Path, rest)]
    except SystemExit as exit_:
        return int(exit_.code or 0)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    _gdal_messages_one_line()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return _run(args)
    except KeyboardInterrupt:
        return _stopped("SIGINT", EXIT_SIGINT)
    except Terminated:
        return _stopped("SIGTERM", EXIT_SIGTERM)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen command; a bad input is one line and exit status 2."""
    try:
        if args.command == "predict":
            return _predict(args)
        if args.command == "region":
            return _region_import(args)
        return _export(args)
    except (VolcdetError, ValueError, FileNotFoundError, KeyError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"volcdet: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _stopped(name: str, status: int) -> int:
    """One line after a signal stopped a command (what it began to write is already removed)."""
    print(
        f"volcdet: stopped by {name}; nothing half-written was left, earlier outputs are as "
        "they were",
        file=sys.stderr,
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
