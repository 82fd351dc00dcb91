"""Rule metrics: the paper's patch-level metrics of one model's predictions, plus the clean,
per-frame and frame-bootstrap interval metrics (volcdet.evaluation.separation)."""

import json

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.evaluation.separation import model_metrics

setup_logging(snakemake.log[0])
metrics = model_metrics(
    pd.read_parquet(snakemake.input[0]), snakemake.params.n_resamples, snakemake.params.seed
)
with open(snakemake.output[0], "w") as handle:
    json.dump(metrics, handle, indent=2)
