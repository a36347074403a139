"""A seeded platform database for the BI page: users, content, engagement, money.

Activity grows over the period (more in the last week than the one before), so the
period comparison and the insight sentences have something to say. Amounts are in USD
and EUR with an exchange rate, as a real platform's are.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fanzwatch import schema

PLATFORMS = ("fanz-1", "fanz-2", "fanz-3")


def populate(engine: sa.Engine, *, end: datetime, days: int = 40, seed: int = 5) -> None:
    rng = random.Random(seed)
    start = end - timedelta(days=days)

    def when() -> datetime:
        # sqrt makes later days likelier: a platform that grows.
        return start + timedelta(seconds=days * 86400 * rng.random() ** 0.6)

    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.exchange_rates),
            [
                {"currency": "USD", "valid_from": start - timedelta(days=1), "rate_to_usd": Decimal("1")},
                {"currency": "EUR", "valid_from": start - timedelta(days=1), "rate_to_usd": Decimal("1.08")},
            ],
        )
        users: list[dict[str, Any]] = []
        for i in range(1, 601):
            role = "creator" if i % 8 == 0 else "fan"
            users.append(
                {
                    "id": i,
                    "platform": PLATFORMS[i % 3],
                    "role": role,
                    "created_at": when(),
                    "creator_tier": "standard" if role == "creator" else None,
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.users), users)
        creators = [u for u in users if u["role"] == "creator"]
        fans = [u for u in users if u["role"] == "fan"]
        content = []
        for i in range(1, 401):
            c = rng.choice(creators)
            kind = rng.choice(("image", "image", "image", "video", "video", "audio", "text"))
            content.append(
                {
                    "id": i,
                    "platform": c["platform"],
                    "creator_id": c["id"],
                    "type": kind,
                    "created_at": when(),
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.content), content)
        for table, count in (
            (schema.content_views, 4000),
            (schema.likes, 900),
            (schema.comments, 300),
            (schema.shares, 120),
        ):
            rows = []
            for _ in range(count):
                item = rng.choice(content)
                rows.append(
                    {
                        "platform": item["platform"],
                        "content_id": item["id"],
                        "user_id": rng.choice(fans)["id"],
                        "created_at": max(when(), item["created_at"]),
                        "updated_at": start,
                    }
                )
            conn.execute(sa.insert(table), rows)
        sessions = []
        for _ in range(5000):
            u = rng.choice(users[:400])
            t = max(when(), u["created_at"])
            sessions.append(
                {
                    "platform": u["platform"],
                    "user_id": u["id"],
                    "started_at": t,
                    "ended_at": t + timedelta(seconds=rng.randrange(30, 3600)),
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.sessions), sessions)
        subs = []
        for i in range(1, 301):
            f, c = rng.choice(fans), rng.choice(creators)
            t = when()
            cancelled = t + timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.2 else None
            subs.append(
                {
                    "id": i,
                    "platform": c["platform"],
                    "fan_id": f["id"],
                    "creator_id": c["id"],
                    "price": Decimal(rng.choice(["4.99", "9.99", "14.99"])),
                    "currency": rng.choice(("USD", "USD", "EUR")),
                    "billing_period_months": 1,
                    "status": "cancelled" if cancelled else "active",
                    "started_at": t,
                    "cancelled_at": cancelled,
                    "ended_at": None,
                    "current_period_end": t + timedelta(days=30),
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.subscriptions), subs)
        txs = []
        for _ in range(4000):
            f, c = rng.choice(fans), rng.choice(creators)
            t = when()
            status = rng.choice(["completed"] * 16 + ["declined", "failed", "refunded"])
            amount = Decimal(rng.randrange(300, 5000)) / 100
            txs.append(
                {
                    "platform": c["platform"],
                    "type": rng.choice(schema.TRANSACTION_TYPES),
                    "amount": amount,
                    "currency": rng.choice(("USD", "USD", "EUR")),
                    "status": status,
                    "fee_amount": (amount * Decimal("0.2")).quantize(Decimal("0.01")),
                    "creator_id": c["id"],
                    "fan_id": f["id"],
                    "created_at": t,
                    "refunded_at": t + timedelta(hours=5) if status == "refunded" else None,
                    "updated_at": start,
                }
            )
        conn.execute(sa.insert(schema.transactions), txs)
