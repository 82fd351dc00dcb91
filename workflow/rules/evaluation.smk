# Stage 8: predictions on the test patches, metrics, the paper's tables, ROC figures, Grad-CAM.


rule predict:
    input:
        model=model_path,
        features="results/features/test.npy",
        features_table="results/features/test.parquet",
        test_table=rules.test_patches.output.table,
    output:
        "results/predictions/{model}.parquet",
    log:
        "results/logs/predict/{model}.log",
    benchmark:
        "results/benchmarks/predict/{model}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(20),
    script:
        "../scripts/predict.py"


rule metrics:
    input:
        "results/predictions/{model}.parquet",
    output:
        "results/metrics/{model}.json",
    log:
        "results/logs/metrics/{model}.log",
    benchmark:
        "results/benchmarks/metrics/{model}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    script:
        "../scripts/metrics.py"


rule tables:
    input:
        predictions=expand("results/predictions/{model}.parquet", model=MODELS),
        metrics=expand("results/metrics/{model}.json", model=MODELS),
    output:
        table1=report(
            "results/tables/table1.csv",
            caption="../report/table1.rst",
            category="Results",
        ),
        table1_md="results/tables/table1.md",
        table2=report(
            "results/tables/table2.csv",
            caption="../report/table2.rst",
            category="Results",
        ),
        table2_md="results/tables/table2.md",
        false_positives=report(
            "results/tables/false_positives.csv",
            caption="../report/false_positives.rst",
            category="Results",
        ),
        roc1=report(
            "results/figures/roc_table1.png",
            caption="../report/roc_table1.rst",
            category="Results",
        ),
        roc2=report(
            "results/figures/roc_table2.png",
            caption="../report/roc_table2.rst",
            category="Results",
        ),
    log:
        "results/logs/tables.log",
    benchmark:
        "results/benchmarks/tables.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        table1=TABLE1,
        table2=TABLE2,
        models=MODELS,
    script:
        "../scripts/tables.py"


rule gradcam:
    input:
        model=model_path,
        test=rules.test_patches.output.array,
        test_table=rules.test_patches.output.table,
        predictions="results/predictions/{model}.parquet",
    output:
        figure=report(
            "results/figures/gradcam_{model}.png",
            caption="../report/gradcam.rst",
            category="Grad-CAM",
            labels={"model": "{model}"},
        ),
        table="results/gradcam/{model}.csv",
    log:
        "results/logs/gradcam/{model}.log",
    benchmark:
        "results/benchmarks/gradcam/{model}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=scaled_runtime(30),
    params:
        top_k=config["evaluation"]["gradcam_top_k"],
    script:
        "../scripts/gradcam.py"
