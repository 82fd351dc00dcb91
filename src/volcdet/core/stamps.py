"""Content stamps: files whose modification time moves only when another file's content does.

Snakemake reruns a rule when an input is newer than its outputs, so a region raster replaced
by a copy that keeps an older modification time (``cp -p``, ``rsync -t``) is not seen. A stamp
holds the SHA-256 of one region file and is declared an input beside it: when the file's size,
times, inode or device change, its content is hashed again, and the stamp is rewritten (and so
newer than every output) only if the content differs. A new stamp takes the file's own
modification time, so adding stamps to a finished run reruns nothing by time. Hashing happens
only when the file's signature changed; otherwise a parse costs one ``stat`` per file. See
docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from volcdet.core.atomic import atomic_path
from volcdet.core.digests import file_sha256

STAMP_SUFFIX = ".sha256.json"


def stamp_path(path: Path | str, stamp_dir: Path | str) -> Path:
    """Where the stamp of ``path`` lives: its name plus a hash of its absolute path."""
    key = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    return Path(stamp_dir) / f"{Path(path).name}.{key}{STAMP_SUFFIX}"


def _signature(stat: os.stat_result) -> list[int]:
    """What changes whenever a file's content may have: size, times, inode and device (the
    change time moves on every write, and ``cp -p`` cannot set it back)."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def _read_stamp(stamp: Path) -> dict[str, Any] | None:
    """A stamp's record, or None when it is missing or unreadable (then it is rewritten)."""
    try:
        record = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_stamp(stamp: Path, record: dict[str, Any], mtime_ns: int | None) -> None:
    """Write a stamp atomically; with ``mtime_ns`` it keeps that modification time."""
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps(record))
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))


def update_stamp(path: Path | str, stamp_dir: Path | str) -> Path:
    """Bring the stamp of ``path`` up to date and return it: rewritten with a new modification
    time only when the content changed since the last stamp."""
    path = Path(path)
    stamp = stamp_path(path, stamp_dir)
    signature = _signature(path.stat())
    record = _read_stamp(stamp)
    if record is not None and record.get("signature") == signature:
        return stamp
    digest = file_sha256(path)
    new = {"path": os.path.abspath(path), "sha256": digest, "signature": signature}
    if record is None:
        _write_stamp(stamp, new, signature[1])  # first stamp: as old as the file
    elif record.get("sha256") == digest:
        _write_stamp(stamp, new, stamp.stat().st_mtime_ns)  # same content: keep its time
    else:
        _write_stamp(stamp, new, None)  # changed content: newer than every output
    return stamp


def update_stamps(paths: list[Path | str], stamp_dir: Path | str) -> dict[str, str]:
    """``update_stamp`` for every existing file of ``paths``: {file: its stamp} as strings."""
    return {str(p): str(update_stamp(p, stamp_dir)) for p in paths if Path(p).is_file()}
