"""Rule thresholds: every model's threshold at a fixed false-alarm rate on held-out negatives."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.calibration import calibrated_thresholds

setup_logging(snakemake.log[0])
calibrated_thresholds(
    dict(zip(snakemake.params.models, snakemake.input.models, strict=True)),
    (snakemake.input.sensitivity, snakemake.input.sensitivity_table, snakemake.input.injected),
    snakemake.params.target_fpr,
).to_csv(snakemake.output[0], index=False)
