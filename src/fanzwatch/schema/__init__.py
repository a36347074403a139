"""The FANZ platform data model, shared by the demo platform (writer) and BI (reader).

SQLAlchemy Core tables for users, subscriptions, transactions, exchange rates, content,
views, likes, comments, shares and sessions. The same definitions run on SQLite (the demo
platform's file) and PostgreSQL (a real platform or its read replica). A real FANZ database
whose tables look different is mapped onto these names with SQL views: see docs/schema.md.

>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> create_all(engine)
>>> sorted(metadata.tables)[:3]
['comments', 'content', 'content_views']
"""

from __future__ import annotations

from sqlalchemy import Engine

from ._types import MONEY_SCALE, Currency, Id, Money, Platform, UtcDateTime, utc_now
from .tables import (
    CONTENT_KINDS,
    SUBSCRIPTION_STATUSES,
    TABLES,
    TIERS,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
    USER_ROLES,
    comments,
    content,
    content_views,
    exchange_rates,
    likes,
    metadata,
    sessions,
    shares,
    subscriptions,
    transactions,
    users,
)


def create_all(engine: Engine) -> None:
    """Create every platform table and index that does not exist yet (idempotent).

    For the demo platform, which owns its database. A real platform keeps its own
    schema and exposes these names as views instead (docs/schema.md).
    """
    metadata.create_all(engine)


def drop_all(engine: Engine) -> None:
    """Drop every platform table (tests and benchmarks only)."""
    metadata.drop_all(engine)


__all__ = [
    "CONTENT_KINDS",
    "MONEY_SCALE",
    "SUBSCRIPTION_STATUSES",
    "TABLES",
    "TIERS",
    "TRANSACTION_STATUSES",
    "TRANSACTION_TYPES",
    "USER_ROLES",
    "Currency",
    "Id",
    "Money",
    "Platform",
    "UtcDateTime",
    "comments",
    "content",
    "content_views",
    "create_all",
    "drop_all",
    "exchange_rates",
    "likes",
    "metadata",
    "sessions",
    "shares",
    "subscriptions",
    "transactions",
    "users",
    "utc_now",
]
