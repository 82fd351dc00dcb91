"""Rule predict: probability of deformation for every test patch under one model."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.predictions import predict_test_patches

setup_logging(snakemake.log[0])
predict_test_patches(
    snakemake.input.model,
    snakemake.input.features,
    snakemake.input.features_table,
    snakemake.input.test_table,
    snakemake.output[0],
)
