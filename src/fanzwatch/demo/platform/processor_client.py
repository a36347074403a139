"""The platform's client of the payment processor, with a switchable active endpoint.

The platform charges through one endpoint at a time, ``primary`` by default. It does
not fail over by itself: switching to ``backup`` is an operator's (or the remediation
engine's) decision, made through the platform's admin API, so an outage stays visible
in the metrics until someone acts on it.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from fanzwatch.sdk import trace_external

from ..processor.models import Charge, ChargeRequest, Endpoint, FraudCheckRequest, FraudCheckResult

M = TypeVar("M", bound=BaseModel)
PEER = "payment-processor"


class ProcessorUnavailableError(Exception):
    """The processor did not give a usable answer (5xx, timeout, refused, garbage)."""

    def __init__(self, endpoint: Endpoint, code: str) -> None:
        super().__init__(f"payment processor {endpoint.value} unavailable: {code}")
        self.endpoint = endpoint
        self.code = code  # timeout, unreachable, http_503, malformed_answer


class ProcessorClient:
    """Calls ``/{endpoint}/v1/...`` on the processor; ``active`` picks the endpoint."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, timeout: float) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 2.0))
        self.active = Endpoint.PRIMARY

    def url(self, path: str, endpoint: Endpoint | None = None) -> str:
        return f"{self.base_url}/{(endpoint or self.active).value}/v1/{path}"

    async def _post(self, path: str, body: BaseModel, answer: type[M]) -> M:
        endpoint = self.active
        url = self.url(path, endpoint)
        with trace_external(PEER, method="POST", url=url, attributes={"payment.endpoint": endpoint.value}) as call:
            try:
                response = await self._http.post(
                    url,
                    content=body.model_dump_json(),
                    headers={**call.headers, "content-type": "application/json"},
                    timeout=self.timeout,
                )
            except httpx.TimeoutException:
                raise ProcessorUnavailableError(endpoint, "timeout") from None
            except httpx.HTTPError:
                raise ProcessorUnavailableError(endpoint, "unreachable") from None
            call.record_response(response.status_code)
        if response.status_code >= 500:
            raise ProcessorUnavailableError(endpoint, f"http_{response.status_code}")
        if not response.is_success:
            # 4xx means we sent something it refused: our bug, not the processor's outage.
            raise ValueError(
                f"payment processor refused the request: HTTP {response.status_code} {response.text[:200]}"
            )
        try:
            return answer.model_validate_json(response.content)
        except ValidationError:
            raise ProcessorUnavailableError(endpoint, "malformed_answer") from None

    async def fraud_check(self, request: FraudCheckRequest) -> FraudCheckResult:
        return await self._post("fraud-checks", request, FraudCheckResult)

    async def charge(self, request: ChargeRequest) -> Charge:
        return await self._post("charges", request, Charge)

    async def healthy(self, endpoint: Endpoint | None = None) -> bool:
        """Whether ``endpoint`` (default: the active one) answers its health check."""
        try:
            response = await self._http.get(self.url("health", endpoint), timeout=self.timeout)
        except httpx.HTTPError:
            return False
        return response.is_success
