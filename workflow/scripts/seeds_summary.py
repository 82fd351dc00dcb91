"""Rule seeds_summary: mean +- sd of every metric per model over the seed runs."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.seeds import write_seeds_summary

setup_logging(snakemake.log[0])
write_seeds_summary(
    snakemake.params.names,
    snakemake.params.seeds,
    list(snakemake.input.metrics),
    list(snakemake.input.predictions),
    list(snakemake.input.sensitivity),
    snakemake.params.n_resamples,
    snakemake.params.seed,
    snakemake.output.table,
    snakemake.output.markdown,
)
