"""Rule source_library: one chunk of the shared CDM source library."""

from volcdet.core.logs import setup_logging
from volcdet.simulation.source_library import build_source_library

setup_logging(snakemake.log[0])
first, count = snakemake.params.chunk
low_km, high_km = snakemake.params.depth_km
build_source_library(
    n_sources=count,
    first_index=first,
    seed=snakemake.params.seed,
    size_px=snakemake.params.size_px,
    pixel_size_m=snakemake.params.pixel_size_m,
    nu=snakemake.params.nu,
    depth_range_m=(low_km * 1000.0, high_km * 1000.0),
    array_path=snakemake.output.array,
    table_path=snakemake.output.table,
    step_px=snakemake.params.step_px,
    radius_range_m=tuple(r * 1000.0 for r in snakemake.params.radius_km),
)
