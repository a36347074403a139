"""A small client of the Prometheus HTTP API: ``query_range``, chunked for long histories.

It uses the shared ``httpx.AsyncClient`` it is given (timeouts are the caller's), parses
answers with orjson into numpy arrays, and turns every failure into one of two errors:
``PrometheusUnavailableError`` (cannot reach it or it failed: the engine's judgement is
*unknown*) and ``PrometheusQueryError`` (it answered that the query is wrong).

>>> prom = PrometheusClient("http://127.0.0.1:9090", http)   # doctest: +SKIP
>>> series = await prom.query_range("up", start, end, 60)    # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import orjson

from ...core.errors import FanzwatchError
from ..insights import FloatArray


class PrometheusUnavailableError(FanzwatchError, ConnectionError):
    """Prometheus could not be reached, timed out, or failed on its side (5xx)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Prometheus at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class PrometheusQueryError(FanzwatchError, ValueError):
    """Prometheus rejected the query (bad PromQL, too many points, ...)."""

    def __init__(self, expr: str, reason: str) -> None:
        super().__init__(f"Prometheus rejected the query: {reason} (query: {expr})")
        self.expr = expr
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RangeSeries:
    """One series of a ``query_range`` answer: its labels and points (unix s, value)."""

    labels: dict[str, str]
    timestamps: FloatArray
    values: FloatArray


def _parse_values(points: list[list[Any]]) -> tuple[FloatArray, FloatArray]:
    if not points:
        return np.empty(0), np.empty(0)
    ts = np.fromiter((p[0] for p in points), dtype=np.float64, count=len(points))
    # Prometheus sends values as strings ("1.5", "NaN", "+Inf"); Inf means no usable value.
    vs = np.array([p[1] for p in points]).astype(np.float64)
    vs[~np.isfinite(vs)] = np.nan
    return ts, vs


class PrometheusClient:
    """Reads ranges of PromQL expressions from one Prometheus."""

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http

    async def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """Evaluate ``expr`` at ``start, start+step, ... <= end`` (unix seconds)."""
        url = f"{self.base_url}/api/v1/query_range"
        params = {"query": expr, "start": _fmt(start), "end": _fmt(end), "step": _fmt(step)}
        try:
            response = await self._http.post(url, data=params)
        except httpx.HTTPError as exc:
            raise PrometheusUnavailableError(self.base_url, f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if response.status_code >= 500 or response.status_code in (429, 503):
            raise PrometheusUnavailableError(self.base_url, f"HTTP {response.status_code}: {_error_of(response)}")
        if response.status_code != 200:
            raise PrometheusQueryError(expr, f"HTTP {response.status_code}: {_error_of(response)}")
        try:
            body = orjson.loads(response.content)
            result = body["data"]["result"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise PrometheusUnavailableError(self.base_url, "answer is not a Prometheus API response") from exc
        if body.get("status") != "success":
            raise PrometheusQueryError(expr, str(body.get("error", "unknown error")))
        out = []
        for item in result:
            ts, vs = _parse_values(item.get("values", []))
            out.append(RangeSeries(labels=dict(item.get("metric", {})), timestamps=ts, values=vs))
        return out

    async def server_time(self) -> float:
        """Prometheus's own clock (unix seconds), from ``time()``: the engine's grid follows it,
        so a skewed local clock neither asks for the future nor skips points."""
        url = f"{self.base_url}/api/v1/query"
        try:
            response = await self._http.post(url, data={"query": "time()"})
        except httpx.HTTPError as exc:
            raise PrometheusUnavailableError(self.base_url, f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if response.status_code != 200:
            raise PrometheusUnavailableError(self.base_url, f"HTTP {response.status_code}: {_error_of(response)}")
        try:
            body = orjson.loads(response.content)
            return float(body["data"]["result"][0])
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, ValueError) as exc:
            raise PrometheusUnavailableError(self.base_url, "answer is not a Prometheus API response") from exc

    async def query_range_chunked(
        self, expr: str, start: float, end: float, step: float, *, max_points: int
    ) -> list[RangeSeries]:
        """Like ``query_range`` over a long range, in calls of at most ``max_points`` points.

        Series are joined by their label set; chunks share the ``start + k*step`` grid.
        """
        if end < start:
            return []
        span = step * (max_points - 1)
        parts: dict[tuple[tuple[str, str], ...], list[RangeSeries]] = {}
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + span)
            for series in await self.query_range(expr, chunk_start, chunk_end, step):
                parts.setdefault(tuple(sorted(series.labels.items())), []).append(series)
            chunk_start = chunk_end + step
        return [
            RangeSeries(
                labels=dict(key),
                timestamps=np.concatenate([p.timestamps for p in chunks]),
                values=np.concatenate([p.values for p in chunks]),
            )
            for key, chunks in parts.items()
        ]


def _fmt(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else f"{x:.3f}"


def _error_of(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
        return str(body.get("error") or body)[:300]
    except (orjson.JSONDecodeError, AttributeError):
        return response.text[:300] or response.reason_phrase
