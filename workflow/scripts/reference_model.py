"""Rule reference_model: the chosen model with its threshold calibrated on held-out tiles."""

import json

from volcdet.core.logs import setup_logging
from volcdet.evaluation.calibration import write_calibrated_model

setup_logging(snakemake.log[0])
reference = snakemake.params.reference
calibration = write_calibrated_model(
    snakemake.input.model,
    (snakemake.input.sensitivity, snakemake.input.sensitivity_table, snakemake.input.injected),
    reference["calibration_fpr"],
    snakemake.output.model,
    {"source_model": reference["model"], "config": "config/reference.yaml"},
)
with open(snakemake.output.calibration, "w") as handle:
    json.dump({"model": reference["model"], **calibration}, handle, indent=2)
