"""The classifier: a timm backbone (features pooled) and a two-dense-layer head (paper Figure 4).

``penultimate`` is "the second last dense layer" and ``classifier`` "the last dense layer" of
the paper's fine-tuning approaches; dropout sits between them. The output is one logit: the
probability of volcanic deformation in the patch is its sigmoid.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass

import timm
import torch
from torch import nn


def unknown_backbone(name: object) -> str | None:
    """None if timm knows the backbone ``name``, else a one-line reason with close names."""
    if isinstance(name, str) and timm.is_model(name):
        return None
    close = difflib.get_close_matches(str(name), timm.list_models(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown backbone {name!r}: timm {timm.__version__} has no such model{hint}"


@dataclass(frozen=True)
class ModelSpec:
    """Backbone name (timm), input channels and size, head width and dropout."""

    backbone: str = "resnet10t"
    in_channels: int = 3
    input_size_px: int = 256
    hidden_units: int = 256
    dropout: float = 0.5

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return asdict(self)


class VolcanoClassifier(nn.Module):
    """Backbone -> pooled features -> penultimate dense -> ReLU -> dropout -> classifier dense(1)."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.backbone = timm.create_model(
            spec.backbone, pretrained=False, num_classes=0, in_chans=spec.in_channels
        )
        features: int = self.backbone.num_features  # type: ignore[assignment]  # timm: an int
        self.penultimate = nn.Linear(features, spec.hidden_units)
        self.activation = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(spec.dropout)
        self.classifier = nn.Linear(spec.hidden_units, 1)

    def check_input(self, x: torch.Tensor) -> None:
        """ValueError unless x is (B, C, S, S) with the spec's channels and size."""
        expected = (self.spec.in_channels, self.spec.input_size_px, self.spec.input_size_px)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"model {self.spec.backbone} expects input (batch, {expected[0]}, {expected[1]}, {expected[2]}), "
                f"got {tuple(x.shape)}"
            )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features (B, F): what fine-tuning caches."""
        self.check_input(x)
        return self.backbone(x)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (B,) from pooled features."""
        hidden = self.dropout(self.activation(self.penultimate(features)))
        return self.classifier(hidden).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of volcanic deformation."""
        return self.head(self.features(x))
