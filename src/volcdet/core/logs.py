"""Logging for rule scripts: one file per job plus stderr, uncaught errors logged in one line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from volcdet.core.errors import VolcdetError


def setup_logging(log_path: str | Path | None, level: int = logging.INFO) -> None:
    """Send volcdet's log records to ``log_path`` and stderr; log uncaught exceptions."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )

    def _excepthook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        if isinstance(value, VolcdetError):
            logging.getLogger("volcdet").error("%s", value)
        else:
            logging.getLogger("volcdet").error("uncaught exception", exc_info=(kind, value, tb))

    sys.excepthook = _excepthook
