"""Rule los_geometries: the mean LOS unit vector of every track, one simulated set each."""

from volcdet.core.logs import setup_logging
from volcdet.data.region import load_region
from volcdet.simulation.los_sets import los_geometry_table

setup_logging(snakemake.log[0])
los_geometry_table(load_region(snakemake.params.region), snakemake.params.los_sets).to_csv(
    snakemake.output[0], index=False
)
