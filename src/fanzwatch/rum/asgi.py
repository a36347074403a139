"""The beacon endpoints as one pure ASGI application: the hot path.

Beacons arrive by the thousand per second, so this bypasses the framework: no
routing table, no dependency injection, no response classes. Each request goes
through cheap checks first (path, method, origin, key, rate, headers) and only
then reads and validates the body. Every outcome is counted in
``fanz_rum_beacons_total{outcome}``, and every rejection has its own status:

=====  ==============================================================
202    accepted (``{"accepted": n}``); 204 for ignored bots
400    invalid JSON or corrupt gzip
401    missing or unknown public key
403    origin not allowed
404    unknown path; 405 wrong method
413    body too large, before or after decompression
415    content type not JSON/text, or an encoding other than gzip
422    valid JSON that breaks the schema or the bounds
429    rate limit (``Retry-After``)
503    store unavailable or queue full (``Retry-After``)
500    a bug here: contained, logged and counted, never propagated to the host
=====  ==============================================================

Two ways to serve it inside the FastAPI server: ``RumBeaconMiddleware`` hands
``/api/v1/analytics/*`` to it before routing (the fast path: Starlette's ``Mount``
plus the exception and telemetry layers cost more than the whole beacon path), or
``app.mount("/api/v1/analytics", beacon_app)``. It also answers on the full paths
when served on its own.
"""

from __future__ import annotations

import hmac
import logging
import math
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.text import repair_json_surrogates
from ..settings.rum import RumSettings
from .body import BodyError, ClientDisconnectedError, read_body
from .ingestor import BeaconRejectedError, IngestUnavailableError, RumIngestor
from .models import BATCH_ADAPTER, SINGLE_MODELS, Batch, Event, SingleBeacon
from .ratelimit import RateLimiter
from .useragent import BOT, UserAgentClassifier

logger = logging.getLogger(__name__)

ANALYTICS_PREFIX = "/api/v1/analytics"
ENDPOINTS = ("rum", "page-load", "interaction", "error", "batch")
OTHER = "other"
_JSON = (b"content-type", b"application/json")
_MEDIA_TYPES = frozenset({b"application/json", b"text/plain"})
_PREFLIGHT = [
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"content-type, content-encoding, x-fanz-rum-key, x-fanzwatch-synthetic"),
    (b"access-control-max-age", b"86400"),
]
_MAX_ERRORS = 10


