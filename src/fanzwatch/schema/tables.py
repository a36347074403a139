"""The FANZ platform data model: one ``MetaData`` with every table BI reads.

Conventions (see docs/schema.md):

- One row in ``users`` is an account on one platform (``users.platform``); a person with
  accounts on two platforms is two users. Activity rows (sessions, views, likes, ...)
  carry ``platform`` too, denormalised, so every BI filter is an index range scan.
- Every timestamp is ``UtcDateTime`` (aware UTC in, aware UTC out).
- Money is ``Numeric(18, 4)`` in the row's own ``currency``: never summed across currencies.
- Every table BI aggregates has ``updated_at``: the writer sets it on insert and on every
  update (a status change, a refund, a session ending). BI's incremental rollups find the
  hours to recompute from it. Rows are never deleted; a state change is an update.
- Enumerated columns carry CHECK constraints with the allowed values below.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..core.catalog.business import CONTENT_TYPES, CREATOR_TIERS, PAYMENT_TYPES, ROLES
from ._types import Currency, Id, Money, Platform, Rate, UtcDateTime, utc_now

#: Outcomes of a transaction. ``refunded`` and ``chargeback`` were completed first;
#: ``refunded_at`` says when the money went back.
TRANSACTION_STATUSES: tuple[str, ...] = ("completed", "declined", "failed", "refunded", "chargeback")
#: States of a subscription.
SUBSCRIPTION_STATUSES: tuple[str, ...] = ("active", "cancelled", "expired")
TRANSACTION_TYPES: tuple[str, ...] = PAYMENT_TYPES
USER_ROLES: tuple[str, ...] = ROLES
CONTENT_KINDS: tuple[str, ...] = CONTENT_TYPES
TIERS: tuple[str, ...] = CREATOR_TIERS

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


def _created() -> sa.Column[object]:
    return sa.Column("created_at", UtcDateTime, nullable=False)


def _updated() -> sa.Column[object]:
    return sa.Column(
        "updated_at",
        UtcDateTime,
        nullable=False,
        server_default=utc_now(),
        onupdate=utc_now(),
        doc="set by the writer on insert and on every update; drives BI's incremental rollups",
    )


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("platform", Platform, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("creator_tier", sa.String(16), nullable=True, doc="creators only: new|standard|verified|top"),
    sa.Column("country", sa.String(2), nullable=True, doc="ISO 3166-1 alpha-2"),
    sa.Column("source", sa.String(16), nullable=True, doc="sign-up channel: web|ios|android|api|referral|other"),
    _created(),
    _updated(),
    _one_of("role", USER_ROLES),
    sa.CheckConstraint(
        "creator_tier IS NULL OR creator_tier IN (" + ", ".join(f"'{t}'" for t in TIERS) + ")",
        name="creator_tier_allowed",
    ),
    sa.Index(None, "platform", "created_at"),
    sa.Index(None, "created_at"),
    sa.Index(None, "updated_at"),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("platform", Platform, nullable=False),
    sa.Column("fan_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("creator_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("price", Money, nullable=False, doc="price of one billing period"),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("billing_period_months", sa.Integer, nullable=False, server_default="1", doc="1, 3, 6 or 12"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("cancelled_at", UtcDateTime, nullable=True, doc="when the fan cancelled: stops recurring"),
    sa.Column("ended_at", UtcDateTime, nullable=True, doc="when access ended (expired, or end of a cancelled period)"),
    sa.Column("current_period_end", UtcDateTime, nullable=False),
    _updated(),
    _one_of("status", SUBSCRIPTION_STATUSES),
    sa.CheckConstraint("billing_period_months > 0", name="billing_period_positive"),
    sa.CheckConstraint("price >= 0", name="price_not_negative"),
    sa.CheckConstraint("cancelled_at IS NULL OR cancelled_at >= started_at", name="cancelled_after_start"),
    sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ended_after_start"),
    sa.Index(None, "platform", "started_at"),
    sa.Index(None, "platform", "cancelled_at"),
    sa.Index(None, "platform", "ended_at"),
    sa.Index(None, "started_at"),
    sa.Index(None, "cancelled_at"),
    sa.Index(None, "ended_at"),
    sa.Index(None, "fan_id"),
    sa.Index(None, "creator_id"),
    sa.Index(None, "updated_at"),
)

transactions = sa.Table(
    "transactions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("platform", Platform, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False, doc="gross amount the fan paid, in `currency`"),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("fee_amount", Money, nullable=True, doc="the platform's fee; NULL: BI applies the default rate"),
    sa.Column("creator_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("fan_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("subscription_id", Id, sa.ForeignKey("subscriptions.id"), nullable=True),
    sa.Column("content_id", Id, sa.ForeignKey("content.id"), nullable=True, doc="ppv: the item bought"),
    _created(),
    sa.Column("refunded_at", UtcDateTime, nullable=True, doc="refunded/chargeback: when the money went back"),
    _updated(),
    _one_of("type", TRANSACTION_TYPES),
    _one_of("status", TRANSACTION_STATUSES),
    sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    sa.CheckConstraint("fee_amount IS NULL OR (fee_amount >= 0 AND fee_amount <= amount)", name="fee_within_amount"),
    sa.Index(None, "platform", "created_at"),
    sa.Index(None, "created_at"),
    sa.Index(None, "platform", "refunded_at"),
    sa.Index(None, "refunded_at"),
    sa.Index(None, "fan_id", "created_at"),
    sa.Index(None, "creator_id", "created_at"),
    sa.Index(None, "updated_at"),
)

exchange_rates = sa.Table(
    "exchange_rates",
    metadata,
    sa.Column("currency", Currency, primary_key=True),
    sa.Column("valid_from", UtcDateTime, primary_key=True),
    sa.Column("rate_to_usd", Rate, nullable=False, doc="USD value of one unit of `currency`"),
    sa.CheckConstraint("rate_to_usd > 0", name="rate_positive"),
)

content = sa.Table(
    "content",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("platform", Platform, nullable=False),
    sa.Column("creator_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("ppv_price", Money, nullable=True, doc="price when sold pay-per-view, else NULL"),
    sa.Column("currency", Currency, nullable=True),
    _created(),
    _updated(),
    _one_of("type", CONTENT_KINDS),
    sa.Index(None, "platform", "created_at"),
    sa.Index(None, "created_at"),
    sa.Index(None, "creator_id"),
    sa.Index(None, "updated_at"),
)


def _engagement_table(name: str, doc: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", Platform, nullable=False),
        sa.Column("content_id", Id, sa.ForeignKey("content.id"), nullable=False),
        sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=True, doc="NULL: anonymous"),
        _created(),
        _updated(),
        sa.Index(None, "platform", "created_at"),
        sa.Index(None, "created_at"),
        sa.Index(None, "content_id"),
        sa.Index(None, "updated_at"),
        comment=doc,
    )


content_views = _engagement_table("content_views", "one row per view of a content item")
likes = _engagement_table("likes", "one row per like")
comments = _engagement_table("comments", "one row per comment")
shares = _engagement_table("shares", "one row per share")

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("platform", Platform, nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True, doc="NULL while the session is open"),
    _updated(),
    sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    sa.Index(None, "platform", "started_at"),
    sa.Index(None, "started_at"),
    sa.Index(None, "user_id", "started_at"),
    sa.Index(None, "updated_at"),
)

#: Tables in dependency order (parents first).
TABLES: tuple[sa.Table, ...] = (
    users,
    subscriptions,
    content,
    transactions,
    exchange_rates,
    content_views,
    likes,
    comments,
    shares,
    sessions,
)
