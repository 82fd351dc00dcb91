"""Rule ftset: assemble one of the fine-tuning sets FT1-FT4."""

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.simulation.finetune_sets import write_ft_set
from volcdet.simulation.noise import NoiseSpec

setup_logging(snakemake.log[0])
write_ft_set(
    snakemake.wildcards.ftset,
    (snakemake.input.background, snakemake.input.background_table),
    list(zip(snakemake.input.sets, snakemake.input.tables, strict=True)),
    pd.read_csv(snakemake.input.los),
    list(snakemake.input.library),
    snakemake.params.seed,
    snakemake.params.max_amplitude_mm,
    snakemake.output.array,
    snakemake.output.table,
    holdout_fraction=snakemake.params.holdout_fraction,
    coverage=NoiseSpec.from_config(snakemake.params.noise).coverage,
    pixel_size_m=snakemake.params.pixel_size_m,
)
