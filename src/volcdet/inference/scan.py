"""Flag deformation on a whole velocity map: sliding windows through a trained model.

The map (LOS velocity, mm/yr, already on the model's grid: ``volcdet.data.products``) becomes
cumulative displacement over the stack period, is cut into windows of the model's patch size at a
chosen stride and goes through the shared input transform and the model in batches. The
probability map keeps, for every pixel, the **maximum** probability of the windows that contain
it (a pixel is flagged if any window around it is). Windows with more than
``max_missing_fraction`` missing values are skipped. A map smaller than a window in a direction
is centred in the window there, with no data around it, because training places its valid data
around the window centre, where every simulated source sits (partial-coverage windows,
``volcdet.simulation.coverage``); a flag is located on the map's own valid pixels inside its
window. Window origins are on the map's grid: negative where a small map is centred.

The scan is a chain of named steps: ``plan_windows`` -> ``score_windows`` ->
``aggregate_probability`` -> ``flag_windows``; ``volcdet.inference.api.predict`` runs them after
reading and reprojecting the product, ``volcdet.inference.outputs`` writes the results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, mapping
from shapely.geometry import box as shapely_box
from shapely.geometry.polygon import orient
from tqdm import tqdm

from volcdet.data.rasters import Grid
from volcdet.inference.spec import ScanSpec
from volcdet.learning.device import resolve_device
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform

log = logging.getLogger(__name__)

FLAG_COLUMNS = (
    "row0",
    "col0",
    "size_px",
    "box_row0",
    "box_col0",
    "box_row1",
    "box_col1",
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
class PaddedMap:
    """A map padded with NaN to at least one window per direction, centred where it is smaller:
    map pixel (r, c) is ``values[r + row_offset, c + col_offset]``."""

    values: np.ndarray
    row_offset: int
    col_offset: int

    def window(self, row0: int, col0: int, size: int) -> np.ndarray:
        """The window whose upper-left corner is map pixel (row0, col0)."""
        r, c = row0 + self.row_offset, col0 + self.col_offset
        return self.values[r : r + size, c : c + size]


@dataclass(frozen=True)
class Windows:
    """The windows kept for scoring: upper-left (row, col) origins on the map grid (negative
    where a small map is centred in its window) and their missing fraction."""

    size_px: int
    origins: list[tuple[int, int]]
    missing_fraction: list[float]
    n_planned: int


def window_origins(length: int, window: int, stride: int) -> list[int]:
    """Start offsets covering [0, length): every stride, plus a last window flush with the end;
    a map no longer than a window gets one window centred on it (a negative start)."""
    if length <= window:
        return [-((window - length) // 2)]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def padded_to_window(displacement: np.ndarray, window: int) -> PaddedMap:
    """The map padded with NaN up to at least one window in each direction, centred."""
    rows, cols = displacement.shape
    row_offset, col_offset = max(0, (window - rows) // 2), max(0, (window - cols) // 2)
    padded = np.full((max(rows, window), max(cols, window)), np.nan, np.float32)
    padded[row_offset : row_offset + rows, col_offset : col_offset + cols] = displacement
    return PaddedMap(padded, row_offset, col_offset)


def plan_windows(
    padded: PaddedMap, map_shape: tuple[int, int], window: int, spec: ScanSpec
) -> Windows:
    """Windows at the spec's stride whose missing share (over map pixels only) is acceptable."""
    rows, cols = map_shape
    origins = [
        (r, c)
        for r in window_origins(rows, window, spec.stride_px)
        for c in window_origins(cols, window, spec.stride_px)
    ]
    # Missing values are counted over map pixels only: padding around a small map is not missing.
    inside = PaddedMap(np.zeros(padded.values.shape, bool), padded.row_offset, padded.col_offset)
    inside.values[
        padded.row_offset : padded.row_offset + rows, padded.col_offset : padded.col_offset + cols
    ] = True
    nan_inside = PaddedMap(
        np.isnan(padded.values) & inside.values, padded.row_offset, padded.col_offset
    )
    missing = [
        float(nan_inside.window(r, c, window).sum() / inside.window(r, c, window).sum())
        for r, c in origins
    ]
    kept = [(o, m) for o, m in zip(origins, missing, strict=True) if m <= spec.max_missing_fraction]
    return Windows(window, [o for o, _ in kept], [m for _, m in kept], len(origins))


