"""Schema migrations with Alembic, one branch per package that owns tables.

Each package that keeps state in the store has its own ``migrations/`` folder of
Alembic revisions (its first revision has ``down_revision = None`` and a
``branch_labels`` naming the package). ``upgrade`` applies every branch's head, so
feature packages add tables without touching one another's history.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .engine import create_sync_engine

# Packages whose ``migrations`` folder holds revisions, in no particular order.
MIGRATION_PACKAGES: tuple[str, ...] = (
    "fanzwatch.store",
    "fanzwatch.alerting",
    "fanzwatch.rum",
)


def _version_locations(packages: tuple[str, ...]) -> list[str]:
    return [str(files(pkg) / "migrations" / "versions") for pkg in packages]


def alembic_config(url: str, *, packages: tuple[str, ...] = MIGRATION_PACKAGES) -> Config:
    """An Alembic config for ``url`` that knows every package's revisions."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(files("fanzwatch.store"))) / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", ":".join(_version_locations(packages)))
    cfg.attributes["fanzwatch_url"] = url
    return cfg


def upgrade(url: str, *, packages: tuple[str, ...] = MIGRATION_PACKAGES) -> None:
    """Bring the store at ``url`` to the newest schema (idempotent)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, packages=packages), "heads")


def current_heads(url: str, *, packages: tuple[str, ...] = MIGRATION_PACKAGES) -> tuple[set[str], set[str]]:
    """(revisions applied to the database, newest revisions known to the code)."""
    cfg = alembic_config(url, packages=packages)
    known = set(ScriptDirectory.from_config(cfg).get_heads())
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            applied = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return applied, known
