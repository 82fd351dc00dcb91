# Stage 4: LOS geometries, the shared CDM source library and one simulated set per LOS geometry.


checkpoint los_geometries:
    input:
        unpack(region_tables),
        track_rasters=track_rasters,
    output:
        "results/simulation/los_sets.csv",
    log:
        "results/logs/los_geometries.log",
    benchmark:
        "results/benchmarks/los_geometries.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(10),
    params:
        region=config["region"]["path"],
        los_sets=config["simulation"]["los_sets"],
    script:
        "../scripts/los_geometries.py"


rule source_library:
    output:
        array="results/simulation/source_library/chunk{chunk}.npy",
        table="results/simulation/source_library/chunk{chunk}.parquet",
    log:
        "results/logs/source_library/chunk{chunk}.log",
    benchmark:
        "results/benchmarks/source_library/chunk{chunk}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(120),
    params:
        chunk=source_chunk_range,
        seed=config["seed"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        nu=config["simulation"]["poisson_ratio"],
        depth_km=config["simulation"]["source_depth_km"],
        radius_km=config["simulation"]["source_radius_km"],
        step_px=config["simulation"]["source_grid_step_px"],
    script:
        "../scripts/source_library.py"


rule simulate:
    input:
        los="results/simulation/los_sets.csv",
        atmosphere="results/variograms/atmosphere.json",
        library=source_library_arrays(),
        library_tables=source_library_tables(),
        background=rules.background_patches.output.array,
        background_table=rules.background_patches.output.table,
        dem=region_dem,
    output:
        array="results/simulation/los{los_set}.npy",
        table="results/simulation/los{los_set}.parquet",
    log:
        "results/logs/simulate/los{los_set}.log",
    benchmark:
        "results/benchmarks/simulate/los{los_set}.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=scaled_runtime(180),
    params:
        seed=config["seed"],
        size_px=config["patches"]["size_px"],
        pixel_size_m=config["pixel_size_m"],
        simulation=config["simulation"],
    script:
        "../scripts/simulate.py"


rule simulation_gallery:
    input:
        sets=expand("results/simulation/los{los_set}.npy", los_set=LOS_SETS),
        tables=expand("results/simulation/los{los_set}.parquet", los_set=LOS_SETS),
    output:
        report(
            "results/figures/simulation_gallery.png",
            caption="../report/simulation_gallery.rst",
            category="Data",
        ),
    log:
        "results/logs/simulation_gallery.log",
    benchmark:
        "results/benchmarks/simulation_gallery.tsv"
    conda:
        "../../envs/volcdet.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=scaled_runtime(10),
    params:
        seed=config["seed"],
    script:
        "../scripts/simulation_gallery.py"
