"""Seeded random platform data for rollup-versus-raw equivalence tests."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fanzwatch import schema

PLATFORMS = ("fanz-1", "fanz-2", "fanz-3")
CURRENCIES = ("USD", "EUR", "JPY")


def _t(rng: random.Random, start: datetime, days: int) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 86400), microseconds=rng.randrange(1_000_000))


def populate(engine: sa.Engine, *, start: datetime, days: int, seed: int = 7, scale: int = 1) -> None:
    """Fill the platform tables with a few thousand random rows spread over ``days`` days."""
    rng = random.Random(seed)
    n_users = 120 * scale
    with engine.begin() as conn:
        users: list[dict[str, Any]] = []
        for i in range(1, n_users + 1):
            role = "creator" if i % 5 == 0 else "fan"  # creators on every platform
            users.append(
                {
                    "id": i,
                    "platform": PLATFORMS[i % 3],
                    "role": role,
                    "created_at": _t(rng, start, days),
                    "creator_tier": "standard" if role == "creator" else None,
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.users), users)
        creators = [u for u in users if u["role"] == "creator"]
        fans = [u for u in users if u["role"] == "fan"]
        content = []
        for i in range(1, 80 * scale):
            c = rng.choice(creators)
            content.append(
                {
                    "id": i,
                    "platform": c["platform"],
                    "creator_id": c["id"],
                    "type": rng.choice(schema.CONTENT_KINDS),
                    "created_at": _t(rng, start, days),
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.content), content)
        for table in (schema.content_views, schema.likes, schema.comments, schema.shares):
            rows = []
            for _ in range(150 * scale):
                c = rng.choice(content)
                rows.append(
                    {
                        "platform": c["platform"],
                        "content_id": c["id"],
                        "user_id": rng.choice(fans)["id"],
                        "created_at": _t(rng, start, days),
                        "updated_at": start,
                    }
                )
            conn.execute(sa.insert(table), rows)
        sessions = []
        for _ in range(1500 * scale):
            u = rng.choice(users[: n_users // 2])  # half the users are regulars
            t = _t(rng, start, days)
            ended = (
                None
                if rng.random() < 0.1
                else t + timedelta(seconds=rng.randrange(1, 7200), microseconds=rng.randrange(10**6))
            )
            sessions.append(
                {"platform": u["platform"], "user_id": u["id"], "started_at": t, "ended_at": ended, "updated_at": start}
            )
        conn.execute(sa.insert(schema.sessions), sessions)
        subs = []
        for i in range(1, 100 * scale):
            f, c = rng.choice(fans), rng.choice(creators)
            t = _t(rng, start, days)
            cancelled = t + timedelta(hours=rng.randrange(1, 24 * days)) if rng.random() < 0.3 else None
            ended = t + timedelta(hours=rng.randrange(1, 24 * days)) if rng.random() < 0.2 else None
            status = "active" if cancelled is None and ended is None else ("cancelled" if cancelled else "expired")
            subs.append(
                {
                    "id": i,
                    "platform": c["platform"],
                    "fan_id": f["id"],
                    "creator_id": c["id"],
                    "price": Decimal(rng.choice(["4.99", "9.99", "12.50", "1000"])),
                    "currency": rng.choice(CURRENCIES),
                    "billing_period_months": rng.choice([1, 1, 3, 12]),
                    "status": status,
                    "started_at": t,
                    "cancelled_at": cancelled,
                    "ended_at": ended,
                    "current_period_end": t + timedelta(days=30),
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.subscriptions), subs)
        txs = []
        for _ in range(1200 * scale):
            f, c = rng.choice(fans), rng.choice(creators)
            t = _t(rng, start, days)
            status = rng.choice(["completed"] * 6 + ["declined", "failed", "refunded", "chargeback"])
            amount = Decimal(rng.randrange(100, 20000)) / 100
            fee = None if rng.random() < 0.3 else (amount * Decimal("0.2")).quantize(Decimal("0.01"))
            refunded = t + timedelta(hours=rng.randrange(1, 200)) if status in ("refunded", "chargeback") else None
            txs.append(
                {
                    "platform": c["platform"],
                    "type": rng.choice(schema.TRANSACTION_TYPES),
                    "amount": amount,
                    "currency": rng.choice(CURRENCIES),
                    "status": status,
                    "fee_amount": fee,
                    "creator_id": c["id"],
                    "fan_id": f["id"],
                    "created_at": t,
                    "refunded_at": refunded,
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.transactions), txs)
        sync_sequences(conn)


def sync_sequences(conn: sa.Connection) -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("users", "content", "subscriptions", "transactions"):
        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
