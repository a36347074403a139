"""The demo platform's private tables, beside the shared ``fanzwatch.schema``.

The shared schema is what BI reads: users, content, transactions, engagement. What only
the application needs lives here: credentials and login tokens (never readable by BI),
where each content file is stored, and comment text. They reference the shared tables
by id; both are created by :func:`create_platform_tables`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fanzwatch import schema

private = sa.MetaData()

credentials = sa.Table(
    "demo_credentials",
    private,
    sa.Column("user_id", schema.Id, sa.ForeignKey(schema.users.c.id), primary_key=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("display_name", sa.String(80), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False, doc="scrypt$N$r$p$salt$hash"),
    sa.Column("subscription_price", schema.Money, nullable=True, doc="creators: monthly price"),
    sa.Column("subscription_currency", sa.String(3), nullable=True),
    sa.UniqueConstraint("platform", "email", name="uq_demo_credentials_platform_email"),
)

auth_tokens = sa.Table(
    "demo_auth_tokens",
    private,
    sa.Column(
        "token_hash", sa.String(64), primary_key=True, doc="sha256 of the bearer token; the token is never stored"
    ),
    sa.Column("user_id", schema.Id, sa.ForeignKey(schema.users.c.id), nullable=False),
    sa.Column("session_id", schema.Id, sa.ForeignKey(schema.sessions.c.id), nullable=False),
    sa.Column("expires_at", schema.UtcDateTime, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_demo_auth_tokens_user_id", "user_id"),
)

content_files = sa.Table(
    "demo_content_files",
    private,
    sa.Column("content_id", schema.Id, sa.ForeignKey(schema.content.c.id), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("storage_key", sa.String(200), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)

comment_texts = sa.Table(
    "demo_comment_texts",
    private,
    sa.Column("comment_id", schema.Id, sa.ForeignKey(schema.comments.c.id), primary_key=True),
    sa.Column("body", sa.String(2000), nullable=False),
)

# Fixed demo exchange rates (USD value of one unit), so BI can convert revenue.
DEMO_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.74"),
    "AUD": Decimal("0.66"),
}
RATES_VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)


async def create_platform_tables(engine: AsyncEngine) -> None:
    """Create the shared and the private tables (idempotent) and the demo exchange rates."""
    async with engine.begin() as conn:
        await conn.run_sync(schema.metadata.create_all)
        await conn.run_sync(private.create_all)
        have = set((await conn.execute(sa.select(schema.exchange_rates.c.currency))).scalars())
        missing = [
            {"currency": c, "valid_from": RATES_VALID_FROM, "rate_to_usd": r}
            for c, r in DEMO_RATES.items()
            if c not in have
        ]
        if missing:
            await conn.execute(schema.exchange_rates.insert(), missing)


async def insert_id(conn: AsyncConnection, table: sa.Table, **values: object) -> int:
    """Insert one row into ``table`` and return its new ``id`` (RETURNING: SQLite and PostgreSQL)."""
    result = await conn.execute(table.insert().values(**values).returning(table.c.id))
    new_id: int = result.scalar_one()
    return new_id
