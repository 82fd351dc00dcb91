"""Flag deformation on a whole velocity map: sliding windows through a trained model.

The map (LOS velocity, mm/yr) becomes cumulative displacement over ``period_yr`` (the paper's
maps cover about 5 years), is cut into windows of the model's patch size at a chosen stride and
goes through the shared input transform and the model in batches. The probability map keeps, for
every pixel, the **maximum** probability of the windows that contain it (a pixel is flagged if any
window around it is). Windows with more than ``max_missing_fraction`` missing values are
skipped. Every input is checked before anything is written, and the outputs appear only when
all of them are complete.

The scan is a chain of named steps that readers of other products and the Python API reuse:
``read_and_check`` -> ``plan_windows`` -> ``score_windows`` -> ``aggregate_probability`` ->
``flag_windows`` -> ``write_outputs``; ``scan_velocity_map`` runs them in order.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pyproj import Transformer
from tqdm import tqdm

from volcdet.data.rasters import Grid, read_los_on_grid, read_raster, write_geotiff
from volcdet.inference.quicklook import quicklook
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.device import resolve_device
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)

OUTPUT_FILES = ("probability.tif", "flagged.csv", "flagged.geojson", "quicklook.png")
FLAG_COLUMNS = (
    "row0",
    "col0",
    "size_px",
    "centre_x",
    "centre_y",
    "lon",
    "lat",
    "probability",
    "missing_fraction",
    "nearest_volcano",
    "nearest_volcano_km",
)


@dataclass(frozen=True)
class ScanSpec:
    """Window stride, batch, stack period, missing-value limit, device; threshold from the model."""

    stride_px: int = 64
    batch_size: int = 32
    period_yr: float = 5.0
    max_missing_fraction: float = 0.5
    device: str = "auto"
    threshold: float | None = None


@dataclass(frozen=True)
class Windows:
    """The windows kept for scoring: upper-left (row, col) origins and their missing fraction."""

    size_px: int
    origins: list[tuple[int, int]]
    missing_fraction: list[float]
    n_planned: int


def window_origins(length: int, window: int, stride: int) -> list[int]:
    """Start offsets covering [0, length): every stride, plus a last window flush with the end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def read_and_check(velocity_path: Path, los_path: Path) -> tuple[np.ndarray, Grid]:
    """Velocity map (mm/yr, 2-D) and its grid; the LOS raster must share the grid."""
    velocity, grid = read_raster(velocity_path, expected_bands=1)
    read_los_on_grid(los_path, grid, velocity_path)
    return velocity[0], grid


def padded_to_window(displacement: np.ndarray, window: int) -> np.ndarray:
    """The map padded with NaN up to at least one window in each direction."""
    rows, cols = displacement.shape
    padded = np.full((max(rows, window), max(cols, window)), np.nan, np.float32)
    padded[:rows, :cols] = displacement
    return padded


def plan_windows(
    padded: np.ndarray, map_shape: tuple[int, int], window: int, spec: ScanSpec
) -> Windows:
    """Windows at the spec's stride whose missing share (over map pixels only) is acceptable."""
    rows, cols = map_shape
    origins = [
        (r, c)
        for r in window_origins(rows, window, spec.stride_px)
        for c in window_origins(cols, window, spec.stride_px)
    ]
    # Missing values are counted over map pixels only: padding around a small map is not missing.
    inside = np.zeros(padded.shape, bool)
    inside[:rows, :cols] = True
    nan_inside = np.isnan(padded) & inside
    missing = [
        float(
            nan_inside[r : r + window, c : c + window].sum()
            / inside[r : r + window, c : c + window].sum()
        )
        for r, c in origins
    ]
    kept = [(o, m) for o, m in zip(origins, missing, strict=True) if m <= spec.max_missing_fraction]
    return Windows(window, [o for o, _ in kept], [m for _, m in kept], len(origins))


def score_windows(
    model: VolcanoClassifier,
    transform: InputTransform,
    padded: np.ndarray,
    windows: Windows,
    spec: ScanSpec,
    desc: str = "scan",
    progress: object | None = None,
) -> np.ndarray:
    """Probability of deformation of every planned window (float32, in window order)."""
    device = resolve_device(spec.device)
    model.to(device).eval()
    size = windows.size_px
    probabilities = []
    with torch.no_grad():
        for start in tqdm(
            range(0, len(windows.origins), spec.batch_size),
            desc=desc,
            file=progress,
            mininterval=5.0,
        ):
            batch = np.stack(
                [
                    padded[r : r + size, c : c + size]
                    for r, c in windows.origins[start : start + spec.batch_size]
                ]
            )
            probabilities.append(
                torch.sigmoid(model(transform(batch).to(device))).float().cpu().numpy()
            )
    return np.concatenate(probabilities) if probabilities else np.zeros(0, np.float32)


def aggregate_probability(
    padded_shape: tuple[int, int],
    map_shape: tuple[int, int],
    windows: Windows,
    probability: np.ndarray,
) -> np.ndarray:
    """Per-pixel maximum probability of the windows containing it (NaN where none was scored)."""
    prob_map = np.full(padded_shape, np.nan, np.float32)
    size = windows.size_px
    for (r, c), p in zip(windows.origins, probability, strict=True):
        view = prob_map[r : r + size, c : c + size]
        np.fmax(view, p, out=view)
    return prob_map[: map_shape[0], : map_shape[1]]


