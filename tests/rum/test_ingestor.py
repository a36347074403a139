"""The ingestor's promises: never wait on storage, 503 when it cannot store, never drop silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from fanzwatch.store import upgrade

from ._helpers import RumFactory, batch, make_settings, vital


async def _wait_for(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_a_store_without_its_table_turns_beacons_away_until_it_recovers(rum_factory: RumFactory) -> None:
    # A real failure: the database exists but the rum migration has not run.
    h = await rum_factory(migrate=False)
    first = await h.post("batch", batch(vital(), vital("CLS", 0.05)))
    assert first.status_code == 202  # accepted before anyone knew: queued, not lost
    await _wait_for(lambda: not h.ingestor.store_available)

    refused = await h.post("batch", batch(vital()))
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {"error": "unavailable", "detail": "the event store is unavailable"}
    assert h.sample("fanz_rum_store_errors_total", platform="fanz-1") >= 2
    assert h.sample("fanz_rum_beacons_total", platform="other", endpoint="batch", outcome="unavailable") == 1
    assert h.ingestor.pending == 2

    upgrade(h.url)  # the store comes back
    await _wait_for(lambda: h.ingestor.store_available and h.ingestor.pending == 0)
    assert await h.ingestor.store.count() == 2
    assert (await h.post("batch", batch(vital()))).status_code == 202


@pytest.mark.postgres
async def test_an_unreachable_postgresql_gives_503(rum_factory: RumFactory) -> None:
    h = await rum_factory(url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere", migrate=False)
    assert (await h.post("batch", batch(vital()))).status_code == 202
    await _wait_for(lambda: not h.ingestor.store_available)
    assert (await h.post("batch", batch(vital()))).status_code == 503
    await h.ingestor.stop(drain_seconds=0.1)  # nothing can be written: do not wait for it


async def test_a_full_queue_gives_503(rum_factory: RumFactory) -> None:
    # A writer that only wakes once a minute: the queue fills up.
    h = await rum_factory(
        make_settings(queue_max_events=100, writer_batch_size=50_000, writer_flush_interval_seconds=60)
    )
    fifty = batch(*[vital()] * 50)
    assert [(await h.post("batch", fifty)).status_code for _ in range(2)] == [202, 202]
    full = await h.post("batch", fifty)
    assert full.status_code == 503
    assert full.json()["detail"] == "the ingestion queue is full; retry later"
    assert full.headers["retry-after"] == "1"
    assert h.ingestor.pending == 100
    assert h.sample("fanz_rum_queued_events", platform="fanz-1") == 100


async def test_stop_writes_what_is_queued(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(writer_flush_interval_seconds=60, writer_batch_size=50_000))
    assert (await h.post("batch", batch(*[vital()] * 30))).status_code == 202
    assert await h.ingestor.store.count() == 0
    await h.ingestor.stop()
    assert await h.ingestor.store.count() == 30
    assert h.sample("fanz_rum_lost_events_total", platform="fanz-1") == 0


async def test_what_cannot_be_written_by_shutdown_is_counted_and_logged(
    rum_factory: RumFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await rum_factory(migrate=False)
    assert (await h.post("batch", batch(*[vital()] * 7))).status_code == 202
    await _wait_for(lambda: not h.ingestor.store_available)
    with caplog.at_level(logging.ERROR, logger="fanzwatch.rum.ingestor"):
        await h.ingestor.stop(drain_seconds=0.2)
    assert h.sample("fanz_rum_lost_events_total", platform="fanz-1") == 7
    assert h.sample("fanz_rum_queued_events", platform="fanz-1") == 0
    assert h.ingestor.pending == 0
    assert "RUM ingestor stopped with 7 events unwritten" in caplog.text


async def test_start_twice_is_an_error(rum_factory: RumFactory) -> None:
    h = await rum_factory()
    with pytest.raises(RuntimeError, match="already started"):
        await h.ingestor.start()
