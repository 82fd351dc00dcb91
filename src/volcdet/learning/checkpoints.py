"""Self-describing model files: written atomically, loaded safely with a format check (DESIGN.md).

Model files travel between observatories, so they are read with ``torch.load(...,
weights_only=True)``: only tensors and plain values (dict, list, tuple, str, int, float, bool,
None) can come out of one, never code. Every problem with a file (unsafe, truncated, empty, not
a model, another format, missing or mismatched weights, unknown backbone) is a one-line
``ModelFileError`` naming the file.
"""

from __future__ import annotations

import pickle
import platform
import re
import sys
import warnings
from dataclasses import fields
from pathlib import Path, PurePath
from typing import TypeVar

import numpy as np
import torch
from torch.torch_version import TorchVersion

from volcdet.core.atomic import atomic_path
from volcdet.core.errors import ModelFileError
from volcdet.learning.model import ModelSpec, VolcanoClassifier, unknown_backbone
from volcdet.learning.transforms import InputTransform

SpecT = TypeVar("SpecT", ModelSpec, InputTransform)
CHECKPOINT_FORMAT = "volcdet-model/1"
#: Entries every model file holds.
CHECKPOINT_KEYS = ("format", "model_spec", "transform", "state_dict", "threshold", "run_info")
#: The pixel size of model files written before the transform recorded it: they were all
#: trained on the 200 m grids of the configuration of the time.
LEGACY_PIXEL_SIZE_M = 200.0
#: Files written before run info held plain strings store ``torch.__version__`` as a TorchVersion,
#: a ``str`` subclass without code: the only non-plain type a volcdet file may contain.
_LEGACY_SAFE_GLOBALS = [TorchVersion]


def versions() -> dict[str, str]:
    """Library versions recorded beside every model (plain strings)."""
    import timm

    from volcdet import __version__

    return {
        "volcdet": str(__version__),
        "torch": str(torch.__version__),
        "timm": str(timm.__version__),
        "numpy": str(np.__version__),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cuda": str(torch.version.cuda or "none"),
    }


def plain(value: object, where: str = "value") -> object:
    """``value`` with only the types a weights-only load accepts: str subclasses and paths become
    str, numpy scalars Python numbers, tuples stay tuples; TypeError names anything else."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (str, PurePath)):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    for kind in (bool, int, float):  # subclasses such as IntEnum
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dict):
        return {str(k): plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    raise TypeError(f"{where}: {type(value).__name__} cannot go into a model file")


def save_atomic(obj: object, path: Path) -> None:
    """torch.save to a temporary name, then rename (``volcdet.core.atomic``): a kill never leaves
    a half-written file. The temporary name is fixed, ``.{name}.tmp``, because torch names the
    folder inside the file after it: the same weights give the same bytes on every run."""
    path = Path(path)
    with atomic_path(path, path.with_name(f".{path.name}.tmp")) as tmp:
        torch.save(obj, tmp)


def _first_line(err: BaseException) -> str:
    """``Type: first sentence`` of an exception's message (torch's run over several lines)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    return f"{type(err).__name__}: {lines[0].split('. ')[0].rstrip('.')[:160]}"


