"""Named random streams: every random draw of volcdet comes from ``stream(seed, purpose, *keys)``.

A stream is ``numpy.random.default_rng([seed, purpose, *keys])``. Each purpose has its own id
and a fixed number of keys, so two purposes can never share a stream: their entropy differs in
the second word. Bare integer tags (``[seed, 90]`` for a split beside ``[seed, epoch]`` for an
epoch) collide, and numpy pads the entropy with zeros, so ``[seed, 9]`` and ``[seed, 9, 0]``
are the same stream too. Seeds and keys must be integers in [0, 2**32): larger ones would be
split into several words and could alias another key. torch seeds come from the same streams
(``torch_seed``). Not in the paper.
"""

from __future__ import annotations

from enum import IntEnum, unique

import numpy as np

#: Largest seed or key + 1 (one 32-bit word of numpy's SeedSequence entropy).
MAX_SEED = 2**32


@unique
class Purpose(IntEnum):
    """What a stream is for. The demo region's components keep ids 1-11 (its rasters are the
    same as before the table existed); every other purpose has an id of its own."""

    DEMO_VOLCANOES = 1
    DEMO_SOURCES = 2
    DEMO_CONFOUNDERS = 3
    DEMO_TERRAIN = 4
    DEMO_CREEP = 5
    DEMO_SALT_LAKES = 6
    DEMO_TRACK = 7
    DEMO_ATMOSPHERE_EPOCHS = 8
    DEMO_ATMOSPHERE_TRACK = 9
    DEMO_MISSING = 10
    DEMO_INTERFEROGRAMS = 11
    SOURCE_LIBRARY = 101
    SIMULATION = 102
    SIMULATION_NOISE = 103
    TRAIN_SPLIT = 201
    TRAIN_INIT = 202
    TRAIN_EPOCH_ORDER = 203
    TRAIN_EPOCH_TORCH = 204
    TRAIN_EPOCH_LOADER = 205
    TRAIN_RANDOM_OFFSET = 206
    TRAIN_VALIDATION_LOADER = 207
    FT1_VOLCANOES = 301
    FT_SIMULATED_PICKS = 302
    FINETUNE_HOLDOUT = 303
    FINETUNE_ORDER = 304
    FINETUNE_DROPOUT = 305
    FT_COVERAGE = 306
    FINETUNE_HOLDOUT_SIMULATED = 307
    BACKGROUND_HOLDOUT = 401
    INJECTION = 402
    BOOTSTRAP = 403
    PROBE_NEGATIVES = 404
    PROBE_POSITIVE_PICK = 405
    PROBE_PERTURBATION = 406
    GALLERY = 501


#: Number of keys after (seed, purpose) that each purpose takes, with what they are.
KEYS: dict[Purpose, tuple[str, ...]] = {
    Purpose.DEMO_VOLCANOES: (),
    Purpose.DEMO_SOURCES: ("volcano",),
    Purpose.DEMO_CONFOUNDERS: (),
    Purpose.DEMO_TERRAIN: (),
    Purpose.DEMO_CREEP: (),
    Purpose.DEMO_SALT_LAKES: (),
    Purpose.DEMO_TRACK: ("track",),
    Purpose.DEMO_ATMOSPHERE_EPOCHS: ("track", "acquisition"),
    Purpose.DEMO_ATMOSPHERE_TRACK: ("track",),
    Purpose.DEMO_MISSING: ("track",),
    Purpose.DEMO_INTERFEROGRAMS: ("track",),
    Purpose.SOURCE_LIBRARY: ("source",),
    Purpose.SIMULATION: ("los_set",),
    Purpose.SIMULATION_NOISE: ("los_set", "sample"),
    Purpose.TRAIN_SPLIT: (),
    Purpose.TRAIN_INIT: (),
    Purpose.TRAIN_EPOCH_ORDER: ("epoch",),
    Purpose.TRAIN_EPOCH_TORCH: ("epoch",),
    Purpose.TRAIN_EPOCH_LOADER: ("epoch",),
    Purpose.TRAIN_RANDOM_OFFSET: ("epoch", "sample"),
    Purpose.TRAIN_VALIDATION_LOADER: (),
    Purpose.FT1_VOLCANOES: (),
    Purpose.FT_SIMULATED_PICKS: (),
    Purpose.FINETUNE_HOLDOUT: (),
    Purpose.FINETUNE_ORDER: ("phase",),
    Purpose.FINETUNE_DROPOUT: ("phase", "epoch"),
    Purpose.FT_COVERAGE: ("sample",),
    Purpose.FINETUNE_HOLDOUT_SIMULATED: (),
    Purpose.BACKGROUND_HOLDOUT: (),
    Purpose.INJECTION: ("family", "depth_bin"),
    Purpose.BOOTSTRAP: (),
    Purpose.PROBE_NEGATIVES: (),
    Purpose.PROBE_POSITIVE_PICK: (),
    Purpose.PROBE_PERTURBATION: ("class", "probe"),
    Purpose.GALLERY: ("figure",),
}


def entropy(seed: int, purpose: Purpose, *keys: int) -> list[int]:
    """The SeedSequence entropy of a stream: [seed, purpose, *keys], checked.

    ValueError when the purpose takes another number of keys or a value is not an integer in
    [0, 2**32).
    """
    expected = KEYS[purpose]
    if len(keys) != len(expected):
        raise ValueError(
            f"random stream {purpose.name} takes keys {expected}, got {len(keys)} value(s)"
        )
    words = [int(seed), int(purpose), *(int(k) for k in keys)]
    for word in words:
        if not 0 <= word < MAX_SEED:
            raise ValueError(f"random stream {purpose.name}: {word} is not in [0, 2**32)")
    return words


def stream(seed: int, purpose: Purpose, *keys: int) -> np.random.Generator:
    """The generator of one purpose (and its keys) under a seed."""
    return np.random.default_rng(entropy(seed, purpose, *keys))


def torch_seed(seed: int, purpose: Purpose, *keys: int) -> int:
    """A torch seed (63-bit integer) drawn from the stream of a purpose."""
    return int(stream(seed, purpose, *keys).integers(2**63 - 1))
