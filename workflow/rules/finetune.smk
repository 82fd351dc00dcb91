# Stages 6-7: fine-tuning sets FT1-FT4, cached backbone features, the four approaches.
# The fine-tuning sets are data (one set for every run); features and heads belong to a {run}.


rule ftset:
    input:
        background=rules.background_patches.output.array,
        background_table=rules.background_patches.output.table,
        sets=expand("results/simulation/los{los_set}.npy", los_set=LOS_SETS),
        tables=expand("results/simulation/los{los_set}.parquet", los_set=LOS_SETS),
        los="results/simulation/los_sets.csv",
        library=source_library_arrays(),
    output:
        array="results/finetune_sets/{ftset}.npy",
        table="results/finetune_sets/{ftset}.parquet",
    log:
        "results/logs/ftset/{ftset}.log",
    benchmark:
        "results/benchmarks/ftset/{ftset}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=scaled_runtime(60),
    params:
        seed=config["seed"],
        max_amplitude_mm=config["simulation"]["max_amplitude_mm"],
        holdout_fraction=config["sensitivity"]["holdout_fraction"],
        noise=config["simulation"]["noise"],
        pixel_size_m=config["pixel_size_m"],
    script:
        "../scripts/ftset.py"


rule features:
    input:
        model="{run}/models/synthetic/best.pt",
        array=dataset_array,
        table=dataset_table,
    output:
        features="{run}/features/{dataset}.npy",
        table="{run}/features/{dataset}.parquet",
    log:
        "{run}/logs/features/{dataset}.log",
    benchmark:
        "{run}/benchmarks/features/{dataset}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=scaled_runtime(120),
        gpu=1,
    script:
        "../scripts/features.py"


rule finetune:
    input:
        model="{run}/models/synthetic/best.pt",
        features="{run}/features/{ftset}.npy",
        table="{run}/features/{ftset}.parquet",
    output:
        model="{run}/finetune/{ftset}/{approach}/model.pt",
        history="{run}/finetune/{ftset}/{approach}/history.csv",
    log:
        "{run}/logs/finetune/{ftset}_{approach}.log",
    benchmark:
        "{run}/benchmarks/finetune/{ftset}_{approach}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        seed=run_seed,
        finetune=config["finetune"],
    script:
        "../scripts/finetune.py"