def load_weights_only(path: Path, what: str = "model file") -> object:
    """Whatever ``torch.load(path, weights_only=True)`` returns; ModelFileError naming the file
    when it is missing, empty, unreadable or asks for any Python object (it could run code)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: {what} not found")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{path}: empty file, not a volcdet {what}")
    try:
        with (
            torch.serialization.safe_globals(_LEGACY_SAFE_GLOBALS),  # type: ignore[arg-type]
            warnings.catch_warnings(),
        ):
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise ModelFileError(f"{path}: not a readable {what} ({_first_line(err)})") from None
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        unsupported = re.search(r"Unsupported [^\n.]*", str(err))
        detail = (
            f"it asks for the Python object {found.group(1)}"
            if found
            else (unsupported.group(0) if unsupported else "it is not weights and plain values")
        )
        raise ModelFileError(
            f"{path}: refused to load: {detail}; a volcdet {what} holds only tensors and plain "
            "values (loading it unsafely could run code)"
        ) from None
    except Exception as err:  # noqa: BLE001 - any failure to parse a foreign file is bad input
        raise ModelFileError(
            f"{path}: not a readable {what}, truncated or corrupt ({_first_line(err)})"
        ) from None


def load_checkpoint(path: Path) -> dict:
    """Load a volcdet model file safely and check its format version and entries."""
    checkpoint = load_weights_only(path)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        found = (
            checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        )
        raise ModelFileError(f"{path}: not a {CHECKPOINT_FORMAT} model file (found {found})")
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise ModelFileError(f"{path}: model file lacks {', '.join(missing)}")
    return checkpoint


def _from_dict(cls: type[SpecT], values: object, key: str, path: Path) -> SpecT:
    """A frozen dataclass from a checkpoint entry; ModelFileError naming unknown fields."""
    if not isinstance(values, dict):
        raise ModelFileError(f"{path}: entry {key} is a {type(values).__name__}, not a dict")
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
        raise ModelFileError(f"{path}: entry {key} has unknown field(s) {', '.join(unknown)}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: entry {key} is invalid ({_first_line(err)})") from None


def check_weights(model: torch.nn.Module, state_dict: object, path: Path) -> None:
    """ModelFileError unless ``state_dict`` holds exactly the model's weights, shape for shape."""
    if not isinstance(state_dict, dict):
        raise ModelFileError(f"{path}: entry state_dict is a {type(state_dict).__name__}")
    expected = model.state_dict()
    tensors = {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    reshaped = [
        f"{k} {tuple(tensors[k].shape)} instead of {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    not_tensors = [k for k in state_dict if k not in tensors]
    problems = [
        f"{len(items)} {label} (e.g. {items[0]})"
        for label, items in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("of another shape", reshaped),
            ("not tensors", not_tensors),
        )
        if items
    ]
    if problems:
        backbone = getattr(getattr(model, "spec", None), "backbone", "this")
        raise ModelFileError(
            f"{path}: weights do not fit a {backbone} model: {'; '.join(problems)}"
        )


def window_px(spec: ModelSpec, transform: InputTransform) -> int:
    """Side (px, on the grid of ``transform.pixel_size_m``) of the window a model scores: its
    input size times the transform's downsampling."""
    return int(spec.input_size_px * transform.downsample)


def _check_window(checkpoint: dict, spec: ModelSpec, transform: InputTransform, path: Path) -> None:
    """Store the window side in ``checkpoint`` (files written before it was stored lack it) and
    refuse a file whose stored side disagrees with its spec and transform."""
    expected = window_px(spec, transform)
    stored = checkpoint.setdefault("window_px", expected)
    if stored != expected:
        raise ModelFileError(
            f"{path}: window_px {stored} disagrees with its input size {spec.input_size_px} px x "
            f"downsampling {transform.downsample}"
        )


def model_from_checkpoint(path: Path) -> tuple[VolcanoClassifier, InputTransform, dict]:
    """Rebuild the classifier and its input transform from a self-describing model file."""
    checkpoint = load_checkpoint(path)
    spec = _from_dict(ModelSpec, checkpoint["model_spec"], "model_spec", path)
    entry = checkpoint["transform"]
    if isinstance(entry, dict):
        # Model files from before the input reference existed have no ``reference``: they saw
        # the plain wrap; those from before the pixel size was recorded were trained at 200 m.
        entry = {"reference": "none", "pixel_size_m": LEGACY_PIXEL_SIZE_M, **entry}
    transform = _from_dict(InputTransform, entry, "transform", path)
    _check_window(checkpoint, spec, transform, path)
    problem = unknown_backbone(spec.backbone)
    if problem:
        raise ModelFileError(f"{path}: {problem}")
    try:
        model = VolcanoClassifier(spec)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ModelFileError(
            f"{path}: entry model_spec does not describe a model ({_first_line(err)})"
        ) from None
    check_weights(model, checkpoint["state_dict"], path)
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    return model, transform, checkpoint


def build_checkpoint(
    model: VolcanoClassifier,
    spec: ModelSpec,
    transform: InputTransform,
    run_info: dict,
    epoch: int,
    val_loss: float,
) -> dict:
    """The contents of a self-describing model file (format, spec, transform, weights, threshold);
    only plain values besides the weights, so that it loads with ``weights_only=True``."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model_spec": plain(spec.to_dict(), "model_spec"),
        "transform": plain(transform.to_dict(), "transform"),
        "state_dict": {
            k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()
        },
        "epoch": int(epoch),
        "val_loss": float(val_loss),
        "window_px": window_px(spec, transform),
        "threshold": 0.5,
        "run_info": plain(run_info, "run_info"),
    }
