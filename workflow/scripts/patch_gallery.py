"""Rule patch_gallery: a Figure-2-like gallery of wrapped test and background patches."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.figures import patch_gallery

setup_logging(snakemake.log[0])
patch_gallery(
    (snakemake.input.test, snakemake.input.test_table),
    (snakemake.input.background, snakemake.input.background_table),
    snakemake.output[0],
    n_per_row=snakemake.params.per_row,
    seed=snakemake.params.seed,
)
