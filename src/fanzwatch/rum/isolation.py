"""Writing a batch so that one bad row never holds back the rest.

The writer inserts a whole batch in one transaction (fast). When the database refuses
it for a *value* (PostgreSQL's "text fields cannot contain NUL", a check constraint, a
value too long), the batch is retried in halves down to single rows: the rows that go
in are stored, and each row that still fails alone is dead-lettered in
``rum_dead_letters`` with the database's reason. When the failure is the store itself
(connection refused, a missing table, a timeout), nothing is split: the rows are kept
for the writer to retry, and the endpoints answer 503 until a write succeeds.

A row is dead-lettered only if writing the dead letter succeeds, so a store that is
down never turns good events into dead letters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ..core.text import sanitize_text
from .records import Row
from .store import RumEventStore
from .tables import COLUMNS, rum_dead_letters

logger = logging.getLogger(__name__)
MAX_REASON = 512


def is_value_error(exc: BaseException) -> bool:
    """Whether the database refused the *values* (splitting can help), not the connection."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return False
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return False
    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError):
        return True
    if isinstance(exc, sa_exc.StatementError):
        return isinstance(exc.orig, ValueError | TypeError)
    return isinstance(exc, ValueError | TypeError)  # e.g. UnicodeEncodeError in the driver


def reason_of(exc: BaseException) -> str:
    """The database's own words, without the statement or its parameters (never logged raw)."""
    orig = exc.orig if isinstance(exc, sa_exc.StatementError) and exc.orig is not None else exc
    first_line = str(orig).splitlines()[0] if str(orig) else ""
    return sanitize_text(f"{type(orig).__name__}: {first_line}")[:MAX_REASON]


@dataclass
class WriteOutcome:
    """What became of a batch: rows stored, rows dead-lettered, rows to retry later."""

    stored: list[Row] = field(default_factory=list)
    dead: list[tuple[Row, str]] = field(default_factory=list)
    retry: list[Row] = field(default_factory=list)
    error: BaseException | None = None  # why ``retry`` is not empty


def _row_json(row: Row) -> str:
    # ASCII-only (NUL and surrogates become \\u escapes): any backend stores it.
    return json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=True)


class IsolatingWriter:
    """``write(rows)``: the batch in one go, else split until the bad rows are found."""

    def __init__(self, store: RumEventStore) -> None:
        self.store = store

    async def write(self, rows: Sequence[Row], *, now_ms: int) -> WriteOutcome:
        out = WriteOutcome()
        pending: list[list[Row]] = [list(rows)]
        while pending:
            chunk = pending.pop()
            try:
                await self.store.write(chunk)
            except Exception as exc:
                if not is_value_error(exc):
                    out.error = exc
                    out.retry = [row for part in (chunk, *pending) for row in part]
                    return out
                if len(chunk) > 1:
                    middle = len(chunk) // 2
                    pending += [chunk[middle:], chunk[:middle]]  # first half next: order kept
                    continue
                reason = reason_of(exc)
                try:
                    await self._dead_letter(chunk[0], reason, now_ms)
                except Exception as dead_exc:  # the store itself is failing: keep the row
                    out.error = dead_exc
                    out.retry = [row for part in (chunk, *pending) for row in part]
                    return out
                out.dead.append((chunk[0], reason))
                continue
            out.stored.extend(chunk)
        return out

    async def _dead_letter(self, row: Row, reason: str, now_ms: int) -> None:
        async with self.store.engine.begin() as conn:
            await conn.execute(
                sa.insert(rum_dead_letters).values(
                    failed_at_ms=now_ms, platform=row[3], reason=reason, row_json=_row_json(row)
                )
            )
