"""``StoreQueue.stop``: a batch still in flight when the flush time runs out is spooled, not lost.

The store here is a real TCP listener that accepts and never answers (a store process stuck
in a long merge, say), reached through the real ``TelemetryStoreClient``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from fanzwatch.telemetry.client import TelemetryStoreClient
from fanzwatch.telemetry.metrics import spool_usage
from fanzwatch.telemetry.queue import StoreQueue


async def test_the_batch_in_flight_at_the_flush_deadline_is_spooled(tmp_path: Path) -> None:
    held: list[asyncio.StreamWriter] = []
    connected = asyncio.Event()

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        connected.set()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient() as http:
        client = TelemetryStoreClient(f"http://127.0.0.1:{port}", "token", http=http, timeout=30.0)
        queue = StoreQueue(client, capacity_rows=100, batch_rows=100, spool_dir=tmp_path / "spool")
        await queue.start()
        assert queue.offer("otel_traces", b'{"a":1}', rows=1)
        assert queue.offer("otel_traces", b'{"a":2}', rows=1)
        await asyncio.wait_for(connected.wait(), timeout=30)  # the drain has the (merged) batch out
        await queue.stop(flush_seconds=0.5)
        for writer in held:
            writer.close()
    spooled = sorted((tmp_path / "spool").glob("*.ndjson"))
    assert [p.read_bytes() for p in spooled] == [b'{"a":1}\n{"a":2}']
    assert queue.queued_rows == 0


async def test_a_foreign_file_in_the_spool_is_left_alone_and_the_queue_starts(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "foo.ndjson").write_bytes(b"{}")
    (spool / "otel_traces.1.abc.x.ndjson").write_bytes(b"{}")
    (spool / "otel_metrics.1.abc.3.ndjson").write_bytes(b"{}")  # our shape, a table the store lacks
    async with httpx.AsyncClient() as http:
        client = TelemetryStoreClient("http://127.0.0.1:9", "token", http=http, timeout=1.0)
        queue = StoreQueue(client, capacity_rows=10, batch_rows=10, spool_dir=spool)
        await queue.start()
        await queue.stop(flush_seconds=0.1)
    assert sorted(p.name for p in spool.iterdir()) == [
        "foo.ndjson",
        "otel_metrics.1.abc.3.ndjson",
        "otel_traces.1.abc.x.ndjson",
    ]
    assert spool_usage(spool) == (0, 0)  # and none of them is counted as spooled


def test_merged_batches_stop_at_the_byte_bound_as_well_as_the_row_bound() -> None:
    """Requests each answered 200 are never merged past what the store takes in one insert."""
    client = TelemetryStoreClient("http://127.0.0.1:9", "token", http=httpx.AsyncClient())
    queue = StoreQueue(client, capacity_rows=100, batch_rows=100, batch_bytes=100)
    for i in range(3):
        assert queue.offer("otel_traces", bytes([65 + i]) * 60, rows=1)
    assert queue.offer("otel_traces", b"D" * 150, rows=1)  # over the bound alone: still sent, alone
    sizes = []
    while queue.queued_rows:
        batch = queue._next()
        queue._count(batch.table, -batch.rows)
        sizes.append(len(batch.body))
    assert sizes == [60, 60, 60, 150]
    small = StoreQueue(client, capacity_rows=100, batch_rows=100, batch_bytes=1000)
    for _ in range(3):
        small.offer("otel_traces", b"x" * 60, rows=1)
    assert len(small._next().body) == 3 * 60 + 2  # joined by newlines under the bound
