"""Files of a scored map: Cloud-Optimized GeoTIFF probabilities, flag tables, GeoJSON, quick-look.

``probability.tif`` is on the input's grid and CRS, ``probability_utm.tif`` on the grid the map
was scored on (local UTM at the model's pixel size); both are COGs (GDAL COG driver) whose tags
carry the model id, threshold, stack period and pixel size. ``flagged.csv`` and
``flagged.geojson`` carry the same values in every row / feature. Both probability rasters are
no data (NaN) wherever the input had no data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile

from volcdet.core.atomic import write_bytes_atomic
from volcdet.data.rasters import Grid
from volcdet.inference.api import Prediction
from volcdet.inference.quicklook import quicklook

OUTPUT_FILES = (
    "probability.tif",
    "probability_utm.tif",
    "flagged.csv",
    "flagged.geojson",
    "quicklook.png",
)


def write_cog(
    path: Path, data: np.ndarray, grid: Grid, band_name: str, tags: dict[str, str]
) -> None:
    """A single-band float32 Cloud-Optimized GeoTIFF (deflate, NaN nodata, tags), atomically."""
    path = Path(path)
    profile = {
        "driver": "GTiff",
        "height": grid.shape[0],
        "width": grid.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": float("nan"),
    }
    with MemoryFile() as memory, MemoryFile() as cog:
        with memory.open(**profile) as dst:
            dst.write(np.asarray(data, np.float32)[None])
            dst.set_band_description(1, band_name)
            dst.update_tags(units="probability", **tags)
        rasterio.shutil.copy(
            memory.name,
            cog.name,
            driver="COG",
            COMPRESS="DEFLATE",
            PREDICTOR="YES",
            BLOCKSIZE=256,
            OVERVIEW_RESAMPLING="NEAREST",
        )
        # Python writes the bytes, so a full disk is an OSError (ENOSPC), not libtiff's noise.
        write_bytes_atomic(path, cog.read())


def write_prediction(prediction: Prediction, folder: Path) -> list[Path]:
    """Write the five output files of one scored map into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_cog(
        folder / "probability.tif",
        prediction.probability.to_numpy(),
        prediction.input_grid,
        "probability_of_deformation",
        prediction.tags,
    )
    write_cog(
        folder / "probability_utm.tif",
        prediction.probability_model_grid.to_numpy(),
        prediction.model_grid,
        "probability_of_deformation",
        prediction.tags,
    )
    prediction.flags.to_csv(folder / "flagged.csv", index=False)
    collection = {
        "type": "FeatureCollection",
        "properties": {"input": prediction.name} | prediction.tags,
        "features": prediction.features,
    }
    (folder / "flagged.geojson").write_text(json.dumps(collection))
    quicklook(
        prediction.displacement_mm,
        prediction.probability_model_grid.to_numpy(),
        prediction.flags,
        prediction.threshold,
        folder / "quicklook.png",
        f"{prediction.name} ({prediction.period_yr:.2f} yr, model {prediction.model_id})",
        grid=prediction.model_grid,
        catalogue=prediction.catalogue,
    )
    return [folder / name for name in OUTPUT_FILES]
