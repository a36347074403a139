"""The money journey, walked like a fan would: sign in, subscribe, tip, unlock pay-per-view.

One :class:`JourneyProber` walks it on each platform of a FANZ platform service, from one
``location``. Each step is one HTTP call, timed, checked (status and the body's fields) and
traced (a ``journey.money`` span with one child span per step; the W3C ``traceparent`` goes
with every request, so the platform's own request spans join the journey's trace). A step
that fails ends the journey there: a fan who cannot subscribe does not go on to tip.

The journey needs a creator with a pay-per-view item; the prober signs one up and uploads
the item once per platform (``prepare``, not timed as a step). Each journey then signs up a
fresh fan (source ``api``) and signs in with the password, because a fan buys an item only
once. Its payments are real payments on the platform (1.00 tips, the creator's subscription
price, the item's price) on the processor's test card ``tok_visa``.

>>> prober = JourneyProber(client, platforms=("fanz-1",), location="eu-west", registry=registry)
>>> result = await prober.walk("fanz-1")
>>> result.ok, [s.step for s in result.steps]
(True, ['sign_in', 'subscribe', 'tip', 'unlock_ppv'])
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode, Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..core import CATALOG
from ..core.catalog.probes import JOURNEY_STEPS
from ..sdk import build_prometheus_metric

logger = logging.getLogger(__name__)
JOURNEY = "money"
CARD = "tok_visa"
TIP_MINOR = 100
PPV_PRICE_MINOR = 299
_ITEM: tuple[str, bytes, str] = ("journey-probe.txt", b"a pay-per-view item the journey prober buys\n", "text/plain")


class StepFailedError(Exception):
    """A step's check failed: ``reason`` says what was wrong (status, missing field, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    ok: bool
    seconds: float | None
    """How long the step took; None when it never started (the journey could not be prepared)."""
    reason: str = ""


@dataclass(slots=True)
class JourneyResult:
    platform: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(JOURNEY_STEPS) and all(s.ok for s in self.steps)

    @property
    def failed_step(self) -> str | None:
        return next((s.step for s in self.steps if not s.ok), None)


@dataclass(slots=True)
class _Fixture:
    """What a platform's journeys reuse: the creator and their pay-per-view item."""

    creator_id: str
    content_id: str


