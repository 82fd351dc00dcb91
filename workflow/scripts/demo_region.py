"""Rule demo_region: write the synthetic stand-in region."""

from pathlib import Path

from volcdet.demo_region import DemoRegionSpec, generate_demo_region
from volcdet.logs import setup_logging

setup_logging(snakemake.log[0])
generate_demo_region(
    Path(snakemake.output.tracks).parent,
    DemoRegionSpec(
        seed=snakemake.params.seed,
        pixel_size_m=snakemake.params.pixel_size_m,
        **snakemake.params.size,
    ),
)
