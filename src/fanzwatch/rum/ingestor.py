"""The RUM ingestor: accepts validated beacons, records metrics, queues events for the store.

``accept`` runs on the request path and never waits on storage: it classifies the
page, observes the metrics and appends to a bounded in-memory queue. A background
writer drains the queue in batches, one transaction each. When a write fails the
batch is kept and retried with back-off, and ``store_available`` turns false so the
endpoints answer 503 instead of accepting what cannot be stored; a full queue
answers 503 too. Nothing accepted is dropped silently: what cannot be written by
shutdown is logged and counted in ``fanz_rum_lost_events_total``.

>>> ingestor = RumIngestor(registry=registry, settings=RumSettings(), platforms=("fanz-1",))
>>> await ingestor.start(engine)    # in the server's lifespan
>>> ...
>>> await ingestor.stop()           # flushes what is queued

Building it touches nothing (so the beacon app and router can be composed in
``create_app``); the store engine is bound by ``start`` (or passed to the
constructor). Until then beacons get 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.clock import Clock, SystemClock
from ..core.errors import FanzwatchError
from ..core.platforms import DEFAULT_PLATFORMS, bound_platform
from ..core.scrubbing import ScrubRules
from ..core.text import sanitize_text
from ..settings.rum import RumSettings
from .isolation import IsolatingWriter, reason_of
from .metrics import RumMetrics
from .models import Batch, ErrorEvent, Event, InteractionEvent, PageLoadEvent, SingleBeacon, VitalEvent
from .records import PendingBeacon, Row, RowBuilder, error_fingerprint
from .store import RumEventStore
from .templates import PageTemplates

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE_MS = 1000  # an event may not happen after its batch was sent
MAX_BACKOFF_SECONDS = 5.0  # a store that is back is noticed within this
YIELD_EVERY_ROWS = 200  # ~2 ms of conversion between chances for the request path


class BeaconRejectedError(FanzwatchError, ValueError):
    """The beacon is well-formed but not acceptable (too many events, absurd times): a 422."""


class IngestUnavailableError(FanzwatchError, RuntimeError):
    """The store is down or the queue is full: a 503 with ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RumIngestor:
    """Request-path acceptance plus the background writer and retention jobs."""

    def __init__(
        self,
        engine: AsyncEngine | None = None,
        *,
        registry: CollectorRegistry,
        settings: RumSettings | None = None,
        platforms: Iterable[str] = DEFAULT_PLATFORMS,
        clock: Clock | None = None,
        scrub_rules: ScrubRules | None = None,
    ) -> None:
        self.settings = settings or RumSettings()
        self._store = RumEventStore(engine) if engine is not None else None
        self.metrics = RumMetrics(registry, max_error_fingerprints=self.settings.max_error_fingerprints)
        self.templates = PageTemplates(
            max_templates=self.settings.max_page_templates,
            routes=self.settings.page_routes,
            id_collections=self.settings.id_collections,
        )
        self.clock: Clock = clock or SystemClock()
        self._platforms = frozenset(platforms)
        self._queue: deque[PendingBeacon] = deque()
        self._rows = RowBuilder(scrub_rules)
        self._retry: list[Row] | None = None
        self._pending = 0
        self._store_ok = True
        self._failures = 0
        self._stopping = False
        self._stopped = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- state -------------------------------------------------------------------------

    @property
    def store(self) -> RumEventStore:
        """The event store; ``IngestUnavailableError`` before an engine is bound."""
        if self._store is None:
            raise IngestUnavailableError("RUM ingestion has not started", retry_after=5)
        return self._store

    @property
    def pending(self) -> int:
        """Accepted events not yet written."""
        return self._pending

    @property
    def store_available(self) -> bool:
        """False before start and after a failed write, until a retry succeeds."""
        return self._store_ok and self._store is not None

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping

    # -- request path ------------------------------------------------------------------

    def accept(self, beacon: Batch | SingleBeacon, events: Sequence[Event], *, device: str) -> str:
        """Take one validated beacon; returns the (bounded) platform it was counted under.

        Raises ``IngestUnavailableError`` (503) or ``BeaconRejectedError`` (422);
        on either, nothing was recorded.
        """
        if not self._store_ok or self._store is None:
            raise IngestUnavailableError("the event store is unavailable; retry later", retry_after=5)
        n = len(events)
        if self._pending + n > self.settings.queue_max_events:
            raise IngestUnavailableError("the ingestion queue is full; retry later", retry_after=1)
        if n > self.settings.max_events_per_batch:
            raise BeaconRejectedError(f"{n} events in one beacon; at most {self.settings.max_events_per_batch}")
        self._check_times(beacon.sent, events)

        received_ms = int(self.clock.now().timestamp() * 1000)
        platform = bound_platform(beacon.platform, self._platforms)
        page_url = sanitize_text(beacon.url)  # it becomes a label
        page_template = self.templates.template(page_url)
        templates: list[str] = []
        fingerprints: list[str | None] = []
        counts: dict[str, int] = {}
        m = self.metrics
        for event in events:
            url = event.url
            tpl = page_template if url is None or url == beacon.url else self.templates.template(sanitize_text(url))
            templates.append(tpl)
            fingerprint = None
            if isinstance(event, VitalEvent):
                value = event.value if event.name == "CLS" else event.value / 1000.0
                m.observe_vital(event.name, value, platform, tpl, device)
            elif isinstance(event, PageLoadEvent):
                m.observe_page_load(event.load / 1000.0, platform, tpl, device)
            elif isinstance(event, InteractionEvent):
                m.count_interaction(platform, tpl, event.kind)
            elif isinstance(event, ErrorEvent):
                fingerprint = error_fingerprint(event)
                m.count_error(platform, event.kind, fingerprint)
            fingerprints.append(fingerprint)
            counts[event.type] = counts.get(event.type, 0) + 1
        for event_type, count in counts.items():
            m.count_events(platform, event_type, count)
        self._queue.append(
            PendingBeacon(
                received_ms, platform, device, beacon.sid, beacon.sent, page_url, list(events), templates, fingerprints
            )
        )
        self._pending += n
        m.queued(platform, n)
        if self._pending >= self.settings.writer_batch_size:
            self._wake.set()
        return platform

    def _check_times(self, sent: int, events: Sequence[Event]) -> None:
        max_age_ms = self.settings.max_event_age_seconds * 1000
        for i, event in enumerate(events):
            t = event.t
            if t is None:
                continue
            if t > sent + FUTURE_TOLERANCE_MS:
                raise BeaconRejectedError(f"event {i}: t is {t - sent} ms after the beacon was sent")
            if sent - t > max_age_ms:
                raise BeaconRejectedError(
                    f"event {i}: t is {(sent - t) // 1000} s before the beacon was sent; "
                    f"at most {self.settings.max_event_age_seconds} s"
                )

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, engine: AsyncEngine | None = None) -> None:
        """Bind the store's ``engine`` (unless given at construction), start the writer
        and the retention job. Call once, in the lifespan."""
        if self._tasks:
            raise RuntimeError("RumIngestor already started")
        if engine is not None:
            self._store = RumEventStore(engine)
        if self._store is None:
            raise RuntimeError("RumIngestor needs an engine: pass it to the constructor or to start()")
        self._stopping = False
        self._stopped.clear()
        self._tasks = [
            asyncio.create_task(self._run_writer(), name="rum-writer"),
            asyncio.create_task(self._run_retention(), name="rum-retention"),
        ]

    async def stop(self, *, drain_seconds: float = 10.0) -> None:
        """Write what is queued (for at most ``drain_seconds``), then stop; the rest is counted lost."""
        if not self._tasks:
            return
        writer, retention = self._tasks
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        await retention  # not cancelled: a purge in flight finishes (a cancelled query strands its thread)
        with contextlib.suppress(TimeoutError):  # wait_for cancels the writer on timeout
            await asyncio.wait_for(writer, drain_seconds)
        self._tasks = []
        if self._pending:
            lost = self._lost_by_platform()
            for platform, n in lost.items():
                self.metrics.lost(platform, n)
                self.metrics.queued(platform, -n)
            logger.error("RUM ingestor stopped with %d events unwritten", self._pending, extra={"lost": lost})
            self._queue.clear()
            self._retry = None
            self._pending = 0

    async def flush(self, *, within_seconds: float = 10.0) -> None:
        """Wait until every accepted event is written (tests, graceful hand-over)."""
        deadline = asyncio.get_running_loop().time() + within_seconds
        while self._pending:
            if not self._tasks:
                raise RuntimeError("RumIngestor is not running; call start() first")
            self._wake.set()
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self._pending} RUM events still unwritten after {within_seconds} s")
            await asyncio.sleep(0.005)

    async def purge_expired(self) -> int:
        """Delete events older than the retention period; returns how many."""
        cutoff = self.clock.now() - timedelta(days=self.settings.retention_days)
        deleted = await self.store.purge(older_than=cutoff)
        if deleted:
            logger.info("purged %d RUM events older than %s", deleted, cutoff.isoformat())
        return deleted

    # -- background --------------------------------------------------------------------

    async def _run_writer(self) -> None:
        interval = self.settings.writer_flush_interval_seconds
        batch = self.settings.writer_batch_size
        while not (self._stopping and not self._pending):
            if self._pending < batch and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
                self._wake.clear()
            if not self._pending:
                continue
            try:
                ok = await self._write_once(batch)
            except Exception:  # the writer must outlive any one bad batch
                logger.exception("RUM writer failed unexpectedly")
                ok = False
            if not ok:
                self._failures += 1
                await asyncio.sleep(min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** min(self._failures, 10)))

    async def _write_once(self, batch: int) -> bool:
        if self._retry is None:
            # Built in place so a stop in the middle still accounts for every event.
            rows: list[Row] = []
            self._retry = rows
            since_yield = 0
            while self._queue and len(rows) < batch:
                pending = self._queue.popleft()
                try:
                    new = self._rows.rows(pending)
                except Exception:
                    logger.exception("RUM beacon could not be converted", extra={"platform": pending.platform})
                    self._pending -= len(pending.events)
                    self.metrics.lost(pending.platform, len(pending.events))
                    self.metrics.queued(pending.platform, -len(pending.events))
                    continue
                rows.extend(new)
                since_yield += len(new)
                if since_yield >= YIELD_EVERY_ROWS:  # let requests in: conversion is CPU work on the loop
                    since_yield = 0
                    await asyncio.sleep(0)
        outcome = await IsolatingWriter(self.store).write(self._retry, now_ms=int(self.clock.now().timestamp() * 1000))
        for platform, n in _by_platform(outcome.stored).items():
            self.metrics.stored(platform, n)
            self.metrics.queued(platform, -n)
        for row, reason in outcome.dead:
            logger.error("RUM event refused by the store, dead-lettered: %s", reason, extra={"platform": row[3]})
            self.metrics.dead_lettered(row[3], 1)
            self.metrics.queued(row[3], -1)
        self._pending -= len(outcome.stored) + len(outcome.dead)
        if outcome.stored or outcome.dead:
            self._store_ok = True  # the store writes again: stop answering 503 at once
            self._failures = 0
        if outcome.error is not None:
            logger.error(
                "RUM store write of %d events failed; will retry (%s)", len(outcome.retry), reason_of(outcome.error)
            )
            self._store_ok = False
            for platform, n in _by_platform(outcome.retry).items():
                self.metrics.store_failed(platform, n)
            self._retry = outcome.retry
            return False
        self._retry = None
        self._store_ok = True
        self._failures = 0
        return True

    async def _run_retention(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.purge_expired()
            except Exception:
                logger.exception("RUM retention purge failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.settings.retention_interval_seconds)

    def _lost_by_platform(self) -> dict[str, int]:
        lost: dict[str, int] = {}
        for pending in self._queue:
            lost[pending.platform] = lost.get(pending.platform, 0) + len(pending.events)
        for platform, n in _by_platform(self._retry or ()).items():
            lost[platform] = lost.get(platform, 0) + n
        return lost


def _by_platform(rows: Iterable[Row]) -> dict[str, int]:
    """Events per platform (one row is one event; the platform is its fourth column)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[3]] = counts.get(row[3], 0) + 1
    return counts
