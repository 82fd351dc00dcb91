# Several learning seeds, only on request: `make seeds` or
# `snakemake seeds_summary`. Each seed of `seeds` other than `seed` trains and fine-tunes under
# results/seeds/seed<k>/ through the same rules ({run} wildcard); the data are shared.


rule seeds_summary:
    input:
        metrics=seeds_inputs("{run}/metrics/{model}.json"),
        predictions=seeds_inputs("{run}/predictions/{model}.parquet"),
        sensitivity=[f"{run_dir(s)}/tables/sensitivity.csv" for s in SEEDS],
    output:
        table=report(
            "results/tables/seeds_summary.csv",
            caption="../report/seeds_summary.rst",
            category="Results",
        ),
        markdown="results/tables/seeds_summary.md",
    log:
        "results/logs/seeds_summary.log",
    benchmark:
        "results/benchmarks/seeds_summary.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(10),
    params:
        names=MODEL_NAMES,
        seeds=SEEDS,
        n_resamples=config["evaluation"]["bootstrap_resamples"],
        seed=config["seed"],
    script:
        "../scripts/seeds_summary.py"
