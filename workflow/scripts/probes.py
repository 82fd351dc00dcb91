"""Rule probes: every model's shortcut probes and the table results/tables/probes.{csv,md}."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.probes import ProbeSpec, probe_table, run_probes

setup_logging(snakemake.log[0])
p = snakemake.params
rows = run_probes(
    dict(zip(p.models, snakemake.input.models, strict=True)),
    (snakemake.input.test, snakemake.input.test_table),
    snakemake.input.dem[0] if snakemake.input.dem else None,
    ProbeSpec(
        negatives=p.probes["negatives"],
        positives=p.probes["positives"],
        batch_size=p.probes["batch_size"],
        size_px=p.size_px,
        pixel_size_m=p.pixel_size_m,
        noise_mm=(tuple(p.noise_mm["ascending"]), tuple(p.noise_mm["descending"])),
        noise_statistic=p.noise_statistic,
        seed=p.seed,
    ),
)
probe_table(rows, snakemake.output.table, snakemake.output.markdown)
