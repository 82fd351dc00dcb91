"""CSV tables of the data contract and of users' catalogues, read with one-line errors."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from volcdet.core.errors import VolcdetError


def read_csv_table(
    path: Path,
    columns: Iterable[str],
    error: type[VolcdetError],
    missing: str = "missing column(s)",
) -> pd.DataFrame:
    """The CSV table at ``path`` holding ``columns``; ``error`` naming the file when it cannot be
    read or lacks a column (``missing`` words that message)."""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise error(f"{path}: not a readable CSV table ({err})") from err
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise error(f"{path}: {missing} {', '.join(absent)}")
    return table
