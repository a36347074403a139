"""From validated beacons to store rows: placement in time, scrubbing, fingerprints.

This runs in the background writer, off the request path, except
``error_fingerprint``, which the request path needs for the error counter. Every
text column is sanitised (``core.text``: no NUL, control characters or lone
surrogates, which PostgreSQL refuses) and free text (error messages and stacks,
element targets) is scrubbed of personal data (``core.scrubbing``) before it leaves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import orjson

from ..core.scrubbing import ScrubRules, scrub_text, scrub_url
from ..core.text import sanitize_text
from .models import ErrorEvent, Event, InteractionEvent, PageLoadEvent, VitalEvent

_VOLATILE = re.compile(r"\d+|0x[0-9a-f]+|'[^']*'|\"[^\"]*\"|`[^`]*`", re.IGNORECASE)
_FRAME = re.compile(r"(?:at\s+(?:(?P<fn>[^\s(]+)\s+\()?|(?P<fn2>[^@\s]*)@)(?P<file>[^\s()]+?)(?::\d+){0,2}\)?$")
_WS = re.compile(r"\s+")
# Read-only include maps for model_dump_json (a Mapping, so no set is built per call).
_VITAL_DETAIL: Mapping[str, bool] = MappingProxyType(dict.fromkeys(("rating", "id", "nav", "attribution"), True))
_PAGE_LOAD_DETAIL: Mapping[str, bool] = MappingProxyType(
    dict.fromkeys(
        (
            "nav",
            "dns",
            "connect",
            "tls",
            "ttfb",
            "response",
            "dom_interactive",
            "dom_content_loaded",
            "transfer_size",
            "trace_id",
        ),
        True,
    )
)
_CACHE_SIZE = 4096

Row = tuple[int, int, str, str, str, str, str, str, float | None, str | None, str, str | None, str | None]


def _top_frame(stack: str | None) -> str:
    """``function@file`` of the first stack frame (file without query or line:col)."""
    if not stack:
        return ""
    for line in stack.splitlines()[:12]:
        line = line.strip()
        if not (line.startswith("at ") or "@" in line):
            continue
        match = _FRAME.search(line)
        if match:
            fn = match.group("fn") or match.group("fn2") or ""
            file = match.group("file").split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
            return f"{fn}@{file}"
    return ""


def error_fingerprint(event: ErrorEvent) -> str:
    """12 hex digits naming "the same error": kind, message without volatile parts, top frame.

    Numbers, hex and quoted values are dropped from the message so that
    ``Cannot read 'a' of undefined`` and ``Cannot read 'b' of undefined`` group.
    """
    message = _WS.sub(" ", _VOLATILE.sub("?", event.message)).strip().lower()[:200]
    frame = _top_frame(event.stack) or (event.source or "").split("?", 1)[0].rsplit("/", 1)[-1]
    return hashlib.sha1(f"{event.kind}|{message}|{frame}".encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(slots=True)
class PendingBeacon:
    """One accepted beacon waiting for the writer; ``templates`` and ``fingerprints`` are per event."""

    received_ms: int
    platform: str
    device: str
    sid: str
    sent: int
    url: str
    events: list[Event]
    templates: list[str]
    fingerprints: list[str | None]


class RowBuilder:
    """Turns pending beacons into rows (see ``tables.COLUMNS``), scrubbing URLs and text.

    Scrubbed URLs are cached (bounded): a site has far fewer page URLs than events.
    """

    def __init__(self, rules: ScrubRules | None = None) -> None:
        self._urls: dict[str, str] = {}
        self.rules = rules

    def text(self, raw: str) -> str:
        """Free text from the browser, sanitised and scrubbed."""
        return scrub_text(raw, rules=self.rules)

    def url(self, raw: str) -> str:
        hit = self._urls.get(raw)
        if hit is None:
            if len(self._urls) >= _CACHE_SIZE:
                self._urls.clear()
            hit = self._urls[raw] = sanitize_text(scrub_url(raw))
        return hit

    def rows(self, p: PendingBeacon) -> list[Row]:
        """The rows of one beacon. Event time = receive time - (sent - t): only the
        client clock's differences are trusted, never its absolute value."""
        page_url = self.url(p.url)
        out: list[Row] = []
        for event, template, fingerprint in zip(p.events, p.templates, p.fingerprints, strict=True):
            t = event.t
            occurred = p.received_ms - (p.sent - t) if t is not None else p.received_ms
            url = page_url if event.url is None or event.url == p.url else self.url(event.url)
            name, value, message, detail = self._detail(event)
            out.append(
                (
                    occurred,
                    p.received_ms,
                    event.type,
                    p.platform,
                    sanitize_text(template),
                    p.device,
                    p.sid,
                    name,
                    value,
                    fingerprint,
                    url,
                    message,
                    detail,
                )
            )
        return out

    def _detail(self, event: Event) -> tuple[str, float | None, str | None, str | None]:
        """(name, value, message, detail JSON); values in seconds (CLS unitless)."""
        if isinstance(event, VitalEvent):
            value = event.value if event.name == "CLS" else event.value / 1000.0
            attribution = event.attribution
            if attribution is not None and (attribution.url is not None or attribution.target is not None):
                update = {
                    "url": self.url(attribution.url) if attribution.url is not None else None,
                    "target": self.text(attribution.target) if attribution.target is not None else None,
                }
                event = event.model_copy(update={"attribution": attribution.model_copy(update=update)})
            if event.id is not None:
                event = event.model_copy(update={"id": sanitize_text(event.id)})
            return event.name, value, None, _json(event, _VITAL_DETAIL)
        if isinstance(event, PageLoadEvent):
            return "load", event.load / 1000.0, None, _json(event, _PAGE_LOAD_DETAIL)
        if isinstance(event, InteractionEvent):
            target = event.target
            scrubbed = {
                key: self.text(value) if isinstance(value, str) and key != "tag" else value
                for key, value in target.model_dump(exclude_none=True).items()
            }
            return event.kind, None, None, orjson.dumps(scrubbed).decode()
        if isinstance(event, ErrorEvent):
            detail: dict[str, object] = {}
            if event.source:
                detail["source"] = self.url(event.source)
            if event.line is not None:
                detail["line"] = event.line
            if event.col is not None:
                detail["col"] = event.col
            if event.stack:
                detail["stack"] = self.text(event.stack)
            message = self.text(event.message)[:1024]
            return event.kind, None, message, orjson.dumps(detail).decode() if detail else None
        raise TypeError(f"not a RUM event: {type(event).__name__}")


def _json(event: Event, include: Mapping[str, bool]) -> str | None:
    out = event.model_dump_json(include=include, exclude_none=True)
    return None if out == "{}" else out
