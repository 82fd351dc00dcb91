"""Partial-coverage windows: map clips, coastlines and islands, map edges (not in the paper).

Users' maps are LiCSBAS clips and MintPy subsets of 10-30 km around one volcano, and island or
coastal volcanoes where the sea is no data: most of a window can be no data (DESIGN.md, physics
facts). A window scanned over such a map holds its valid pixels somewhere in the window and no
data around them, which the paper's training never shows. Each kind below draws a boolean
no-data mask (True = missing) for a window; the window centre, where every simulated source
sits, always stays valid, for both classes alike, so the mask says nothing about the label:

* ``clip``: the valid area is a rectangle with sides drawn uniformly in ``clip_side_km``, at a
  random position that holds the centre (a map clipped around a volcano);
* ``coast``: the valid area is one side of a smooth random boundary (a coastline, or an island
  when the boundary closes), with the missing share drawn uniformly in
  ``coast_missing_fraction``: a Gaussian random field with a long correlation length, plus a
  linear trend (coast) or the distance from a random point (island), thresholded at the
  quantile of the drawn share; draws whose centre falls in the sea are redrawn;
* ``edge``: one or two sides of the window cut, each by a share of the side drawn uniformly in
  ``edge_cut_fraction`` (below one half, so the centre stays), as at the edge of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("clip", "coast", "edge")
#: Draws of a coast mask before the centre is made valid by force (a disk of CENTRE_RADIUS_PX).
COAST_ATTEMPTS = 40
CENTRE_RADIUS_PX = 3


@dataclass(frozen=True)
class CoverageSpec:
    """Share of samples with a partial-coverage mask, the kinds' weights and their ranges."""

    probability: float = 0.0
    clip_weight: float = 0.4
    coast_weight: float = 0.4
    edge_weight: float = 0.2
    clip_side_km: tuple[float, float] = (10.0, 51.2)
    coast_missing_fraction: tuple[float, float] = (0.2, 0.9)
    coast_length_scale_km: tuple[float, float] = (5.0, 25.0)
    edge_cut_fraction: tuple[float, float] = (0.1, 0.45)

    def weights(self) -> np.ndarray:
        """The kinds' probabilities, in the order of ``KINDS``."""
        w = np.array([self.clip_weight, self.coast_weight, self.edge_weight], np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"coverage kind weights must be >= 0 with a positive sum, got {w}")
        return w / w.sum()


def clip_mask(size_px: int, pixel_size_m: float, rng: np.random.Generator, side_km) -> np.ndarray:
    """Missing outside a rectangle (sides uniform in ``side_km``) that holds the window centre."""
    centre = size_px // 2
    mask = np.ones((size_px, size_px), bool)
    bounds = []
    for _ in range(2):
        side = round(rng.uniform(*side_km) * 1000.0 / pixel_size_m)
        side = int(np.clip(side, 2, size_px))
        low = max(0, centre - side + 1)
        high = min(centre, size_px - side)
        start = int(rng.integers(low, high + 1))
        bounds.append((start, start + side))
    (r0, r1), (c0, c1) = bounds
    mask[r0:r1, c0:c1] = False
    return mask


def smooth_field(size_px: int, length_px: float, rng: np.random.Generator) -> np.ndarray:
    """A zero-mean, unit-std Gaussian random field with a Gaussian spectrum of width
    1 / length (cycles per pixel), synthesised by FFT on the window."""
    freq = np.fft.fftfreq(size_px)
    k2 = freq[:, None] ** 2 + freq[None, :] ** 2
    amplitude = np.exp(-0.5 * k2 * (2.0 * np.pi * length_px) ** 2)
    white = rng.standard_normal((size_px, size_px))
    field = np.fft.ifft2(np.fft.fft2(white) * amplitude).real
    field -= field.mean()
    return field / max(float(field.std()), 1e-12)


def coast_mask(
    size_px: int,
    pixel_size_m: float,
    rng: np.random.Generator,
    missing_fraction: tuple[float, float],
    length_scale_km: tuple[float, float],
) -> np.ndarray:
    """Missing on the sea side of a smooth random coastline or around an island (centre valid)."""
    target = rng.uniform(*missing_fraction)
    axis = np.arange(size_px) - size_px / 2.0
    y, x = np.meshgrid(axis, axis, indexing="ij")
    centre = size_px // 2
    for _ in range(COAST_ATTEMPTS):
        length_px = rng.uniform(*length_scale_km) * 1000.0 / pixel_size_m
        wiggle = smooth_field(size_px, length_px, rng) + 0.3 * smooth_field(
            size_px, length_px / 4.0, rng
        )
        if rng.random() < 0.5:  # coast: a trend across the window, land on the low side
            angle = rng.uniform(0.0, 2.0 * np.pi)
            base = (np.cos(angle) * x + np.sin(angle) * y) / size_px
        else:  # island: the distance from a point near the centre
            cy, cx = rng.uniform(-0.2, 0.2, 2) * size_px
            base = np.hypot(y - cy, x - cx) / size_px
        field = base / max(float(base.std()), 1e-12) + rng.uniform(0.3, 1.0) * wiggle
        mask = field > np.quantile(field, 1.0 - target)
        if not mask[centre, centre]:
            return mask
    offset = centre - size_px / 2.0
    mask[np.hypot(y - offset, x - offset) <= CENTRE_RADIUS_PX] = False
    return mask


def edge_mask(size_px: int, rng: np.random.Generator, cut_fraction) -> np.ndarray:
    """Missing beyond one or two cut sides of the window (cuts below half the side)."""
    mask = np.zeros((size_px, size_px), bool)
    sides = rng.permutation(4)[: int(rng.integers(1, 3))]
    for side in sides:
        cut = round(rng.uniform(*cut_fraction) * size_px)
        cut = min(cut, size_px // 2 - 1)
        if side == 0:
            mask[:cut] = True
        elif side == 1:
            mask[size_px - cut :] = True
        elif side == 2:
            mask[:, :cut] = True
        else:
            mask[:, size_px - cut :] = True
    return mask


def draw_coverage_mask(
    size_px: int, pixel_size_m: float, rng: np.random.Generator, spec: CoverageSpec
) -> tuple[np.ndarray | None, str]:
    """A no-data mask of one kind (drawn with the kinds' weights) with ``spec.probability``,
    else None; and the kind ('none' without a mask)."""
    if rng.random() >= spec.probability:
        return None, "none"
    kind = KINDS[int(rng.choice(len(KINDS), p=spec.weights()))]
    if kind == "clip":
        return clip_mask(size_px, pixel_size_m, rng, spec.clip_side_km), kind
    if kind == "coast":
        mask = coast_mask(
            size_px,
            pixel_size_m,
            rng,
            spec.coast_missing_fraction,
            spec.coast_length_scale_km,
        )
        return mask, kind
    return edge_mask(size_px, rng, spec.edge_cut_fraction), kind
