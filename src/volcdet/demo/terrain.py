"""The demo's elevation model: Altiplano plateau, volcanic arc, western depression, cones, basins."""

from __future__ import annotations

import numpy as np

from volcdet.demo.confounders import aquifer_profile, local_window_xy, salt_lake_masks
from volcdet.demo.fields import fractal_field
from volcdet.demo.layout import Layout
from volcdet.demo.spec import DemoRegionSpec, Stream


def synthetic_dem_m(spec: DemoRegionSpec, layout: Layout) -> np.ndarray:
    """Elevation (m): plateau, N-S arc, western depression, fractal relief, cones, flat basins.

    A 3900 m plateau with a 900 m high arc along the ROI (the CVZ) that drops by 1300 m into a
    depression in the western strip (the Salar de Atacama basin at ~2300-2600 m). Relief
    follows a k^-3.4 spectrum (Huang & Turcotte 1989 report beta ~ 2-4 for DEMs) plus k^-3
    valleys stronger on high ground; stratovolcano cones h (1 - r/R)^1.6; salar floors and
    aquifer basins are flattened to their low ground.
    """
    rng = spec.stream(Stream.TERRAIN)
    east, _ = spec.east_north_m()
    p = spec.pixel_size_m
    _, _, roi_c0, roi_c1 = layout.roi_px
    arc_east = (0.5 * (roi_c0 + roi_c1) + 0.5) * p
    half_width = 0.5 * (roi_c1 - roi_c0) * p
    west_width = max(roi_c0 * p, 1.0)
    edge = roi_c0 * p - 0.25 * west_width
    depression = np.clip((edge - east) / (0.5 * west_width), 0.0, 1.0)
    profile = (
        3900.0
        + 900.0 * np.exp(-(((east - arc_east) / (0.6 * half_width)) ** 2))
        - 1300.0 * depression**2 * (3.0 - 2.0 * depression)
    )
    dem = np.broadcast_to(profile, spec.shape) + 280.0 * fractal_field(spec.shape, p, 3.4, rng)
    rough = np.abs(fractal_field(spec.shape, p, 3.0, rng))
    dem = dem + (160.0 + 0.2 * (dem - 3900.0).clip(0)) * rough
    rr, cc = np.ogrid[0 : spec.rows, 0 : spec.cols]
    for volcano in layout.volcanoes:
        reach = int(np.ceil(volcano.cone_radius_km * 1000.0 / p)) + 1
        r0, r1 = max(0, round(volcano.row) - reach), min(spec.rows, round(volcano.row) + reach + 1)
        c0, c1 = max(0, round(volcano.col) - reach), min(spec.cols, round(volcano.col) + reach + 1)
        r_km = np.hypot(rr[r0:r1] - volcano.row, cc[:, c0:c1] - volcano.col) * p / 1000.0
        dem[r0:r1, c0:c1] += (
            volcano.cone_height_m * np.clip(1.0 - r_km / volcano.cone_radius_km, 0.0, None) ** 1.6
        )
    for c in layout.confounders:
        if c.kind != "aquifer_subsidence":
            continue
        rows, cols, east_m, north_m = local_window_xy(spec, c, c.radius_km)
        basin = aquifer_profile(east_m, north_m, c)
        local = dem[rows, cols]
        floor = np.percentile(local[basin > 0.5], 10)
        dem[rows, cols] = local * (1.0 - basin) + (floor + 0.05 * (local - floor)) * basin
    for mask in salt_lake_masks(spec, layout.confounders):
        floor = np.percentile(dem[mask], 5)
        dem[mask] = floor + rng.normal(0.0, 0.5, int(mask.sum()))
    return dem.astype(np.float32)
