# Stage 1: region inputs. With no real data configured, the synthetic stand-in region is built.
# A checkpoint: the rasters its tables list are inputs of the rules that read them.


if config["region"]["synthetic_demo"]:

    checkpoint demo_region:
        output:
            **region_tables(),
            dem=REGION / "dem.tif",
            salt_lakes=REGION / "salt_lakes.geojson",
            confounders=REGION / "confounders.csv",
        log:
            "results/logs/demo_region.log",
        benchmark:
            "results/benchmarks/demo_region.tsv"
        conda:
            "../../envs/volcdet.yaml"
        threads: 1
        resources:
            mem_mb=6000,
            runtime=scaled_runtime(20),
        params:
            seed=config["seed"],
            size=config["demo_region"],
            pixel_size_m=config["pixel_size_m"],
            frame_size_px=config["frames"]["size_px"],
        script:
            "../scripts/demo_region.py"
