"""Fixtures of the alerting tests: a migrated store, a frozen clock, the service, fakes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fanzwatch.store import upgrade

from ._fakes import FakeReceiver, SmtpSink
from ._helpers import Harness, make_harness


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store migrated once per session; tests get copies (migrating takes about a second)."""
    path = tmp_path_factory.mktemp("template") / "alerting.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    target = tmp_path / "alerting.db"
    shutil.copyfile(migrated_sqlite, target)
    return f"sqlite:///{target}"


@pytest.fixture
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    """On SQLite (fast)."""
    async for h in make_harness(sqlite_url, migrate=False):
        yield h


@pytest.fixture
async def any_store(store_url: str) -> AsyncIterator[Harness]:
    """Once on SQLite and once on the real PostgreSQL."""
    async for h in make_harness(store_url):
        yield h


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    r = FakeReceiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    s = SmtpSink()
    yield s
    s.close()
