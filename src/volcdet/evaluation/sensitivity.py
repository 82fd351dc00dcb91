"""Minimum detectable rate: detection of injected deformation per rate and depth, per model.

Every model of the tables shares the synthetic model's frozen backbone, so the injected
patches' backbone features are computed once (rule ``features``) and each model's head is
applied to them. A patch is detected when its probability reaches the model's threshold
(stored in the model file). For each (model, family, depth bin) the detection share is
reported at every rate, and the rate at which it reaches 50% and 90% is interpolated linearly
between the grid rates, starting from the untouched tiles at rate 0 (their false-alarm
share); NaN when the largest rate does not reach it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from volcdet.core.plotting import pyplot
from volcdet.data.stores import read_table_attrs
from volcdet.evaluation.injection import FULL_WINDOW
from volcdet.evaluation.metrics import to_markdown
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.finetune import backbone_digest, head_probabilities

log = logging.getLogger(__name__)

LEVELS = (0.5, 0.9)
ALL = "all"
#: Cumulative peak (mm over the stack) above which a source counts as strong (not in the paper).
STRONG_MM = 100.0


def detections(
    model_paths: dict[str, Path], features_path: Path, features_table: Path
) -> dict[str, np.ndarray]:
    """Per model: whether each injected patch reaches the model's threshold (cached features)."""
    features = np.load(features_path)
    expected = read_table_attrs(features_table).get("backbone_digest")
    detected = {}
    for model_id, path in model_paths.items():
        model, _, checkpoint = model_from_checkpoint(path)
        if backbone_digest(model) != expected:
            raise ValueError(f"{features_path}: computed with another backbone than {path}")
        threshold = float(checkpoint.get("threshold", 0.5))
        detected[model_id] = head_probabilities(model, features) >= threshold
    return detected


def detection_curves(injected: pd.DataFrame, detected: np.ndarray) -> pd.DataFrame:
    """Detection share per (window, family, depth bin, rate), with 'all' pools and the rate-0
    baseline; for each clip window also the full-window curve of the same pairs
    (``full, pairs of <clip>``), so the clip's cost compares like with like.

    The rate-0 row of a group is the share of its pairs' tiles flagged without injection, under
    the same window.
    """
    table = injected.assign(detected=detected)
    if "window" not in table:
        table["window"] = FULL_WINDOW
    control = table[table.rate_mm_yr == 0].set_index(["window", "tile"]).detected
    pairs = table[table.pair >= 0]
    first_rate = pairs.rate_mm_yr.min()
    first = pairs[pairs.rate_mm_yr == first_rate]
    baseline = first.assign(
        rate_mm_yr=0.0,
        detected=control.loc[list(zip(first.window, first.tile, strict=True))].to_numpy(),
    )
    rows = pd.concat([baseline, pairs], ignore_index=True)
    full = rows[rows.window == FULL_WINDOW]
    views = {FULL_WINDOW: full}
    for window in [w for w in dict.fromkeys(rows.window) if w != FULL_WINDOW]:
        views[window] = rows[rows.window == window]
        same_pairs = full.pair.isin(set(views[window].pair))
        views[f"{FULL_WINDOW}, pairs of {window}"] = full[same_pairs]
    groups = []
    for window, view in views.items():
        for family in (ALL, *sorted(view.family.unique())):
            in_family = view if family == ALL else view[view.family == family]
            for depth_bin in (ALL, *sorted(in_family.depth_bin.unique(), key=_bin_low)):
                cell = (
                    in_family if depth_bin == ALL else in_family[in_family.depth_bin == depth_bin]
                )
                summary = cell.groupby("rate_mm_yr").detected.agg(["size", "sum"]).reset_index()
                groups.append(
                    summary.assign(window=window, family=family, depth_bin=depth_bin).rename(
                        columns={"size": "n", "sum": "detected"}
                    )
                )
    curves = pd.concat(groups, ignore_index=True)
    curves["detection_percent"] = (100 * curves.detected / curves.n).round(3)
    return curves[
        ["window", "family", "depth_bin", "rate_mm_yr", "n", "detected", "detection_percent"]
    ]


