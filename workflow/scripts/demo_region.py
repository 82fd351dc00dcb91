"""Rule demo_region: write the embedded demo region (independent of the simulator)."""

from pathlib import Path

from volcdet.core.logs import setup_logging
from volcdet.demo.region import generate_demo_region
from volcdet.demo.spec import DemoRegionSpec

setup_logging(snakemake.log[0])
generate_demo_region(
    Path(snakemake.output.tracks).parent,
    DemoRegionSpec(
        seed=snakemake.params.seed,
        pixel_size_m=snakemake.params.pixel_size_m,
        frame_size_px=snakemake.params.frame_size_px,
        **snakemake.params.size,
    ),
)
