"""Rule finetune: one (fine-tuning set, approach) pair on cached features."""

from volcdet.core.logs import setup_logging
from volcdet.learning.finetune import FinetuneConfig, finetune

setup_logging(snakemake.log[0])
finetune(
    snakemake.input.model,
    snakemake.input.features,
    snakemake.input.table,
    snakemake.wildcards.approach,
    FinetuneConfig(seed=snakemake.params.seed, **snakemake.params.finetune),
    snakemake.output.model,
    snakemake.output.history,
)