def strong_detection(injected: pd.DataFrame, detected: np.ndarray, cumulative_mm: float) -> dict:
    """Pairs and detected share (percent) of the full-window injections whose cumulative peak
    (rate x period) exceeds ``cumulative_mm``: many fringes over the stack."""
    table = injected.assign(detected=detected)
    if "window" in table:
        table = table[table.window == FULL_WINDOW]
    strong = table[(table.pair >= 0) & (table.rate_mm_yr * table.period_yr > cumulative_mm)]
    share = 100.0 * float(strong.detected.mean()) if len(strong) else float("nan")
    return {"n": len(strong), "detected_percent": round(share, 3)}


def _bin_low(label: str) -> float:
    return float(label.split("-")[0]) if label not in (ALL, "none") else -1.0


def detectable_rate(rates: np.ndarray, detection: np.ndarray, level: float) -> float:
    """Smallest rate where the detection share first reaches ``level`` (linear interpolation
    from the previous grid rate); NaN when it never does. ``rates`` ascending, starting at 0."""
    rates, detection = np.asarray(rates, float), np.asarray(detection, float)
    reached = np.flatnonzero(detection >= level)
    if not len(reached):
        return float("nan")
    i = int(reached[0])
    if i == 0:
        return float(rates[0])
    r0, r1, d0, d1 = rates[i - 1], rates[i], detection[i - 1], detection[i]
    return float(r0 + (level - d0) * (r1 - r0) / (d1 - d0))


def detectable_rates(curves: pd.DataFrame) -> pd.DataFrame:
    """Per (model, window, family, depth bin): the 50% and 90% detectable rates and the rate-0
    share."""
    rows = []
    for (model, window, family, depth_bin), curve in curves.groupby(
        ["model", "window", "family", "depth_bin"], sort=False
    ):
        curve = curve.sort_values("rate_mm_yr")
        share = curve.detection_percent.to_numpy() / 100
        rates = curve.rate_mm_yr.to_numpy()
        rows.append(
            {
                "model": model,
                "window": window,
                "family": family,
                "depth_bin": depth_bin,
                "pairs": int(curve.n.iloc[0]),
                "false_alarm_percent": round(100 * share[0], 3),
                **{
                    f"rate{int(100 * level)}_mm_yr": round(detectable_rate(rates, share, level), 3)
                    for level in LEVELS
                },
                "max_rate_mm_yr": float(rates[-1]),
                "detection_at_max_rate_percent": round(100 * share[-1], 3),
            }
        )
    return pd.DataFrame(rows)


def _rates_as_text(shown: pd.DataFrame, max_rate: float) -> pd.DataFrame:
    for level in LEVELS:
        column = f"rate{int(100 * level)}_mm_yr"
        shown[column] = [f">{max_rate:g}" if np.isnan(v) else f"{v:.2f}" for v in shown[column]]
    return shown


