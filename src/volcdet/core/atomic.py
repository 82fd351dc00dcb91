"""Atomic file writes: write to a hidden temporary name beside the target, then rename.

A kill, a full disk or an exception never leaves a half-written file under the target's name
(docs/reliability.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_path(path: Path) -> Path:
    """The hidden temporary name beside ``path``; it keeps the suffix so writers that go by
    the extension (``np.save``, GDAL drivers) write the same format."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


@contextmanager
def atomic_path(path: Path, temporary: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path to write (``temporary``, else ``temporary_path(path)``); it
    replaces ``path`` only if the block succeeds.

    The parent folder is created; on any exception the temporary file is removed and the
    target is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(temporary) if temporary is not None else temporary_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
