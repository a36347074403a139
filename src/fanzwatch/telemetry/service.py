"""``fanzwatch telemetry-store``: the one process that owns the chDB database.

chDB allows one process per database path while the server may run several workers, so
this small ASGI app holds the store and answers, on loopback:

===========================  ===========================================================
``GET /health``              200 once the database is open (the stack's ready check)
``POST /insert/{table}``     one batch, JSON lines in the exporter's columns → ``{"inserted": n}``
``POST /query/{name}``       a named query of ``queries.QUERIES``, JSON parameters → ``{"rows": [...]}``
===========================  ===========================================================

Every call but ``/health`` needs ``Authorization: Bearer <token>`` (the shared file in the
secrets dir). Bodies are bounded (``max_insert_bytes``, ``max_query_bytes``): a declared
``Content-Length`` over the limit is refused 413 before anything is read, and a streamed
body is refused 413 as soon as it passes the limit, so an oversized body is never held whole.
Writes are synchronous: an answered insert is in the database, so stopping the process
loses nothing (the database is closed, flushing it, on shutdown).

>>> app = build_store_app(ChdbTelemetryStore(path, ttl_days=7), token="...")  # doctest: +SKIP
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .bodies import BodyIncompleteError, BodyTooLargeError, read_bounded
from .queries import QUERIES, QueryParameterError
from .store import ChdbTelemetryStore, StoreInputError

logger = logging.getLogger(__name__)
MAX_INSERT_BYTES = 256 << 20
"""Largest insert body: the receiver merges batches of up to ``otlp.batch_rows`` (20,000 rows, a few MiB)."""
MAX_QUERY_BYTES = 64 << 10
"""Largest query parameters body: a few filters and a time range."""


async def _bounded_body(request: Request, limit: int, too_large: str) -> bytes | Response:
    """The body, or the 4xx response that refuses it (``too_large`` says which limit and what to do)."""
    try:
        return await read_bounded(request, limit)
    except BodyTooLargeError:
        return JSONResponse({"detail": too_large}, 413)
    except BodyIncompleteError:
        return JSONResponse({"detail": "the client disconnected before its whole body arrived"}, 400)


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def build_store_app(
    store: ChdbTelemetryStore,
    *,
    token: str,
    max_insert_bytes: int = MAX_INSERT_BYTES,
    max_query_bytes: int = MAX_QUERY_BYTES,
) -> Starlette:
    """The store process's app over an open ``store``, closed when the app shuts down.

    The store is opened by the caller, on the main thread, before the server starts:
    chDB's start-up in a worker thread took minutes instead of seconds on a loaded machine.
    """
    state: dict[str, ChdbTelemetryStore] = {"store": store}
    expected = f"Bearer {token}".encode()

    def authorised(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)

    def refused() -> Response:
        return JSONResponse({"detail": "a valid bearer token is needed"}, 401, {"www-authenticate": "Bearer"})

    async def health(request: Request) -> Response:
        store = state.get("store")
        if store is None:
            return JSONResponse({"status": "starting"}, 503)
        return JSONResponse({"status": "ok", "ttl_days": store.ttl_days})

    async def insert(request: Request) -> Response:
        if not authorised(request):
            return refused()
        table = request.path_params["table"]
        body = await _bounded_body(
            request, max_insert_bytes, f"a batch is at most {max_insert_bytes} bytes: send smaller batches"
        )
        if isinstance(body, Response):
            return body
        store = state["store"]
        try:
            count = await anyio.to_thread.run_sync(store.insert_lines, table, body)
        except StoreInputError as exc:
            return JSONResponse({"detail": str(exc)}, 400)
        except Exception:
            logger.exception("telemetry store insert failed", extra={"table": table, "bytes": len(body)})
            return JSONResponse({"detail": "the insert failed; see the store's log"}, 500)
        return JSONResponse({"inserted": count})

    async def query(request: Request) -> Response:
        if not authorised(request):
            return refused()
        name = request.path_params["name"]
        named = QUERIES.get(name)
        if named is None:
            return JSONResponse({"detail": f"no query {name!r}; known: {', '.join(QUERIES)}"}, 404)
        body = await _bounded_body(
            request, max_query_bytes, f"query parameters are at most {max_query_bytes} bytes: send shorter ones"
        )
        if isinstance(body, Response):
            return body
        try:
            given: Any = orjson.loads(body or b"{}")
            if not isinstance(given, dict):
                raise QueryParameterError("the parameters are a JSON object")
            params = named.bind(given)
        except (orjson.JSONDecodeError, QueryParameterError) as exc:
            return JSONResponse({"detail": str(exc)}, 400)
        store = state["store"]
        try:
            rows = await anyio.to_thread.run_sync(store.query, named.sql, params)
        except Exception:
            logger.exception("telemetry store query failed", extra={"query": name})
            return JSONResponse({"detail": "the query failed; see the store's log"}, 500)
        return _json({"rows": rows})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logger.info("telemetry store open", extra={"path": str(store.path), "ttl_days": store.ttl_days})
        try:
            yield
        finally:
            state.pop("store", None)
            await anyio.to_thread.run_sync(store.close)
            logger.info("telemetry store closed", extra={"path": str(store.path)})

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET", "HEAD"]),
            Route("/insert/{table}", insert, methods=["POST"]),
            Route("/query/{name}", query, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
