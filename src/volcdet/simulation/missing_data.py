"""Missing-data masks for simulated patches, drawn from the region's own NaN patterns.

Real velocity maps have holes: decorrelated areas, water, layover and shadow, pixels dropped by
the time-series inversion. They are filled at load time (``InputTransform.nan_value``), so a
model trained only on complete patches meets a pattern at test time it never saw. The mask bank
holds the NaN patterns of the region's background tiles (outside the ROI, the same tiles the
fine-tuning sets use; the test frames stay unseen). A sample's mask is one bank mask under a
random square symmetry; to reach a missing share drawn uniformly from [0, ``max_fraction``] it
is joined with further bank masks (each under its own symmetry) until the share is reached, so
the hole shapes stay those of the region even where its tiles have only a few holes each.
"""

from __future__ import annotations

import numpy as np

#: Upper bound on the bank masks joined into one sample's mask.
MAX_JOINED_MASKS = 64


def nan_mask_bank(patches_mm: np.ndarray) -> np.ndarray:
    """Boolean NaN masks (n, H, W) of a stack of real patches (a background store)."""
    return ~np.isfinite(np.asarray(patches_mm))


def square_symmetry(mask: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 symmetries of the square: mirror left-right if k >= 4, then k % 4 x 90 deg."""
    out = mask[:, ::-1] if k >= 4 else mask
    return np.rot90(out, k % 4)


def draw_missing_mask(
    bank: np.ndarray, rng: np.random.Generator, max_fraction: float
) -> tuple[np.ndarray, float]:
    """A mask (H, W) built from bank masks and the missing share it reaches.

    Draws a target share uniformly from [0, ``max_fraction``], starts from one bank mask and
    joins further ones until the share reaches the target (or ``MAX_JOINED_MASKS``).
    """
    if len(bank) == 0:
        raise ValueError("the missing-data mask bank is empty")
    target = rng.uniform(0.0, max_fraction)
    mask = np.zeros(bank.shape[1:], bool)
    for _ in range(MAX_JOINED_MASKS):
        mask |= square_symmetry(bank[rng.integers(len(bank))], int(rng.integers(8)))
        if mask.mean() >= target:
            break
    return mask, float(mask.mean())
