"""Rule scan: flag deformation on one track's velocity map with the configured model.

The same code path as ``volcdet predict`` (``volcdet.inference.api.predict``): the region's UTM
map is already at the model's pixel size, so it is scored as it is.
"""

from pathlib import Path

from volcdet.core.logs import setup_logging
from volcdet.inference.runs import scan_velocity_map
from volcdet.inference.spec import ScanSpec

setup_logging(snakemake.log[0])
s = snakemake.params.scan
with open(snakemake.log[0], "a") as progress:
    scan_velocity_map(
        snakemake.input.velocity,
        snakemake.input.los,
        snakemake.input.model,
        Path(snakemake.output.probability).parent,
        ScanSpec(
            stride_px=s["stride_px"],
            batch_size=s["batch_size"],
            max_missing_fraction=s["max_missing_fraction"],
            device=snakemake.config["runtime"]["device"],
        ),
        catalogue_path=snakemake.input.catalogue,
        progress=progress,
        period_yr=snakemake.params.period_yr,
        units="mm/yr",  # the region data contract's unit
    )
