# Inference: scan every track's whole velocity map with a trained model.


rule scan:
    input:
        unpack(scan_inputs),
        model=scan_model,
        catalogue=REGION_TABLES["volcanoes"],
    output:
        probability="results/scan/{track}/probability.tif",
        probability_utm="results/scan/{track}/probability_utm.tif",
        csv="results/scan/{track}/flagged.csv",
        geojson="results/scan/{track}/flagged.geojson",
        quicklook=report(
            "results/scan/{track}/quicklook.png",
            caption="../report/scan.rst",
            category="Scans",
            labels={"track": "{track}"},
        ),
    log:
        "results/logs/scan/{track}.log",
    benchmark:
        "results/benchmarks/scan/{track}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=scaled_runtime(60),
        gpu=1,
    params:
        scan=config["scan"],
        period_yr=scan_period_yr,
    script:
        "../scripts/scan.py"
