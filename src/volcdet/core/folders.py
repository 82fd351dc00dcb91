"""Output folders volcdet writes, and the rules that keep everything else safe.

A folder is built in a staging folder beside its destination and moved into place in one
rename. Its last file is a marker, ``.volcdet-written.json``, that lists every file and folder
volcdet wrote into it with each file's size and SHA-256. ``--overwrite`` replaces only a folder
whose marker lists everything in it, unchanged; a destination that is the current folder, a
folder above it, or one that holds an input is refused whatever the options. Staging folders
carry their writer (pid, process start time, host) in their name, so a later run can tell the
leftovers of a dead run from a run still writing, and remove only those. Folders follow the
umask. Only the standard library is used: the command line checks all this before torch loads.
See docs/reliability.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from volcdet.core.digests import file_sha256
from volcdet.core.errors import OutputError

log = logging.getLogger(__name__)

MARKER = ".volcdet-written.json"
MARKER_FORMAT = "volcdet-written/1"
#: Kinds of leftovers beside a destination: work in progress, and the replaced folder that a
#: commit keeps for an instant (a run killed between the two renames of a commit leaves it).
STAGING_KINDS = ("staging", "old")
_RANDOM_SUFFIX = r"[a-z0-9_]{8}"


def absolute(path: Path | str) -> Path:
    """``path`` made absolute and normalised (``..`` removed) without following symlinks."""
    return Path(os.path.abspath(path))


def current_umask() -> int:
    """The process umask (read from /proc where it can, so no other thread sees it change)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(folder: Path) -> None:
    """Give a folder made by ``tempfile.mkdtemp`` (always 0700) the mode the umask asks for."""
    os.chmod(folder, 0o777 & ~current_umask())


# --- where an output may go --------------------------------------------------------------


def check_destination(out: Path, inputs: Iterable[Path], option: str) -> None:
    """OutputError when ``out`` is the current folder, a folder above it, or equal to or above
    one of ``inputs`` (replacing it would delete what the run reads)."""
    target = Path(out).resolve()
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        raise OutputError(
            f"{out}: {option} is the current folder or a folder above it; name a new folder"
        )
    for path in inputs:
        source = Path(path).resolve()
        if source == target or target in source.parents:
            raise OutputError(
                f"{out}: {option} holds an input of this run ({path}); "
                "name a folder that holds no input"
            )


# --- the marker ---------------------------------------------------------------------------


