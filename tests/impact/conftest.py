"""Fixtures of the impact tests: the alerting harness on a migrated store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alerting._helpers import Harness, make_harness


@pytest.fixture
async def any_store(store_url: str) -> AsyncIterator[Harness]:
    """Once on SQLite and once on the real PostgreSQL."""
    async for h in make_harness(store_url):
        yield h


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """On SQLite only (fast)."""
    async for h in make_harness(f"sqlite:///{tmp_path / 'store.db'}"):
        yield h
