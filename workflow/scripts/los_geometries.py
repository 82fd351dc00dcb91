"""Rule los_geometries: the mean LOS unit vector of every track, one simulated set each."""

from volcdet.logs import setup_logging
from volcdet.los_sets import los_geometry_table
from volcdet.region import load_region

setup_logging(snakemake.log[0])
los_geometry_table(load_region(snakemake.params.region), snakemake.params.los_sets).to_csv(
    snakemake.output[0], index=False
)
