"""Rule features: pooled backbone features of a dataset under the synthetic-only model."""

from volcdet.core.logs import setup_logging
from volcdet.learning.features import cache_features

setup_logging(snakemake.log[0])
cache_features(
    snakemake.input.model,
    [(snakemake.input.array, snakemake.input.table)],
    snakemake.output.features,
    snakemake.output.table,
    device=snakemake.config["runtime"]["device"],  # not a param: changing it reruns nothing
)
