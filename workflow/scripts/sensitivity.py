"""Rule sensitivity: detection per rate and depth and the 50%/90% detectable rates, per model."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.sensitivity import write_sensitivity

setup_logging(snakemake.log[0])
write_sensitivity(
    snakemake.input.injected,
    snakemake.input.features,
    snakemake.input.features_table,
    dict(zip(snakemake.params.models, snakemake.input.models, strict=True)),
    snakemake.params.names,
    dict(snakemake.output.items()),
)
