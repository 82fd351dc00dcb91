"""Random placement of discs that keep clear of each other (volcanoes, confounders, salt lakes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Box:
    """A rectangle of fractional (row, col) pixel positions, upper bounds excluded."""

    row0: float
    row1: float
    col0: float
    col1: float

    def shrink(self, margin: float) -> Box:
        return Box(self.row0 + margin, self.row1 - margin, self.col0 + margin, self.col1 - margin)

    @property
    def empty(self) -> bool:
        return self.row1 <= self.row0 or self.col1 <= self.col0


@dataclass
class Placer:
    """Keeps the discs placed so far and draws new centres that stay ``gap_px`` clear of them."""

    discs: list[tuple[float, float, float]] = field(default_factory=list)

    def reserve(self, row: float, col: float, radius_px: float) -> None:
        """Mark a disc as occupied."""
        self.discs.append((row, col, radius_px))

    def is_clear(self, row: float, col: float, radius_px: float, gap_px: float) -> bool:
        """True when a disc at (row, col) keeps ``gap_px`` from every occupied disc."""
        return all(
            np.hypot(row - r, col - c) >= radius_px + rad + gap_px for r, c, rad in self.discs
        )

    def place(
        self,
        rng: np.random.Generator,
        box: Box,
        radius_px: float,
        gap_px: float,
        tries: int = 400,
    ) -> tuple[float, float] | None:
        """A clear centre inside ``box`` (reserved on success), or None after ``tries`` draws.

        Always draws ``2 * tries`` numbers, so a failure does not shift later draws of the stream.
        """
        draws = rng.uniform(0.0, 1.0, (tries, 2))
        if box.empty:
            return None
        for u, v in draws:
            row = box.row0 + u * (box.row1 - box.row0)
            col = box.col0 + v * (box.col1 - box.col0)
            if self.is_clear(row, col, radius_px, gap_px):
                self.reserve(row, col, radius_px)
                return float(row), float(col)
        return None
