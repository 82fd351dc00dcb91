"""Rule sensitivity_set: sources injected at known rates into held-out background tiles."""

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.evaluation.injection import SensitivitySpec, build_sensitivity_set, source_families
from volcdet.simulation.source_library import SourceLibrary

setup_logging(snakemake.log[0])
s = snakemake.params.sensitivity
build_sensitivity_set(
    (snakemake.input.background, snakemake.input.background_table),
    pd.read_csv(snakemake.input.los),
    source_families(
        s["families"],
        SourceLibrary(snakemake.input.library, snakemake.input.library_tables),
        snakemake.params.size_px,
        snakemake.params.pixel_size_m,
    ),
    SensitivitySpec(
        rates_mm_yr=tuple(s["rates_mm_yr"]),
        depth_bins_km=tuple(s["depth_bins_km"]),
        samples_per_cell=s["samples_per_cell"],
        holdout_fraction=s["holdout_fraction"],
        seed=snakemake.params.seed,
        clip_sides_km=tuple(s["clip_sides_km"]),
        pixel_size_m=snakemake.params.pixel_size_m,
    ),
    snakemake.output.array,
    snakemake.output.table,
)
