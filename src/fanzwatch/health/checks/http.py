"""HTTP dependency: status code and latency of a health URL (e.g. the payment processor's)."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from ...core.errors import ConfigError
from ...core.models import HealthStatus
from .._check import CheckResult
from ._base import BaseCheck, elapsed_since

_DEPENDENCY_STATUS = {"pass": HealthStatus.PASS, "ok": HealthStatus.PASS, "up": HealthStatus.PASS}
_DEPENDENCY_STATUS |= {"warn": HealthStatus.WARN, "fail": HealthStatus.FAIL}
_DEPENDENCY_STATUS |= {"error": HealthStatus.FAIL, "down": HealthStatus.FAIL}


def redact_url(url: str) -> str:
    """The URL without credentials, query or fragment: safe for outputs and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class HttpCheck(BaseCheck):
    """Requests ``url`` and judges the status code and the latency.

    Fails when the status is not in ``expected_status`` (default: any 2xx) or the request
    fails; warns when the answer is slower than ``slow_after`` seconds. When the dependency
    answers ``application/health+json``, its own ``status`` counts too, so a dependency that
    says ``warn`` makes this check warn. Redirects are not followed: a health URL that
    redirects is misconfigured.

    Pass the application's shared ``httpx.AsyncClient`` as ``client``, or let the check
    open (and close) its own.

    >>> HttpCheck("payment_processor", "http://127.0.0.1:8702/health", slow_after=0.5)
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        method: str = "GET",
        expected_status: Collection[int] | None = None,
        slow_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ConfigError(f"HTTP health check {name!r}: url must be http:// or https://", setting="url")
        self.url = url
        self.method = method.upper()
        self.expected_status = frozenset(expected_status) if expected_status is not None else None
        self.slow_after = slow_after
        self._headers = dict(headers or {})
        self._client = client
        self._owns_client = client is None
        self._shown_url = redact_url(url)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout or 5.0), follow_redirects=False)
        return self._client

    def _expected(self, code: int) -> bool:
        return code in self.expected_status if self.expected_status is not None else 200 <= code < 300

    async def check(self) -> CheckResult:
        client = self._http()  # created on first use (an SSL context): not part of the latency
        started = time.perf_counter()
        response = await client.request(self.method, self.url, headers=self._headers)
        latency = elapsed_since(started)
        details = {"status_code": response.status_code}
        if not self._expected(response.status_code):
            output = f"{self.method} {self._shown_url} answered HTTP {response.status_code}"
            return CheckResult(HealthStatus.FAIL, latency, "s", output=output, details=details)
        status, output = HealthStatus.PASS, ""
        reported = self._reported_status(response)
        if reported is not None and reported is not HealthStatus.PASS:
            status, output = reported, f"{self._shown_url} reports status {reported.value}"
        if self.slow_after is not None and latency > self.slow_after and status is HealthStatus.PASS:
            status, output = HealthStatus.WARN, f"answered in {latency:.3f} s, slower than {self.slow_after:g} s"
        return CheckResult(status, latency, "s", output=output, details=details)

    @staticmethod
    def _reported_status(response: httpx.Response) -> HealthStatus | None:
        if not response.headers.get("content-type", "").startswith("application/health+json"):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        value = body.get("status") if isinstance(body, dict) else None
        return _DEPENDENCY_STATUS.get(value.lower()) if isinstance(value, str) else None

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
