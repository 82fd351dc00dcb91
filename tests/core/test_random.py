"""Named random streams: no two purposes share a stream, and every draw goes through the table."""

from __future__ import annotations

import ast
import itertools

import numpy as np
import pytest
import yaml
from conftest import REPO

from volcdet.core.random import KEYS, MAX_SEED, Purpose, entropy, stream, torch_seed


def paper_key_ranges(config: dict) -> dict[Purpose, tuple[range, ...]]:
    """For every purpose, the range of each key that the paper configuration draws."""
    sim, training, finetune = config["simulation"], config["training"], config["finetune"]
    samples = sim["samples_per_set"]
    los_sets = sim["los_sets"]
    epochs = range(1, training["max_epochs"] + 1)
    ft_epochs = range(1, finetune["max_epochs"] + 1)
    families = len(config["sensitivity"]["families"])
    depth_bins = len(config["sensitivity"]["depth_bins_km"]) - 1
    volcanoes, tracks, acquisitions = 64, 16, 140
    return {
        Purpose.DEMO_VOLCANOES: (),
        Purpose.DEMO_SOURCES: (range(volcanoes + 1),),
        Purpose.DEMO_CONFOUNDERS: (),
        Purpose.DEMO_TERRAIN: (),
        Purpose.DEMO_CREEP: (),
        Purpose.DEMO_SALT_LAKES: (),
        Purpose.DEMO_TRACK: (range(tracks),),
        Purpose.DEMO_ATMOSPHERE_EPOCHS: (range(tracks), range(acquisitions)),
        Purpose.DEMO_ATMOSPHERE_TRACK: (range(tracks),),
        Purpose.DEMO_MISSING: (range(tracks),),
        Purpose.DEMO_INTERFEROGRAMS: (range(tracks),),
        Purpose.SOURCE_LIBRARY: (range(sim["source_library_size"]),),
        Purpose.SIMULATION: (range(los_sets),),
        Purpose.SIMULATION_NOISE: (range(los_sets), range(samples)),
        Purpose.TRAIN_SPLIT: (),
        Purpose.TRAIN_INIT: (),
        Purpose.TRAIN_EPOCH_ORDER: (epochs,),
        Purpose.TRAIN_EPOCH_TORCH: (epochs,),
        Purpose.TRAIN_EPOCH_LOADER: (epochs,),
        Purpose.TRAIN_RANDOM_OFFSET: (epochs, range(los_sets * samples)),
        Purpose.TRAIN_VALIDATION_LOADER: (),
        Purpose.FT1_VOLCANOES: (),
        Purpose.FT_SIMULATED_PICKS: (),
        Purpose.FINETUNE_HOLDOUT: (),
        Purpose.FINETUNE_ORDER: (range(1, 4),),
        Purpose.FINETUNE_DROPOUT: (range(1, 4), ft_epochs),
        Purpose.FT_COVERAGE: (range(4 * 836),),
        Purpose.FINETUNE_HOLDOUT_SIMULATED: (),
        Purpose.BACKGROUND_HOLDOUT: (),
        Purpose.INJECTION: (range(families), range(depth_bins)),
        Purpose.BOOTSTRAP: (),
        Purpose.PROBE_NEGATIVES: (),
        Purpose.PROBE_POSITIVE_PICK: (),
        Purpose.PROBE_PERTURBATION: (range(2), range(64)),
        Purpose.GALLERY: (range(2),),
    }


def test_every_purpose_has_its_keys_listed():
    assert set(KEYS) == set(Purpose)
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    assert set(paper_key_ranges(config)) == set(Purpose)


def test_no_two_paper_keys_share_a_stream():
    """Every purpose's first, second and last keys under the paper config (and every seed of
    ``seeds``) give distinct generator states, also across purposes; this includes the pairs
    that collided with bare integer tags (epoch 90 beside the 90/10 split, epoch 9 beside the
    simulation of LOS set 0)."""
    config = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    seeds = sorted({config["seed"], *config.get("seeds", [])})
    states: dict[tuple[int, ...], tuple] = {}
    for purpose, ranges in paper_key_ranges(config).items():
        picks = [sorted({r[0], r[min(1, len(r) - 1)], r[-1]}) for r in ranges]
        for seed, keys in itertools.product(seeds, itertools.product(*picks)):
            words = entropy(seed, purpose, *keys)
            assert max(words) < MAX_SEED
            state = tuple(np.random.SeedSequence(words).generate_state(8))
            assert state not in states, (
                f"{(purpose.name, keys)} shares a stream with {states[state]}"
            )
            states[state] = (seed, purpose.name, keys)


def test_bare_tags_collided_as_the_table_prevents():
    """The old keys: the epoch-90 shuffle and the split drew the same numbers; numpy pads the
    entropy with zeros, so [seed, 9] (epoch 9) was the stream of LOS set 0."""
    seed = 20231
    first = np.random.default_rng([seed, 90]).random(4)
    np.testing.assert_array_equal(first, np.random.default_rng([seed, 90]).random(4))
    np.testing.assert_array_equal(
        np.random.default_rng([seed, 9]).random(4), np.random.default_rng([seed, 9, 0]).random(4)
    )
    split = stream(seed, Purpose.TRAIN_SPLIT).random(4)
    epoch = stream(seed, Purpose.TRAIN_EPOCH_ORDER, 90).random(4)
    assert not np.array_equal(split, epoch)
    simulation = stream(seed, Purpose.SIMULATION, 0).random(4)
    assert not np.array_equal(stream(seed, Purpose.TRAIN_EPOCH_ORDER, 9).random(4), simulation)


def test_keys_are_checked():
    with pytest.raises(ValueError, match="takes keys"):
        stream(1, Purpose.SIMULATION)
    with pytest.raises(ValueError, match="not in"):
        stream(2**32, Purpose.TRAIN_SPLIT)
    with pytest.raises(ValueError, match="not in"):
        stream(1, Purpose.SIMULATION, -1)
    assert 0 <= torch_seed(5, Purpose.TRAIN_INIT) < 2**63
    assert torch_seed(5, Purpose.TRAIN_INIT) == torch_seed(5, Purpose.TRAIN_INIT)


def _seeding_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("default_rng", "manual_seed", "seed", "RandomState"):
                calls.append(node)
    return calls


def test_every_draw_goes_through_the_table():
    """No module of the library seeds numpy or torch except through ``volcdet.core.random``."""
    bad = []
    for path in sorted((REPO / "src/volcdet").rglob("*.py")):
        if path.name == "random.py" and path.parent.name == "core":
            continue
        for call in _seeding_calls(ast.parse(path.read_text())):
            name = getattr(call.func, "attr", getattr(call.func, "id", ""))
            argument = call.args[0] if call.args else None
            through_table = (
                name == "manual_seed"
                and isinstance(argument, ast.Call)
                and getattr(argument.func, "id", "") == "torch_seed"
            )
            if not through_table:
                bad.append(f"{path.relative_to(REPO)}:{call.lineno} {name}")
    assert not bad, "seeded outside volcdet.core.random: " + ", ".join(bad)
