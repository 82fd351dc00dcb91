"""Config validation: the shipped configs pass, typos and wrong types fail naming the key."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import REPO

from volcdet.core.config import ConfigError, validate_config

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_are_valid(name):
    config = yaml.safe_load((REPO / "config" / name).read_text())
    validate_config(config, SCHEMA)


def test_paper_config_carries_the_paper_numbers():
    config = validate_config(yaml.safe_load((REPO / "config/paper.yaml").read_text()), SCHEMA)
    assert config["frames"]["size_px"] * config["pixel_size_m"] == 102_400
    assert (config["patches"]["size_px"], config["patches"]["stride_px"]) == (256, 64)
    assert config["simulation"]["los_sets"] * config["simulation"]["samples_per_set"] == 330_834
    n_val = round(330_834 * config["simulation"]["validation_fraction"])
    assert (330_834 - n_val, n_val) == (297_751, 33_083) or abs(n_val - 33_082) <= 1
    assert config["model"]["backbone"] == "inception_resnet_v2"


def _demo():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_typo_names_the_key():
    config = _demo()
    config["frames"]["max_missing_fractoin"] = 0.1
    with pytest.raises(
        ConfigError, match=r"config key frames\.max_missing_fractoin is not a known key"
    ):
        validate_config(config, SCHEMA)


def test_wrong_type_names_the_key():
    config = _demo()
    config["patches"]["stride_px"] = "64"
    with pytest.raises(
        ConfigError, match=r"config key patches\.stride_px: '64' is not of type 'integer'"
    ):
        validate_config(config, SCHEMA)


def test_defaults_are_filled():
    config = _demo()
    del config["gallery"]
    validated = validate_config(copy.deepcopy(config), SCHEMA)
    assert validated["gallery"]["patches_per_row"] == 6


def _tiny():
    return yaml.safe_load((REPO / "tests/fixtures/tiny_config.yaml").read_text())


def _set(config: dict, dotted: str, value: object) -> dict:
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return config


CONFLICTS = [
    (
        {"frames.size_px": 96},
        r"config keys frames\.size_px \(96\) and patches\.size_px \(128\): a frame must hold",
    ),
    (
        {"input.downsample": 3},
        r"config keys input\.downsample \(3\) and patches\.size_px \(128\)",
    ),
    (
        {"frames.size_px": 1024},
        (
            r"config keys frames\.size_px \(1024\) and demo_region\.rows / "
            r"demo_region\.track_width_px \(768 / 768\)"
        ),
    ),
    (
        {"simulation.min_amplitude_mm.descending": 150.0},
        (
            r"config keys simulation\.min_amplitude_mm\.descending \(150\.0\) and "
            r"simulation\.max_amplitude_mm \(100\.0\)"
        ),
    ),
    (
        {"simulation.source_depth_km": [12.0, 2.0]},
        r"config key simulation\.source_depth_km: \[12\.0, 2\.0\] is not \[low, high\]",
    ),
    (
        {
            "simulation.los_sets": 1,
            "simulation.samples_per_set": 2,
            "simulation.validation_fraction": 0.9,
        },
        r"simulation\.validation_fraction \(0\.9\).*leaves no training sample out of 2",
    ),
    (
        {"simulation.min_amplitude_mm": {"ascending": 15.0}},
        r"config key simulation\.min_amplitude_mm: 'descending' is a required property",
    ),
]


@pytest.mark.parametrize(("changes", "message"), CONFLICTS)
def test_conflicting_values_fail_naming_the_keys(changes, message):
    config = _tiny()
    for key, value in changes.items():
        _set(config, key, value)
    with pytest.raises(ConfigError, match=message) as err:
        validate_config(config, SCHEMA)
    assert "\n" not in str(err.value)


def test_tiny_config_has_no_conflict():
    validate_config(_tiny(), SCHEMA)


def test_region_conflicts_name_the_key_and_the_file(tmp_path):
    from volcdet.core.config import check_region_conflicts

    config = validate_config(_tiny(), SCHEMA)
    with pytest.raises(
        ConfigError,
        match=r"config key simulation\.los_sets \(7\) differs from the 3 track\(s\) in "
        r".*tracks\.csv .*set simulation\.los_sets: 3",
    ):
        check_region_conflicts(config, tmp_path, 3, True)
    with pytest.raises(
        ConfigError,
        match=r"config key background\.max_salt_lake_fraction is set but .*salt_lakes\.geojson",
    ):
        check_region_conflicts(config, tmp_path, 7, False)
    check_region_conflicts(config, tmp_path, 7, True)


def test_unknown_backbone_fails_naming_the_key_and_close_names():
    config = _set(_tiny(), "model.backbone", "resnet10")
    with pytest.raises(
        ConfigError,
        match=r"config key model\.backbone: unknown backbone 'resnet10': timm \S+ has no such "
        r"model; did you mean .*resnet10t",
    ):
        validate_config(config, SCHEMA)
    validate_config(_set(_tiny(), "model.backbone", "resnet10t.c3_in1k"), SCHEMA)


def test_timm_names_read_from_its_sources_are_timms_own():
    """The parse-time check reads timm's sources instead of importing it: same names."""
    import timm

    from volcdet.core.config import timm_model_names

    assert timm_model_names() == frozenset(timm.list_models())


def test_unknown_backbone_of_a_model_file_is_named_with_close_matches():
    from volcdet.learning.model import unknown_backbone

    assert unknown_backbone("resnet10t") is None
    assert unknown_backbone("test_resnet") is None
    message = unknown_backbone("resnet10")
    assert message.startswith("unknown backbone 'resnet10': timm ") and "resnet10t" in message


