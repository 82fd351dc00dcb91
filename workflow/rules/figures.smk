# Figures of the patch sets.


rule patch_gallery:
    input:
        test=rules.test_patches.output.array,
        test_table=rules.test_patches.output.table,
        background=rules.background_patches.output.array,
        background_table=rules.background_patches.output.table,
    output:
        report(
            "results/figures/patch_gallery.png",
            caption="../report/patch_gallery.rst",
            category="Data",
        ),
    log:
        "results/logs/patch_gallery.log",
    benchmark:
        "results/benchmarks/patch_gallery.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        seed=config["seed"],
        per_row=config["gallery"]["patches_per_row"],
    script:
        "../scripts/patch_gallery.py"
