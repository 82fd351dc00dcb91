"""Rule simulate: one LOS set of the synthetic training data, with the region's realistic noise."""

import pandas as pd

from volcdet.core.logs import setup_logging
from volcdet.simulation.atmosphere import load_atmosphere_parameters
from volcdet.simulation.noise import NoiseSpec, load_region_noise_inputs
from volcdet.simulation.simulate import SimulationSpec, simulate_los_set
from volcdet.simulation.source_library import SourceLibrary

setup_logging(snakemake.log[0])
sim = snakemake.params.simulation
los = pd.read_csv(snakemake.input.los).set_index("los_set").loc[int(snakemake.wildcards.los_set)]
los = {"los_set": int(snakemake.wildcards.los_set), **los.to_dict()}
simulate_los_set(
    los,
    SourceLibrary(snakemake.input.library, snakemake.input.library_tables),
    load_atmosphere_parameters(snakemake.input.atmosphere, los["pass"]),
    SimulationSpec(
        samples=sim["samples_per_set"],
        size_px=snakemake.params.size_px,
        pixel_size_m=snakemake.params.pixel_size_m,
        min_amplitude_mm=sim["min_amplitude_mm"][los["pass"]],
        max_amplitude_mm=sim["max_amplitude_mm"],
        deflation_fraction=sim["deflation_fraction"],
        seed=snakemake.params.seed,
        noise=NoiseSpec.from_config(sim["noise"]),
    ),
    snakemake.output.array,
    snakemake.output.table,
    load_region_noise_inputs(
        (snakemake.input.background, snakemake.input.background_table),
        snakemake.input.dem[0] if snakemake.input.dem else None,
        snakemake.params.pixel_size_m,
    ),
)
