# Minimum detectable rate: library sources (and other families) injected at known
# rates into held-out background tiles, scored by every model's head on shared features.


rule sensitivity_set:
    input:
        background=rules.background_patches.output.array,
        background_table=rules.background_patches.output.table,
        los="results/simulation/los_sets.csv",
        library=source_library_arrays(),
        library_tables=source_library_tables(),
    output:
        array="results/sensitivity/injected.npy",
        table="results/sensitivity/injected.parquet",
    log:
        "results/logs/sensitivity_set.log",
    benchmark:
        "results/benchmarks/sensitivity_set.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        seed=config["seed"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        sensitivity=config["sensitivity"],
    script:
        "../scripts/sensitivity_set.py"


rule sensitivity:
    input:
        features="{run}/features/sensitivity.npy",
        features_table="{run}/features/sensitivity.parquet",
        injected=rules.sensitivity_set.output.table,
        models=run_models,
    output:
        table=report(
            "{run}/tables/sensitivity.csv",
            caption="../report/sensitivity.rst",
            category="Sensitivity",
        ),
        markdown="{run}/tables/sensitivity.md",
        curves="{run}/tables/sensitivity_curves.csv",
        figure=report(
            "{run}/figures/sensitivity.png",
            caption="../report/sensitivity.rst",
            category="Sensitivity",
        ),
    log:
        "{run}/logs/sensitivity.log",
    benchmark:
        "{run}/benchmarks/sensitivity.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(20),
    params:
        names=MODEL_NAMES,
        models=MODELS,
    script:
        "../scripts/sensitivity.py"
