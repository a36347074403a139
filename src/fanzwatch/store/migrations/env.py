"""Alembic environment: runs migrations on the URL fanzwatch passes in."""

from __future__ import annotations

from alembic import context

from fanzwatch.store.engine import create_sync_engine

url = context.config.attributes["fanzwatch_url"]
engine = create_sync_engine(url)
try:
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()
finally:
    engine.dispose()
