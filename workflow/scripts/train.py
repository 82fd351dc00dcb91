"""Rule train: the classifier from scratch on every simulated LOS set (synthetic baseline)."""

from pathlib import Path

from volcdet.core.logs import setup_logging
from volcdet.learning.model import ModelSpec
from volcdet.learning.training import TrainConfig, fit
from volcdet.learning.transforms import InputTransform

setup_logging(snakemake.log[0])
t = snakemake.params.training
runtime = snakemake.config["runtime"]  # where it runs, not a param: changing it reruns nothing
with open(snakemake.log[0], "a") as progress:
    fit(
        stores=list(zip(snakemake.input.sets, snakemake.input.tables, strict=True)),
        model_spec=ModelSpec(
            backbone=t["backbone"],
            in_channels=t["channels"],
            input_size_px=snakemake.params.size_px // t["input_downsample"],
            hidden_units=t["hidden_units"],
            dropout=t["dropout"],
        ),
        transform=InputTransform(
            channels=t["channels"],
            nan_value=t["nan_fill"],
            downsample=t["input_downsample"],
            pixel_size_m=snakemake.params.pixel_size_m,
            reference=t["input_reference"],
            validity_channel=t["validity_channel"],
        ),
        cfg=TrainConfig(
            max_epochs=t["max_epochs"],
            batch_size=t["batch_size"],
            learning_rate=t["learning_rate"],
            weight_decay=t["weight_decay"],
            early_stopping_patience=t["early_stopping_patience"],
            validation_fraction=snakemake.params.validation_fraction,
            seed=snakemake.params.seed,
            device=runtime["device"],
            cpu_precision=t["cpu_precision"],
            num_workers=runtime["num_workers"],
            random_offset=t["random_offset"],
            lr_schedule=t["lr_schedule"],
        ),
        out_dir=Path(snakemake.output.model).parent,
        progress=progress,
    )
