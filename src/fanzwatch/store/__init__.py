"""The server's store: SQLAlchemy engines and Alembic migrations (SQLite or PostgreSQL)."""

from .engine import create_store_engine, create_sync_engine
from .migrate import MIGRATION_PACKAGES, alembic_config, current_heads, upgrade

__all__ = [
    "MIGRATION_PACKAGES",
    "alembic_config",
    "create_store_engine",
    "create_sync_engine",
    "current_heads",
    "upgrade",
]
