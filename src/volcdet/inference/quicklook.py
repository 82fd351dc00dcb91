"""Quick-look PNG of a scan: the wrapped map beside the probability map, flagged windows boxed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.phase import wrapped_phase_from_displacement


def quicklook(
    displacement: np.ndarray,
    prob_map: np.ndarray,
    flagged: pd.DataFrame,
    threshold: float,
    out_png: Path,
    title: str,
) -> None:
    """PNG: wrapped cumulative displacement and max-window probability, flags outlined.

    Each flag is outlined by the box of valid pixels of its window (``box_*`` columns).
    """
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
                Rectangle(
                    (row.box_col0 - 0.5, row.box_row0 - 0.5),
                    row.box_col1 - row.box_col0,
                    row.box_row1 - row.box_row0,
                    fill=False,
                    ec="cyan",
                    lw=0.6,
                )
            )
    fig.colorbar(image, ax=ax_prob, shrink=0.7)
    fig.suptitle(title)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
