from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from fanzwatch.store import create_store_engine, create_sync_engine, current_heads, upgrade
from fanzwatch.store.tables import meta


def test_upgrade_creates_schema_and_is_idempotent(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)  # a second run changes nothing and does not fail
    applied, known = current_heads(store_url)
    assert applied == known
    assert "store_0001" in applied
    engine = create_sync_engine(store_url)
    try:
        assert "fanzwatch_meta" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_fresh_store_is_behind_until_upgraded(store_url: str) -> None:
    applied, known = current_heads(store_url)
    assert applied == set()
    assert known


async def test_async_engine_round_trip(store_url: str) -> None:
    upgrade(store_url)
    engine = create_store_engine(store_url)
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(meta.insert().values(key="instance", value="abc", updated_at=now))
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(meta.c.value, meta.c.updated_at))).one()
        assert row.value == "abc"
        assert row.updated_at.replace(tzinfo=UTC) == now
    finally:
        await engine.dispose()
