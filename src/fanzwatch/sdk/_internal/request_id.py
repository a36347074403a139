"""Request ids: accepted from the client when sane, else derived or generated.

The id lives in a :class:`~contextvars.ContextVar` for the duration of a request so
logs (and anything else) can read it without it being passed around.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextvars import ContextVar

# A client-supplied X-Request-ID is kept only when it looks like an id: short, and
# made of characters that are safe in a header, a log line and a span attribute.
MAX_REQUEST_ID_LENGTH = 128
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@+=/-]{1,128}")
# W3C trace context: version-traceid-parentid-flags, lowercase hex.
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_ZERO_TRACE_ID = b"0" * 32

REQUEST_ID: ContextVar[str | None] = ContextVar("fanzwatch_request_id", default=None)
REQUEST_PLATFORM: ContextVar[Callable[[], str] | None] = ContextVar("fanzwatch_request_platform", default=None)
"""The platform of the request being handled (bounded), read lazily: routing sets it after the request starts."""


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return REQUEST_ID.get()


def sane_request_id(raw: bytes) -> str | None:
    """``raw`` as a request id when it is a sane one, else None."""
    if len(raw) <= MAX_REQUEST_ID_LENGTH and _SANE_REQUEST_ID.fullmatch(raw):
        return raw.decode("ascii")
    return None


def trace_id_from_traceparent(raw: bytes) -> str | None:
    """The trace id of a well-formed ``traceparent`` header, else None."""
    match = _TRACEPARENT.fullmatch(raw.strip())
    if match is None or match.group(1) == _ZERO_TRACE_ID or raw.startswith(b"ff"):
        return None
    return match.group(1).decode("ascii")


def new_request_id() -> str:
    """A fresh random id (128 bits, hex), as unguessable as a trace id."""
    return os.urandom(16).hex()
