"""Are maps smaller than a window scored like full maps? Clips of the demo tracks, per clip size.

Cuts square clips of every demo track, 16, 30, 40 and 51.2 km on a side: around each deforming
demo volcano (centred on its catalogued position) and around deformation-free places (the
quiet volcanoes and seeded random places, every clip at least 2 km from any deforming
footprint), wholly inside the track's map. Each clip goes through ``volcdet.inference.api.predict``
(the function behind ``volcdet predict``) as a map of its own, with the track's stack period, and
counts as flagged when any window reaches the model's threshold. Prints, per model and clip
size, the share of deforming volcanoes detected (split into clips that hold the whole
deformation footprint, side >= 2 x ``deformation_radius_km``, and clips that cut it), their
median probability, and the share of deformation-free clips flagged.

Run after `make demo` (default: every model of the run):
  .venv/bin/python benchmarks/clip_detection.py . [--models results/finetune/FT4/last/model.pt]
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from volcdet.core.random import Purpose, stream
from volcdet.data.rasters import Grid, read_raster
from volcdet.data.region import load_region, lonlat_to_grid_xy
from volcdet.inference.api import dataarray_on, load_model, predict
from volcdet.inference.spec import ScanSpec

SIDES_KM = (16.0, 30.0, 40.0, 51.2)
#: Deformation-free clips keep this distance (km) from every deforming footprint.
MARGIN_KM = 2.0
#: Seed of the random deformation-free places (benchmark only).
SEED = 20231
#: Where predict's progress bars go (one per clip would flood the terminal).
QUIET = open(os.devnull, "w")  # noqa: SIM115


def model_paths(run: Path) -> dict[str, Path]:
    """Model id -> file of every model of a finished run (synthetic and fine-tuned)."""
    paths = {"synthetic": run / "results/models/synthetic/best.pt"}
    for path in sorted((run / "results/finetune").glob("*/*/model.pt")):
        paths[f"{path.parent.parent.name}_{path.parent.name}"] = path
    return {k: v for k, v in paths.items() if v.is_file()}


def square_distance_m(cx: float, cy: float, half: float, px: np.ndarray, py: np.ndarray):
    """Distance (m) from points to an axis-aligned square (0 inside)."""
    dx = np.maximum(np.abs(px - cx) - half, 0.0)
    dy = np.maximum(np.abs(py - cy) - half, 0.0)
    return np.hypot(dx, dy)


def clip_sites(region, track, grid, velocity: np.ndarray, side_km: float, n_random: int):
    """(kind, name, x, y, radius_km) of every clip of one size on one track's map."""
    volcanoes = region.volcanoes
    vx, vy = lonlat_to_grid_xy(grid, volcanoes.lon.to_numpy(), volcanoes.lat.to_numpy())
    deforming = volcanoes.deforming.to_numpy() == 1
    radius_m = volcanoes.deformation_radius_km.to_numpy() * 1000.0
    half = side_km * 500.0
    sites = [
        ("deforming" if d else "quiet", name, x, y, r / 1000.0)
        for name, x, y, d, r in zip(volcanoes.name, vx, vy, deforming, radius_m, strict=True)
    ]
    rng = stream(SEED, Purpose.GALLERY, int(side_km * 10) + 1000 * len(track.track_id))
    left, top = grid.transform * (0, 0)
    right, bottom = grid.transform * (grid.shape[1], grid.shape[0])
    for k in range(n_random):
        x = rng.uniform(min(left, right) + half, max(left, right) - half)
        y = rng.uniform(min(top, bottom) + half, max(top, bottom) - half)
        sites.append(("random", f"random {k}", x, y, 0.0))
    kept = []
    for kind, name, x, y, r in sites:
        window = clip_window(grid, x, y, half)
        if window is None:
            continue
        r0, r1, c0, c1 = window
        if np.isnan(velocity[r0:r1, c0:c1]).mean() > 0.05:
            continue
        if kind != "deforming":
            gap = square_distance_m(x, y, half, vx[deforming], vy[deforming]) - radius_m[deforming]
            if (gap < MARGIN_KM * 1000.0).any():
                continue
        kept.append((kind, name, x, y, r, window))
    return kept


def clip_window(grid, x: float, y: float, half: float) -> tuple[int, int, int, int] | None:
    """Pixel bounds (r0, r1, c0, c1) of the square of half side ``half`` (m) around (x, y), or
    None when it leaves the map."""
    col, row = ~grid.transform * (x, y)
    size = round(2 * half / abs(grid.transform.a))
    r0, c0 = round(row - size / 2), round(col - size / 2)
    if r0 < 0 or c0 < 0 or r0 + size > grid.shape[0] or c0 + size > grid.shape[1]:
        return None
    return r0, r0 + size, c0, c0 + size


