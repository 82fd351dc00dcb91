"""Rule demo_region: write the synthetic stand-in region."""

from pathlib import Path

from volcdet.core.logs import setup_logging
from volcdet.demo.region import DemoRegionSpec, generate_demo_region

setup_logging(snakemake.log[0])
generate_demo_region(
    Path(snakemake.output.tracks).parent,
    DemoRegionSpec(
        seed=snakemake.params.seed,
        pixel_size_m=snakemake.params.pixel_size_m,
        **snakemake.params.size,
    ),
)