def _expect(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    if response.status_code != status:
        raise StepFailedError(f"HTTP {response.status_code}, expected {status}")
    try:
        body = response.json()
    except ValueError:
        raise StepFailedError("the answer is not JSON") from None
    missing = [f for f in fields if not isinstance(body, dict) or f not in body]
    if missing:
        raise StepFailedError(f"the answer has no {', '.join(missing)}")
    assert isinstance(body, dict)
    return body


def _completed(response: httpx.Response) -> None:
    body = _expect(response, 201, "status")
    if body["status"] != "completed":
        raise StepFailedError(f"payment {body['status']}, expected completed")


class JourneyProber:
    """Walks the money journey on ``platforms`` of the service ``client`` talks to (its base URL).

    Metrics go to ``registry`` (``fanz_journey_*`` from the catalog), spans to ``tracer``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        platforms: tuple[str, ...],
        location: str,
        registry: CollectorRegistry,
        tracer: Tracer | None = None,
    ) -> None:
        self._http = client
        self.platforms = platforms
        self.location = location
        self._tracer = tracer or trace.get_tracer("fanzwatch.probes")
        self._fixtures: dict[str, _Fixture] = {}
        self._duration = cast(
            Histogram, build_prometheus_metric(CATALOG["fanz_journey_step_duration_seconds"], registry)
        )
        self._failures = cast(Counter, build_prometheus_metric(CATALOG["fanz_journey_step_failures"], registry))
        self._runs = cast(Counter, build_prometheus_metric(CATALOG["fanz_journey_runs"], registry))
        self._success = cast(Gauge, build_prometheus_metric(CATALOG["fanz_journey_success"], registry))
        for platform in platforms:  # every series exists from the start, at zero
            for result in ("success", "failure"):
                self._runs.labels(JOURNEY, platform, location, result)
            for step in JOURNEY_STEPS:
                self._failures.labels(JOURNEY, step, platform, location)

    def _api(self, platform: str, path: str) -> str:
        return f"/p/{platform}/api/v1{path}"

    def _headers(self, token: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        propagate.inject(headers)  # the current span's traceparent
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _register(self, platform: str, role: str, **extra: object) -> tuple[str, str, str]:
        """A new account on ``platform``: its (user id, email, password)."""
        handle = uuid.uuid4().hex[:12]
        email, password = f"journey-{role}-{handle}@probe.fanz.test", uuid.uuid4().hex
        body = {
            "email": email,
            "password": password,
            "role": role,
            "display_name": f"Journey probe {handle[:6]}",
            "source": "api",
            **extra,
        }
        answer = _expect(
            await self._http.post(self._api(platform, "/auth/register"), json=body, headers=self._headers()),
            201,
            "user_id",
            "token",
        )
        return str(answer["user_id"]), email, password

    async def prepare(self, platform: str) -> _Fixture:
        """The platform's creator and pay-per-view item (made once, then reused)."""
        if platform in self._fixtures:
            return self._fixtures[platform]
        creator_id, email, password = await self._register(platform, "creator", subscription_price_minor=499)
        token = _expect(
            await self._http.post(
                self._api(platform, "/auth/login"), json={"email": email, "password": password}, headers=self._headers()
            ),
            200,
            "token",
        )["token"]
        item = _expect(
            await self._http.post(
                self._api(platform, "/content"),
                headers=self._headers(token),
                data={"title": "journey probe item", "price_minor": str(PPV_PRICE_MINOR)},
                files={"file": _ITEM},
            ),
            201,
            "content_id",
        )
        fixture = _Fixture(creator_id, str(item["content_id"]))
        self._fixtures[platform] = fixture
        return fixture

    async def walk(self, platform: str) -> JourneyResult:
        """One journey on ``platform``; records its metrics and returns what each step did."""
        result = JourneyResult(platform)
        attributes = {"fanz.platform": platform, "fanz.probe.location": self.location}
        with self._tracer.start_as_current_span(f"journey.{JOURNEY}", attributes=attributes) as span:
            try:
                fixture = await self.prepare(platform)
            except Exception as exc:  # any failure to prepare is the journey failing
                # Without its creator and item the journey cannot start: its first step fails.
                reason = exc.reason if isinstance(exc, StepFailedError) else _unexpected(exc)
                result.steps.append(StepResult(JOURNEY_STEPS[0], False, None, f"preparing: {reason}"))
            else:
                token = ""

                async def sign_in() -> None:
                    nonlocal token
                    _, email, password = await self._register(platform, "fan")
                    login = await self._http.post(
                        self._api(platform, "/auth/login"),
                        json={"email": email, "password": password},
                        headers=self._headers(),
                    )
                    token = str(_expect(login, 200, "token")["token"])

                async def subscribe() -> None:
                    path = f"/creators/{fixture.creator_id}/subscriptions"
                    _completed(await self._pay(platform, path, token, {"card_token": CARD}))

                async def tip() -> None:
                    body = {"amount_minor": TIP_MINOR, "currency": "USD", "card_token": CARD}
                    _completed(await self._pay(platform, f"/creators/{fixture.creator_id}/tips", token, body))

                async def unlock_ppv() -> None:
                    path = f"/content/{fixture.content_id}/purchases"
                    _completed(await self._pay(platform, path, token, {"card_token": CARD}))

                steps: dict[str, Callable[[], Awaitable[None]]] = {
                    "sign_in": sign_in,
                    "subscribe": subscribe,
                    "tip": tip,
                    "unlock_ppv": unlock_ppv,
                }
                for name in JOURNEY_STEPS:
                    step = await self._step(name, steps[name])
                    result.steps.append(step)
                    if not step.ok:
                        break
            self._record(result)
            if not result.ok:
                span.set_status(Status(StatusCode.ERROR, f"{result.failed_step} failed"))
        return result

    async def _pay(self, platform: str, path: str, token: str, body: dict[str, object]) -> httpx.Response:
        return await self._http.post(self._api(platform, path), json=body, headers=self._headers(token))

    async def _step(self, name: str, run: Callable[[], Awaitable[None]]) -> StepResult:
        with self._tracer.start_as_current_span(f"journey.step.{name}", attributes={"fanz.probe.step": name}) as span:
            started = time.perf_counter()
            try:
                await run()
            except StepFailedError as exc:
                reason = exc.reason
            except Exception as exc:  # refused, reset, timed out, or a bug: the step failed
                reason = _unexpected(exc)
            else:
                return StepResult(name, True, time.perf_counter() - started)
            span.set_status(Status(StatusCode.ERROR, reason))
            return StepResult(name, False, time.perf_counter() - started, reason)

    def _record(self, result: JourneyResult) -> None:
        p, loc = result.platform, self.location
        for step in result.steps:
            if step.seconds is not None:  # a step that never ran has no duration (zeros would lower its p95)
                self._duration.labels(JOURNEY, step.step, p, loc).observe(step.seconds)
            if not step.ok:
                self._failures.labels(JOURNEY, step.step, p, loc).inc()
                logger.warning("journey on %s failed at %s: %s", p, step.step, step.reason)
        self._runs.labels(JOURNEY, p, loc, "success" if result.ok else "failure").inc()
        self._success.labels(JOURNEY, p, loc).set(1 if result.ok else 0)

    async def walk_all(self) -> list[JourneyResult]:
        """One journey on every platform, one after the other (a prober never floods a platform)."""
        return [await self.walk(platform) for platform in self.platforms]


def _unexpected(exc: Exception) -> str:
    """A step's failure reason for an exception; anything but an HTTP error is also logged with its traceback.

    Every exception fails the step and so the journey: a prober whose step hits a bug (or an
    httpx error outside ``HTTPError``, such as ``InvalidURL``) must count a failed run, not
    leave ``fanz_journey_success`` at its last value.
    """
    if not isinstance(exc, httpx.HTTPError):
        logger.error("journey step raised %s", type(exc).__name__, exc_info=exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
