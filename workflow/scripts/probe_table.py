"""Rule probe_table: every model's probe rows as results/tables/probes.{csv,md}."""

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.evaluation.probes import probe_table

setup_logging(snakemake.log[0])
probe_table(
    [pd.read_csv(path) for path in snakemake.input],
    snakemake.output.table,
    snakemake.output.markdown,
)
