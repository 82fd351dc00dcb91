"""Rule variograms: fit every interferogram of the region, summarise per pass, write the
per-pass atmosphere parameters read by the simulation stage, and plot a few fits."""

from volcdet.core.logs import setup_logging
from volcdet.data.region import load_region
from volcdet.simulation.atmosphere import (
    atmosphere_parameters_from_table,
    save_atmosphere_parameters,
)
from volcdet.simulation.variogram import pass_summary, plot_variogram_fits, variogram_table

MAX_LAG_M, N_BINS = 20_000.0, 100  # 200 m lag bins

setup_logging(snakemake.log[0])
region = load_region(snakemake.params.region, check_rasters=False)
table = variogram_table(region.interferograms, region.root, MAX_LAG_M, N_BINS)
table.to_csv(snakemake.output.table, index=False)
pass_summary(table).to_csv(snakemake.output.summary, index=False)
save_atmosphere_parameters(
    atmosphere_parameters_from_table(
        table, snakemake.params.noise_mm, snakemake.params.noise_statistic
    ),
    snakemake.output.atmosphere,
)
plot_variogram_fits(table, region.root, snakemake.output.figure, MAX_LAG_M, N_BINS)
