"""Fixtures shared by the whole suite: fresh stores on SQLite and on the real PostgreSQL."""

from __future__ import annotations

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
    two cores are shared by every test."""
    monkeypatch.setenv("FANZWATCH_STACK_REGISTRY_DIR", str(tmp_path_factory.mktemp("stacks")))
    monkeypatch.setenv("FANZWATCH_DEMO_BROWSER_SESSIONS", "false")


#: the xdist group of every test that uses the run's shared demo stack (tests/stack/conftest.py)
DEMO_STACK_GROUP = "demo_stack"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ``make test`` spreads the suite over pytest-xdist workers (``-n 2 --dist loadgroup``).

    A module runs whole on one worker (its module fixtures start once, its tests keep their
    order), and every test that uses the shared demo stack runs on one worker (the stack starts
    once a run). The longest units go first, so the demo stack's tests overlap the rest of the
    suite instead of running after it: the demo stack's group, then the modules with a ``slow``
    test, then the others, each in collection order (``--no-loadscope-reorder`` keeps it).
    Without xdist nothing changes.
    """
    if not hasattr(config, "workerinput"):  # not an xdist worker
        return
    groups: dict[str, str] = {}
    slow: set[str] = set()
    for item in items:
        if "demo_stack" in item.fixturenames:
            group = DEMO_STACK_GROUP
        elif (mark := item.get_closest_marker("xdist_group")) is not None:
            group = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        else:
            group = item.nodeid.split("::", 1)[0]
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
        if item.get_closest_marker("slow") is not None:
            slow.add(group)

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        return 0 if group == DEMO_STACK_GROUP else 1 if group in slow else 2

    items.sort(key=rank)
