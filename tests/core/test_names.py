"""Names that become parts of paths: one strict pattern, checked wherever such a name is made."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

from volcdet.core.names import SAFE_NAME, is_safe_name, slug
from volcdet.learning.approaches import APPROACHES


@pytest.mark.parametrize("name", ["D083", "A076", "FT1_last", "track-7", "T_1"])
def test_safe_names(name):
    assert is_safe_name(name)


@pytest.mark.parametrize("name", ["", "..", "../../x", "a/b", ".hidden", "a b", "Tü", "x\n", 7])
def test_unsafe_names(name):
    assert not is_safe_name(name)


def test_slugs_of_volcano_names_are_safe():
    for name, expected in [
        ("Cerro Demo 01", "cerro-demo-01"),
        ("Láscar", "lascar"),
        ("?", "unnamed"),
    ]:
        assert slug(name) == expected and is_safe_name(slug(name))


def test_every_name_the_workflow_puts_in_a_path_is_safe():
    """Approach slugs and every model id and fine-tuning set the schema allows."""
    assert all(is_safe_name(name) for name in APPROACHES)
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    scan_model = schema["properties"]["scan"]["properties"]["model"]["pattern"]
    for ftset in schema["properties"]["tables"]["properties"]["table1"]["properties"]["ftset"][
        "enum"
    ]:
        assert is_safe_name(ftset)
        for approach in APPROACHES:
            model_id = f"{ftset}_{approach}"
            assert re.fullmatch(scan_model, model_id) and re.fullmatch(SAFE_NAME, model_id)
