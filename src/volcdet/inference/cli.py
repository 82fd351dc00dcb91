"""Command line: ``volcdet predict`` scans velocity maps, ``volcdet export`` writes TorchScript."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from volcdet.core.errors import VolcdetError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="volcdet", description="Flag volcanic deformation in InSAR velocity maps."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="scan a velocity map with a trained model")
    predict.add_argument("velocity", type=Path, help="LOS velocity GeoTIFF (mm/yr, projected CRS)")
    predict.add_argument(
        "--los", type=Path, required=True, help="LOS unit-vector GeoTIFF on the same grid (3 bands)"
    )
    predict.add_argument("--model", type=Path, required=True, help="volcdet model file (.pt)")
    predict.add_argument("--out", type=Path, required=True, help="output folder")
    predict.add_argument(
        "--stride", type=int, default=64, help="window step in pixels (default 64)"
    )
    predict.add_argument("--batch-size", type=int, default=32)
    predict.add_argument(
        "--period-yr",
        type=float,
        default=5.0,
        help="stack period: velocity x period = displacement",
    )
    predict.add_argument(
        "--max-missing", type=float, default=0.5, help="skip windows with more missing values"
    )
    predict.add_argument(
        "--threshold", type=float, default=None, help="flag threshold (default: the model's)"
    )
    predict.add_argument(
        "--catalogue",
        type=Path,
        default=None,
        help="volcano CSV (name, lon, lat) for nearest names",
    )
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    export = commands.add_parser(
        "export", help="export a model with its input transform to TorchScript"
    )
    export.add_argument("model", type=Path)
    export.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad input, with a one-line message)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from volcdet.inference.export import export_torchscript
    from volcdet.inference.scan import ScanSpec, scan_velocity_map

    try:
        if args.command == "predict":
            spec = ScanSpec(
                args.stride,
                args.batch_size,
                args.period_yr,
                args.max_missing,
                args.device,
                args.threshold,
            )
            flagged = scan_velocity_map(
                args.velocity, args.los, args.model, args.out, spec, args.catalogue
            )
            print(f"{len(flagged)} window(s) flagged; outputs in {args.out}")
        else:
            print(f"TorchScript model written to {export_torchscript(args.model, args.out)}")
    except (VolcdetError, ValueError, FileNotFoundError, KeyError) as err:
        print(f"volcdet: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
