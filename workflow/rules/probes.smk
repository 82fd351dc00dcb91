# Shortcut probes (not in the paper): what each model flags that is not volcanic deformation.
# One job scores every model: the fine-tuned heads share the synthetic model's backbone.


rule probes:
    input:
        models=[model_file(model) for model in MODELS],
        test=rules.test_patches.output.array,
        test_table=rules.test_patches.output.table,
        dem=region_dem,
    output:
        table=report(
            "results/tables/probes.csv",
            caption="../report/probes.rst",
            category="Results",
        ),
        markdown="results/tables/probes.md",
    log:
        "results/logs/probes.log",
    benchmark:
        "results/benchmarks/probes.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=scaled_runtime(60),
    params:
        models=MODELS,
        probes=config["probes"],
        seed=config["seed"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        noise_mm=config["simulation"]["atmosphere_noise_mm"],
        noise_statistic=config["simulation"]["noise_statistic"],
    script:
        "../scripts/probes.py"
