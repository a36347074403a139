"""Fixtures of the health tests: fresh registries, and real dependencies to break."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from fanzwatch.core.clock import FrozenClock

from ._servers import Blackhole, CountingHttpServer, MotoS3, RedisProcess, ResettingServer

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    server = Blackhole()
    yield server
    server.close()


@pytest.fixture
def resetting() -> Iterator[ResettingServer]:
    server = ResettingServer()
    yield server
    server.close()


@pytest.fixture
def http_dependency() -> Iterator[CountingHttpServer]:
    server = CountingHttpServer()
    yield server
    server.close()


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path)
    proc.start()
    yield proc
    proc.kill()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3(Path(sys.executable).parent / "moto_server")
    yield server
    server.close()
