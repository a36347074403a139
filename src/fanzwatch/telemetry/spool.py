"""The OTLP spool's file names: what the queue writes, claims and replays, and nothing else.

A batch the store could not take at stop is ``<table>.<pid>.<uuid>.<rows>.ndjson``; a worker
replaying it renames it ``….claimed-<pid>`` first (one claimant of several). A file of any
other name, or of a table the store does not have, is foreign: never claimed, never counted.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from .schema import LOGS_TABLE, TRACES_TABLE

SPOOL_TABLES = frozenset({TRACES_TABLE, LOGS_TABLE})
SUFFIX = ".ndjson"
CLAIMED = ".claimed-"


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """A spool file of ours: its table, row count and, once claimed, the claimant's pid."""

    path: Path
    table: str
    rows: int
    claimed_by: int | None


def batch_name(table: str, rows: int) -> str:
    """The file name (without the suffix) of a batch spooled by this process."""
    return f"{table}.{os.getpid()}.{uuid.uuid4().hex}.{rows}"


def spooled_batch(path: Path) -> SpooledBatch | None:
    """``path`` as a batch of ours, or None for a temporary or foreign file."""
    if path.name.startswith("."):
        return None
    claimed_by: int | None = None
    if path.suffix.startswith(CLAIMED):
        pid = path.suffix.removeprefix(CLAIMED)
        if not pid.isdigit():
            return None
        claimed_by = int(pid)
    elif path.suffix != SUFFIX:
        return None
    parts = path.stem.split(".")
    if len(parts) != 4 or parts[0] not in SPOOL_TABLES or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    return SpooledBatch(path, parts[0], int(parts[3]), claimed_by)
