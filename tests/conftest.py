"""Fixtures shared by the whole suite: fresh stores on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(autouse=True)
def _own_stack_registry(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands under test never find a stack someone else runs on this machine, and the
    stacks a test starts are listed in a registry of its own (see ``stack.registry``).
    Demo stacks drive no headless Chromium unless a test asks (``browser_sessions=True``):
    two cores are shared by every test. blackbox_exporter and the journey prober get free
    ports unless the test gives them (stacks started side by side must not share 9115, 8340)."""
    monkeypatch.setenv("FANZWATCH_STACK_REGISTRY_DIR", str(tmp_path_factory.mktemp("stacks")))
    monkeypatch.setenv("FANZWATCH_DEMO_BROWSER_SESSIONS", "false")
    with socket.socket() as bb, socket.socket() as prober:
        bb.bind(("127.0.0.1", 0))
        prober.bind(("127.0.0.1", 0))
        monkeypatch.setenv("FANZWATCH_STACK_BLACKBOX_PORT", str(bb.getsockname()[1]))
        monkeypatch.setenv("FANZWATCH_DEMO_PROBER_PORT", str(prober.getsockname()[1]))
