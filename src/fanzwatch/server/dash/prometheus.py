"""``HttpPrometheus``: the Prometheus query API over the server's shared HTTP client.

Queries are POSTed as forms (long PromQL never hits a URL length limit). Every failure
becomes a ``SourceError`` whose message says what to check.

>>> prom = HttpPrometheus(http, "http://127.0.0.1:9090")          # doctest: +SKIP
>>> await prom.query_range("up", start=t0, end=t1, step=60)        # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson

from .errors import SourceRejectedError, SourceUnavailableError
from .sources import Series

_NAME = "Prometheus"


def _number(raw: object) -> float | None:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class HttpPrometheus:
    """A ``PrometheusSource`` reading ``url`` with ``http`` (timeouts per query)."""

    def __init__(self, http: httpx.AsyncClient, url: str, *, timeout: float = 8.0) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        data = await self._post(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        if data.get("resultType") != "matrix":
            raise SourceRejectedError(_NAME, f"the query did not return a range of series: {expr}")
        out: list[Series] = []
        for item in data.get("result") or []:
            points = item.get("values") or []
            out.append(
                Series(
                    labels=dict(item.get("metric") or {}),
                    timestamps=[float(p[0]) for p in points],
                    values=[_number(p[1]) for p in points],
                )
            )
        return out

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        hint = f"{_NAME} is not reachable at {self.url}"
        try:
            response = await self.http.post(self.url + path, data=form, timeout=self.timeout)
        except httpx.TimeoutException:
            raise SourceUnavailableError(
                _NAME, f"{_NAME} at {self.url} did not answer within {self.timeout:g} s — is it overloaded?"
            ) from None
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise SourceUnavailableError(
                _NAME, f"{hint} ({reason}) — is `fanzwatch up` running, or is FANZWATCH_DASH_PROMETHEUS_URL right?"
            ) from None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise SourceUnavailableError(
                _NAME,
                f"{self.url} answered HTTP {response.status_code} with something that is not the Prometheus API "
                "— is FANZWATCH_DASH_PROMETHEUS_URL pointing at Prometheus?",
            )
        if body.get("status") != "success":
            error = str(body.get("error") or "unknown error")[:500]
            if response.status_code in (400, 422):
                raise SourceRejectedError(_NAME, f"{_NAME} rejected the query: {error}")
            raise SourceUnavailableError(_NAME, f"{_NAME} at {self.url} failed: {error}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}
