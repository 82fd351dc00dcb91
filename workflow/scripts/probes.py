"""Rule probes: one model's shortcut probes (offsets, ramps, stratified delay, holes, plateaus)."""

from volcdet.core.logs import setup_logging
from volcdet.evaluation.probes import ProbeSpec, run_probes

setup_logging(snakemake.log[0])
p = snakemake.params
run_probes(
    snakemake.wildcards.model,
    snakemake.input.model,
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
).to_csv(snakemake.output[0], index=False)
