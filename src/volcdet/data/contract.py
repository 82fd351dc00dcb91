"""The data contract's tables, names and stack periods, with the standard library only.

The command line checks its arguments with these before pandas, torch or a raster library is
imported; the region loader (``volcdet.data.region``), ``volcdet region import`` and ``volcdet
predict`` use the same ones, so each rule of the contract (DESIGN.md, data contract) is written
once: the columns of each table, what a track id may hold, how a period follows from two dates
and the record of one user product to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from volcdet.core.constants import DAYS_PER_YEAR
from volcdet.core.names import SAFE_NAME, is_safe_name

#: Columns of a region's ``tracks.csv``.
TRACK_COLUMNS = ("track_id", "pass", "velocity", "los", "start", "end")
#: Columns a tracks table given to ``volcdet predict --tracks`` must hold (the others optional).
SCAN_TRACK_COLUMNS = ("track_id", "velocity")
#: Columns of a volcano catalogue given to ``volcdet predict --catalogue`` (degrees).
CATALOGUE_COLUMNS = ("name", "lon", "lat")
#: Columns of a region's ``volcanoes.csv``: a catalogue plus what the evaluation needs.
VOLCANO_COLUMNS = (*CATALOGUE_COLUMNS, "deforming", "deformation_radius_km")
#: Columns of a region's ``interferograms.csv``.
INTERFEROGRAM_COLUMNS = ("path", "track_id", "pass", "date1", "date2")
PASSES = ("ascending", "descending")
#: What the marker of a region folder written by ``volcdet region import`` says it is.
REGION_KIND = "volcdet region import"


def track_id_problem(track_id: object) -> str | None:
    """Why ``track_id`` cannot name a track (it becomes part of output paths), or None."""
    if is_safe_name(track_id):
        return None
    return (
        f"track_id {track_id!r} may only hold letters, digits, _ and - (pattern {SAFE_NAME}); "
        "it becomes part of output paths"
    )


def period_yr_between(start: date, end: date) -> float:
    """Stack period in years between its first and last date (days / 365.25)."""
    return (end - start).days / DAYS_PER_YEAR


def period_yr_of_iso_dates(start: str, end: str) -> float:
    """Stack period in years from ISO dates ('2016-01-05'); ValueError when they are not dates
    or the end is not after the start."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise ValueError(f"start/end {start!r} - {end!r} are not ISO dates") from None
    if last <= first:
        raise ValueError(f"end {end} is not after start {start}")
    return period_yr_between(first, last)


@dataclass(frozen=True)
class ProductSource:
    """One user product to read: its name (track id or output folder), path, and what the user
    states about it (LOS file, unit, period or dates, mask, pass, interferograms); None: read
    from the product or not given."""

    name: str
    path: Path
    los: Path | None = None
    units: str | None = None
    period_yr: float | None = None
    start: str | None = None
    end: str | None = None
    mask: Path | None = None
    pass_direction: str | None = None
    ifgs: str | None = None
    ifg_units: str | None = None
