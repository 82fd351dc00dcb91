"""Rule background_patches: tiles outside the ROI (slope-induced signal)."""

from volcdet.core.logs import setup_logging
from volcdet.data.background import BackgroundSpec, build_background_patches
from volcdet.data.region import load_region

setup_logging(snakemake.log[0])
build_background_patches(
    load_region(snakemake.params.region),
    BackgroundSpec(
        size_px=snakemake.params.size_px,
        pixel_size_m=snakemake.params.pixel_size_m,
        **snakemake.params.background,
    ),
    snakemake.output.array,
    snakemake.output.table,
)
