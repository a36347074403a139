"""Fixtures shared by the whole suite: fresh stores on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from alerting._fakes import FakePagerDuty, FakeSlack

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A local HTTP server speaking Slack's Web API (tests/alerting/_fakes.py)."""
    s = FakeSlack()
    yield s
    s.close()


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    """A local HTTP server speaking PagerDuty's Events API v2."""
    p = FakePagerDuty()
    yield p
    p.close()


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


DEMO_STACK_MODULES = ("tests/stack/test_slo_money.py", "tests/stack/test_faults.py")
"""The modules using the shared demo stack (``demo_stack``), in the order they run: one xdist
scope, so one worker runs them all on one stack (two stacks at once load two cores twice and
make their timings flake). The money SLO's outage goes first: after the other faults it would
first wait minutes for their SLO burns to end."""


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadscope``, with the demo stack's modules one scope (``DEMO_STACK_MODULES``)."""
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class DemoStackTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "demo-stack" if module in DEMO_STACK_MODULES else str(super()._split_scope(nodeid))

    return DemoStackTogether(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ``make test PYTEST_WORKERS=2`` spreads the suite over pytest-xdist workers (``--dist loadscope``).

    ``loadscope`` keeps a module whole on one worker (its module fixtures start once, its tests
    keep their order); the shared demo stack is package-scoped (tests/stack), so it starts once per worker
    that runs a test using it: ``DEMO_STACK_MODULES`` makes its modules one scope, so one worker
    runs them all. The longest modules go first, so they overlap the rest of the suite instead
    of running after it: modules using ``demo_stack``, then modules with a ``slow`` test, then
    the others, each in collection order (``--no-loadscope-reorder`` keeps this order; xdist
    would otherwise sort by test count). Without xdist nothing changes.
    (``--dist loadgroup`` would group across modules, but its ``xdist_group`` marks do not
    reach the scheduler with pytest 9.2 here: tests of one group ran on both workers.)
    """
    if not hasattr(config, "workerinput"):  # not an xdist worker
        return
    rank: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        here = 0 if "demo_stack" in item.fixturenames else 1 if item.get_closest_marker("slow") else 2
        rank[module] = min(rank.get(module, 2), here)
    together = {module: n for n, module in enumerate(DEMO_STACK_MODULES)}
    items.sort(key=lambda item: (rank[m := item.nodeid.split("::", 1)[0]], together.get(m, len(together))))
