# Stage 5: training from scratch on the simulated sets (the synthetic-only baseline model).
# {run} is results/ (the config's seed) or results/seeds/seed<k>/ (another learning seed).


rule train:
    input:
        sets=expand("results/simulation/los{los_set}.npy", los_set=LOS_SETS),
        tables=expand("results/simulation/los{los_set}.parquet", los_set=LOS_SETS),
    output:
        model="{run}/models/synthetic/best.pt",
        history="{run}/models/synthetic/history.csv",
        run_info="{run}/models/synthetic/run_info.json",
        curve=report(
            "{run}/models/synthetic/training_curve.png",
            caption="../report/training_curve.rst",
            category="Training",
        ),
    log:
        "{run}/logs/train.log",
    benchmark:
        "{run}/benchmarks/train.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=scaled_runtime(1440),
        gpu=1,
    params:
        seed=run_seed,
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        validation_fraction=config["simulation"]["validation_fraction"],
        model=config["model"],
        input=config["input"],
        training=config["training"],
    script:
        "../scripts/train.py"
