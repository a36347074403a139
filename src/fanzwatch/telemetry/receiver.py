"""The OTLP/HTTP receiver: ``POST /v1/traces`` and ``POST /v1/logs`` (OTLP specification, "OTLP/HTTP").

=====================================  ==================================================
request                                answer
=====================================  ==================================================
no or wrong bearer token               401 (``<secrets_dir>/otlp_token``)
not ``application/x-protobuf`` /       415
``application/json``, or an encoding
other than ``gzip``/``identity``
body over ``max_request_bytes`` as     413 (checked while reading, before any
sent, or over                          decompression; the gzip stream is inflated at
``max_decompressed_bytes`` inflated    most to the limit, so a gzip bomb costs nothing)
not OTLP, broken gzip                  400, a ``google.rpc.Status`` saying why
queue full, or the store down          503 with ``Retry-After``; nothing is taken
accepted                               200, ``Export*ServiceResponse``; ``partial_success``
                                       counts the spans/records rejected (bad ids) and why
=====================================  ==================================================

Answers are in the request's encoding (protobuf or JSON). Inflating and decoding run off
the event loop, at most ``decode_threads`` requests at a time (one ``CapacityLimiter`` per
receiver: a burst of large bodies waits for a worker instead of taking every thread and
core); accepted rows go to the bounded ``StoreQueue`` (``queue``) as encoded batches.
Every answer is counted in ``fanz_otlp_requests`` and every decoded record in
``fanz_otlp_records`` (``OtlpMetrics``).
"""

from __future__ import annotations

import hmac
import logging
import zlib
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from prometheus_client import CollectorRegistry

from ..core.catalog import otlp as outcomes
from .bodies import BodyIncompleteError, BodyTooLargeError, read_bounded
from .client import encode_rows
from .metrics import SIGNAL_OF_TABLE, OtlpMetrics
from .otlp import MalformedOtlpError, decode_logs, decode_traces
from .queue import StoreQueue
from .schema import LOGS_TABLE, TRACES_TABLE

logger = logging.getLogger(__name__)
PROTOBUF, JSON = "application/x-protobuf", "application/json"
_GRPC_INVALID_ARGUMENT, _GRPC_UNAVAILABLE, _GRPC_UNAUTHENTICATED = 3, 14, 16
DECODE_THREADS = 2
"""Requests inflated and decoded at once (two worker threads; the rest wait their turn)."""
MAX_WAITING_DECODES = 16
"""Requests waiting for a decode thread, each holding its body (up to ``max_request_bytes``):
one more is answered 503 with ``Retry-After``, so a burst cannot grow memory without bound."""
_OUTCOME_OF_STATUS = {
    400: outcomes.MALFORMED,
    401: outcomes.UNAUTHORIZED,
    413: outcomes.TOO_LARGE,
    415: outcomes.UNSUPPORTED_MEDIA_TYPE,
}
_UNAVAILABLE = {
    outcomes.NOT_READY: "the receiver is not running; retry later",
    outcomes.STORE_UNAVAILABLE: "the trace store is unavailable; retry later",
    outcomes.BACK_PRESSURE: "the receiver's queue is full; retry later",
}


