"""``AlertingService``: builds the alerting parts once and runs their workers.

Construction reads secrets and validates the configuration (a bad one raises
``ConfigError`` before anything starts); ``start()`` launches the workers; ``stop()``
ends them and releases outbox claims. ``tick()`` does one round of all the work —
inbox, escalations, remediations, deliveries — which is what the workers do on their
own schedules, and what tests call after moving a ``FrozenClock``.

``dispatcher`` (an ``OutboxDispatcher``) delivers the queued notifications; the queue
itself, the ``alerting_outbox`` table and its claims, is ``notify/outbox.py``.

>>> service = AlertingService(settings, engine, http, registry, SystemClock(), platforms=("fanz-1",))
>>> await service.start(); app.include_router(build_router(lambda: service))
>>> await service.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

import httpx
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.clock import Clock
from ..core.errors import ConfigError
from ..core.platforms import DEFAULT_PLATFORMS
from ..settings.alerting import AlertingSettings, SecretSource
from .auth import Credentials
from .escalation.escalator import INCIDENT_PAGE, Escalator
from .escalation.failover import DeliveryFailover
from .inbox import Inbox
from .incidents.correlation import Explains
from .incidents.impact import IncidentImpactLedger
from .incidents.manager import IncidentManager
from .incidents.operations import IncidentOperations
from .incidents.queries import IncidentQueries
from .metrics import AlertingMetrics
from .notify import Notifier, OutboxDispatcher, build_notifiers
from .remediation.actions import build_action
from .remediation.audit import KillSwitch
from .remediation.engine import RemediationEngine
from .remediation.planner import RemediationPlanner
from .remediation.process import HttpProcessControl, ProcessControl

logger = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)


def _secret(source: SecretSource | None, setting: str) -> bytes | None:
    return source.read(setting).encode() if source is not None else None


class AlertingService:
    """Alertmanager webhook → incidents → escalation, notifications and remediation."""

    def __init__(
        self,
        settings: AlertingSettings,
        engine: AsyncEngine,
        http_client: httpx.AsyncClient,
        registry: CollectorRegistry,
        clock: Clock,
        *,
        platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
        process_control: ProcessControl | None = None,
        instance_id: str | None = None,
        notifiers: Iterable[Notifier] = (),
        explains: Sequence[Explains] = (),
        meta_alerts: Iterable[str] = (),
        incident_page: str = INCIDENT_PAGE,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.instance_id = instance_id or uuid.uuid4().hex[:16]
        self.metrics = AlertingMetrics(registry, platforms)
        basic = None
        if settings.webhook_basic_username is not None:
            password = _secret(settings.webhook_basic_password, "alerting.webhook_basic_password") or b""
            basic = (settings.webhook_basic_username.encode(), password)
        self.webhook_credentials = Credentials(_secret(settings.webhook_token, "alerting.webhook_token"), basic)
        self.api_credentials = Credentials(_secret(settings.api_token, "alerting.api_token"))
        self.escalator = Escalator(settings, incident_page=incident_page)  # notifications link there
        self.planner = RemediationPlanner(settings.remediation, self.metrics)
        # explains: which alerts explain which (severity twins, dependencies), from provisioning
        # (composed by the server: ``fanzwatch.server.correlation``); see incidents/correlation.py.
        # meta_alerts: alert names of judgements about other signals (the anomaly engine's), which never
        # join a dependency's incident nor raise a priority by themselves.
        self.manager = IncidentManager(
            settings, self.escalator, self.planner, self.metrics, explains=explains, meta_alerts=meta_alerts
        )
        self.operations = IncidentOperations(engine, self.manager, self.escalator, self.planner, self.metrics)
        self.queries = IncidentQueries(engine)
        # What fanzwatch.impact reads and writes (core.impact.IncidentLedger), composed by the server.
        self.impact_ledger = IncidentImpactLedger(engine, settings)
        self.inbox = Inbox(engine, self.manager, self.metrics, clock, on_change=self._changed)
        built = build_notifiers(settings.channels, http_client, clock)
        for notifier in notifiers:  # stand-ins, e.g. fanzwatch.alerting.testing.InMemoryNotifier
            if notifier.name not in built:
                raise ConfigError(
                    f"notifier {notifier.name!r} has no channel of that name in alerting.channels",
                    setting="alerting.channels",
                )
            built[notifier.name] = notifier
        self.dispatcher = OutboxDispatcher(
            engine,
            built,
            settings.delivery,
            clock,
            self.metrics,
            instance_id=self.instance_id,
            on_failed=DeliveryFailover(settings).failed,
        )
        remediation = settings.remediation
        if process_control is None and remediation.process_control_url:
            token = remediation.process_control_token
            process_control = HttpProcessControl(
                remediation.process_control_url,
                http_client,
                token=token.read("alerting.remediation.process_control_token") if token else None,
            )
        actions = {
            p.name: build_action(p.action, http_client, process_control, playbook=p.name) for p in remediation.playbooks
        }
        self.kill_switch = KillSwitch(remediation.kill_switch)
        self.remediation = RemediationEngine(
            engine,
            remediation,
            actions,
            self.escalator,
            self.kill_switch,
            clock,
            self.metrics,
            owner=self.instance_id,
            on_change=self._changed,
        )
        self._inbox_wake = asyncio.Event()
        self._remediation_wake = asyncio.Event()
        self._escalation_wake = asyncio.Event()  # only set to stop
        self._stopping = asyncio.Event()
        self._escalation_lock = asyncio.Lock()
        self._remediation_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._purged_at: datetime | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if not self.webhook_credentials.configured:
            logger.warning("the alert webhook accepts unauthenticated requests: set FANZWATCH_ALERTING_WEBHOOK_TOKEN")
        self._stopping.clear()
        await self.remediation.recover()
        await self.dispatcher.start()
        period = self.settings.tick_interval.total_seconds()
        self._tasks = [
            asyncio.create_task(self._loop("inbox", self.inbox.drain, self._inbox_wake, period)),
            asyncio.create_task(self._loop("escalation", self._escalate_and_measure, self._escalation_wake, period)),
            asyncio.create_task(self._loop("remediation", self._remediate, self._remediation_wake, period)),
        ]
        self._inbox_wake.set()  # payloads stored before a restart

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let each worker finish its round (database writes are never cut), then stop.

        A worker still busy after ``grace`` seconds (a slow remediation action) is
        cancelled; its claim is given back and the remediation resumed (by any replica).
        """
        self._stopping.set()
        for event in (self._inbox_wake, self._escalation_wake, self._remediation_wake):
            event.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._tasks.clear()
        await self.dispatcher.stop(grace=grace)

    async def _loop(self, name: str, work: Callable[[], Awaitable[object]], wake: asyncio.Event, period: float) -> None:
        while not self._stopping.is_set():
            try:
                await work()
            except Exception:  # a failed round must not end the worker
                logger.exception("alerting %s worker round failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=period)
            wake.clear()

    # --- work ---------------------------------------------------------------------------

    def payload_stored(self) -> None:
        """The webhook stored a payload: process it now."""
        self._inbox_wake.set()

    def _changed(self) -> None:
        self.dispatcher.wake()
        self._remediation_wake.set()

    async def _escalate_and_measure(self) -> None:
        now = self.clock.now()
        async with self._escalation_lock:
            # Hold-downs first: an incident whose resolve became final is not escalated.
            settled = await self.manager.hold_down.settle_due(self.engine, now)
            if await self.escalator.run_due(self.engine, now) or settled:
                self.dispatcher.wake()
        await self.refresh_gauges()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            await self.inbox.purge(now - self.settings.retention)

    async def _remediate(self) -> None:
        async with self._remediation_lock:
            await self.remediation.run_due()

    async def refresh_gauges(self) -> None:
        self.metrics.set_open_incidents(await self.queries.open_counts())
        await self.dispatcher.refresh_gauges()

    async def tick(self) -> None:
        """One round of everything due at ``clock.now()``: inbox, escalation, remediation, deliveries."""
        await self.inbox.drain()
        await self._escalate_and_measure()
        await self._remediate()
        await self.dispatcher.dispatch_all_due()
        await self.refresh_gauges()
