"""Rule metrics: the paper's patch-level metrics of one model's predictions."""

import json

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.evaluation.metrics import patch_metrics

setup_logging(snakemake.log[0])
predictions = pd.read_parquet(snakemake.input[0])
metrics = patch_metrics(
    predictions.label.to_numpy(),
    predictions.probability.to_numpy(),
    predictions.frame_id.to_numpy(),
)
with open(snakemake.output[0], "w") as handle:
    json.dump(metrics, handle, indent=2)
