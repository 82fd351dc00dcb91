# Shared helpers: config validation (before any job starts), region paths, default targets.
from pathlib import Path

import pandas as pd

from volcdet.core.config import check_region_conflicts, sorted_keys, validate_config
from volcdet.core.errors import VolcdetError
from volcdet.core.stamps import stamp_path, update_stamps
from volcdet.core.names import SAFE_NAME
from volcdet.learning.approaches import APPROACHES
from volcdet.learning.cpu_kernels import use_native_cpu_kernels
from volcdet.data.region import check_region_before_run, load_region

try:
    validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
except VolcdetError as err:
    raise WorkflowError(str(err)) from None

# Snakemake compares dict params by repr, i.e. in key order: with every dict's keys sorted,
# reordering a config file reruns nothing.
_SORTED_CONFIG = sorted_keys(config)
config.clear()
config.update(_SORTED_CONFIG)

# Every job runs the CPU kernels pinned at AVX2 (volcdet.learning.cpu_kernels: the same weights
# and tables on every x86-64 CPU); bf16 training asks for the CPU's own kernels in every job.
if config["training"]["cpu_precision"] == "bf16":
    use_native_cpu_kernels()

REGION = Path(config["region"]["path"])
REGION_TABLES = {
    "tracks": REGION / "tracks.csv",
    "volcanoes": REGION / "volcanoes.csv",
    "roi": REGION / "roi.geojson",
    "interferograms": REGION / "interferograms.csv",
}

if not config["region"]["synthetic_demo"]:
    # A user's region: check the folder, the tables, every raster's header and two windows of
    # its pixels, and the config against the region, now, before any job runs (once: jobs that
    # parse the workflow again, e.g. on a cluster, check the tables only).
    try:
        if workflow.is_main_process:
            _region = check_region_before_run(REGION, config["pixel_size_m"])
            check_region_conflicts(
                config, REGION, len(_region.tracks), _region.salt_lakes_lonlat is not None
            )
        else:
            load_region(REGION, check_rasters=False)
    except VolcdetError as err:
        raise WorkflowError(f"region check failed: {err}") from None

# A user's region file replaced by a copy with an older modification time (cp -p) is seen
# through its content stamp, an input beside it that changes only when the content does
# (volcdet.core.stamps, docs/reliability.md). Only the main process hashes; jobs find them.
STAMP_DIR = Path("results/.region_stamps")


def region_files():
    """Every file of a user's region that jobs read (tables, rasters and dem.tif)."""
    tracks = pd.read_csv(REGION_TABLES["tracks"])
    rasters = [*tracks["velocity"], *tracks["los"]]
    rasters += list(pd.read_csv(REGION_TABLES["interferograms"])["path"])
    tables = [str(path) for path in REGION_TABLES.values()]
    return [*tables, *(str(REGION / path) for path in rasters), str(REGION / "dem.tif")]


if config["region"]["synthetic_demo"]:
    REGION_STAMPS = {}
elif workflow.is_main_process:
    REGION_STAMPS = update_stamps(region_files(), STAMP_DIR)
else:
    REGION_STAMPS = {p: str(stamp_path(p, STAMP_DIR)) for p in region_files() if Path(p).is_file()}


def stamps_of(paths):
    """The content stamps of those of ``paths`` that have one (files of a user's region)."""
    return [REGION_STAMPS[path] for path in paths if path in REGION_STAMPS]