class _Reject(Exception):
    """Internal: answer with ``status`` and count ``reason``."""

    def __init__(self, status: int, reason: str, message: str, headers: list[tuple[bytes, bytes]] | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or []
        self.errors: list[dict[str, str]] | None = None


class RumBeaconApp:
    """ASGI app for ``/rum``, ``/page-load``, ``/interaction``, ``/error`` and ``/batch``.

    >>> app = RumBeaconApp(ingestor, RumSettings(allowed_origins=("https://fanz-1.example",)))
    >>> fastapi_app.mount("/api/v1/analytics", app)
    """

    def __init__(self, ingestor: RumIngestor, settings: RumSettings | None = None) -> None:
        self.ingestor = ingestor
        self.settings = s = settings or ingestor.settings
        self._routes = {f"/{e}": e for e in ENDPOINTS} | {f"{ANALYTICS_PREFIX}/{e}": e for e in ENDPOINTS}
        self._origins = frozenset(s.allowed_origins)
        self._any_origin = "*" in self._origins
        self._keys = frozenset(k.encode() for k in s.public_keys)
        self.limiter = RateLimiter(
            rate=s.rate_limit_per_second, burst=s.rate_limit_burst, max_clients=s.rate_limit_clients
        )
        self.user_agents = UserAgentClassifier(s.bot_user_agent_pattern)
        synthetic = s.read_synthetic_key()
        self._synthetic = synthetic.encode() if synthetic else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served on its own: nothing to start here
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        endpoint = self._routes.get(path, OTHER)
        cors: list[tuple[bytes, bytes]] = []
        platform = OTHER
        try:
            if endpoint == OTHER:
                raise _Reject(404, "not_found", f"no beacon endpoint at {path[:100]}")
            h = _Headers(scope["headers"])
            cors = self._cors(h)
            method = scope["method"]
            if method == "OPTIONS" and h.origin is not None:
                await _send(send, 204, b"", cors + _PREFLIGHT)
                return
            if method != "POST":
                raise _Reject(405, "method_not_allowed", "use POST", [(b"allow", b"POST, OPTIONS")])
            self._check_key(scope, h)
            wait = self.limiter.retry_after(self._client(scope, h))
            if wait:
                raise _Reject(429, "rate_limited", "too many beacons", [(b"retry-after", b"%d" % math.ceil(wait))])
            gzipped = self._check_entity(h)
            device = self.user_agents.classify(h.user_agent)
            if device == BOT and self._is_synthetic(h):
                device = self.user_agents.device_class(h.user_agent)
            if device == BOT:
                self.ingestor.metrics.count_beacon(OTHER, endpoint, "bot")
                await _send(send, 204, b"", cors)
                return
            if not self.ingestor.store_available:
                raise _Reject(503, "unavailable", "the event store is unavailable", [(b"retry-after", b"5")])
            try:
                body = await read_body(
                    receive,
                    max_bytes=self.settings.max_body_bytes,
                    gzipped=gzipped,
                    max_decompressed=self.settings.max_decompressed_bytes,
                )
            except BodyError as exc:
                raise _Reject(exc.status, exc.reason, exc.message) from None
            beacon, events = _parse(endpoint, body)
            try:
                platform = self.ingestor.accept(beacon, events, device=device)
            except BeaconRejectedError as exc:
                raise _Reject(422, "invalid", str(exc)) from None
            except IngestUnavailableError as exc:
                raise _Reject(503, "unavailable", str(exc), [(b"retry-after", b"%d" % exc.retry_after)]) from None
        except _Reject as rej:
            self.ingestor.metrics.count_beacon(platform, endpoint, rej.reason)
            payload: dict[str, Any] = {"error": rej.reason, "detail": rej.message}
            if rej.errors:
                payload["errors"] = rej.errors
            await _send(send, rej.status, orjson.dumps(payload), [_JSON, *cors, *rej.headers])
            return
        except ClientDisconnectedError:
            return
        except Exception:  # a bug here must not take the host down: log it, count it, answer 500
            logger.exception("RUM beacon handling failed", extra={"endpoint": endpoint})
            self.ingestor.metrics.count_beacon(platform, endpoint, "error")
            await _send(send, 500, b'{"error":"error","detail":"internal error"}', [_JSON, *cors])
            return
        self.ingestor.metrics.count_beacon(platform, endpoint, "accepted")
        await _send(send, 202, b'{"accepted":%d}' % len(events), [_JSON, *cors])

    # -- checks ------------------------------------------------------------------------

    def _cors(self, h: _Headers) -> list[tuple[bytes, bytes]]:
        if h.origin is None:
            if self.settings.require_origin:
                raise _Reject(403, "forbidden_origin", "an Origin header is required")
            return []
        origin = h.origin.decode("latin-1").lower()
        if not (self._any_origin or origin in self._origins or _same_origin(origin, h.host)):
            raise _Reject(403, "forbidden_origin", f"origin {origin[:100]} is not allowed")
        return [(b"access-control-allow-origin", h.origin), (b"vary", b"origin")]

    def _check_key(self, scope: Scope, h: _Headers) -> None:
        if not self._keys:
            return
        key = h.key if h.key is not None else _query_key(scope.get("query_string", b""))
        if key is None:
            raise _Reject(401, "unauthorized", "a public key is required (?k=... or X-Fanz-Rum-Key)")
        if key not in self._keys:
            raise _Reject(401, "unauthorized", "unknown public key")

    def _is_synthetic(self, h: _Headers) -> bool:
        """A browser session run on purpose (it carries the configured synthetic key)."""
        return (
            self._synthetic is not None
            and h.synthetic is not None
            and hmac.compare_digest(h.synthetic, self._synthetic)
        )

    def _client(self, scope: Scope, h: _Headers) -> str:
        hops = self.settings.trusted_proxy_hops
        if hops and h.forwarded_for:
            hops_seen = [p.strip() for p in h.forwarded_for.decode("latin-1").split(",")]
            return hops_seen[-hops] if len(hops_seen) >= hops else hops_seen[0]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def _check_entity(self, h: _Headers) -> bool:
        """Content type, encoding and declared length; True when the body is gzip."""
        media = h.content_type.split(b";", 1)[0].strip().lower() if h.content_type else b""
        if media not in _MEDIA_TYPES:
            raise _Reject(415, "unsupported_media_type", "send application/json or text/plain")
        encoding = h.content_encoding.strip().lower() if h.content_encoding else b"identity"
        if encoding not in (b"identity", b"gzip"):
            raise _Reject(415, "unsupported_media_type", "Content-Encoding must be gzip or identity")
        if h.content_length is not None:
            try:
                declared = int(h.content_length)
            except ValueError:
                raise _Reject(400, "bad_encoding", "Content-Length is not a number") from None
            if declared > self.settings.max_body_bytes:
                raise _Reject(413, "too_large", f"body exceeds {self.settings.max_body_bytes} bytes")
        return encoding == b"gzip"


class RumBeaconMiddleware:
    """Pure ASGI middleware: beacon requests go straight to ``beacon``, the rest to ``app``.

    >>> app.add_middleware(RumBeaconMiddleware, beacon=build_rum_app(ingestor))
    """

    def __init__(self, app: ASGIApp, beacon: RumBeaconApp) -> None:
        self.app = app
        self.beacon = beacon
        self._prefix = ANALYTICS_PREFIX + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self._prefix):
            await self.beacon(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class _Headers:
    """The few request headers the beacon path reads, found in one pass."""

    __slots__ = (
        "content_encoding",
        "content_length",
        "content_type",
        "forwarded_for",
        "host",
        "key",
        "origin",
        "synthetic",
        "user_agent",
    )

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.origin: bytes | None = None
        self.host: bytes | None = None
        self.content_type: bytes | None = None
        self.content_encoding: bytes | None = None
        self.content_length: bytes | None = None
        self.key: bytes | None = None
        self.forwarded_for: bytes | None = None
        self.synthetic: bytes | None = None
        self.user_agent = ""
        for name, value in raw:
            if name == b"content-type":
                self.content_type = value
            elif name == b"content-length":
                self.content_length = value
            elif name == b"origin":
                self.origin = value
            elif name == b"user-agent":
                self.user_agent = value.decode("latin-1")
            elif name == b"host":
                self.host = value
            elif name == b"content-encoding":
                self.content_encoding = value
            elif name == b"x-fanz-rum-key":
                self.key = value
            elif name == b"x-forwarded-for":
                self.forwarded_for = value
            elif name == b"x-fanzwatch-synthetic":
                self.synthetic = value


def _parse(endpoint: str, body: bytes) -> tuple[Batch | SingleBeacon, list[Event]]:
    body = repair_json_surrogates(body)  # a lone surrogate in one message must not refuse the whole beacon
    try:
        if endpoint == "batch":
            batch = BATCH_ADAPTER.validate_json(body)
            return batch, list(batch.events)
        model: type[BaseModel] = SINGLE_MODELS[endpoint]
        single: Any = model.model_validate_json(body)
        return single, [single]
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise _Reject(400, "invalid", "the body is not valid JSON") from None
        rej = _Reject(422, "invalid", f"{exc.error_count()} invalid field(s)")
        rej.errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in errors[:_MAX_ERRORS]]
        raise rej from None


def _same_origin(origin: str, host: bytes | None) -> bool:
    if host is None:
        return False
    _, _, authority = origin.partition("://")
    return authority == host.decode("latin-1").lower()


def _query_key(query: bytes) -> bytes | None:
    for pair in query.split(b"&"):
        if pair.startswith(b"k="):
            return pair[2:]
    return None


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    if status != 204:  # a 204 carries no Content-Length (RFC 9110, 8.6)
        headers = [*headers, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