def nearest_volcano(catalogue: pd.DataFrame | None, lon: float, lat: float) -> tuple[str, float]:
    """Name and great-circle distance (km, haversine on a 6371 km sphere) of the nearest volcano."""
    if catalogue is None or catalogue.empty:
        return "", float("nan")
    lon1, lat1 = np.radians(lon), np.radians(lat)
    lon2, lat2 = np.radians(catalogue.lon.to_numpy()), np.radians(catalogue.lat.to_numpy())
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    distance = 2 * 6371.0 * np.arcsin(np.sqrt(a))
    k = int(np.argmin(distance))
    return str(catalogue.name.iloc[k]), float(distance[k])


def flag_windows(
    windows: Windows,
    probability: np.ndarray,
    grid: Grid,
    threshold: float,
    catalogue: pd.DataFrame | None,
) -> tuple[pd.DataFrame, list[dict]]:
    """Windows at or above the threshold: a table (highest first) and GeoJSON features (lon/lat)."""
    size = windows.size_px
    to_lonlat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    flagged_rows, features = [], []
    for (r, c), miss, p in zip(windows.origins, windows.missing_fraction, probability, strict=True):
        if p < threshold:
            continue
        x, y = grid.transform @ (c + size / 2, r + size / 2)
        lon, lat = to_lonlat.transform(x, y)
        name, distance = nearest_volcano(catalogue, lon, lat)
        flagged_rows.append(
            {
                "row0": r,
                "col0": c,
                "size_px": size,
                "centre_x": x,
                "centre_y": y,
                "lon": lon,
                "lat": lat,
                "probability": float(p),
                "missing_fraction": miss,
                "nearest_volcano": name,
                "nearest_volcano_km": distance,
            }
        )
        corners = [
            grid.transform @ (c + dc, r + dr)
            for dc, dr in ((0, 0), (size, 0), (size, size), (0, size), (0, 0))
        ]
        ring = [list(to_lonlat.transform(*xy)) for xy in corners]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    k: v for k, v in flagged_rows[-1].items() if k not in ("centre_x", "centre_y")
                },
            }
        )
    flagged = pd.DataFrame(flagged_rows, columns=list(FLAG_COLUMNS))
    flagged = flagged.sort_values("probability", ascending=False, kind="stable").reset_index(
        drop=True
    )
    return flagged, features


def write_outputs(
    out_dir: Path,
    grid: Grid,
    displacement: np.ndarray,
    prob_map: np.ndarray,
    flagged: pd.DataFrame,
    features: list[dict],
    window: int,
    threshold: float,
    title: str,
) -> None:
    """Write the four outputs into a staging folder, then move them into ``out_dir`` together."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".scan-", dir=out_dir))
    try:
        write_geotiff(
            staging / "probability.tif",
            prob_map,
            grid,
            ["probability_of_deformation"],
            units="probability",
        )
        flagged.to_csv(staging / "flagged.csv", index=False)
        (staging / "flagged.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features})
        )
        quicklook(
            displacement,
            prob_map,
            flagged,
            window,
            threshold,
            staging / "quicklook.png",
            title,
        )
        for name in OUTPUT_FILES:
            (staging / name).replace(out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def scan_velocity_map(
    velocity_path: Path,
    los_path: Path,
    model_path: Path,
    out_dir: Path,
    spec: ScanSpec,
    catalogue_path: Path | None = None,
    progress: object | None = None,
) -> pd.DataFrame:
    """Write probability.tif, flagged.csv, flagged.geojson and quicklook.png; return the flags."""
    velocity_path, los_path, out_dir = Path(velocity_path), Path(los_path), Path(out_dir)
    velocity, grid = read_and_check(velocity_path, los_path)
    model, transform, checkpoint = model_from_checkpoint(model_path)
    catalogue = pd.read_csv(catalogue_path) if catalogue_path else None
    threshold = (
        spec.threshold if spec.threshold is not None else float(checkpoint.get("threshold", 0.5))
    )
    window = model.spec.input_size_px * transform.downsample
    displacement = velocity * np.float32(spec.period_yr)
    padded = padded_to_window(displacement, window)
    windows = plan_windows(padded, grid.shape, window, spec)
    probability = score_windows(
        model, transform, padded, windows, spec, desc=velocity_path.name, progress=progress
    )
    prob_map = aggregate_probability(padded.shape, grid.shape, windows, probability)
    flagged, features = flag_windows(windows, probability, grid, threshold, catalogue)
    write_outputs(
        out_dir,
        grid,
        displacement,
        prob_map,
        flagged,
        features,
        window,
        threshold,
        velocity_path.name,
    )
    log.info(
        "%s: %d windows scored (%d skipped for missing data), %d flagged at p >= %.2f",
        velocity_path,
        len(windows.origins),
        windows.n_planned - len(windows.origins),
        len(flagged),
        threshold,
    )
    return flagged
