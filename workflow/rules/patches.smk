# Stage 2: test frames around volcanoes, overlapping test patches, background patches.


rule frames:
    input:
        unpack(region_tables),
        track_rasters=track_rasters,
    output:
        array="results/frames/frames.npy",
        table="results/frames/frames.parquet",
    log:
        "results/logs/frames.log",
    benchmark:
        "results/benchmarks/frames.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        region=config["region"]["path"],
        frames=config["frames"],
        pixel_size_m=config["pixel_size_m"],
    script:
        "../scripts/frames.py"


rule test_patches:
    input:
        unpack(region_tables),
        frames=rules.frames.output.array,
        frames_table=rules.frames.output.table,
    output:
        array="results/patches/test.npy",
        table="results/patches/test.parquet",
    log:
        "results/logs/test_patches.log",
    benchmark:
        "results/benchmarks/test_patches.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        region=config["region"]["path"],
        patches=config["patches"],
    script:
        "../scripts/test_patches.py"


rule background_patches:
    input:
        unpack(region_tables),
        track_rasters=track_rasters,
    output:
        array="results/patches/background.npy",
        table="results/patches/background.parquet",
    log:
        "results/logs/background_patches.log",
    benchmark:
        "results/benchmarks/background_patches.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(30),
    params:
        region=config["region"]["path"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        background=config["background"],
    script:
        "../scripts/background_patches.py"
