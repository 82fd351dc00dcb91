"""Figures of patch sets: galleries of wrapped patches like Figure 2 of the paper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.phase import wrapped_phase_from_displacement
from volcdet.core.plotting import pyplot
from volcdet.core.random import Purpose, stream
from volcdet.data.stores import open_store


def _pick(table: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    return (
        np.sort(rng.choice(len(table), size=min(n, len(table)), replace=False))
        if len(table)
        else np.array([], int)
    )


def _caption(row: pd.Series) -> str:
    """Short patch caption: track, volcano or tile position, footprint share when labelled."""
    if "volcano" in row:
        return f"{row.track_id} {row.volcano}\nfootprint {row.footprint_fraction:.2f}"
    return f"{row.track_id} tile r{row.row0} c{row.col0}"


def patch_gallery(
    test_store: tuple[Path, Path],
    background_store: tuple[Path, Path],
    out_png: Path,
    n_per_row: int = 6,
    seed: int = 0,
) -> None:
    """Three rows of wrapped patches: test positives, test negatives and background tiles."""
    rng = stream(seed, Purpose.GALLERY, 0)
    test, test_meta = open_store(*test_store)
    background, bg_meta = open_store(*background_store)
    positives = test_meta.index[test_meta.label == 1].to_numpy()
    negatives = test_meta.index[test_meta.label == 0].to_numpy()
    rows = [
        (
            "test, deformation",
            test,
            test_meta,
            positives[_pick(test_meta.loc[positives], n_per_row, rng)],
        ),
        (
            "test, no deformation",
            test,
            test_meta,
            negatives[_pick(test_meta.loc[negatives], n_per_row, rng)],
        ),
        ("background (slope signal)", background, bg_meta, _pick(bg_meta, n_per_row, rng)),
    ]
    plt = pyplot()
    fig, axes = plt.subplots(
        3, n_per_row, figsize=(2.2 * n_per_row, 7.6), squeeze=False, layout="constrained"
    )
    cmap = plt.get_cmap("twilight_shifted").with_extremes(bad="0.75")
    image = None
    for axes_row, (title, array, meta, picks) in zip(axes, rows, strict=True):
        for k, ax in enumerate(axes_row):
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(picks):
                ax.axis("off")
                continue
            i = int(picks[k])
            image = ax.imshow(
                wrapped_phase_from_displacement(array[i].astype(np.float32)),
                cmap=cmap,
                vmin=-np.pi,
                vmax=np.pi,
            )
            ax.set_title(_caption(meta.iloc[i]), fontsize=6)
        axes_row[0].set_ylabel(title, fontsize=8)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.6, ticks=[-np.pi, 0, np.pi])
        bar.ax.set_yticklabels(["-π", "0", "π"])
        bar.set_label("wrapped phase (rad)")
    fig.suptitle("Wrapped cumulative LOS displacement (1 fringe = 27.7 mm)", fontsize=10)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def simulation_gallery(stores: list[tuple[Path, Path]], out_png: Path, seed: int = 0) -> None:
    """One wrapped simulated patch per (pass, source kind), plus atmosphere-only samples."""
    rng = stream(seed, Purpose.GALLERY, 1)
    opened = [open_store(*store) for store in stores]
    found = {k for _, meta in opened for k in meta.source_kind.unique() if k != "none"}
    kinds = [*sorted(found), "none"]
    passes = ["ascending", "descending"]
    plt = pyplot()
    fig, axes = plt.subplots(
        len(passes),
        len(kinds),
        figsize=(2.1 * len(kinds), 4.8),
        squeeze=False,
        layout="constrained",
    )
    cmap = plt.get_cmap("twilight_shifted").with_extremes(bad="0.75")
    for r, pass_direction in enumerate(passes):
        for c, kind in enumerate(kinds):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            candidates = [
                (array, meta, i)
                for array, meta in opened
                for i in np.nonzero(
                    (meta["pass"] == pass_direction).to_numpy()
                    & (meta.source_kind == kind).to_numpy()
                )[0]
            ]
            if not candidates:
                ax.axis("off")
                continue
            array, meta, i = candidates[int(rng.integers(len(candidates)))]
            ax.imshow(
                wrapped_phase_from_displacement(array[i].astype(np.float32)),
                cmap=cmap,
                vmin=-np.pi,
                vmax=np.pi,
            )
            amplitude = meta.amplitude_mm.iloc[i]
            ax.set_title(
                f"{kind}, {amplitude:+.0f} mm" if kind != "none" else "atmosphere only", fontsize=7
            )
            if c == 0:
                ax.set_ylabel(f"{pass_direction}\n{meta.track_id.iloc[i]}", fontsize=8)
    fig.suptitle("Simulated training patches (wrapped, 1 fringe = 27.7 mm)", fontsize=10)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
