# Stage 3: variograms of the region's interferograms and the per-pass atmosphere parameters.


rule variograms:
    input:
        unpack(region_tables),
        interferogram_rasters=interferogram_rasters,
    output:
        table="results/variograms/variograms.csv",
        summary="results/variograms/pass_summary.csv",
        atmosphere="results/variograms/atmosphere.json",
        figure=report(
            "results/figures/variogram_fits.png",
            caption="../report/variogram_fits.rst",
            category="Atmosphere",
        ),
    log:
        "results/logs/variograms.log",
    benchmark:
        "results/benchmarks/variograms.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(60),
    params:
        region=config["region"]["path"],
        noise_mm=config["simulation"]["atmosphere_noise_mm"],
        noise_statistic=config["simulation"]["noise_statistic"],
    script:
        "../scripts/variograms.py"
