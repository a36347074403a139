"""What the platform database says about an incident window: who was hit, and exchange rates.

Affected creators and fans are the distinct ids of payment attempts that *failed* in the
window on the incident's platforms (declines are the fan's bank, not the incident). They
are counted here, from the database, and never become metric labels. Fans who could not
even try (a platform down before the payment step) leave no payment event and are not
counted: the figure is a lower bound, and the report says so.

Synchronous SQLAlchemy (the BI engines are): call it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from .. import schema
from ..schema.rates import rates_at


@dataclass(frozen=True, slots=True)
class AffectedPeople:
    creators: int
    fans: int
    failed_attempts: int
    failed_value: dict[str, float]


def affected_people(engine: sa.Engine, platforms: tuple[str, ...], start: datetime, end: datetime) -> AffectedPeople:
    t = schema.transactions
    where = (
        t.c.platform.in_(platforms),
        t.c.created_at > start,
        t.c.created_at <= end,
        t.c.status == "failed",
    )
    with engine.connect() as conn:
        creators, fans, attempts = conn.execute(
            sa.select(
                sa.func.count(sa.distinct(t.c.creator_id)),
                sa.func.count(sa.distinct(t.c.fan_id)),
                sa.func.count(),
            ).where(*where)
        ).one()
        values = conn.execute(sa.select(t.c.currency, sa.func.sum(t.c.amount)).where(*where).group_by(t.c.currency))
        failed_value = {str(c): float(v or 0) for c, v in values}
    return AffectedPeople(int(creators), int(fans), int(attempts), failed_value)


def latest_rates(engine: sa.Engine, at: datetime) -> dict[str, Decimal]:
    """Each currency's latest USD rate with ``valid_from`` before ``at`` (the query BI reads them with)."""
    with engine.connect() as conn:
        return rates_at(conn, at)
