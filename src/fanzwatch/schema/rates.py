"""The exchange rates in force at a moment: one query, read by BI and by incident impact.

>>> rates_at(conn, datetime(2026, 3, 2, tzinfo=UTC))  # doctest: +SKIP
{'EUR': Decimal('1.08')}
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection

from .tables import exchange_rates


def rates_at(conn: Connection, at: datetime) -> dict[str, Decimal]:
    """Each currency's latest USD rate with ``valid_from`` before ``at``."""
    r = exchange_rates
    latest = (
        sa.select(r.c.currency, sa.func.max(r.c.valid_from).label("valid_from"))
        .where(r.c.valid_from < at)
        .group_by(r.c.currency)
        .subquery()
    )
    rows = conn.execute(
        sa.select(r.c.currency, r.c.rate_to_usd).join(
            latest, sa.and_(latest.c.currency == r.c.currency, latest.c.valid_from == r.c.valid_from)
        )
    )
    return {str(c): Decimal(str(v)) for c, v in rows}
