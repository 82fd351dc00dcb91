"""Trained model files shipped with volcdet: the reference model (docs/model_card.md).

``reference_model_path`` is the file ``volcdet predict`` and ``volcdet.inference.api.predict``
use when no model is given (or ``--model reference``). It is package data, loaded like any model
file with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The name that selects the shipped model on the command line and in the Python API.
REFERENCE = "reference"
#: File name of the reference model inside this package.
REFERENCE_FILE = "reference.pt"


def reference_model_path() -> Path:
    """Path of the shipped reference model file (it may be absent in a development checkout
    before ``make reference-model``)."""
    return Path(str(files(__name__).joinpath(REFERENCE_FILE)))


def resolve_model(value: str | Path | None) -> Path:
    """The model file a user named: ``None`` or ``reference`` is the shipped reference model,
    anything else a path (write ``./reference`` for a file of that name)."""
    if value is None or str(value) == REFERENCE:
        return reference_model_path()
    return Path(value)


def is_reference(path: str | Path) -> bool:
    """True when ``path`` is the shipped reference model file."""
    try:
        return Path(path).resolve() == reference_model_path().resolve()
    except OSError:
        return False
