"""Config validation against the workflow's JSON schema, with one-line errors naming the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from volcdet.core.errors import VolcdetError


class ConfigError(VolcdetError):
    """The configuration breaks the schema (unknown key, wrong type, out of range)."""


def _fill_defaults(validator_class: type) -> type:
    """A validator that also writes each property's ``default`` into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(
        validator: Any, properties: dict, instance: Any, schema: dict
    ) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = subschema["default"]
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _describe(error: jsonschema.ValidationError) -> str:
    """One line naming the offending key, e.g. ``config key frames.size_px: 'x' is not ...``."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = min(set(error.instance) - set(allowed))
        key = ".".join([*path, unexpected])
        return f"config key {key} is not a known key (typo?); allowed here: {', '.join(allowed)}"
    return f"config key {'.'.join(path) or '<top level>'}: {error.message}"


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` in place (defaults filled in); ConfigError names the first bad key."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(
        validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path))
    )
    if errors:
        raise ConfigError(_describe(errors[0]))
    return config