def _entries(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """(folders, files, others) under ``folder`` as sorted relative POSIX paths; symlinks and
    special files are 'others' and are never followed."""
    folders, files, others = [], [], []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        for name in list(dirs):
            rel = (base / name).relative_to(folder).as_posix()
            if (base / name).is_symlink():
                others.append(rel)
                dirs.remove(name)
            else:
                folders.append(rel)
        for name in names:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file():
                others.append(rel)
            elif rel != MARKER:
                files.append(rel)
    return sorted(folders), sorted(files), sorted(others)


def write_marker(folder: Path, kind: str) -> Path:
    """Write ``folder/.volcdet-written.json`` listing every folder and file in ``folder`` (size
    and SHA-256 of each file) as written by volcdet for ``kind``; call it last."""
    folder = Path(folder)
    folders, files, others = _entries(folder)
    if others:
        raise OutputError(f"{folder}: holds {others[0]}, which is not a plain file or folder")
    listed = {
        rel: {"size": (folder / rel).stat().st_size, "sha256": file_sha256(folder / rel)}
        for rel in files
    }
    marker = {"format": MARKER_FORMAT, "kind": kind, "folders": folders, "files": listed}
    path = folder / MARKER
    path.write_text(json.dumps(marker, indent=1))
    return path


def _read_marker(folder: Path, option: str) -> dict[str, Any]:
    """The marker of an existing folder, or OutputError saying why it cannot be replaced."""
    path = folder / MARKER
    if not path.is_file() or path.is_symlink():
        raise OutputError(
            f"{folder}: {option} exists and volcdet did not write it (no {MARKER}), so "
            "--overwrite will not replace it; move it away or name a new folder"
        )
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OutputError(f"{path}: not a readable volcdet marker ({err})") from None
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        raise OutputError(f"{path}: not a {MARKER_FORMAT} marker")
    if not isinstance(marker.get("files"), dict) or not isinstance(marker.get("folders"), list):
        raise OutputError(f"{path}: not a {MARKER_FORMAT} marker (no files or folders list)")
    return marker


def _not_written(folder: Path, marker: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(what the marker does not list, listed files changed since) in ``folder``."""
    folders, files, others = _entries(folder)
    listed_folders = set(marker["folders"])
    unlisted = [*others, *(f for f in folders if f not in listed_folders)]
    changed = []
    for rel in files:
        entry = marker["files"].get(rel)
        if not isinstance(entry, dict):
            unlisted.append(rel)
        elif (folder / rel).stat().st_size != entry.get("size") or file_sha256(
            folder / rel
        ) != entry.get("sha256"):
            changed.append(rel)
    return sorted(unlisted), changed


def _first(paths: list[str]) -> str:
    """'a' or 'a and 3 more'."""
    return paths[0] + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")


def check_replaceable(out: Path, kind: str, option: str) -> None:
    """OutputError unless the existing folder ``out`` holds only what volcdet wrote there as
    ``kind``, unchanged (its marker lists every file and folder in it)."""
    out = Path(out)
    if out.is_symlink():
        raise OutputError(
            f"{out}: {option} is a symbolic link; --overwrite replaces only a folder volcdet "
            "wrote, give that folder itself"
        )
    if not out.is_dir():
        raise OutputError(f"{out}: {option} is a file, not a folder")
    marker = _read_marker(out, option)
    if marker.get("kind") != kind:
        raise OutputError(
            f"{out / MARKER}: the folder was written as {marker.get('kind')!r}, not as "
            f"{kind!r}; --overwrite will not replace it"
        )
    unlisted, changed = _not_written(out, marker)
    if unlisted:
        raise OutputError(
            f"{out}: --overwrite will not replace it: it holds {_first(unlisted)}, which "
            f"volcdet did not write ({MARKER} does not list it); move it away or name a new folder"
        )
    if changed:
        raise OutputError(
            f"{out}: --overwrite will not replace it: {_first(changed)} changed since volcdet "
            "wrote it; move it away or name a new folder"
        )


def check_output_folder(
    out: Path, reads: Iterable[Path], overwrite: bool, kind: str, option: str
) -> None:
    """OutputError unless the folder ``out`` may receive what volcdet writes as ``kind``: not
    the current folder or above it, holding none of ``reads``, and new, or with ``overwrite``
    a folder volcdet wrote as ``kind`` that holds nothing else."""
    out = Path(out)
    check_destination(out, reads, option)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputError(f"{out}: {option} is a file, not a folder")
        if not overwrite:
            raise OutputError(f"{out}: output folder exists; use --overwrite to replace it")
        check_replaceable(out, kind, option)


# --- staging folders and their writers ----------------------------------------------------


def _start_ticks(pid: int) -> int:
    """Start time of a process in clock ticks since boot (0 where /proc cannot tell)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _host() -> str:
    """This machine's host name, reduced to letters, digits, dots and dashes."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def writer_tag() -> str:
    """``<pid>-<start ticks>-<host>`` of this process: who writes a staging folder."""
    pid = os.getpid()
    return f"{pid}-{_start_ticks(pid)}-{_host()}"


def _leftover_pattern(name: str) -> re.Pattern[str]:
    """Names of the staging and old folders of destination ``name`` with their writer."""
    kinds = "|".join(STAGING_KINDS)
    return re.compile(
        rf"\.{re.escape(name)}\.(?P<kind>{kinds})-(?P<pid>\d+)-(?P<ticks>\d+)-"
        rf"(?P<host>[A-Za-z0-9.-]+?)-(?P<suffix>{_RANDOM_SUFFIX})"
    )


def writer_alive(pid: int, ticks: int, host: str) -> bool | None:
    """Whether the process that wrote a staging folder still runs: None when it ran on another
    host (it cannot be told from here); a reused pid counts as dead (another start time)."""
    if host != _host():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not (ticks and _start_ticks(pid) not in (0, ticks))


def make_staging(out: Path) -> Path:
    """A new, empty staging folder beside ``out``, named after this process and following the
    umask; leftovers of dead runs for the same destination are removed first."""
    out = absolute(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-{writer_tag()}-", dir=out.parent))
    try:
        follow_umask(staging)
    except BaseException:  # Ctrl-C or SIGTERM before the caller holds the folder: remove it
        _remove(staging)
        raise
    return staging


def _remove(path: Path) -> None:
    """Remove a leftover folder (with what it holds) or file; what cannot be removed stays."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_dead_leftovers(out: Path) -> list[Path]:
    """Remove the staging folders of dead runs beside ``out``; a dead run's replaced folder is
    put back when ``out`` is missing (it was killed mid-commit), else removed. Folders of live
    runs, of other hosts or not named by a writer are kept (the last two with a warning)."""
    out = absolute(out)
    if not out.parent.is_dir():
        return []
    pattern = _leftover_pattern(out.name)
    removed = []
    for path in sorted(out.parent.glob(f".{out.name}.*")):
        match = pattern.fullmatch(path.name)
        if match is None:
            if re.fullmatch(rf"\.{re.escape(out.name)}\.(staging|old|import)-.+", path.name):
                log.warning("%s: left by an older volcdet; delete it if no run writes to it", path)
            continue
        alive = writer_alive(int(match["pid"]), int(match["ticks"]), match["host"])
        if alive is None:
            log.warning(
                "%s: written on host %s; kept (delete it if that run ended)", path, match["host"]
            )
        elif not alive:
            if match["kind"] == "old" and not out.exists():
                path.rename(out)
                log.warning(
                    "%s: put back from %s (its run was killed while replacing it)", out, path
                )
            else:
                _remove(path)
                removed.append(path)
    return removed


def commit_folder(staging: Path, out: Path, kind: str, overwrite: bool, option: str) -> None:
    """Write the marker into a finished staging folder and move it to ``out``: an existing
    ``out`` is replaced only with ``overwrite`` and only when volcdet wrote all of it; if the
    move fails the old folder is put back."""
    staging, out = Path(staging), absolute(out)
    write_marker(staging, kind)
    if not (out.exists() or out.is_symlink()):
        staging.rename(out)
        return
    if not overwrite:
        raise OutputError(f"{out}: output folder exists; use --overwrite to replace it")
    check_replaceable(out, kind, option)
    tag = staging.name.split(".staging-", 1)[1]
    old = out.with_name(f".{out.name}.old-{tag}")
    out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
