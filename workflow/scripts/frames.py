"""Rule frames: 512-px frames centred on volcanoes inside the ROI."""

from volcdet.core.logs import setup_logging
from volcdet.data.frames import FrameSpec, build_frames
from volcdet.data.region import load_region

setup_logging(snakemake.log[0])
build_frames(
    load_region(snakemake.params.region),
    FrameSpec(pixel_size_m=snakemake.params.pixel_size_m, **snakemake.params.frames),
    snakemake.output.array,
    snakemake.output.table,
)
