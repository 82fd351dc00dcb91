"""Exceptions with one-line messages that name the offending file or key."""


class VolcdetError(Exception):
    """Base class of every error volcdet raises on purpose (bad input, not bugs)."""


class RegionError(VolcdetError):
    """A region folder breaks the data contract (missing file, wrong CRS, all-NaN raster, ...)."""


class StoreError(VolcdetError):
    """A patch store is missing, truncated or inconsistent with its metadata table."""


class ProductError(VolcdetError):
    """A user's velocity product (LiCSBAS, MintPy, LiCSAR, GeoTIFF) cannot be used as given."""


class ModelFileError(VolcdetError):
    """A model file (or training resume state) is unreadable, unsafe, incomplete or foreign."""


class OutputError(VolcdetError):
    """An output folder or file cannot be written, or replacing it could delete what volcdet
    did not write (docs/reliability.md)."""