def clip_comparison(summary: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Per model and clip: the 50% rate of the pairs that fit the clip, clipped and in the full
    window, and their ratio (all families and depths pooled)."""
    pooled = summary[(summary.family == ALL) & (summary.depth_bin == ALL)].set_index(
        ["model", "window"]
    )
    rows = []
    clips = [w for w in dict.fromkeys(summary.window) if w.startswith("clip")]
    for model in dict.fromkeys(summary.model):
        for clip in clips:
            clipped = pooled.loc[(model, clip)]
            full = pooled.loc[(model, f"{FULL_WINDOW}, pairs of {clip}")]
            rows.append(
                {
                    "Model": names.get(model, model),
                    "window": clip,
                    "pairs": int(clipped.pairs),
                    "false_alarm_percent": clipped.false_alarm_percent,
                    "rate50 clipped (mm/yr)": clipped.rate50_mm_yr,
                    "rate50 full window (mm/yr)": full.rate50_mm_yr,
                    "ratio": round(clipped.rate50_mm_yr / full.rate50_mm_yr, 2),
                }
            )
    return pd.DataFrame(rows)


def sensitivity_markdown(
    summary: pd.DataFrame, names: dict[str, str], max_rate: float, strong: pd.DataFrame
) -> str:
    """Markdown: pooled rows per family (full window), rates per depth bin (shallow sources
    first), detection of strong sources, and the clipped against full-window rates."""
    full = summary[summary.window == FULL_WINDOW]
    shown = full[full.depth_bin == ALL].copy()
    shown.insert(0, "Model", shown.model.map(names))
    parts = [
        "Full windows, all depths:\n\n"
        + to_markdown(
            _rates_as_text(shown, max_rate).drop(columns=["model", "window", "depth_bin"])
        )
    ]
    depths = full[(full.family == ALL) & (full.depth_bin != ALL)].copy()
    depths.insert(0, "Model", depths.model.map(names))
    depths = _rates_as_text(depths, max_rate)
    parts.append(
        "Full windows, all families, per source depth (km):\n\n"
        + to_markdown(depths[["Model", "depth_bin", "pairs", "rate50_mm_yr", "rate90_mm_yr"]])
    )
    parts.append(
        f"Strong sources (cumulative peak over {STRONG_MM:g} mm over the stack, full windows):\n\n"
        + to_markdown(strong)
    )
    clips = clip_comparison(summary, names)
    if len(clips):
        parts.append(
            "Clips (the pairs whose footprint fits a centred clip, clipped and in the full "
            "window):\n\n" + to_markdown(clips)
        )
    return "\n\n".join(parts) + "\n"


def plot_sensitivity(curves: pd.DataFrame, names: dict[str, str], out_png: Path | str) -> None:
    """Detection share against rate: one row of panels per family, one column per depth bin."""
    plt = pyplot()

    families = list(dict.fromkeys(curves.family))
    bins = list(dict.fromkeys(curves.depth_bin))
    fig, axes = plt.subplots(
        len(families),
        len(bins),
        figsize=(2.6 * len(bins) + 1.5, 2.3 * len(families) + 0.6),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    curves = curves[curves.window == FULL_WINDOW]
    for r, family in enumerate(families):
        for c, depth_bin in enumerate(bins):
            ax = axes[r, c]
            for model, name in names.items():
                curve = curves[
                    (curves.model == model)
                    & (curves.family == family)
                    & (curves.depth_bin == depth_bin)
                    & (curves.rate_mm_yr > 0)
                ].sort_values("rate_mm_yr")
                ax.plot(curve.rate_mm_yr, curve.detection_percent, "o-", ms=2.5, lw=1, label=name)
            for level in LEVELS:
                ax.axhline(100 * level, color="0.7", lw=0.6, ls="--")
            ax.set_xscale("log")
            ax.set_ylim(-2, 102)
            ax.set_title(f"{family}, depth {depth_bin}", fontsize=8)
            if r == len(families) - 1:
                ax.set_xlabel("rate (mm/yr, peak |LOS|)")
            if c == 0:
                ax.set_ylabel("detected (%)")
    axes[0, -1].legend(fontsize=6, loc="lower right")
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def write_sensitivity(
    injected_table: Path,
    features_path: Path,
    features_table: Path,
    model_paths: dict[str, Path],
    names: dict[str, str],
    outputs: dict[str, str],
) -> pd.DataFrame:
    """Detection curves (CSV), detectable rates (CSV + Markdown) and the figure, every model."""
    injected = pd.read_parquet(injected_table)
    detected = detections(model_paths, features_path, features_table)
    curves = pd.concat(
        [detection_curves(injected, detected[m]).assign(model=m) for m in model_paths],
        ignore_index=True,
    )
    curves = curves[["model", *curves.columns[:-1]]]
    curves.to_csv(outputs["curves"], index=False)
    summary = detectable_rates(curves)
    summary.to_csv(outputs["table"], index=False)
    strong = pd.DataFrame(
        [
            {"Model": names.get(m, m), **strong_detection(injected, detected[m], STRONG_MM)}
            for m in model_paths
        ]
    )
    markdown = sensitivity_markdown(summary, names, float(injected.rate_mm_yr.max()), strong)
    Path(outputs["markdown"]).write_text(markdown)
    plot_sensitivity(curves, names, outputs["figure"])
    log.info("detectable rates (mm/yr)\n%s", markdown)
    return summary
