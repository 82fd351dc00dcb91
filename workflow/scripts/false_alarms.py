"""Rule false_alarms: false alarms of the scans per 1,000 km2 outside deforming volcanoes."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.false_alarms import write_false_alarms

setup_logging(snakemake.log[0])
write_false_alarms(
    snakemake.params.region,
    dict(
        zip(
            snakemake.params.tracks,
            zip(snakemake.input.probability, snakemake.input.flagged, strict=True),
            strict=True,
        )
    ),
    snakemake.params.model,
    snakemake.output.table,
    snakemake.output.markdown,
)
