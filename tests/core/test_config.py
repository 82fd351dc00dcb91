"""Config validation: the shipped configs pass, typos and wrong types fail naming the key."""

from __future__ import annotations

import copy

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
    assert config["training"]["backbone"] == "inception_resnet_v2"


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
