"""Rule gradcam: Grad-CAM panels of a model's top false and true positives."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.gradcam import gradcam_panels

setup_logging(snakemake.log[0])
gradcam_panels(
    snakemake.input.model,
    (snakemake.input.test, snakemake.input.test_table),
    snakemake.input.predictions,
    snakemake.output.figure,
    model_name=snakemake.wildcards.model,
    top_k=snakemake.params.top_k,
).to_csv(snakemake.output.table, index=False)
