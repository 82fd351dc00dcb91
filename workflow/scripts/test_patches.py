"""Rule test_patches: overlapping patches of every frame, labelled from footprints."""

from volcdet.core.logs import setup_logging
from volcdet.data.patches import PatchSpec, build_test_patches
from volcdet.data.region import load_region

setup_logging(snakemake.log[0])
build_test_patches(
    snakemake.input.frames,
    snakemake.input.frames_table,
    load_region(snakemake.params.region, check_rasters=False),
    PatchSpec(**snakemake.params.patches),
    snakemake.output.array,
    snakemake.output.table,
)
