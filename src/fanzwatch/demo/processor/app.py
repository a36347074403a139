"""The fake payment processor: a separate HTTP service the demo platform charges through.

It stands in for a real card processor, which cannot run here. Two endpoints live under
path prefixes, ``/primary`` and ``/backup``, each with its own injected faults, so a
processor outage can hit one while the platform fails over to the other. Faults change at
runtime through ``/admin/faults``: that is how incidents are injected.

``GET /metrics`` exposes the process through ``fanzwatch.sdk`` (resident memory against
its limit, CPU, file descriptors), so the ``payment-processor`` scrape job has a target
and ``TargetDown`` pages payments when the processor dies. Its server spans continue the
platform's trace (W3C ``traceparent``), with a ``fraud.check`` / ``charge.authorize``
span inside, and its log lines carry their ids. It records no HTTP request metrics, on
purpose: it stands in for a third party whose request metrics we would never
scrape, and its series, having no tenant, would be added to the platforms' request and
5xx aggregates under ``platform="other"``, making a processor outage look like a FANZ
5xx burst. The platform's client spans and payment metrics show what the processor does.

>>> app = create_processor_app(ProcessorConfig(seed=7))
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fanzwatch.sdk import Telemetry, TelemetryMiddleware, build_telemetry

from .fraud import FraudScorer
from .models import (
    Charge,
    ChargeRequest,
    ChargeStatus,
    Endpoint,
    FaultConfig,
    FraudCheckRequest,
    FraudCheckResult,
    FraudDecision,
)

logger = logging.getLogger(__name__)
SERVICE_NAME = "fanz-payment-processor"
"""service.name of its spans and logs under ``fanzwatch demo processor``."""
DECLINING_CARDS = {
    "tok_chargeDeclined": "card_declined",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "tok_chargeDeclinedExpiredCard": "expired_card",
}


class ProcessorConfig(BaseModel):
    """How the processor starts; faults are changed later through the admin API."""

    seed: int | None = Field(default=None, description="random seed for failure sampling (tests)")
    large_amount_minor: int = Field(default=50_000, gt=0, description="fraud rule: a 'large' payment")
    velocity_limit: int = Field(default=20, gt=0, description="fraud rule: checks per payer per minute")
    idempotency_capacity: int = Field(default=50_000, gt=0, description="charges remembered for replays")


@dataclass
class ProcessorState:
    """Everything the processor remembers: faults, the idempotency cache, counters."""

    config: ProcessorConfig
    rng: random.Random
    scorer: FraudScorer
    faults: dict[Endpoint, FaultConfig] = field(default_factory=lambda: {e: FaultConfig() for e in Endpoint})
    charges: OrderedDict[str, Charge] = field(default_factory=OrderedDict)
    stats: Counter[str] = field(default_factory=Counter)

    def remember(self, key: str, charge: Charge) -> None:
        self.charges[key] = charge
        while len(self.charges) > self.config.idempotency_capacity:
            self.charges.popitem(last=False)


class _InjectedFailure(Exception):
    def __init__(self, endpoint: Endpoint, reason: str) -> None:
        super().__init__(reason)
        self.endpoint = endpoint
        self.reason = reason


def _unavailable(exc: _InjectedFailure) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": "processor_unavailable", "endpoint": exc.endpoint.value, "message": exc.reason}},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def _platform_of(customer_ref: str, platforms: tuple[str, ...]) -> str:
    """The platform of a payer reference (``fanz-1:42``), bounded to the configured ones."""
    platform = customer_ref.partition(":")[0]
    return platform if platform in platforms else "other"


def create_processor_app(config: ProcessorConfig | None = None, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the processor application; each call has its own state.

    ``telemetry`` backs ``/metrics``; by default the app builds its own (from the
    ``FANZWATCH_TELEMETRY_*`` environment, without touching any process-wide state) and
    shuts it down with the app.
    """
    config = config or ProcessorConfig()
    owns_telemetry = telemetry is None
    metrics = telemetry if telemetry is not None else build_telemetry()
    tracer = metrics.tracer
    state = ProcessorState(
        config=config,
        rng=random.Random(config.seed),
        scorer=FraudScorer(
            clock=time.monotonic,
            large_amount_minor=config.large_amount_minor,
            velocity_limit=config.velocity_limit,
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owns_telemetry:
            metrics.attach_log_handler()  # its log lines by OTLP too, when an endpoint is configured
        try:
            yield
        finally:
            if owns_telemetry:
                metrics.shutdown()
            else:
                # uvicorn re-raises SIGTERM once the app is down: the caller's own shutdown
                # may never run, so what is batched leaves now.
                metrics.force_flush(timeout_millis=5_000)

    app = FastAPI(
        title="fanz demo payment processor",
        version="1",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.processor = state
    # Spans only: a third party's request metrics are not ours to scrape (see above).
    app.add_middleware(TelemetryMiddleware, telemetry=metrics, metrics=False, user_id=None)

    @app.exception_handler(_InjectedFailure)
    async def _on_injected(_request: Request, exc: _InjectedFailure) -> JSONResponse:
        logger.warning("answering 503: %s", exc.reason, extra={"endpoint": exc.endpoint.value})
        return _unavailable(exc)

    async def apply_faults(endpoint: Endpoint, *, sampled: bool) -> None:
        fault = state.faults[endpoint]
        delay = fault.latency_seconds
        if fault.latency_jitter_seconds:
            delay += state.rng.uniform(0.0, fault.latency_jitter_seconds)
        if delay:
            await anyio.sleep(delay)
        if fault.outage:
            state.stats[f"{endpoint.value}.unavailable"] += 1
            raise _InjectedFailure(endpoint, "endpoint is down (injected outage)")
        if sampled and fault.failure_rate and state.rng.random() < fault.failure_rate:
            state.stats[f"{endpoint.value}.unavailable"] += 1
            raise _InjectedFailure(endpoint, "transient processor error (injected)")

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def prometheus_metrics(request: Request) -> Response:
        """The process's metrics in the Prometheus (or negotiated OpenMetrics) format."""
        body, content_type = metrics.render_metrics(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    @app.get("/health", tags=["health"])
    async def process_health() -> dict[str, str]:
        """The process answers (for supervisors); endpoint health is per endpoint."""
        return {"status": "pass"}

    @app.get("/{endpoint}/v1/health", tags=["health"])
    async def endpoint_health(endpoint: Endpoint) -> dict[str, str]:
        await apply_faults(endpoint, sampled=False)
        return {"status": "pass", "endpoint": endpoint.value}

    @app.post("/{endpoint}/v1/fraud-checks", tags=["payments"])
    async def fraud_check(endpoint: Endpoint, body: FraudCheckRequest) -> FraudCheckResult:
        await apply_faults(endpoint, sampled=True)
        platform = _platform_of(body.customer_ref, metrics.settings.platforms)
        attributes = {"fanz.platform": platform, "payment.type": body.payment_type, "payment.endpoint": endpoint.value}
        with tracer.start_as_current_span("fraud.check", attributes=attributes) as span:
            result = state.scorer.check(body)
            span.set_attributes(
                {
                    "fraud.risk_score": result.risk_score,
                    "fraud.decision": result.decision.value,
                    "fraud.reasons": result.reasons,
                }
            )
            if result.decision is not FraudDecision.APPROVE:
                logger.info(
                    "fraud check: %s",
                    result.decision.value,
                    extra={"risk_score": result.risk_score, "platform": platform},
                )
        state.stats[f"{endpoint.value}.fraud.{result.decision.value}"] += 1
        return result

    @app.post("/{endpoint}/v1/charges", tags=["payments"], status_code=201)
    async def charge(endpoint: Endpoint, body: ChargeRequest) -> Charge:
        await apply_faults(endpoint, sampled=True)
        replay = state.charges.get(body.idempotency_key)
        if replay is not None:
            return replay
        decline = DECLINING_CARDS.get(body.card_token)
        if decline is None and not body.card_token.startswith("tok_"):
            decline = "invalid_card"
        with tracer.start_as_current_span("charge.authorize", attributes={"payment.endpoint": endpoint.value}) as span:
            span.set_attribute("charge.outcome", "declined" if decline else "succeeded")
            if decline:
                logger.info("charge declined: %s", decline, extra={"decline_code": decline})
        result = Charge(
            id=f"ch_{uuid.uuid4().hex[:24]}",
            status=ChargeStatus.DECLINED if decline else ChargeStatus.SUCCEEDED,
            amount_minor=body.amount_minor,
            currency=body.currency,
            endpoint=endpoint,
            decline_code=decline,
        )
        state.remember(body.idempotency_key, result)
        state.stats[f"{endpoint.value}.charge.{result.status.value}"] += 1
        return result

    @app.get("/admin/faults", tags=["admin"])
    async def get_faults() -> dict[str, FaultConfig]:
        return {e.value: f for e, f in state.faults.items()}

    @app.put("/admin/faults/{endpoint}", tags=["admin"])
    async def set_faults(endpoint: Endpoint, body: FaultConfig) -> FaultConfig:
        """Replace one endpoint's faults (send ``{}`` to heal it)."""
        state.faults[endpoint] = body
        return body

    @app.delete("/admin/faults", tags=["admin"])
    async def clear_faults() -> dict[str, FaultConfig]:
        """Heal every endpoint."""
        for e in Endpoint:
            state.faults[e] = FaultConfig()
        return {e.value: f for e, f in state.faults.items()}

    @app.get("/admin/stats", tags=["admin"])
    async def get_stats() -> dict[str, Any]:
        """Counters by endpoint and outcome (``primary.charge.succeeded``, ...)."""
        return dict(sorted(state.stats.items()))

    return app
