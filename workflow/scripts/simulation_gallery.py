"""Rule simulation_gallery: simulated patches of each source kind and pass, wrapped."""

from volcdet.figures import simulation_gallery
from volcdet.logs import setup_logging

setup_logging(snakemake.log[0])
simulation_gallery(
    list(zip(snakemake.input.sets, snakemake.input.tables, strict=True)),
    snakemake.output[0],
    seed=snakemake.params.seed,
)
