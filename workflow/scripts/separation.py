"""Rule separation: metrics that separate models, the footprint-threshold sweep, both figures."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.separation import write_separation

setup_logging(snakemake.log[0])
names = snakemake.params.names
write_separation(
    names,
    dict(zip(names, snakemake.input.predictions, strict=True)),
    dict(zip(names, snakemake.input.metrics, strict=True)),
    snakemake.params.sweep,
    snakemake.params.n_resamples,
    snakemake.params.seed,
    dict(snakemake.output.items()),
)
