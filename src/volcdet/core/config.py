"""Config validation against the workflow's JSON schema, with one-line errors naming the key.

Every number must be finite, an integer key takes only whole numbers written as integers, and
every size, count and rate has a maximum in the schema (config/README.md gives each reason), so
a typo stops at parse time instead of inside a job or while Snakemake builds its DAG.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import importlib.util
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from volcdet.core.errors import VolcdetError


class ConfigError(VolcdetError):
    """The configuration breaks the schema (unknown key, wrong type, out of range)."""


#: At most this many source_library jobs (chunks): Snakemake's DAG grows with chunks x LOS
#: sets (every simulate job reads every chunk); 200 chunks x 50 LOS sets parse in ~15 s.
MAX_SOURCE_CHUNKS = 200


def _strict_integers(validator_class: Any) -> Any:
    """A validator whose ``integer`` is a Python int (not 7.0, not 1e9 read as a float)."""
    checker = validator_class.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return jsonschema.validators.extend(validator_class, type_checker=checker)


def check_finite(value: Any, path: tuple[str, ...] = ()) -> None:
    """ConfigError naming the first key whose value is (or holds) NaN or +-infinity: the
    schema's bounds cannot catch them (every comparison with NaN is false)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"config key {'.'.join(path) or '<top level>'}: {value} is not a finite number"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_finite(item, (*path, str(index)))


def _fill_defaults(validator_class: Any) -> Any:
    """A validator that also writes each property's ``default`` into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(
        validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
    ) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = subschema["default"]
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


#: Keys of older configs and where they live now (config/README.md).
MOVED_KEYS = {
    "training.backbone": "model.backbone",
    "training.hidden_units": "model.hidden_units",
    "training.dropout": "model.dropout",
    "training.channels": "input.channels",
    "training.nan_fill": "input.nan_value",
    "training.input_downsample": "input.downsample",
    "training.input_reference": "input.reference",
    "training.validity_channel": "input.validity_channel",
    "training.device": "runtime.device",
    "training.num_workers": "runtime.num_workers",
    "scan.device": "runtime.device",
    "finetune.table1": "tables.table1",
    "finetune.table2": "tables.table2",
}


def _describe(error: jsonschema.ValidationError) -> str:
    """One line naming the offending key, e.g. ``config key frames.size_px: 'x' is not ...``."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = min(set(error.instance) - set(allowed))
        key = ".".join([*path, unexpected])
        if key in MOVED_KEYS:
            return f"config key {key} has moved to {MOVED_KEYS[key]} (config/README.md)"
        return f"config key {key} is not a known key (typo?); allowed here: {', '.join(allowed)}"
    return f"config key {'.'.join(path) or '<top level>'}: {error.message}"


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Validate ``config`` in place (defaults filled in); ConfigError names the first bad key,
    or the keys of the first conflict between values (``check_conflicts``)."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    check_finite(config)
    validator = _fill_defaults(_strict_integers(jsonschema.Draft202012Validator))(schema)
    errors = sorted(
        validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path))
    )
    if errors:
        raise ConfigError(_describe(errors[0]))
    check_conflicts(config)
    return config


def check_conflicts(config: dict[str, Any]) -> None:
    """ConfigError naming the keys of the first pair of values that cannot work together (each
    valid alone); ``config`` must have passed the schema, defaults filled in."""
    frame, patch = config["frames"]["size_px"], config["patches"]["size_px"]
    simulation = config["simulation"]
    check_backbone(config["model"]["backbone"])
    if frame < patch:
        raise ConfigError(
            f"config keys frames.size_px ({frame}) and patches.size_px ({patch}): a frame must "
            "hold at least one patch (frames.size_px >= patches.size_px)"
        )
    downsample = config["input"]["downsample"]
    if patch % downsample:
        raise ConfigError(
            f"config keys input.downsample ({downsample}) and patches.size_px ({patch}): "
            "the downsampling factor must divide the patch size"
        )
    if config["region"]["synthetic_demo"]:
        demo = config["demo_region"]
        smallest = min(demo["rows"], demo["track_width_px"])
        if frame > smallest:
            raise ConfigError(
                f"config keys frames.size_px ({frame}) and demo_region.rows / "
                f"demo_region.track_width_px ({demo['rows']} / {demo['track_width_px']}): "
                "a frame must fit inside a track of the demo region"
            )
    for pass_direction, low in simulation["min_amplitude_mm"].items():
        if low > simulation["max_amplitude_mm"]:
            raise ConfigError(
                f"config keys simulation.min_amplitude_mm.{pass_direction} ({low}) and "
                f"simulation.max_amplitude_mm ({simulation['max_amplitude_mm']}): the smallest "
                "amplitude exceeds the largest"
            )
    low_km, high_km = simulation["source_depth_km"]
    if low_km > high_km:
        raise ConfigError(
            f"config key simulation.source_depth_km: [{low_km}, {high_km}] is not [low, high]"
        )
    check_source_chunks(simulation)
    n = simulation["los_sets"] * simulation["samples_per_set"]
    if max(1, round(n * simulation["validation_fraction"])) >= n:
        raise ConfigError(
            f"config keys simulation.validation_fraction ({simulation['validation_fraction']}), "
            "simulation.los_sets and simulation.samples_per_set: the validation share leaves no "
            f"training sample out of {n}"
        )


