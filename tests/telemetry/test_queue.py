"""``StoreQueue.stop``: a batch still in flight when the flush time runs out is spooled, not lost.

The store here is a real TCP listener that accepts and never answers (a store process stuck
in a long merge, say), reached through the real ``TelemetryStoreClient``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from fanzwatch.telemetry.client import TelemetryStoreClient
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