def test_sorted_keys_sorts_every_dict_and_keeps_list_order():
    from volcdet.core.config import sorted_keys

    value = {"b": {"y": 1, "x": [{"d": 1, "c": 2}, 3]}, "a": [2, 1]}
    result = sorted_keys(value)
    assert result == value
    assert repr(result) == "{'a': [2, 1], 'b': {'x': [{'c': 2, 'd': 1}, 3], 'y': 1}}"


LATE_FAILURES = [
    (
        "training.learning_rate",
        float("nan"),
        r"training\.learning_rate: nan is not a finite number",
    ),
    ("training.weight_decay", float("inf"), r"training\.weight_decay: inf is not a finite number"),
    ("model.hidden_units", 10**9, r"model\.hidden_units: 1000000000 is greater than the max"),
    ("model.hidden_units", 1e9, r"model\.hidden_units: 1000000000\.0 is not of type 'int"),
    (
        "evaluation.bootstrap_resamples",
        10**12,
        r"evaluation\.bootstrap_resamples: 1000000000000 is greater than the maximum",
    ),
    (
        "simulation.samples_per_set",
        10**9,
        r"simulation\.samples_per_set: 1000000000 is greater than the maximum",
    ),
    (
        "simulation.source_library_size",
        10**9,
        r"simulation\.source_library_size: 1000000000 is greater than the maximum",
    ),
    ("simulation.los_sets", 10**6, r"simulation\.los_sets: 1000000 is greater than the maximum"),
    ("simulation.los_sets", 7.0, r"simulation\.los_sets: 7\.0 is not of type 'integer'"),
    (
        "sensitivity.rates_mm_yr",
        [1.0, float("nan")],
        r"sensitivity\.rates_mm_yr\.1: nan is not a finite number",
    ),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), LATE_FAILURES, ids=[f"{k}={v}" for k, v, _ in LATE_FAILURES]
)
def test_values_that_failed_late_stop_at_parse_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=rf"^config key {message}") as err:
        validate_config(_set(_demo(), key, value), SCHEMA)
    assert "\n" not in str(err.value)


def test_a_nan_written_in_yaml_stops_at_parse():
    demo = _demo()
    demo["training"].update(yaml.safe_load("learning_rate: .nan"))
    with pytest.raises(ConfigError, match=r"training\.learning_rate: nan is not a finite"):
        validate_config(demo, SCHEMA)


def test_too_many_source_library_jobs_stop_at_parse():
    config = _set(_demo(), "simulation.source_library_size", 200_000)
    config = _set(config, "simulation.sources_per_job", 10)
    with pytest.raises(
        ConfigError,
        match=r"config keys simulation\.source_library_size \(200000\) and "
        r"simulation\.sources_per_job \(10\): 20000 source_library jobs, at most 200 .*"
        r"raise sources_per_job to at least 1000",
    ):
        validate_config(config, SCHEMA)


def _numeric_keys(schema: dict, path: str = ""):
    """(dotted key, subschema) of every number or integer in the schema (array items too)."""
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if kinds & {"number", "integer"}:
        yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _numeric_keys(sub, f"{path}.{name}".lstrip("."))
    if isinstance(schema.get("items"), dict):
        yield from _numeric_keys(schema["items"], f"{path}[]")


#: Numbers that are not sizes, counts or rates: seeds are labels of random streams.
UNBOUNDED = {"seed", "seeds[]"}


def test_every_size_count_and_rate_has_a_documented_maximum():
    schema = yaml.safe_load(SCHEMA.read_text())
    readme = (REPO / "config/README.md").read_text()
    keys = dict(_numeric_keys(schema))
    unbounded = [
        key
        for key, sub in keys.items()
        if key not in UNBOUNDED and "maximum" not in sub and "exclusiveMaximum" not in sub
    ]
    assert unbounded == []
    assert "## Bounds" in readme
    bounds = readme.split("## Bounds", 1)[1]
    for key, sub in keys.items():
        limit = sub.get("maximum", sub.get("exclusiveMaximum"))
        if key in UNBOUNDED or limit <= 1:  # fractions and shares: their range says it all
            continue
        name = key.replace("[]", "")
        assert f"`{name}`" in bounds, f"{name} (maximum {limit}) is not in config/README.md"


def test_backbone_tags_are_checked_at_parse():
    config = _set(_tiny(), "model.backbone", "resnet10t.nonexistent_tag")
    with pytest.raises(
        ConfigError,
        match=r"config key model\.backbone: timm \S+ has no pretrained tag 'nonexistent_tag' "
        r"for resnet10t; its tags: c3_in1k \(or give resnet10t alone\)",
    ):
        validate_config(config, SCHEMA)
    for name in ("resnet10t", "resnet10t.c3_in1k", "seresnet18.untrained"):
        validate_config(_set(_tiny(), "model.backbone", name), SCHEMA)


def test_tags_read_from_timms_sources_are_tags_timm_accepts():
    """The parse-time scan never accepts a tag timm refuses (names it misses go to timm)."""
    from timm.models import get_pretrained_cfg

    from volcdet.core.config import timm_tagged_names

    names = timm_tagged_names()
    assert len(names) > 1000 and "resnet10t.c3_in1k" in names
    refused = [n for n in names if get_pretrained_cfg(n, allow_unregistered=False) is None]
    assert refused == []


@pytest.mark.parametrize(
    ("old", "value", "new"),
    [
        ("training.input_downsample", 2, "input.downsample"),
        ("training.backbone", "resnet10t", "model.backbone"),
        ("training.device", "cuda", "runtime.device"),
        ("finetune.table1", {"ftset": "FT1"}, "tables.table1"),
    ],
)
def test_a_key_of_an_older_config_says_where_it_moved(old, value, new):
    with pytest.raises(ConfigError, match=rf"^config key {re.escape(old)} has moved to {new} "):
        validate_config(_set(_tiny(), old, value), SCHEMA)
