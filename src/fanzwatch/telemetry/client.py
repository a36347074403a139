"""The client of ``fanzwatch telemetry-store``: batches in, named queries out.

The store process owns the chDB database (one process per path); every server worker
talks to it through this client over loopback, with the shared token of
``<secrets_dir>/telemetry_store_token`` as a bearer token.

>>> client = TelemetryStoreClient("http://127.0.0.1:8911", token, http=shared_async_client)  # doctest: +SKIP
>>> await client.insert_rows("otel_traces", rows)  # doctest: +SKIP
>>> spans = await client.query("trace", trace_id="4bf92f3577b34da6a3ce929d0e0e4736")  # doctest: +SKIP
>>> logs = await client.query("search_logs", text="declined", service="fanz-platform", limit=50)  # doctest: +SKIP

Errors: ``QueryParameterError`` (a ``ValueError``) for a bad query name or parameter, or a
batch the store refuses (answered 400, or 413 over its size limit);
``TelemetryStoreUnavailableError`` when the store cannot be reached or fails (a caller answers 503).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import orjson

from ..core.errors import FanzwatchError
from .queries import QueryParameterError

NDJSON = "application/x-ndjson"


class TelemetryStoreUnavailableError(FanzwatchError, ConnectionError):
    """The store process is down, too slow or failing; try again later."""


def encode_rows(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Rows as the store's insert body: one JSON object per line.

    Written into one growing buffer: a list of per-row ``bytes`` joined at the end cost
    several times more per row (each row's buffer is allocated and kept alive until the join).
    """
    out = bytearray()
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for row in rows:
        out += dumps(row, option=newline)
    del out[-1:]  # no newline after the last row (batches are joined with one)
    return bytes(out)


class TelemetryStoreClient:
    """Async client of the store process. ``http``: the caller's shared client (explicit timeouts)."""

    def __init__(self, base_url: str, token: str, *, http: httpx.AsyncClient, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {token}"}
        self._http = http
        self._timeout = httpx.Timeout(timeout, connect=min(3.0, timeout))

    async def _post(self, path: str, content: bytes, content_type: str, *, lookup: bool = True) -> httpx.Response:
        """``lookup``: a 404 means an unknown query name (the caller's mistake); for an insert,
        whose path always exists on the store, it means the URL reaches something else: unavailable."""
        try:
            response = await self._http.post(
                f"{self.base_url}{path}",
                content=content,
                headers={**self._headers, "content-type": content_type},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise TelemetryStoreUnavailableError(
                f"telemetry store at {self.base_url} unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code in (400, 413):  # the request itself is refused: sending it again cannot help
            raise QueryParameterError(_detail(response))
        if response.status_code == 404 and lookup:
            raise QueryParameterError(_detail(response))
        if response.status_code != 200:
            raise TelemetryStoreUnavailableError(
                f"telemetry store answered {response.status_code}: {_detail(response)[:200]}"
            )
        return response

    async def insert(self, table: str, body: bytes) -> int:
        """Write an already encoded batch (``encode_rows``) to ``otel_traces`` or ``otel_logs``."""
        response = await self._post(f"/insert/{table}", body, NDJSON, lookup=False)
        return int(response.json()["inserted"])

    async def insert_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        return await self.insert(table, encode_rows(rows))

    async def query(self, name: str, /, **params: str | int) -> list[dict[str, Any]]:
        """Rows of the named query (see ``telemetry.queries.QUERIES`` for names and parameters)."""
        response = await self._post(f"/query/{name}", orjson.dumps(params), "application/json")
        rows: list[dict[str, Any]] = orjson.loads(response.content)["rows"]
        return rows

    async def healthy(self) -> bool:
        """Whether the store answers its health check now."""
        try:
            response = await self._http.get(f"{self.base_url}/health", timeout=self._timeout)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text
