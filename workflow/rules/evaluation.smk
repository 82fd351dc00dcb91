# Stage 8: predictions on the test patches, metrics, the paper's tables, ROC figures, Grad-CAM,
# the metrics that separate models and the false alarms of the scans. {run} as in training.smk.


rule predict:
    input:
        model=model_path,
        features="{run}/features/test.npy",
        features_table="{run}/features/test.parquet",
        test_table=rules.test_patches.output.table,
    output:
        "{run}/predictions/{model}.parquet",
    log:
        "{run}/logs/predict/{model}.log",
    benchmark:
        "{run}/benchmarks/predict/{model}.tsv"
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
        "{run}/predictions/{model}.parquet",
    output:
        "{run}/metrics/{model}.json",
    log:
        "{run}/logs/metrics/{model}.log",
    benchmark:
        "{run}/benchmarks/metrics/{model}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        n_resamples=config["evaluation"]["bootstrap_resamples"],
        seed=config["seed"],
    script:
        "../scripts/metrics.py"


rule thresholds:
    input:
        sensitivity="{run}/features/sensitivity.npy",
        sensitivity_table="{run}/features/sensitivity.parquet",
        injected="results/sensitivity/injected.parquet",
        models=run_models,
    output:
        "{run}/tables/thresholds.csv",
    log:
        "{run}/logs/thresholds.log",
    benchmark:
        "{run}/benchmarks/thresholds.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        models=MODELS,
        target_fpr=config["evaluation"]["calibration_fpr"],
    script:
        "../scripts/thresholds.py"


rule tables:
    input:
        predictions=run_outputs("{run}/predictions/{model}.parquet"),
        metrics=run_outputs("{run}/metrics/{model}.json"),
        thresholds="{run}/tables/thresholds.csv",
    output:
        table1=report(
            "{run}/tables/table1.csv",
            caption="../report/table1.rst",
            category="Results",
        ),
        table1_md="{run}/tables/table1.md",
        table2=report(
            "{run}/tables/table2.csv",
            caption="../report/table2.rst",
            category="Results",
        ),
        table2_md="{run}/tables/table2.md",
        table1_fixed_fpr="{run}/tables/table1_fixed_fpr.csv",
        table1_fixed_fpr_md="{run}/tables/table1_fixed_fpr.md",
        table2_fixed_fpr="{run}/tables/table2_fixed_fpr.csv",
        table2_fixed_fpr_md="{run}/tables/table2_fixed_fpr.md",
        false_positives=report(
            "{run}/tables/false_positives.csv",
            caption="../report/false_positives.rst",
            category="Results",
        ),
        roc1=report(
            "{run}/figures/roc_table1.png",
            caption="../report/roc_table1.rst",
            category="Results",
        ),
        roc2=report(
            "{run}/figures/roc_table2.png",
            caption="../report/roc_table2.rst",
            category="Results",
        ),
    log:
        "{run}/logs/tables.log",
    benchmark:
        "{run}/benchmarks/tables.tsv"
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
        model=lambda w: model_file(w.model),
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


rule separation:
    input:
        predictions=run_outputs("{run}/predictions/{model}.parquet"),
        metrics=run_outputs("{run}/metrics/{model}.json"),
    output:
        table=report(
            "{run}/tables/separation.csv",
            caption="../report/separation.rst",
            category="Results",
        ),
        markdown="{run}/tables/separation.md",
        sweep=report(
            "{run}/tables/footprint_sweep.csv",
            caption="../report/footprint_sweep.rst",
            category="Results",
        ),
        roc_frames=report(
            "{run}/figures/roc_frames.png",
            caption="../report/roc_frames.rst",
            category="Results",
        ),
        sweep_figure=report(
            "{run}/figures/auc_vs_footprint.png",
            caption="../report/footprint_sweep.rst",
            category="Results",
        ),
    log:
        "{run}/logs/separation.log",
    benchmark:
        "{run}/benchmarks/separation.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        names=MODEL_NAMES,
        sweep=config["evaluation"]["footprint_sweep"],
        n_resamples=config["evaluation"]["bootstrap_resamples"],
        seed=config["seed"],
    script:
        "../scripts/separation.py"


rule false_alarms:
    input:
        unpack(scan_flags),
        unpack(region_tables),
    output:
        table=report(
            "results/tables/false_alarms.csv",
            caption="../report/false_alarms.rst",
            category="Scans",
        ),
        markdown="results/tables/false_alarms.md",
    log:
        "results/logs/false_alarms.log",
    benchmark:
        "results/benchmarks/false_alarms.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(10),
    params:
        region=config["region"]["path"],
        model=config["scan"]["model"],
        tracks=scan_track_ids,
    script:
        "../scripts/false_alarms.py"
