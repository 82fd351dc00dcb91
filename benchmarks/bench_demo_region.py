"""Wall time of the demo region (default config size) and of its parts, one thread.

Times ``build_scene`` (layout with the deforming sources, DEM, confounders, creep, salt lakes),
one track's time series and velocity (all acquisitions summed in the Fourier domain), one
interferogram, and the whole ``generate_demo_region`` into a temporary folder (7 tracks, rasters
written). Run: .venv/bin/python benchmarks/bench_demo_region.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from volcdet.demo.region import build_scene, generate_demo_region, track_series
from volcdet.demo.spec import DEMO_TRACKS, DemoRegionSpec


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<48s} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    spec = DemoRegionSpec(pixel_size_m=200.0)
    print(
        f"grid {spec.rows} x {spec.cols}, tracks {spec.track_width_px} px wide, "
        f"{spec.epochs_per_track} acquisitions per track"
    )
    with threadpool_limits(1):
        scene = timed("build_scene (layout, DEM, ground motion)", lambda: build_scene(spec))
        track_id, pass_direction = DEMO_TRACKS[0]
        series = timed(
            f"track_series {track_id}",
            lambda: track_series(spec, scene, 0, pass_direction, spec.track_offsets_px()[0])[0],
        )
        timed("velocity (least-squares rate of the series)", series.velocity)
        timed("one interferogram (full track, then cropped)", lambda: series.interferogram(0, 1))
        with tempfile.TemporaryDirectory() as tmp:
            timed(
                "generate_demo_region (7 tracks, all files)",
                lambda: generate_demo_region(Path(tmp), spec),
            )


if __name__ == "__main__":
    main()
