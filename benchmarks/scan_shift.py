"""Does a constant change what a scan flags? The demo maps shifted by +1, +2, +3 mm/yr.

Scans every track's velocity map of a finished run with a model file (default: the scan model
FT4 [last]) as it is and after adding a constant rate, and counts the windows whose flag
differs from the unshifted scan (the bar: at most 2% may differ). Reference levels of real maps
are arbitrary, so a detector must not depend on them.

Run after `make demo`:
  .venv/bin/python benchmarks/scan_shift.py . --model results/finetune/FT4/last/model.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.data.rasters import read_raster
from volcdet.data.region import load_region
from volcdet.inference.api import LoadedModel, load_model
from volcdet.inference.scan import padded_to_window, plan_windows, score_windows
from volcdet.inference.spec import ScanSpec

SHIFTS_MM_YR = (0.0, 1.0, 2.0, 3.0)


def flags_per_shift(
    loaded: LoadedModel, velocity: np.ndarray, period_yr: float
) -> list[np.ndarray]:
    """Flag of every scanned window at each shift of the velocity map."""
    spec = ScanSpec()
    flags = []
    for shift in SHIFTS_MM_YR:
        padded = padded_to_window(
            (velocity + np.float32(shift)) * np.float32(period_yr), loaded.window_px
        )
        windows = plan_windows(padded, velocity.shape, loaded.window_px, spec)
        scores = score_windows(loaded.model, loaded.transform, padded, windows, spec)
        flags.append(scores >= loaded.threshold)
    return flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="folder of a finished demo run")
    parser.add_argument("--model", type=Path, default=Path("results/finetune/FT4/last/model.pt"))
    args = parser.parse_args()
    region = load_region(args.run / "data/demo", check_rasters=False)
    loaded = load_model(args.run / args.model)
    rows = []
    for track in region.tracks:
        bands, _ = read_raster(track.velocity_path, expected_bands=1)
        flags = flags_per_shift(loaded, bands[0], track.period_yr)
        row = {"track": track.track_id, "windows": len(flags[0])}
        for shift, flag in zip(SHIFTS_MM_YR, flags, strict=True):
            row[f"flagged +{shift:g}"] = int(flag.sum())
            if shift:
                row[f"differ +{shift:g}"] = int((flag != flags[0]).sum())
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    total = table.drop(columns="track").sum()
    print(table.to_markdown(index=False))
    worst = max(total[f"differ +{s:g}"] for s in SHIFTS_MM_YR[1:])
    print(
        f"all tracks: {int(total.windows)} windows, at most {int(worst)} differ "
        f"({100 * worst / total.windows:.2f}%)"
    )


if __name__ == "__main__":
    main()