def score_windows(
    model: VolcanoClassifier,
    transform: InputTransform,
    padded: PaddedMap,
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
                    padded.window(r, c, size)
                    for r, c in windows.origins[start : start + spec.batch_size]
                ]
            )
            probabilities.append(
                torch.sigmoid(model(transform(batch).to(device))).float().cpu().numpy()
            )
    return np.concatenate(probabilities) if probabilities else np.zeros(0, np.float32)


def aggregate_probability(
    padded: PaddedMap,
    map_shape: tuple[int, int],
    windows: Windows,
    probability: np.ndarray,
) -> np.ndarray:
    """Per-pixel maximum probability of the windows containing it (NaN where none was scored)."""
    prob_map = PaddedMap(
        np.full(padded.values.shape, np.nan, np.float32), padded.row_offset, padded.col_offset
    )
    size = windows.size_px
    for (r, c), p in zip(windows.origins, probability, strict=True):
        view = prob_map.window(r, c, size)
        np.fmax(view, p, out=view)
    r0, c0 = padded.row_offset, padded.col_offset
    return prob_map.values[r0 : r0 + map_shape[0], c0 : c0 + map_shape[1]]


def haversine_km(
    lon1: float | np.ndarray, lat1: float | np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance (km) on a 6371 km sphere (haversine formula), degrees in."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, np.float64)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def nearest_volcano(catalogue: pd.DataFrame | None, lon: float, lat: float) -> tuple[str, float]:
    """Name and great-circle distance (km) of the nearest catalogued volcano."""
    if catalogue is None or catalogue.empty:
        return "", float("nan")
    distance = haversine_km(lon, lat, catalogue.lon.to_numpy(), catalogue.lat.to_numpy())
    k = int(np.argmin(distance))
    return str(catalogue.name.iloc[k]), float(distance[k])


def valid_box(valid: np.ndarray, row0: int, col0: int, size: int) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1), ends exclusive, of the valid map pixels inside a window (whose
    origin is negative where a small map is centred in it)."""
    row0, col0, size_r, size_c = (
        max(row0, 0),
        max(col0, 0),
        size + min(row0, 0),
        size + min(col0, 0),
    )
    inside = valid[row0 : row0 + size_r, col0 : col0 + size_c]
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if rows.size == 0:  # cannot happen for a scored window; fall back to the window in the map
        return row0, col0, min(row0 + size_r, valid.shape[0]), min(col0 + size_c, valid.shape[1])
    return (
        row0 + int(rows[0]),
        col0 + int(cols[0]),
        row0 + int(rows[-1]) + 1,
        col0 + int(cols[-1]) + 1,
    )


def flag_windows(
    windows: Windows,
    probability: np.ndarray,
    grid: Grid,
    valid: np.ndarray,
    threshold: float,
    catalogue: pd.DataFrame | None,
    properties: dict[str, object] | None = None,
    footprint: Polygon | None = None,
) -> tuple[pd.DataFrame, list[dict]]:
    """Windows at or above the threshold: a table (highest first) and GeoJSON features (lon/lat).

    Each flag is located on the box of valid map pixels inside its window (``valid`` is the
    map's finite mask on ``grid``): its centre, lon/lat, nearest volcano and GeoJSON polygon are
    those of that box, so padding or holes never move a flag off the data. The polygon is also
    clipped to ``footprint`` (the input's valid area in ``grid``'s CRS), so it never reaches a
    model-grid cell beyond the input, and is split at the antimeridian (RFC 7946, section
    3.1.9). ``properties`` (model id, threshold, period, input) are added to every row and
    feature.
    """
    size = windows.size_px
    to_lonlat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    extra = dict(properties or {})
    flagged_rows, features = [], []
    for (r, c), miss, p in zip(windows.origins, windows.missing_fraction, probability, strict=True):
        if p < threshold:
            continue
        br0, bc0, br1, bc1 = valid_box(valid, r, c, size)
        x, y = grid.transform @ ((bc0 + bc1) / 2, (br0 + br1) / 2)
        lon, lat = to_lonlat.transform(x, y)
        name, distance = nearest_volcano(catalogue, lon, lat)
        row = {
            "row0": r,
            "col0": c,
            "size_px": size,
            "box_row0": br0,
            "box_col0": bc0,
            "box_row1": br1,
            "box_col1": bc1,
            "centre_x": float(x),
            "centre_y": float(y),
            "lon": float(lon),
            "lat": float(lat),
            "probability": float(p),
            "missing_fraction": miss,
            "nearest_volcano": name,
            "nearest_volcano_km": distance,
        } | extra
        flagged_rows.append(row)
        box = box_polygon(grid, br0, bc0, br1, bc1)
        if footprint is not None:
            clipped = box.intersection(footprint)
            box = clipped if clipped.area > 0 else box
        features.append(
            {
                "type": "Feature",
                "geometry": lonlat_geometry(box, to_lonlat),
                "properties": {k: v for k, v in row.items() if k not in ("centre_x", "centre_y")},
            }
        )
    flagged = pd.DataFrame(flagged_rows, columns=[*FLAG_COLUMNS, *extra])
    order = np.argsort(-flagged["probability"].to_numpy(), kind="stable")
    return flagged.iloc[order].reset_index(drop=True), [features[k] for k in order]


#: Points per edge when a polygon's straight map edges are carried to lon/lat.
EDGE_POINTS = 8


def box_polygon(grid: Grid, row0: int, col0: int, row1: int, col1: int) -> Polygon:
    """The map-coordinate polygon of a pixel box (ends exclusive) on ``grid``."""
    corners = [
        grid.transform @ (col, row)
        for col, row in ((col0, row0), (col1, row0), (col1, row1), (col0, row1))
    ]
    return Polygon(corners)


def _polygons(geometry: object) -> list[Polygon]:
    """The polygons of a shapely geometry (drops points and lines of degenerate clips)."""
    if isinstance(geometry, Polygon):
        return [geometry] if not geometry.is_empty else []
    if isinstance(geometry, (MultiPolygon, GeometryCollection)):
        return [p for g in geometry.geoms for p in _polygons(g)]
    return []


def lonlat_geometry(polygon: object, to_lonlat: Transformer) -> dict:
    """GeoJSON geometry (lon/lat, exterior rings counterclockwise) of a map polygon.

    Edges are densified before the transform (straight map edges are curves in lon/lat). A
    polygon crossing the antimeridian is cut there into a MultiPolygon whose parts stay on
    each side of 180 deg (RFC 7946, section 3.1.9).
    """
    parts = []
    for part in _polygons(polygon):
        side = max(part.length / (4 * EDGE_POINTS), 1e-6)
        xs, ys = np.asarray(part.exterior.segmentize(side).coords).T
        lon, lat = (np.asarray(v) for v in to_lonlat.transform(xs, ys))
        if np.ptp(lon) > 180.0:  # the ring jumps from +180 to -180
            unwrapped = Polygon(zip(np.where(lon < 0, lon + 360.0, lon), lat, strict=True))
            west = unwrapped.intersection(shapely_box(-180.0, -90.0, 180.0, 90.0))
            east = affinity.translate(
                unwrapped.intersection(shapely_box(180.0, -90.0, 540.0, 90.0)), xoff=-360.0
            )
            parts += _polygons(west) + _polygons(east)
        else:
            parts.append(Polygon(zip(lon, lat, strict=True)))
    parts = [orient(p, sign=1.0) for p in parts if p.area > 0]
    if len(parts) == 1:
        return mapping(parts[0])
    return mapping(MultiPolygon(parts))
