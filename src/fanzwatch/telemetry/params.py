"""Query-string parameters → checked trace and log queries (the API and FanzDash share them).

Times: ``range`` (``15m`` … ``7d``, ending now) or ``from``/``to`` (unix seconds or ISO 8601,
``to`` defaulting to now). Durations: ``250ms``, ``1.5s``, ``2m``, or a bare number of
milliseconds. Anything else raises ``TelemetryQueryError`` with a sentence saying what is
allowed.

>>> q = trace_search({"route": ["/payments"], "min_duration": ["500ms"]}, now_ns=now, platforms=())  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from .reader import (
    DEFAULT_LIMIT,
    MAX_ATTRIBUTE_FILTERS,
    STATUSES,
    TAIL_SETTLE_NS,
    LogCursor,
    LogSearch,
    TelemetryQueryError,
    TraceSearch,
)

Params = Mapping[str, Sequence[str]]

RANGES = {"15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}
DEFAULT_RANGE = "1h"
MAX_TAIL_DELAY_NS = 60 * 10**9
_DURATION = re.compile(r"(\d{1,12}(?:\.\d{1,9})?)\s*(ns|us|µs|ms|s|m|h)?")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _one(params: Params, name: str) -> str | None:
    values = params.get(name) or ()
    if len(values) > 1:
        raise TelemetryQueryError(f"give {name} once")
    value = values[0].strip() if values else ""
    return value or None


def parse_duration(text: str) -> int:
    """``"250ms"`` → 250,000,000 ns; a bare number is milliseconds."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise TelemetryQueryError(f"duration {text[:20]!r}: a number with ns, us, ms, s, m or h (bare = ms)")
    return int(float(found.group(1)) * _UNIT_NS[found.group(2) or "ms"])


def _instant(name: str, text: str) -> int:
    try:
        if re.fullmatch(r"\d{1,11}(\.\d{1,9})?", text):
            whole, _, frac = text.partition(".")
            return int(whole) * 10**9 + int((frac + "000000000")[:9])
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise TelemetryQueryError(f"{name} {text[:40]!r}: unix seconds or ISO 8601 with a time zone")
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def time_window(params: Params, *, now_ns: int, default_range: str = DEFAULT_RANGE) -> tuple[int, int]:
    """``(start_ns, end_ns)`` from ``from``/``to`` or ``range``."""
    start, end = _one(params, "from"), _one(params, "to")
    if start is None and end is None:
        key = _one(params, "range") or default_range
        if key not in RANGES:
            raise TelemetryQueryError(f"range {key[:20]!r}: choose one of {', '.join(RANGES)}")
        return now_ns - RANGES[key] * 10**9, now_ns
    if start is None:
        raise TelemetryQueryError("'to' needs a 'from'")
    return _instant("from", start), _instant("to", end) if end is not None else now_ns


def _limit(params: Params, default: int = DEFAULT_LIMIT) -> int:
    raw = _one(params, "limit")
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 7:
        raise TelemetryQueryError(f"limit {raw[:20]!r} is not a whole number")
    return int(raw)


def _platforms(params: Params, platforms: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(p.strip() for p in params.get("platform") or () if p.strip()))
    for p in chosen:
        if p not in platforms:
            raise TelemetryQueryError(f"platform {p[:40]!r} is not configured; choose among {', '.join(platforms)}")
    return chosen


def _attributes(params: Params) -> tuple[tuple[str, str], ...]:
    out = []
    for item in params.get("attr") or ():
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TelemetryQueryError(f"attribute filter {item[:40]!r} must be key=value, e.g. payment.id=p-1")
        out.append((key.strip(), value.strip()))
    if len(out) > MAX_ATTRIBUTE_FILTERS:
        raise TelemetryQueryError(f"at most {MAX_ATTRIBUTE_FILTERS} attribute filters")
    return tuple(out)


def _status(params: Params) -> str | None:
    raw = _one(params, "status")
    if raw is None:
        return None
    found = next((s for s in STATUSES if s.lower() == raw.lower()), None)
    if found is None:
        raise TelemetryQueryError(f"status {raw[:20]!r}: choose one of {', '.join(s.lower() for s in STATUSES)}")
    return found


def trace_search(params: Params, *, now_ns: int, platforms: tuple[str, ...]) -> TraceSearch:
    start, end = time_window(params, now_ns=now_ns)
    min_duration = _one(params, "min_duration")
    order = _one(params, "order") or "newest"
    if order not in ("newest", "slowest"):
        raise TelemetryQueryError(f"order {order[:20]!r}: newest or slowest")
    return TraceSearch(
        start_ns=start,
        end_ns=end,
        service=_one(params, "service"),
        route=_one(params, "route"),
        span_name=_one(params, "name"),
        platforms=_platforms(params, platforms),
        status=_status(params),
        min_duration_ns=parse_duration(min_duration) if min_duration else None,
        attributes=_attributes(params),
        order="slowest" if order == "slowest" else "newest",
        limit=_limit(params),
    )


def log_search(params: Params, *, now_ns: int, platforms: tuple[str, ...], default_limit: int = 100) -> LogSearch:
    start, end = time_window(params, now_ns=now_ns)
    severity = _one(params, "severity")
    return LogSearch(
        start_ns=start,
        end_ns=end,
        text=_one(params, "q"),
        severity=severity.lower() if severity else None,
        service=_one(params, "service"),
        platforms=_platforms(params, platforms),
        trace_id=_one(params, "trace_id"),
        span_id=_one(params, "span_id"),
        limit=_limit(params, default_limit),
    )


def log_tail(params: Params, *, now_ns: int, platforms: tuple[str, ...]) -> tuple[LogSearch, LogCursor]:
    """A tail from ``after`` (a cursor; default: now) to ``delay`` before now, with the search's filters.

    The tail stays ``delay`` (default ``TAIL_SETTLE_NS``, 5 s; at most 60 s; ``0`` for none)
    behind now: a record exported a few seconds after a newer one (exporters batch, services
    flush at different times) is then still ahead of the cursor instead of skipped.
    """
    delay = _one(params, "delay")
    settle_ns = TAIL_SETTLE_NS if delay is None else parse_duration(delay)
    if not 0 <= settle_ns <= MAX_TAIL_DELAY_NS:
        raise TelemetryQueryError("delay: at most 60 s")
    raw = _one(params, "after")
    # no cursor: from where the window settles, so records exported a few seconds late still come
    cursor = LogCursor.parse(raw) if raw else LogCursor(now_ns - settle_ns)
    if cursor.nanos > now_ns + 60 * 10**9:
        raise TelemetryQueryError("the cursor is in the future")
    # Only the filters: a tail runs from its cursor to now, whatever range the page shows.
    filters = {k: v for k, v in params.items() if k not in ("range", "from", "to", "after", "delay")}
    end = now_ns - settle_ns
    start = min(cursor.nanos, end - 1)
    q = log_search(
        {**filters, "from": [_seconds(start)], "to": [_seconds(end)]},
        now_ns=now_ns,
        platforms=platforms,
    )
    return q, cursor


def _seconds(nanos: int) -> str:
    return f"{nanos // 10**9}.{nanos % 10**9:09d}"
