"""``HttpAlertmanager``: alerts and silences through Alertmanager's v2 API.

GET /api/v2/alerts, GET /api/v2/silences, POST /api/v2/silences and
DELETE /api/v2/silence/{id}, over the server's shared HTTP client. Failures become
``SourceError`` with a sentence saying what to check.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import orjson

from .errors import SourceRejectedError, SourceUnavailableError
from .sources import Alert, AlertState, Matcher, Silence, SilenceRequest

_NAME = "Alertmanager"
_FRACTION = re.compile(r"(\.\d{6})\d+")
SILENCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_time(text: object) -> datetime:
    """An Alertmanager timestamp (RFC 3339, maybe with nanoseconds) as an aware datetime."""
    if not isinstance(text, str) or not text:
        return datetime.fromtimestamp(0, UTC)
    cleaned = _FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(cleaned).astimezone(UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _strings(raw: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


class HttpAlertmanager:
    """An ``AlertmanagerSource`` for the Alertmanager at ``url``."""

    def __init__(self, http: httpx.AsyncClient, url: str, *, timeout: float = 8.0) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def alerts(self) -> list[Alert]:
        raw = await self._call("GET", "/api/v2/alerts")
        out: list[Alert] = []
        for item in raw if isinstance(raw, list) else []:
            status = item.get("status") or {}
            state = status.get("state")
            out.append(
                Alert(
                    fingerprint=str(item.get("fingerprint", "")),
                    labels=_strings(item.get("labels")),
                    annotations=_strings(item.get("annotations")),
                    state=cast(AlertState, state if state in ("active", "suppressed") else "unprocessed"),
                    starts_at=parse_time(item.get("startsAt")),
                    silenced_by=tuple(str(s) for s in status.get("silencedBy") or ()),
                    inhibited_by=tuple(str(s) for s in status.get("inhibitedBy") or ()),
                    generator_url=str(item.get("generatorURL") or ""),
                )
            )
        return out

    async def silences(self) -> list[Silence]:
        raw = await self._call("GET", "/api/v2/silences")
        out: list[Silence] = []
        for item in raw if isinstance(raw, list) else []:
            state = (item.get("status") or {}).get("state")
            out.append(
                Silence(
                    id=str(item.get("id", "")),
                    matchers=tuple(
                        Matcher(
                            name=str(m.get("name", "")),
                            value=str(m.get("value", "")),
                            is_regex=bool(m.get("isRegex", False)),
                            is_equal=bool(m.get("isEqual", True)),
                        )
                        for m in item.get("matchers") or ()
                    ),
                    starts_at=parse_time(item.get("startsAt")),
                    ends_at=parse_time(item.get("endsAt")),
                    created_by=str(item.get("createdBy", "")),
                    comment=str(item.get("comment", "")),
                    state=state if state in ("active", "pending") else "expired",
                )
            )
        return out

    async def create_silence(self, request: SilenceRequest) -> str:
        body = {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
                for m in request.matchers
            ],
            "startsAt": _time(request.starts_at),
            "endsAt": _time(request.ends_at),
            "createdBy": request.created_by,
            "comment": request.comment,
        }
        raw = await self._call("POST", "/api/v2/silences", json=body)
        silence_id = raw.get("silenceID") if isinstance(raw, dict) else None
        if not isinstance(silence_id, str):
            raise SourceUnavailableError(_NAME, f"{_NAME} at {self.url} did not return the new silence's id")
        return silence_id

    async def expire_silence(self, silence_id: str) -> None:
        if not SILENCE_ID.match(silence_id):
            raise SourceRejectedError(_NAME, f"{silence_id[:40]!r} is not a silence id")
        await self._call("DELETE", f"/api/v2/silence/{silence_id}")

    async def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> Any:
        try:
            response = await self.http.request(method, self.url + path, json=json, timeout=self.timeout)
        except httpx.TimeoutException:
            raise SourceUnavailableError(
                _NAME, f"{_NAME} at {self.url} did not answer within {self.timeout:g} s — is it overloaded?"
            ) from None
        except httpx.HTTPError as exc:
            raise SourceUnavailableError(
                _NAME,
                f"{_NAME} is not reachable at {self.url} ({type(exc).__name__}) — is `fanzwatch up` running, "
                "or is FANZWATCH_DASH_ALERTMANAGER_URL right?",
            ) from None
        detail = response.text.strip().strip('"')[:300] or f"HTTP {response.status_code}"
        if method == "DELETE" and "not found" in detail:
            # Alertmanager 0.25 answers 500 "silence not found" for an unknown id.
            raise SourceRejectedError(_NAME, f"{_NAME} refused: no such silence (it may have been deleted)")
        if 400 <= response.status_code < 500:
            raise SourceRejectedError(_NAME, f"{_NAME} refused: {detail}")
        if response.status_code >= 300:
            raise SourceUnavailableError(_NAME, f"{_NAME} at {self.url} failed with HTTP {response.status_code}")
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SourceUnavailableError(
                _NAME,
                f"{self.url} answered something that is not the Alertmanager API "
                "— is FANZWATCH_DASH_ALERTMANAGER_URL pointing at Alertmanager?",
            ) from None