def score_clips(
    run: Path, models: dict[str, Path], n_random: int, stride_px: int = 64
) -> pd.DataFrame:
    """One row per (model, clip): its kind, size, footprint radius, max probability, flag."""
    region = load_region(run / "data/demo", check_rasters=False)
    loaded = {name: load_model(path) for name, path in models.items()}
    spec = ScanSpec(stride_px=stride_px, batch_size=64, device="cpu")
    rows = []
    for track in region.tracks:
        bands, grid = read_raster(track.velocity_path, expected_bands=1)
        velocity = bands[0]
        for side in SIDES_KM:
            for kind, name, _x, _y, radius, (r0, r1, c0, c1) in clip_sites(
                region, track, grid, velocity, side, n_random
            ):
                clip_grid = Grid(grid.crs, grid.window_transform(r0, c0), (r1 - r0, c1 - c0))
                data: xr.DataArray = dataarray_on(
                    velocity[r0:r1, c0:c1], clip_grid, "velocity", {"units": "mm/yr"}
                )
                for model_name, model in loaded.items():
                    result = predict(
                        data, model, period_yr=track.period_yr, spec=spec, name=name, progress=QUIET
                    )
                    p = float(np.nanmax(result.probability_model_grid.to_numpy()))
                    rows.append(
                        {
                            "model": model_name,
                            "track": track.track_id,
                            "side_km": side,
                            "kind": kind,
                            "site": name,
                            "radius_km": radius,
                            "whole_footprint": kind == "deforming" and side >= 2 * radius,
                            "probability": p,
                            "flagged": len(result.flags) > 0,
                        }
                    )
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Per model and clip size: detection shares, median probability, false-alarm share."""
    rows = []
    for (model, side), part in scores.groupby(["model", "side_km"], sort=False):
        deforming = part[part.kind == "deforming"]
        whole = deforming[deforming.whole_footprint]
        cut = deforming[~deforming.whole_footprint]
        free = part[part.kind != "deforming"]
        rows.append(
            {
                "model": model,
                "clip side (km)": side,
                "deforming detected %": _share(deforming.flagged),
                "whole footprint detected %": _share(whole.flagged),
                "cut footprint detected %": _share(cut.flagged),
                "median p deforming": round(float(deforming.probability.median()), 4)
                if len(deforming)
                else float("nan"),
                "deformation-free flagged %": _share(free.flagged),
            }
        )
    return pd.DataFrame(rows)


def operating_points(scores: pd.DataFrame, false_alarm_bar: float = 5.0) -> pd.DataFrame:
    """Per model: the lowest threshold at which deformation-free clips of every size are flagged
    at most ``false_alarm_bar`` percent, and the whole-footprint detection per size there."""
    rows = []
    for model, part in scores.groupby("model", sort=False):
        free = part[part.kind != "deforming"]
        candidates = np.unique(np.append(np.nextafter(free.probability.to_numpy(), 2.0), 0.0))
        threshold = next(
            t for t in candidates if _worst_flagged_percent(free, t) <= false_alarm_bar
        )
        row = {"model": model, "threshold": round(float(threshold), 4)}
        for side, clips in part[part.whole_footprint].groupby("side_km"):
            detected = 100 * float((clips.probability >= threshold).mean())
            row[f"whole detected {side:g} km %"] = round(detected, 1)
        row["worst free flagged %"] = round(_worst_flagged_percent(free, threshold), 1)
        rows.append(row)
    return pd.DataFrame(rows)


def _worst_flagged_percent(free: pd.DataFrame, threshold: float) -> float:
    """The largest share (%) of deformation-free clips at or above ``threshold`` over sizes."""
    flagged = free.probability.to_numpy() >= threshold
    return float(100 * pd.Series(flagged).groupby(free.side_km.to_numpy()).mean().max())


def _share(flags: pd.Series) -> str:
    return f"{100 * flags.mean():.1f} ({len(flags)})" if len(flags) else "- (0)"


def parse_models(run: Path, given: list[str] | None) -> dict[str, Path]:
    """Model id -> file: NAME=PATH pairs (a bare PATH is named after its folder), or every
    model of the run."""
    if not given:
        return model_paths(run)
    models = {}
    for item in given:
        name, _, path = item.rpartition("=")
        file = Path(path)
        models[name or f"{file.parent.parent.name}_{file.parent.name}"] = file
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", default=Path("."), help="a finished run")
    parser.add_argument(
        "--models", nargs="*", help="NAME=PATH model files (default: every model of the run)"
    )
    parser.add_argument("--random", type=int, default=12, help="random places per track and size")
    parser.add_argument("--stride", type=int, default=64, help="window stride (px), as predict's")
    parser.add_argument("--out", type=Path, help="write the per-clip scores to this CSV")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    scores = score_clips(args.run, parse_models(args.run, args.models), args.random, args.stride)
    if args.out:
        scores.to_csv(args.out, index=False)
    print(summarise(scores).to_markdown(index=False))
    print("\nLowest threshold with at most 5% of deformation-free clips flagged at every size:")
    print(operating_points(scores).to_markdown(index=False))


if __name__ == "__main__":
    main()
