# Shortcut probes (issue 13): what each model flags that is not volcanic deformation.


rule probes:
    input:
        model=lambda wildcards: model_file(wildcards.model),
        test=rules.test_patches.output.array,
        test_table=rules.test_patches.output.table,
        dem=region_dem,
    output:
        "results/probes/{model}.csv",
    log:
        "results/logs/probes/{model}.log",
    benchmark:
        "results/benchmarks/probes/{model}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        probes=config["probes"],
        seed=config["seed"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        noise_mm=config["simulation"]["atmosphere_noise_mm"],
        noise_statistic=config["simulation"]["noise_statistic"],
    script:
        "../scripts/probes.py"


rule probe_table:
    input:
        expand("results/probes/{model}.csv", model=MODELS),
    output:
        table=report(
            "results/tables/probes.csv",
            caption="../report/probes.rst",
            category="Results",
        ),
        markdown="results/tables/probes.md",
    log:
        "results/logs/probe_table.log",
    benchmark:
        "results/benchmarks/probe_table.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    script:
        "../scripts/probe_table.py"
