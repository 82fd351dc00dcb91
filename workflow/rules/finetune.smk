# Stages 6-7: fine-tuning sets FT1-FT4, cached backbone features, the four approaches.


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
    script:
        "../scripts/ftset.py"


rule features:
    input:
        model="results/models/synthetic/best.pt",
        array=dataset_array,
        table=dataset_table,
    output:
        features="results/features/{dataset}.npy",
        table="results/features/{dataset}.parquet",
    log:
        "results/logs/features/{dataset}.log",
    benchmark:
        "results/benchmarks/features/{dataset}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=scaled_runtime(120),
        gpu=1,
    params:
        device=config["training"]["device"],
    script:
        "../scripts/features.py"


rule finetune:
    input:
        model="results/models/synthetic/best.pt",
        features="results/features/{ftset}.npy",
        table="results/features/{ftset}.parquet",
    output:
        model="results/finetune/{ftset}/{approach}/model.pt",
        history="results/finetune/{ftset}/{approach}/history.csv",
    log:
        "results/logs/finetune/{ftset}_{approach}.log",
    benchmark:
        "results/benchmarks/finetune/{ftset}_{approach}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        seed=config["seed"],
        finetune=finetune_hparams,
    script:
        "../scripts/finetune.py"