def check_source_chunks(simulation: dict[str, Any]) -> None:
    """ConfigError when the source library would need more than ``MAX_SOURCE_CHUNKS`` jobs."""
    size = simulation.get("source_library_size") or simulation["samples_per_set"] // 2
    per_job = simulation["sources_per_job"]
    chunks = -(-size // per_job)
    if chunks > MAX_SOURCE_CHUNKS:
        raise ConfigError(
            f"config keys simulation.source_library_size ({size}) and simulation.sources_per_job "
            f"({per_job}): {chunks} source_library jobs, at most {MAX_SOURCE_CHUNKS} (Snakemake's "
            f"DAG grows with them); raise sources_per_job to at least {-(-size // MAX_SOURCE_CHUNKS)}"
        )


@lru_cache(maxsize=1)
def timm_model_names() -> frozenset[str]:
    """Names of the models timm registers, read from its sources without importing it (importing
    timm pulls in torch: about 5 s of CPU, 15 s on a loaded 2-core box; this takes 20 ms). Each
    model is a function decorated with ``@register_model``; empty if timm is not installed or
    its layout changed (``tests/core/test_config.py`` pins the scan to ``timm.list_models()``)."""
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        return frozenset()
    names: set[str] = set()
    for source in sorted((Path(spec.origin).parent / "models").glob("*.py")):
        text = source.read_text(encoding="utf-8", errors="replace")
        names.update(re.findall(r"@register_model(?:\([^)]*\))?\s*\ndef (\w+)\(", text))
    return frozenset(names)


@lru_cache(maxsize=1)
def timm_tagged_names() -> frozenset[str]:
    """``model.tag`` names of timm's pretrained configs, read from its sources like
    ``timm_model_names`` (the dict keys of each model file's ``default_cfgs``, commented-out
    ones skipped). Names timm builds in loops are missed; ``check_backbone_tag`` then asks
    timm itself."""
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        return frozenset()
    models = timm_model_names()
    names: set[str] = set()
    for source in sorted((Path(spec.origin).parent / "models").glob("*.py")):
        text = source.read_text(encoding="utf-8", errors="replace")
        names.update(re.findall(r"""^[ \t]*['"]([\w-]+\.[\w-]+)['"]\s*:""", text, re.MULTILINE))
    return frozenset(n for n in names if n.split(".", 1)[0] in models)


def _timm_has_tag(name: str) -> bool:
    """Whether timm accepts ``model.tag`` (imports timm: a few seconds, only for names that its
    sources do not spell out)."""
    try:
        from timm.models import get_pretrained_cfg

        return get_pretrained_cfg(name, allow_unregistered=False) is not None
    except (ImportError, RuntimeError):
        return False


def check_backbone_tag(name: str) -> None:
    """ConfigError when ``model.backbone`` is ``model.tag`` with a tag timm does not know for
    that model (timm refuses to build it, even without pretrained weights)."""
    arch, _, tag = name.partition(".")
    if not tag or name in timm_tagged_names() or _timm_has_tag(name):
        return
    tags = sorted(n.split(".", 1)[1] for n in timm_tagged_names() if n.startswith(f"{arch}."))
    hint = f"; its tags: {', '.join(tags[:6])}" if tags else ""
    raise ConfigError(
        f"config key model.backbone: timm {importlib.metadata.version('timm')} has no "
        f"pretrained tag {tag!r} for {arch}{hint} (or give {arch} alone)"
    )


def check_backbone(name: str) -> None:
    """ConfigError unless ``model.backbone`` names a timm model, with a ``.tag`` suffix only
    if timm knows that tag for it; no check when timm's model names cannot be read."""
    names = timm_model_names()
    if not names:
        return
    if name.split(".", 1)[0] in names:
        check_backbone_tag(name)
        return
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"config key model.backbone: unknown backbone {name!r}: timm "
        f"{importlib.metadata.version('timm')} has no such model{hint}"
    )


def check_region_conflicts(
    config: dict[str, Any], root: Path, n_tracks: int, has_salt_lakes: bool
) -> None:
    """ConfigError when the config cannot work with a region folder: ``simulation.los_sets`` must
    equal its track count (one LOS set per track) and a salt-lake limit needs its polygons."""
    los_sets = config["simulation"]["los_sets"]
    if los_sets != n_tracks:
        raise ConfigError(
            f"config key simulation.los_sets ({los_sets}) differs from the {n_tracks} track(s) "
            f"in {Path(root) / 'tracks.csv'} (one LOS set per track); set simulation.los_sets: "
            f"{n_tracks}"
        )
    if config["background"]["max_salt_lake_fraction"] is not None and not has_salt_lakes:
        raise ConfigError(
            "config key background.max_salt_lake_fraction is set but "
            f"{Path(root) / 'salt_lakes.geojson'} does not exist (add it or set the key to null)"
        )


def sorted_keys(value: Any) -> Any:
    """A copy of ``value`` with every dict's keys in sorted order (lists keep their order).

    Snakemake compares dict params by their repr, which follows key order: with sorted keys,
    reordering a config file changes nothing.
    """
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value
