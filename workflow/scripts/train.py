"""Rule train: the classifier from scratch on every simulated LOS set (synthetic baseline)."""

from pathlib import Path

from volcdet.core.logs import setup_logging
from volcdet.learning.model import ModelSpec
from volcdet.learning.training import TrainConfig, fit
from volcdet.learning.transforms import InputTransform

setup_logging(snakemake.log[0])
p = snakemake.params
runtime = snakemake.config["runtime"]  # where it runs, not a param: changing it reruns nothing
with open(snakemake.log[0], "a") as progress:
    fit(
        stores=list(zip(snakemake.input.sets, snakemake.input.tables, strict=True)),
        model_spec=ModelSpec(
            **p.model,
            in_channels=p.input["channels"],
            input_size_px=p.size_px // p.input["downsample"],
        ),
        transform=InputTransform(**p.input, pixel_size_m=p.pixel_size_m),
        cfg=TrainConfig(
            **p.training,
            validation_fraction=p.validation_fraction,
            seed=p.seed,
            device=runtime["device"],
            num_workers=runtime["num_workers"],
        ),
        out_dir=Path(snakemake.output.model).parent,
        progress=progress,
    )
