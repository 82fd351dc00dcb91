"""Where ``volcdet predict`` and ``volcdet export`` may write: checks that need no heavy import.

The command line runs them before torch is imported and the library runs them again, so a
destination that would delete an input, the model or anything volcdet did not write is refused
before any work (``volcdet.core.folders``, docs/reliability.md).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from volcdet.core.errors import OutputError
from volcdet.core.folders import check_output_folder

#: What the marker of a predict run's folder says it is.
RUN_KIND = "volcdet predict run"
#: The entry every exported TorchScript file carries (torch stores it under ``<archive>/extra/``).
EXPORT_EXTRA_FILE = "volcdet.json"


def check_run_out(out_dir: Path, overwrite: bool, reads: list[Path]) -> None:
    """OutputError unless ``out_dir`` may receive a run: not the current folder or above it,
    holding none of ``reads``, and new, or with ``overwrite`` a run volcdet wrote."""
    check_output_folder(out_dir, reads, overwrite, RUN_KIND, "--out")


def is_volcdet_export(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive written by ``volcdet export``."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(n.endswith(f"/extra/{EXPORT_EXTRA_FILE}") for n in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def check_export_destination(model_path: Path, out_path: Path, overwrite: bool) -> None:
    """OutputError unless ``out_path`` may receive an export: a file (not a folder) in an
    existing, writable folder, not the model itself, new or (with ``overwrite``) an export."""
    out = Path(out_path)
    if out.is_dir():
        raise OutputError(f"{out}: --out is a folder; give the file to write (e.g. {out}/model.ts)")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"{out}: --out's folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: --out is not writable ({parent} does not allow writing)")
    if out.exists() and Path(model_path).exists() and out.samefile(model_path):
        raise OutputError(f"{out}: --out is the model file itself; name a new file")
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise OutputError(f"{out}: --out exists; use --overwrite to replace it")
        if out.is_symlink() or not is_volcdet_export(out):
            raise OutputError(
                f"{out}: --overwrite replaces only a TorchScript file volcdet exported (no "
                f"{EXPORT_EXTRA_FILE} inside); move it away or name a new file"
            )