APPROACH_NAMES = {slug: paper for slug, (paper, _) in APPROACHES.items()}
SIMULATION = config["simulation"]
LOS_SETS = list(range(SIMULATION["los_sets"]))
LIBRARY_SIZE = SIMULATION.get("source_library_size") or SIMULATION["samples_per_set"] // 2
LIBRARY_CHUNKS = list(range(-(-LIBRARY_SIZE // SIMULATION["sources_per_job"])))


TABLES = config["tables"]
TABLE1 = [["Synthetic", "synthetic"]] + [
    [f"{TABLES['table1']['ftset']} {APPROACH_NAMES[a]}", f"{TABLES['table1']['ftset']}_{a}"]
    for a in TABLES["table1"]["approaches"]
]
TABLE2 = [["Synthetic", "synthetic"]] + [
    [
        f"{s} {APPROACH_NAMES[TABLES['table2']['approach']]}",
        f"{s}_{TABLES['table2']['approach']}",
    ]
    for s in TABLES["table2"]["ftsets"]
]
MODELS = list(dict.fromkeys(model for _, model in TABLE1 + TABLE2))
MODEL_NAMES = {model: next(n for n, m in TABLE1 + TABLE2 if m == model) for model in MODELS}

# Seed runs: the default run trains with `seed` under results/; every other seed of
# `seeds` repeats training and fine-tuning under results/seeds/seed<k>/ on the same data.
SEEDS = config.get("seeds") or [config["seed"] + k for k in range(3)]


# Every wildcard of every rule is constrained, and none matches a slash or two dots.
wildcard_constraints:
    los_set=r"\d+",
    chunk=r"\d+",
    ftset="FT[1-4]",
    approach="|".join(APPROACH_NAMES),
    dataset="test|FT[1-4]|sensitivity",
    run=r"results(/seeds/seed\d+)?",
    model="synthetic|FT[1-4]_(" + "|".join(APPROACH_NAMES) + ")",
    track=SAFE_NAME,


def run_dir(seed):
    """Folder of a seed run: results/ for the config's seed, results/seeds/seed<k>/ otherwise."""
    return "results" if int(seed) == config["seed"] else f"results/seeds/seed{seed}"


def run_seed(wildcards):
    """Learning seed of a run folder (the {run} wildcard)."""
    if wildcards.run == "results":
        return config["seed"]
    return int(wildcards.run.rsplit("seed", 1)[1])


def dataset_array(wildcards):
    """Patch store of a dataset: the test patches, a fine-tuning set or the sensitivity set."""
    if wildcards.dataset == "test":
        return "results/patches/test.npy"
    if wildcards.dataset == "sensitivity":
        return "results/sensitivity/injected.npy"
    return f"results/finetune_sets/{wildcards.dataset}.npy"


def dataset_table(wildcards):
    return dataset_array(wildcards).replace(".npy", ".parquet")


def model_file(model_id, run="results"):
    """Model file of a model id ('synthetic' or '<ftset>_<approach>') in a run folder."""
    if model_id == "synthetic":
        return f"{run}/models/synthetic/best.pt"
    ftset, approach = model_id.split("_", 1)
    return f"{run}/finetune/{ftset}/{approach}/model.pt"


def model_path(wildcards):
    """Model file of the {model} wildcard in the {run} folder."""
    return model_file(wildcards.model, wildcards.run)


def run_models(wildcards):
    """Every model file of Tables 1-2 in the {run} folder, in MODELS order."""
    return [model_file(model, wildcards.run) for model in MODELS]


def run_outputs(pattern):
    """An input function: ``pattern`` for every model of the {run} folder, in MODELS order."""

    def paths(wildcards):
        return [pattern.format(run=wildcards.run, model=model) for model in MODELS]

    return paths


def seeds_inputs(pattern):
    """``pattern`` for every seed run and model (seed-major, then MODELS order)."""
    return [pattern.format(run=run_dir(s), model=m) for s in SEEDS for m in MODELS]


def scan_flags(wildcards):
    """probability.tif and flagged.csv of every track's scan (after the los_geometries checkpoint)."""
    rasters = scan_targets(wildcards)
    return {
        "probability": rasters,
        "flagged": [p.replace("probability.tif", "flagged.csv") for p in rasters],
    }


def scan_track_ids(wildcards):
    return list(pd.read_csv(checkpoints.los_geometries.get().output[0]).track_id)


def scan_targets(wildcards):
    """One scan per track of the region (track ids from the los_geometries checkpoint)."""
    tracks = pd.read_csv(checkpoints.los_geometries.get().output[0]).track_id
    return expand("results/scan/{track}/probability.tif", track=tracks)


def scan_inputs(wildcards):
    """Velocity and LOS rasters of one track, as listed in the region's tracks.csv."""
    tracks = pd.read_csv(checkpoints.los_geometries.get().output[0])
    if wildcards.track not in set(tracks.track_id):
        raise WorkflowError(f"track {wildcards.track!r} is not in {REGION / 'tracks.csv'}")
    row = pd.read_csv(REGION / "tracks.csv").set_index("track_id").loc[wildcards.track]
    rasters = {"velocity": str(REGION / row["velocity"]), "los": str(REGION / row["los"])}
    stamps = stamps_of(list(rasters.values()))
    return {**rasters, "stamps": stamps} if stamps else rasters


def scan_period_yr(wildcards):
    """Stack period of a track: the scan turns its velocity into cumulative displacement."""
    checkpoints.los_geometries.get()
    return load_region(REGION, check_rasters=False).track(wildcards.track).period_yr


def scan_model(wildcards):
    return model_file(config["scan"]["model"])


def scaled_runtime(minutes):
    """A runtime resource (minutes) that grows with each retry (attempt 1, 2, ...)."""

    def runtime(wildcards, attempt):
        return minutes * attempt

    return runtime


def source_chunk_range(wildcards):
    """(first source index, number of sources) of one source_library chunk."""
    first = int(wildcards.chunk) * SIMULATION["sources_per_job"]
    return [first, min(SIMULATION["sources_per_job"], LIBRARY_SIZE - first)]


def source_library_arrays():
    return expand("results/simulation/source_library/chunk{chunk}.npy", chunk=LIBRARY_CHUNKS)


def source_library_tables():
    return expand("results/simulation/source_library/chunk{chunk}.parquet", chunk=LIBRARY_CHUNKS)


def region_dem(wildcards=None):
    """The region's dem.tif when it has one (the demo always does); stratified delay needs it."""
    dem = REGION / "dem.tif"
    files = [str(dem)] if config["region"]["synthetic_demo"] or dem.is_file() else []
    return files + stamps_of(files)


def region_tables(wildcards=None):
    """The region's tables: generated by demo_region or given by the user (with their stamps)."""
    tables = {key: str(path) for key, path in REGION_TABLES.items()}
    stamps = stamps_of(list(tables.values()))
    return {**tables, "region_stamps": stamps} if stamps else tables


def region_table(name):
    """One table of the region, once it exists (the demo's come from the demo_region checkpoint,
    so the rasters they list are known only after it ran)."""
    if config["region"]["synthetic_demo"]:
        checkpoints.demo_region.get()
    return pd.read_csv(REGION_TABLES[name])


def track_rasters(wildcards):
    """Velocity and LOS rasters of every track (tracks.csv): inputs of the rules that read them,
    so that a changed raster reruns them."""
    tracks = region_table("tracks")
    rasters = [str(REGION / path) for path in [*tracks["velocity"], *tracks["los"]]]
    return rasters + stamps_of(rasters)


def interferogram_rasters(wildcards):
    """Every interferogram raster listed in interferograms.csv (with their stamps)."""
    rasters = [str(REGION / path) for path in region_table("interferograms")["path"]]
    return rasters + stamps_of(rasters)


def final_outputs():
    """Every target of the default run."""
    return [
        "results/patches/test.npy",
        "results/patches/background.npy",
        "results/figures/patch_gallery.png",
        "results/figures/simulation_gallery.png",
        "results/tables/table1.md",
        "results/tables/table2.md",
        "results/tables/separation.md",
        "results/tables/false_alarms.md",
        "results/tables/sensitivity.md",
        "results/tables/probes.md",
        *expand(
            "results/figures/gradcam_{model}.png", model=config["evaluation"]["gradcam_models"]
        ),
    ]