class _Refusal(Exception):
    def __init__(
        self, status: int, message: str, *, code: int = _GRPC_INVALID_ARGUMENT, outcome: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.outcome = outcome or _OUTCOME_OF_STATUS.get(status, outcomes.MALFORMED)

    @classmethod
    def unavailable(cls, outcome: str) -> _Refusal:
        """The 503 of a ``outcomes.REFUSALS`` outcome."""
        return cls(503, _UNAVAILABLE[outcome], code=_GRPC_UNAVAILABLE, outcome=outcome)


class OtlpReceiver:
    """The two OTLP routes over one ``StoreQueue``.

    Built without I/O (``create_app``); ``attach`` gives it the token and the started queue
    (the lifespan). Until then, and after ``detach``, it answers 503.

    >>> receiver = OtlpReceiver(scrub=lambda t: scrub_text(t, rules=rules))  # doctest: +SKIP
    >>> app.include_router(receiver.router()); receiver.attach(queue, token=token)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        scrub: Callable[[str], str] | None = None,
        max_request_bytes: int = 8 << 20,
        max_decompressed_bytes: int = 32 << 20,
        retry_after_seconds: int = 5,
        decode_threads: int = DECODE_THREADS,
        max_waiting_decodes: int = MAX_WAITING_DECODES,
        metrics: OtlpMetrics | None = None,
    ) -> None:
        self.queue: StoreQueue | None = None
        self._expected = b""
        self._scrub = scrub
        self.max_request_bytes = max_request_bytes
        self.max_decompressed_bytes = max_decompressed_bytes
        self.retry_after = str(retry_after_seconds)
        self.decode_limiter = anyio.CapacityLimiter(decode_threads)
        self.max_waiting_decodes = max_waiting_decodes
        self.metrics = metrics if metrics is not None else OtlpMetrics(CollectorRegistry())

    def attach(self, queue: StoreQueue, *, token: str) -> None:
        self._expected = f"Bearer {token}".encode()
        self.queue = queue

    def detach(self) -> None:
        self.queue = None

    def router(self) -> APIRouter:
        router = APIRouter(tags=["otlp"])

        @router.post("/v1/traces", include_in_schema=False)
        async def traces(request: Request) -> Response:
            return await self.handle(request, TRACES_TABLE)

        @router.post("/v1/logs", include_in_schema=False)
        async def logs(request: Request) -> Response:
            return await self.handle(request, LOGS_TABLE)

        return router

    async def handle(self, request: Request, table: str) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        as_json = media == JSON
        queue = self.queue
        signal = SIGNAL_OF_TABLE[table]
        try:
            if queue is None:
                raise _Refusal.unavailable(outcomes.NOT_READY)
            if not hmac.compare_digest(request.headers.get("authorization", "").encode(), self._expected):
                raise _Refusal(401, "a valid bearer token is needed (the otlp_token file)", code=_GRPC_UNAUTHENTICATED)
            if media not in (PROTOBUF, JSON):
                raise _Refusal(415, f"content type {media or '(none)'!r}: send {PROTOBUF} or {JSON}")
            encoding = request.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("gzip", "identity", ""):
                raise _Refusal(415, f"content encoding {encoding!r}: send gzip or identity")
            refused = queue.refusal(1)
            if refused is not None:
                raise _Refusal.unavailable(refused)
            if self.decode_limiter.statistics().tasks_waiting >= self.max_waiting_decodes:
                raise _Refusal.unavailable(outcomes.BACK_PRESSURE)  # each waiting request holds its body
            body = await self._read(request)
            rows, rejected, payload = await anyio.to_thread.run_sync(
                self._inflate_and_decode, table, body, encoding == "gzip", as_json, limiter=self.decode_limiter
            )
            if len(rows) > queue.capacity_rows or len(payload) > queue.batch_bytes:
                self.metrics.records(signal, outcomes.TOO_LARGE, len(rows) + rejected)
                raise _Refusal(  # would be refused on every retry: too large, not back-pressure
                    413,
                    f"the request holds {len(rows)} records ({len(payload)} bytes stored); the receiver takes at most "
                    f"{queue.capacity_rows} records and {queue.batch_bytes} bytes per request: send smaller batches",
                )
            if rows and not queue.offer(table, payload, rows=len(rows)):
                refused = queue.refusal(len(rows)) or outcomes.BACK_PRESSURE
                self.metrics.records(signal, refused, len(rows) + rejected)
                raise _Refusal.unavailable(refused)
        except _Refusal as refusal:
            self.metrics.request(signal, refusal.outcome)
            return self._refusal(refusal, as_json)
        self.metrics.request(signal, outcomes.ACCEPTED)
        self.metrics.records(signal, outcomes.ACCEPTED, len(rows))
        self.metrics.records(signal, outcomes.INVALID, rejected)
        return self._success(table, rejected, as_json)

    async def _read(self, request: Request) -> bytes:
        try:
            return await read_bounded(request, self.max_request_bytes)
        except BodyTooLargeError:
            raise _Refusal(413, f"the body is over {self.max_request_bytes} bytes") from None
        except BodyIncompleteError:
            raise _Refusal(400, "the client disconnected before its whole body arrived") from None

    def _gunzip(self, body: bytes) -> bytes:
        """Every member of a gzip stream (RFC 1952 allows several: pigz, a proxy concatenating), bounded in total."""
        out = bytearray()
        rest = body
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out += inflater.decompress(rest, self.max_decompressed_bytes + 1 - len(out))
            except zlib.error as exc:
                raise _Refusal(400, f"the gzip body is broken: {exc}") from None
            if len(out) > self.max_decompressed_bytes or inflater.unconsumed_tail:
                raise _Refusal(413, f"the body inflates to over {self.max_decompressed_bytes} bytes")
            if not inflater.eof:
                raise _Refusal(400, "the gzip body is truncated")
            rest = inflater.unused_data
            if not rest:
                return bytes(out)

    def _inflate_and_decode(
        self, table: str, body: bytes, gzipped: bool, as_json: bool
    ) -> tuple[list[dict[str, Any]], int, bytes]:
        """On a worker thread: the gzip step (bounded), then the decode; ``_Refusal`` for 400 or 413."""
        if gzipped:
            body = self._gunzip(body)
        return self._decode(table, body, as_json)

    def _decode(self, table: str, body: bytes, as_json: bool) -> tuple[list[dict[str, Any]], int, bytes]:
        try:
            if table == TRACES_TABLE:
                rows, rejected = decode_traces(body, json=as_json, scrub=self._scrub)
            else:
                rows, rejected = decode_logs(body, json=as_json, scrub=self._scrub)
        except MalformedOtlpError as exc:
            raise _Refusal(400, str(exc)) from None
        return rows, rejected, encode_rows(rows)

    def _success(self, table: str, rejected: int, as_json: bool) -> Response:
        answer: Any = ExportTraceServiceResponse() if table == TRACES_TABLE else ExportLogsServiceResponse()
        if rejected:
            what = "spans" if table == TRACES_TABLE else "log records"
            message = f"{rejected} {what} with a malformed trace or span id were rejected"
            if table == TRACES_TABLE:
                answer.partial_success.rejected_spans = rejected
            else:
                answer.partial_success.rejected_log_records = rejected
            answer.partial_success.error_message = message
        if as_json:
            body: dict[str, Any] = {}
            if rejected:
                key = "rejectedSpans" if table == TRACES_TABLE else "rejectedLogRecords"
                body["partialSuccess"] = {key: str(rejected), "errorMessage": answer.partial_success.error_message}
            return Response(orjson.dumps(body), media_type=JSON)
        return Response(answer.SerializeToString(), media_type=PROTOBUF)

    def _refusal(self, refusal: _Refusal, as_json: bool) -> Response:
        headers: dict[str, str] = {}
        if refusal.status == 503:
            headers["retry-after"] = self.retry_after
        if refusal.status == 401:
            headers["www-authenticate"] = "Bearer"
        if as_json or refusal.status == 415:
            body = orjson.dumps({"code": refusal.code, "message": refusal.message})
            return Response(body, status_code=refusal.status, media_type=JSON, headers=headers)
        status = Status(code=refusal.code, message=refusal.message)
        return Response(status.SerializeToString(), status_code=refusal.status, media_type=PROTOBUF, headers=headers)
