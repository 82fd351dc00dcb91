"""Flag deformation on a whole velocity map: sliding windows through a trained model.

The map (LOS velocity, mm/yr) becomes cumulative displacement over ``period_yr`` (the paper's
maps cover about 5 years), is cut into windows of the model's patch size at a chosen stride and
goes through the shared input transform and the model in batches. The probability map keeps, for
every pixel, the **maximum** probability of the windows that contain it (a pixel is flagged if any
window around it is). Windows with more than ``max_missing_fraction`` missing values are
skipped. Every input is checked before anything is written, and the outputs appear only when
all of them are complete.
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

from volcdet.phase import wrapped_phase_from_displacement
from volcdet.rasters import Grid, read_los_on_grid, read_raster, write_geotiff
from volcdet.training import model_from_checkpoint, resolve_device

log = logging.getLogger(__name__)

OUTPUT_FILES = ("probability.tif", "flagged.csv", "flagged.geojson", "quicklook.png")


@dataclass(frozen=True)
class ScanSpec:
    """Window stride, batch, stack period, missing-value limit, device; threshold from the model."""

    stride_px: int = 64
    batch_size: int = 32
    period_yr: float = 5.0
    max_missing_fraction: float = 0.5
    device: str = "auto"
    threshold: float | None = None


def window_origins(length: int, window: int, stride: int) -> list[int]:
    """Start offsets covering [0, length): every stride, plus a last window flush with the end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def _check_inputs(velocity_path: Path, los_path: Path) -> tuple[np.ndarray, Grid]:
    velocity, grid = read_raster(velocity_path, expected_bands=1)
    read_los_on_grid(los_path, grid, velocity_path)
    return velocity[0], grid


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
    velocity, grid = _check_inputs(velocity_path, los_path)
    model, transform, checkpoint = model_from_checkpoint(model_path)
    catalogue = pd.read_csv(catalogue_path) if catalogue_path else None
    threshold = (
        spec.threshold if spec.threshold is not None else float(checkpoint.get("threshold", 0.5))
    )
    window = model.spec.input_size_px * transform.downsample
    displacement = velocity * np.float32(spec.period_yr)
    rows, cols = grid.shape
    padded = np.full((max(rows, window), max(cols, window)), np.nan, np.float32)
    padded[:rows, :cols] = displacement
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
    device = resolve_device(spec.device)
    model.to(device).eval()
    probabilities = []
    with torch.no_grad():
        for start in tqdm(
            range(0, len(kept), spec.batch_size),
            desc=velocity_path.name,
            file=progress,
            mininterval=5.0,
        ):
            batch = np.stack(
                [
                    padded[r : r + window, c : c + window]
                    for (r, c), _ in kept[start : start + spec.batch_size]
                ]
            )
            probabilities.append(
                torch.sigmoid(model(transform(batch).to(device))).float().cpu().numpy()
            )
    probability = np.concatenate(probabilities) if probabilities else np.zeros(0, np.float32)
    prob_map = np.full(padded.shape, np.nan, np.float32)
    for ((r, c), _), p in zip(kept, probability, strict=True):
        view = prob_map[r : r + window, c : c + window]
        np.fmax(view, p, out=view)
    prob_map = prob_map[:rows, :cols]

    to_lonlat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    flagged_rows, features = [], []
    for ((r, c), miss), p in zip(kept, probability, strict=True):
        if p < threshold:
            continue
        x, y = grid.transform @ (c + window / 2, r + window / 2)
        lon, lat = to_lonlat.transform(x, y)
        name, distance = nearest_volcano(catalogue, lon, lat)
        flagged_rows.append(
            {
                "row0": r,
                "col0": c,
                "size_px": window,
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
            for dc, dr in ((0, 0), (window, 0), (window, window), (0, window), (0, 0))
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
    flagged = pd.DataFrame(
        flagged_rows,
        columns=[
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
        ],
    )
    flagged = flagged.sort_values("probability", ascending=False, kind="stable").reset_index(
        drop=True
    )

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
        _quicklook(
            displacement,
            prob_map,
            flagged,
            window,
            threshold,
            staging / "quicklook.png",
            velocity_path.name,
        )
        for name in OUTPUT_FILES:
            (staging / name).replace(out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "%s: %d windows scored (%d skipped for missing data), %d flagged at p >= %.2f",
        velocity_path,
        len(kept),
        len(origins) - len(kept),
        len(flagged),
        threshold,
    )
    return flagged


def _quicklook(
    displacement: np.ndarray,
    prob_map: np.ndarray,
    flagged: pd.DataFrame,
    window: int,
    threshold: float,
    out_png: Path,
    title: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, (ax_phase, ax_prob) = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
    ax_phase.imshow(
        wrapped_phase_from_displacement(displacement),
        cmap="twilight_shifted",
        vmin=-np.pi,
        vmax=np.pi,
    )
    ax_phase.set_title("wrapped cumulative LOS displacement")
    image = ax_prob.imshow(prob_map, cmap="magma", vmin=0, vmax=1)
    ax_prob.set_title(
        f"probability of deformation (max over windows); {len(flagged)} flagged at {threshold:.2f}"
    )
    for ax in (ax_phase, ax_prob):
        for row in flagged.itertuples():
            ax.add_patch(
                Rectangle((row.col0, row.row0), window, window, fill=False, ec="cyan", lw=0.6)
            )
    fig.colorbar(image, ax=ax_prob, shrink=0.7)
    fig.suptitle(title)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)


class ProbabilityModule(torch.nn.Module):
    """Displacement (B, H, W) in mm -> probability (B,): transform and network in one module."""

    def __init__(self, model: torch.nn.Module, transform: object) -> None:
        super().__init__()
        self.model = model
        self.transform = transform

    def forward(self, displacement_mm: torch.Tensor) -> torch.Tensor:
        """Probability of volcanic deformation per patch."""
        return torch.sigmoid(self.model(self.transform(displacement_mm)))


def export_torchscript(model_path: Path, out_path: Path) -> Path:
    """Trace the model with its input transform to TorchScript for use outside Python."""
    model, transform, checkpoint = model_from_checkpoint(model_path)
    size = model.spec.input_size_px * transform.downsample
    module = ProbabilityModule(model, transform).eval()
    example = torch.randn(2, size, size) * 20.0
    with torch.no_grad():
        traced = torch.jit.trace(module, example, check_trace=False)
    extra = {
        "volcdet.json": json.dumps(
            {
                "model_spec": checkpoint["model_spec"],
                "transform": checkpoint["transform"],
                "threshold": checkpoint.get("threshold", 0.5),
                "patch_size_px": size,
            }
        )
    }
    tmp = Path(out_path).with_name(f".{Path(out_path).name}.tmp")
    torch.jit.save(traced, str(tmp), _extra_files=extra)
    tmp.replace(out_path)
    return Path(out_path)
