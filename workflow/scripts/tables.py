"""Rule tables: Tables 1 and 2 of the paper (CSV + Markdown) and their ROC figures."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.tables import write_tables

setup_logging(snakemake.log[0])
write_tables(
    snakemake.params.table1,
    snakemake.params.table2,
    dict(zip(snakemake.params.models, snakemake.input.predictions, strict=True)),
    snakemake.output,
    dict(zip(snakemake.params.models, snakemake.input.metrics, strict=True)),
    snakemake.input.thresholds,
)
