"""Grad-CAM (Selvaraju et al. 2017, ICCV) on the backbone's last convolutional stage.

cam = ReLU(sum_k alpha_k A_k), alpha_k = spatial mean of d logit / d A_k, where A is the feature
map before global pooling; the map is upsampled to the patch. Used, as in the paper's section 4,
to see which patterns make the model call a patch deforming.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from volcdet.core.phase import wrapped_phase_from_displacement
from volcdet.core.plotting import pyplot
from volcdet.data.stores import open_store
from volcdet.learning.checkpoints import model_from_checkpoint
from volcdet.learning.model import VolcanoClassifier
from volcdet.learning.transforms import InputTransform


def grad_cam(
    model: VolcanoClassifier, transform: InputTransform, patches_mm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(cams in [0, 1] of shape (B, H, W) at patch resolution, probabilities (B,))."""
    model.eval()
    x = transform(torch.from_numpy(np.asarray(patches_mm, np.float32)))
    feature_map = model.backbone.forward_features(x)  # type: ignore[operator]  # timm model
    feature_map.retain_grad()
    pooled = model.backbone.forward_head(  # type: ignore[operator]  # timm model
        feature_map, pre_logits=True
    )
    logits = model.head(pooled)
    logits.sum().backward()
    weights = feature_map.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * feature_map).sum(dim=1, keepdim=True))
    size = np.asarray(patches_mm).shape[-2:]
    cam = torch.nn.functional.interpolate(cam, size=size, mode="bilinear", align_corners=False)[
        :, 0
    ]
    cam = cam / cam.flatten(1).max(dim=1).values.clamp_min(1e-12)[:, None, None]
    return cam.detach().numpy(), torch.sigmoid(logits).detach().numpy()


def gradcam_panels(
    model_path: Path,
    test_store: tuple[Path, Path],
    predictions_path: Path,
    out_png: Path,
    model_name: str,
    top_k: int = 4,
) -> pd.DataFrame:
    """Figure: the top-k false and true positives (one per frame) with their Grad-CAM maps."""
    plt = pyplot()

    model, transform, _ = model_from_checkpoint(model_path)
    patches, meta = open_store(*test_store)
    predictions = pd.read_parquet(predictions_path)
    ranked = predictions.sort_values("probability", ascending=False, kind="stable")
    # One panel per frame, so the panels show different places rather than one frame's overlaps.
    fp = ranked[ranked.label == 0].drop_duplicates("frame_id").head(top_k)
    tp = ranked[ranked.label == 1].drop_duplicates("frame_id").head(top_k)
    chosen = [("false positive", fp), ("true positive", tp)]
    fig, axes = plt.subplots(
        2, 2 * top_k, figsize=(2.0 * 2 * top_k, 4.6), squeeze=False, layout="constrained"
    )
    for r, (kind, rows) in enumerate(chosen):
        index = rows.index.to_numpy()
        cams, probabilities = (
            grad_cam(model, transform, np.asarray(patches[index], np.float32))
            if len(index)
            else (np.zeros((0, 1, 1)), np.zeros(0))
        )
        for k in range(top_k):
            ax_phase, ax_cam = axes[r, 2 * k], axes[r, 2 * k + 1]
            for ax in (ax_phase, ax_cam):
                ax.set_xticks([])
                ax.set_yticks([])
            if k >= len(index):
                ax_phase.axis("off")
                ax_cam.axis("off")
                continue
            phase = wrapped_phase_from_displacement(np.asarray(patches[index[k]], np.float32))
            ax_phase.imshow(phase, cmap="twilight_shifted", vmin=-np.pi, vmax=np.pi)
            ax_cam.imshow(phase, cmap="gray", vmin=-np.pi, vmax=np.pi)
            ax_cam.imshow(cams[k], cmap="inferno", alpha=0.55, vmin=0, vmax=1)
            ax_phase.set_title(
                f"{kind}\n{meta.track_id.iloc[index[k]]} {meta.volcano.iloc[index[k]]}", fontsize=6
            )
            ax_cam.set_title(f"p = {probabilities[k]:.2f}", fontsize=6)
    fig.suptitle(f"Grad-CAM of {model_name}: top false and true positives", fontsize=9)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return pd.concat([fp.assign(kind="false positive"), tp.assign(kind="true positive")])
