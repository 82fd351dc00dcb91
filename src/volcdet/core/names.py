"""Names that become parts of paths (track ids, model ids, set and approach names): one pattern.

A name made only of ASCII letters, digits, ``_`` and ``-`` can never climb out of a folder
(``..``, ``/``) or hide a file (a leading dot), so every name that ends up in a path matches
``SAFE_NAME``; the workflow's wildcard constraints use the same pattern.
"""

from __future__ import annotations

import re
import unicodedata

#: Regular expression (no anchors, usable as a Snakemake wildcard constraint) of a safe name.
SAFE_NAME = r"[A-Za-z0-9_-]+"


def is_safe_name(name: object) -> bool:
    """True if ``name`` is a non-empty string of ASCII letters, digits, ``_`` and ``-`` only."""
    return isinstance(name, str) and re.fullmatch(SAFE_NAME, name) is not None


def slug(name: str) -> str:
    """A safe lower-case name from free text: accents dropped, every other character that is not
    an ASCII letter or digit becomes ``-`` (``unnamed`` if nothing is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    kept = "".join(ch if ch.isalnum() else "-" for ch in ascii_name)
    return kept.strip("-").lower() or "unnamed"
