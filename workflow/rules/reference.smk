# The reference model shipped with volcdet (docs/model_card.md): one model of the run, its
# threshold calibrated on held-out background tiles. `make reference-model` runs this target
# with config/reference.yaml in build/reference and copies the file into the package.


rule reference_model:
    input:
        model=lambda wildcards: model_file(config["reference"]["model"]),
        sensitivity="results/features/sensitivity.npy",
        sensitivity_table="results/features/sensitivity.parquet",
        injected="results/sensitivity/injected.parquet",
    output:
        model="results/reference/model.pt",
        calibration="results/reference/calibration.json",
    log:
        "results/logs/reference_model.log",
    benchmark:
        "results/benchmarks/reference_model.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(10),
    params:
        reference=config.get("reference", {}),
    script:
        "../scripts/reference_model.py"
