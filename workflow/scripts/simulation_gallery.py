"""Rule simulation_gallery: simulated patches of each source kind and pass, wrapped."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.figures import simulation_gallery

setup_logging(snakemake.log[0])
simulation_gallery(
    list(zip(snakemake.input.sets, snakemake.input.tables, strict=True)),
    snakemake.output[0],
    seed=snakemake.params.seed,
)
