"""Affected creators and fans, and exchange rates, read from a real platform database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.impact.platform_db import affected_people, latest_rates

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def platform_db(store_url: str) -> sa.Engine:
    engine = sa.create_engine(store_url.replace("+aiosqlite", ""))
    schema.metadata.create_all(engine)
    u, t = schema.users, schema.transactions
    with engine.begin() as conn:
        conn.execute(
            u.insert(),
            [
                {"id": i, "platform": p, "role": role, "created_at": T0 - timedelta(days=30)}
                for i, p, role in [
                    (1, "fanz-1", "creator"),
                    (2, "fanz-1", "creator"),
                    (3, "fanz-1", "fan"),
                    (4, "fanz-1", "fan"),
                    (5, "fanz-1", "fan"),
                    (6, "fanz-2", "creator"),
                    (7, "fanz-2", "fan"),
                ]
            ],
        )

        def tx(
            minute: int, creator: int, fan: int, status: str, amount: str, platform: str = "fanz-1"
        ) -> dict[str, object]:
            return {
                "platform": platform,
                "type": "tip",
                "amount": Decimal(amount),
                "currency": "EUR" if fan == 5 else "USD",
                "status": status,
                "creator_id": creator,
                "fan_id": fan,
                "created_at": T0 + timedelta(minutes=minute),
            }

        conn.execute(
            t.insert(),
            [
                tx(1, 1, 3, "failed", "5.00"),
                tx(2, 1, 3, "failed", "5.00"),  # the same fan and creator again
                tx(3, 2, 5, "failed", "7.50"),
                tx(4, 2, 4, "declined", "9.00"),  # the fan's bank: not the incident
                tx(5, 1, 4, "completed", "3.00"),
                tx(-5, 2, 4, "failed", "1.00"),  # before the window
                tx(90, 2, 4, "failed", "1.00"),  # after it
                tx(6, 6, 7, "failed", "2.00", platform="fanz-2"),  # another platform
            ],
        )
        conn.execute(
            schema.exchange_rates.insert(),
            [
                {"currency": "EUR", "valid_from": T0 - timedelta(days=2), "rate_to_usd": Decimal("1.05")},
                {"currency": "EUR", "valid_from": T0 - timedelta(days=1), "rate_to_usd": Decimal("1.08")},
                {"currency": "EUR", "valid_from": T0 + timedelta(days=1), "rate_to_usd": Decimal("1.20")},
            ],
        )
    return engine


def test_affected_people_are_distinct_ids_of_failed_attempts_in_the_window(platform_db: sa.Engine) -> None:
    people = affected_people(platform_db, ("fanz-1",), T0, T0 + timedelta(hours=1))
    assert (people.creators, people.fans, people.failed_attempts) == (2, 2, 3)
    assert people.failed_value == {"EUR": 7.5, "USD": 10.0}
    both = affected_people(platform_db, ("fanz-1", "fanz-2"), T0, T0 + timedelta(hours=1))
    assert (both.creators, both.fans, both.failed_attempts) == (3, 3, 4)
    platform_db.dispose()


def test_rates_in_force_at_the_window_end(platform_db: sa.Engine) -> None:
    assert latest_rates(platform_db, T0) == {"EUR": Decimal("1.08")}
    platform_db.dispose()
