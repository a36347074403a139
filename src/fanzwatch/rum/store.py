"""Raw RUM events in the server's store, and the questions asked of them.

Works unchanged on SQLite and PostgreSQL (SQLAlchemy Core only): the p75 is the
nearest-rank percentile computed with window functions in the database, so a
window of a million events is never loaded into the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.catalog.rum import EVENT_TYPES
from .records import Row
from .tables import COLUMNS, rum_events


@dataclass(frozen=True, slots=True)
class VitalP75:
    """p75 of one vital on one page template: seconds (CLS unitless)."""

    page_template: str
    name: str
    p75: float
    count: int


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    fingerprint: str
    kind: str
    message: str
    count: int
    sessions: int
    last_seen: datetime


def epoch_ms(when: datetime) -> int:
    """A timezone-aware datetime as Unix epoch milliseconds (the tables' time unit)."""
    if when.tzinfo is None:
        raise ValueError("use a timezone-aware datetime")
    return int(when.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class RumEventStore:
    """Writes and reads ``rum_events`` through the async engine the server owns.

    >>> store = RumEventStore(engine)
    >>> await store.write([row, ...])        # one transaction
    >>> await store.vitals_p75(since=now - timedelta(hours=1), platform="fanz-1")
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # The write path hands tuples straight to the driver's executemany: SQLAlchemy's
        # per-row parameter processing would cost more than the insert itself.
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._insert = f"INSERT INTO rum_events ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"

    async def write(self, rows: Sequence[Row]) -> None:
        """Insert ``rows`` (tuples in ``COLUMNS`` order) in one transaction; all or nothing."""
        if not rows:
            return
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql(self._insert, list(rows))

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(rum_events))).scalar_one())

    async def vitals_p75(
        self, *, since: datetime, platform: str | None = None, device_class: str | None = None
    ) -> list[VitalP75]:
        """p75 (nearest rank) and count per (page template, vital) of events since ``since``."""
        filters = [rum_events.c.type == "vital", rum_events.c.occurred_at_ms >= epoch_ms(since)]
        if platform is not None:
            filters.append(rum_events.c.platform == platform)
        if device_class is not None:
            filters.append(rum_events.c.device_class == device_class)
        part = (rum_events.c.page_template, rum_events.c.name)
        ranked = (
            sa.select(
                rum_events.c.page_template,
                rum_events.c.name,
                rum_events.c.value,
                sa.func.row_number().over(partition_by=part, order_by=rum_events.c.value).label("rn"),
                sa.func.count().over(partition_by=part).label("n"),
            )
            .where(*filters)
            .subquery()
        )
        # ceil(0.75 * n) in integer arithmetic: (3n + 3) // 4.
        query = (
            sa.select(ranked.c.page_template, ranked.c.name, ranked.c.value, ranked.c.n)
            .where(ranked.c.rn == (ranked.c.n * 3 + 3) // 4)
            .order_by(ranked.c.page_template, ranked.c.name)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [VitalP75(r.page_template, r.name, float(r.value), int(r.n)) for r in rows]

    async def top_errors(self, *, since: datetime, platform: str | None = None, limit: int = 20) -> list[ErrorSummary]:
        """The most frequent error fingerprints since ``since``, most frequent first."""
        filters = [rum_events.c.type == "error", rum_events.c.occurred_at_ms >= epoch_ms(since)]
        if platform is not None:
            filters.append(rum_events.c.platform == platform)
        n = sa.func.count().label("n")
        query = (
            sa.select(
                rum_events.c.fingerprint,
                rum_events.c.name,
                sa.func.min(rum_events.c.message).label("message"),
                n,
                sa.func.count(sa.distinct(rum_events.c.session_id)).label("sessions"),
                sa.func.max(rum_events.c.occurred_at_ms).label("last_seen"),
            )
            .where(*filters)
            .group_by(rum_events.c.fingerprint, rum_events.c.name)
            .order_by(n.desc(), rum_events.c.fingerprint)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            ErrorSummary(
                r.fingerprint or "", r.name, r.message or "", int(r.n), int(r.sessions), from_epoch_ms(r.last_seen)
            )
            for r in rows
        ]

    async def purge(self, *, older_than: datetime) -> int:
        """Delete events that happened before ``older_than``; returns how many."""
        # type IN (...) lets both databases use the (type, occurred_at_ms) index.
        query = rum_events.delete().where(
            rum_events.c.type.in_(EVENT_TYPES), rum_events.c.occurred_at_ms < epoch_ms(older_than)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(query)
        return int(result.rowcount or 0)
