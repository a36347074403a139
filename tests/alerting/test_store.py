"""The alerting migration branch: it creates exactly the tables the code uses, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fanzwatch.alerting.tables import flags, metadata
from fanzwatch.store import alembic_config, create_store_engine, create_sync_engine, current_heads, upgrade


def _alerting_diffs(url: str) -> list[object]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()

    def touches_alerting(diff: object) -> bool:
        text = repr(diff)
        return "alerting_" in text

    return [d for d in diffs if touches_alerting(d)]


def test_the_migration_creates_what_the_tables_declare(store_url: str) -> None:
    upgrade(store_url)
    applied, known = current_heads(store_url)
    assert any(head.startswith("alerting_") for head in applied) and applied == known
    assert _alerting_diffs(store_url) == []


def test_the_branch_downgrades_and_upgrades_again(store_url: str) -> None:
    upgrade(store_url)
    command.downgrade(alembic_config(store_url), "alerting@base")
    engine = create_sync_engine(store_url)
    try:
        assert not [t for t in sa.inspect(engine).get_table_names() if t.startswith("alerting_")]
    finally:
        engine.dispose()
    upgrade(store_url)
    assert _alerting_diffs(store_url) == []


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-5), timedelta(hours=9, minutes=30)])
async def test_times_come_back_aware_and_equal_on_both_backends(store_url: str, offset: timedelta) -> None:
    upgrade(store_url)
    engine = create_store_engine(store_url)
    moment = datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=timezone(offset))
    try:
        async with engine.begin() as conn:
            await conn.execute(flags.insert().values(name="t", value=True, updated_at=moment, updated_by="x"))
        async with engine.connect() as conn:
            back = (await conn.execute(sa.select(flags.c.updated_at))).scalar_one()
    finally:
        await engine.dispose()
    assert back == moment and back.tzinfo == UTC
