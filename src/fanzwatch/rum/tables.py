"""The RUM tables in the server's store (schema owned by the ``rum`` migration branch)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per accepted event. Times are Unix epoch milliseconds (UTC): integers
# compare and index the same on SQLite and PostgreSQL and cost nothing to write.
# platform, page_template and device_class are bounded; url, message and detail
# are scrubbed before they get here.
rum_events = sa.Table(
    "rum_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("occurred_at_ms", sa.BigInteger, nullable=False),
    sa.Column("received_at_ms", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("page_template", sa.String(256), nullable=False),
    sa.Column("device_class", sa.String(16), nullable=False),
    sa.Column("session_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(32), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("fingerprint", sa.String(16), nullable=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("message", sa.String(1024), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Index("ix_rum_events_type_occurred", "type", "occurred_at_ms"),
)

# An event the store refused (a value the database cannot hold): kept, not lost, with
# the reason. ``row_json`` is the row as ASCII-only JSON, which every backend can store.
rum_dead_letters = sa.Table(
    "rum_dead_letters",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("failed_at_ms", sa.BigInteger, nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(512), nullable=False),
    sa.Column("row_json", sa.Text, nullable=False),
    sa.Index("ix_rum_dead_letters_failed", "failed_at_ms"),
)

# Column order of the rows the writer produces (``records.to_rows``).
COLUMNS: tuple[str, ...] = (
    "occurred_at_ms",
    "received_at_ms",
    "type",
    "platform",
    "page_template",
    "device_class",
    "session_id",
    "name",
    "value",
    "fingerprint",
    "url",
    "message",
    "detail",
)
