"""Layout of the demo region: frame spacing of the deforming volcanoes, rates, footprints, confounders."""

from __future__ import annotations

import numpy as np
import pytest

from volcdet.core.constants import FRINGE_MM
from volcdet.demo.layout import build_layout
from volcdet.demo.shapes import SHAPE_NAMES
from volcdet.demo.spec import DemoRegionSpec
from volcdet.demo.volcanoes import (
    MAX_FOOTPRINT_M,
    Source,
    Volcano,
    frame_conflicts,
    peak_rates_mm_yr,
)

TINY = {
    "pixel_size_m": 200.0,
    "rows": 768,
    "cols": 1024,
    "track_width_px": 768,
    "frame_size_px": 256,
    "epochs_per_track": 8,
    "interferograms_per_track": 1,
    "interferogram_size_px": 128,
}


@pytest.fixture(scope="module")
def default_layout():
    return build_layout(DemoRegionSpec(pixel_size_m=200.0))


def _deforming(layout):
    return [v for v in layout.volcanoes if v.deforming]


def test_default_region_has_every_shape_and_at_least_ten_deforming_volcanoes(default_layout):
    deforming = _deforming(default_layout)
    assert len(deforming) >= 10
    assert {v.source.shape for v in deforming} == set(SHAPE_NAMES)
    assert len(default_layout.volcanoes) > len(deforming)  # quiet volcanoes too


def test_volcano_count_scales_with_the_region():
    assert len(_deforming(build_layout(DemoRegionSpec(**TINY)))) < len(
        _deforming(
            build_layout(
                DemoRegionSpec(**TINY | {"rows": 1280, "cols": 1536, "track_width_px": 1280})
            )
        )
    )


@pytest.mark.parametrize(
    "spec",
    [
        DemoRegionSpec(seed=3, pixel_size_m=200.0),
        DemoRegionSpec(**TINY),
        DemoRegionSpec(seed=5, **TINY),
    ],
    ids=["default-seed3", "tiny-seed20231", "tiny-seed5"],
)
def test_no_deforming_volcano_or_footprint_reaches_another_ones_frame(spec):
    layout = build_layout(spec)
    deforming = _deforming(layout)
    half_m = spec.frame_size_px // 2 * spec.pixel_size_m
    for a in deforming:
        for b in deforming:
            if a is b:
                continue
            # distance from b's centre to a's frame square (in metres, pixel-centre coordinates)
            dr = max(abs(b.row - a.row) * spec.pixel_size_m - half_m, 0.0)
            dc = max(abs(b.col - a.col) * spec.pixel_size_m - half_m, 0.0)
            assert np.hypot(dr, dc) > layout.footprints_km[b.name] * 1000.0 + spec.pixel_size_m
    assert (
        frame_conflicts(
            layout.volcanoes, layout.footprints_km, spec.frame_size_px, spec.pixel_size_m
        )
        == []
    )


def test_frame_conflicts_finds_volcanoes_too_close():
    source = Source("off_centre", 4000.0, 3.0, 1)
    a = Volcano("A", 500.0, 500.0, 1000.0, 5.0, source)
    b = Volcano("B", 500.0, 800.0, 1000.0, 5.0, source)  # 300 px east: 44 px outside A's frame
    footprints = {"A": 5.0, "B": 10.0}  # B's footprint (50 px) reaches into A's frame
    assert frame_conflicts([a, b], footprints, 512, 200.0) == [
        "B (footprint 10.0 km) in the frame of A"
    ]
    assert frame_conflicts([a, b], {"A": 5.0, "B": 8.0}, 512, 200.0) == []


@pytest.mark.parametrize("n", [4, 10, 12, 20])
def test_rates_span_2_to_15_mm_yr_mostly_below_one_fringe(n):
    rates = np.array(peak_rates_mm_yr(n))
    stack_yr = 5.0
    assert rates.min() == 2.0 and rates.max() <= 15.0 and len(rates) == n
    assert (rates * stack_yr < FRINGE_MM).mean() > 0.5


def test_catalogued_rates_and_senses(default_layout):
    sources = [v.source for v in _deforming(default_layout)]
    rates = np.array([s.peak_rate_mm_yr for s in sources])
    assert rates.min() >= 2.0 and rates.max() <= 15.0 and (rates < 5.5).mean() > 0.5
    senses = {s.shape: set() for s in sources}
    for s in sources:
        senses[s.shape].add(s.sense)
    assert senses["geothermal_subsidence"] == {-1} and senses["sombrero"] == {1}
    assert -1 in senses["off_centre"] and 1 in senses["off_centre"]


def test_footprints_are_where_the_signal_is(default_layout):
    """|u| reaches 20% of its peak near the footprint's edge and not beyond it."""
    spec = DemoRegionSpec(pixel_size_m=200.0)
    enu = default_layout.volcanic_enu_mm_yr
    magnitude = np.sqrt((enu.astype(np.float64) ** 2).sum(axis=0))
    rr, cc = np.ogrid[0 : spec.rows, 0 : spec.cols]
    for v in _deforming(default_layout):
        radius_px = default_layout.footprints_km[v.name] * 1000 / spec.pixel_size_m
        assert 0 < radius_px * spec.pixel_size_m <= MAX_FOOTPRINT_M
        distance = np.hypot(rr - v.row, cc - v.col)
        near = distance < radius_px + 60
        peak = magnitude[near].max()
        assert peak == pytest.approx(v.source.peak_rate_mm_yr, rel=0.02)
        outside = near & (distance > radius_px + 1)
        ring = near & (distance > radius_px - 10) & (distance <= radius_px + 1)
        assert magnitude[outside].max() < 0.21 * peak
        assert magnitude[ring].max() >= 0.19 * peak


def test_confounders_inside_and_outside_the_roi(default_layout):
    inside = {c.kind for c in default_layout.confounders if c.in_roi}
    outside = {c.kind for c in default_layout.confounders if not c.in_roi}
    assert inside == {"landslide", "aquifer_subsidence", "fault_creep", "salt_lake"}
    assert outside == {"landslide", "aquifer_subsidence", "fault_creep", "salt_lake"}
    _, _, col0, col1 = default_layout.roi_px
    for c in default_layout.confounders:
        assert c.in_roi == (col0 <= c.col < col1)
    # confounders keep clear of the deforming footprints
    km = 1000.0 / DemoRegionSpec(pixel_size_m=200.0).pixel_size_m
    for c in default_layout.confounders:
        for v in _deforming(default_layout):
            gap = np.hypot(c.row - v.row, c.col - v.col) / km
            assert gap > default_layout.footprints_km[v.name] + min(c.radius_km, 5.0), (
                c.name,
                v.name,
            )
