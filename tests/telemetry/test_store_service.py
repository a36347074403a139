"""The store process's endpoints bound their bodies: 413 on a declared length before reading anything,
and on a streamed body as soon as it passes the limit (never held whole); nothing is inserted.

The app is the real ``build_store_app`` over a real chDB store, driven in process with httpx.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest

from fanzwatch.telemetry import TRACES_TABLE, ChdbTelemetryStore, span_row
from fanzwatch.telemetry.client import TelemetryStoreClient, encode_rows
from fanzwatch.telemetry.queries import QueryParameterError
from fanzwatch.telemetry.service import build_store_app

TOKEN = "store-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
INSERT_LIMIT, QUERY_LIMIT = 16384, 1024
CHUNK = 1024


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbTelemetryStore]:
    opened = ChdbTelemetryStore(tmp_path_factory.mktemp("service") / "telemetry")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
async def http(store: ChdbTelemetryStore) -> AsyncIterator[httpx.AsyncClient]:
    app = build_store_app(store, token=TOKEN, max_insert_bytes=INSERT_LIMIT, max_query_bytes=QUERY_LIMIT)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as client:
        yield client


def _rows(n: int) -> bytes:
    now = time.time_ns()
    return encode_rows(
        span_row(trace_id=f"{i:032x}", span_id=f"{i:016x}", name="x", service="s", start_nanos=now, duration_nanos=1)
        for i in range(1, n + 1)
    )


class Chunks:
    """A streamed body of ``count`` chunks that counts how many the server pulled."""

    def __init__(self, count: int) -> None:
        self.count, self.pulled = count, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield b" " * CHUNK


async def test_a_batch_under_the_limit_is_inserted(http: httpx.AsyncClient, store: ChdbTelemetryStore) -> None:
    before = store.count(TRACES_TABLE)
    body = _rows(3)
    assert len(body) < INSERT_LIMIT
    answer = await http.post(f"/insert/{TRACES_TABLE}", content=body, headers=AUTH)
    assert (answer.status_code, answer.json()) == (200, {"inserted": 3})
    assert store.count(TRACES_TABLE) == before + 3


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    http: httpx.AsyncClient, store: ChdbTelemetryStore
) -> None:
    before = store.count(TRACES_TABLE)
    body = Chunks(64)
    headers = {**AUTH, "content-length": str(64 * CHUNK)}
    answer = await http.post(f"/insert/{TRACES_TABLE}", content=body, headers=headers)
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"a batch is at most {INSERT_LIMIT} bytes: send smaller batches"}
    assert body.pulled == 0
    assert store.count(TRACES_TABLE) == before


async def test_a_streamed_body_is_refused_once_past_the_limit_and_not_read_on(
    http: httpx.AsyncClient, store: ChdbTelemetryStore
) -> None:
    before = store.count(TRACES_TABLE)
    body = Chunks(1000)  # 1 MB, chunked: no Content-Length to trust
    answer = await http.post(f"/insert/{TRACES_TABLE}", content=body, headers=AUTH)
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith(f"a batch is at most {INSERT_LIMIT} bytes")
    assert body.pulled == INSERT_LIMIT // CHUNK + 1  # the chunk that crossed the limit, and no more
    assert store.count(TRACES_TABLE) == before


async def test_query_parameters_are_bounded_too(http: httpx.AsyncClient) -> None:
    small = await http.post("/query/counts", content=b"{}", headers=AUTH)
    assert small.status_code == 200
    big = orjson.dumps({"text": "x" * QUERY_LIMIT})
    answer = await http.post("/query/search_logs", content=big, headers=AUTH)
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"query parameters are at most {QUERY_LIMIT} bytes: send shorter ones"}


async def test_the_client_treats_a_413_as_a_refused_batch_not_an_outage(http: httpx.AsyncClient) -> None:
    """Retrying an oversized batch can never succeed: the queue drops and counts it instead of looping."""
    client = TelemetryStoreClient("http://store", TOKEN, http=http)
    with pytest.raises(QueryParameterError, match="a batch is at most 16384 bytes"):
        await client.insert(TRACES_TABLE, b" " * (INSERT_LIMIT + 1))
