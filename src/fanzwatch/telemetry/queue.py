"""The receiver's bounded queue to the store process, with its drainer.

Accepted batches wait here (bounded by rows) until one task posts them to the store,
merged up to ``batch_rows`` per insert. When the store is down the head batch is kept and
retried with back-off, and the receiver refuses new data (503 ``Retry-After``) instead of
growing: nothing accepted is dropped. On stop the queue is handed to the store for up to
``flush_seconds``; whatever is left is spooled to disk and replayed by the next start.
Depth, store state, writes, their latency and errors are in ``OtlpMetrics`` (``metrics``).

>>> queue = StoreQueue(client, capacity_rows=200_000, batch_rows=20_000, spool_dir=path)  # doctest: +SKIP
>>> await queue.start(); queue.offer("otel_traces", body, rows=500)  # doctest: +SKIP
>>> await queue.stop(flush_seconds=10)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from ..core.catalog import otlp as outcomes
from .client import TelemetryStoreClient, TelemetryStoreUnavailableError
from .metrics import SIGNAL_OF_TABLE, OtlpMetrics
from .queries import QueryParameterError
from .spool import CLAIMED as SPOOL_CLAIMED
from .spool import SUFFIX as SPOOL_SUFFIX
from .spool import batch_name, spooled_batch

logger = logging.getLogger(__name__)
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0
BATCH_BYTES = 32 << 20
"""Merged batches stop at this many bytes (the store refuses inserts over 256 MiB: a merge of
requests each answered 200 must never reach that, or it would be dropped whole)."""


@dataclass(slots=True)
class _Batch:
    table: str
    body: bytes
    rows: int
    spooled: list[Path] = field(default_factory=list)


class StoreQueue:
    """Bounded (by rows) queue of encoded batches, drained by one task to the store process."""

    def __init__(
        self,
        client: TelemetryStoreClient,
        *,
        capacity_rows: int,
        batch_rows: int,
        batch_bytes: int = BATCH_BYTES,
        spool_dir: Path | None = None,
        metrics: OtlpMetrics | None = None,
    ) -> None:
        self.client = client
        self.batch_bytes = batch_bytes
        self.capacity_rows = capacity_rows
        self.batch_rows = batch_rows
        self.spool_dir = spool_dir
        self._batches: deque[_Batch] = deque()
        self._rows = 0
        self._rows_by_table: dict[str, int] = {}
        self.metrics = metrics if metrics is not None else OtlpMetrics(CollectorRegistry())
        self.metrics.watch(
            queued=self._queued_of_signal,
            capacity=capacity_rows,
            store_up=lambda: self.store_up,
            spool_dir=spool_dir,
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.store_up = True
        self.delivered_rows = 0
        self.dropped_rows = 0  # batches the store refused as invalid (never retried)

    @property
    def queued_rows(self) -> int:
        return self._rows

    def _queued_of_signal(self, signal: str) -> int:
        # a snapshot: /metrics runs on a thread while the event loop adds tables
        return sum(rows for table, rows in tuple(self._rows_by_table.items()) if SIGNAL_OF_TABLE.get(table) == signal)

    def refusal(self, rows: int) -> str | None:
        """Why ``rows`` more would be refused now (a ``fanz_otlp_requests`` outcome), or None when they fit."""
        if self._stopping:
            return outcomes.NOT_READY
        if not self.store_up:
            return outcomes.STORE_UNAVAILABLE
        if self._rows + rows > self.capacity_rows:
            return outcomes.BACK_PRESSURE
        return None

    def accepts(self, rows: int) -> bool:
        """Whether ``rows`` more fit now (and the store is believed up)."""
        return self.refusal(rows) is None

    def offer(self, table: str, body: bytes, *, rows: int) -> bool:
        """Queue one encoded batch; False (nothing queued) when it does not fit."""
        if not self.accepts(rows):
            return False
        self._push(_Batch(table, body, rows))
        return True

    def _count(self, table: str, rows: int) -> None:
        self._rows += rows
        self._rows_by_table[table] = self._rows_by_table.get(table, 0) + rows

    def _push(self, batch: _Batch) -> None:
        self._batches.append(batch)
        self._count(batch.table, batch.rows)
        self._wake.set()

    async def start(self) -> None:
        self._replay_spool()
        self._task = asyncio.create_task(self._drain(), name="otlp-store-queue")

    def _next(self) -> _Batch:
        """The head batch merged with the following ones of the same table, up to ``batch_rows``
        and ``batch_bytes`` (the head alone may be larger: the receiver bounds each request)."""
        head = self._batches.popleft()
        parts, rows, size, spooled = [head.body], head.rows, len(head.body), list(head.spooled)
        while self._batches and self._batches[0].table == head.table:
            following = self._batches[0]
            if rows + following.rows > self.batch_rows or size + 1 + len(following.body) > self.batch_bytes:
                break
            self._batches.popleft()
            parts.append(following.body)
            rows += following.rows
            size += 1 + len(following.body)
            spooled += following.spooled
        return _Batch(head.table, b"\n".join(parts), rows, spooled)

    async def _drain(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            if not self._batches:
                if self._stopping:
                    return
                if not self.store_up:  # nothing to retry: probe until the store answers
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    self.store_up = await self.client.healthy()
                    continue
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._next()
            signal = SIGNAL_OF_TABLE.get(batch.table, "traces")
            started = time.perf_counter()
            try:
                await self.client.insert(batch.table, batch.body)
            except TelemetryStoreUnavailableError as exc:
                self.metrics.write_failed(signal, "unavailable")
                if self.store_up:
                    logger.warning("telemetry store unavailable; holding %d rows: %s", self._rows, exc)
                self.store_up = False
                self._batches.appendleft(batch)  # kept whole, retried first
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            except QueryParameterError as exc:  # the store refuses the batch itself: retrying cannot help
                logger.error("telemetry store refused a batch of %d rows: %s", batch.rows, exc)
                self.metrics.write_failed(signal, "refused")
                self.metrics.dropped(signal, batch.rows)
                self.dropped_rows += batch.rows
            except asyncio.CancelledError:  # stop() ran out of time mid-insert: the batch is spooled, not lost
                self._batches.appendleft(batch)
                raise
            except Exception:  # a bug or an odd answer must not end the drain (the receiver would 200 into a void)
                logger.exception("sending a batch of %d rows to the telemetry store failed; retrying", batch.rows)
                self.metrics.write_failed(signal, "error")
                self._batches.appendleft(batch)
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            else:
                self.metrics.written(signal, batch.rows, time.perf_counter() - started)
                self.delivered_rows += batch.rows
                if not self.store_up:
                    logger.info("telemetry store back; %d rows still queued", self._rows - batch.rows)
                self.store_up = True
            backoff = BACKOFF_FIRST
            self._count(batch.table, -batch.rows)
            for path in batch.spooled:
                path.unlink(missing_ok=True)

    async def stop(self, *, flush_seconds: float) -> None:
        """Refuse new batches, hand the queue to the store for up to ``flush_seconds``, spool the rest."""
        self._stopping = True
        self._wake.set()
        try:
            if self._task is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(self._task), timeout=flush_seconds)
                except TimeoutError:
                    self._task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._task
        finally:
            self._spool_rest()  # whatever the drain did not deliver, the batch in flight included

    # -- the spool: batches that outlive a stop ----------------------------------------------
    def _spool_rest(self) -> None:
        if not self._batches:
            return
        if self.spool_dir is None:
            logger.error("telemetry store unreachable at stop: %d rows lost (no spool dir)", self._rows)
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        kept = 0
        while self._batches:
            batch = self._batches.popleft()
            name = batch_name(batch.table, batch.rows)
            tmp = self.spool_dir / f".{name}.tmp"
            tmp.write_bytes(batch.body)
            tmp.replace(self.spool_dir / f"{name}{SPOOL_SUFFIX}")
            for path in batch.spooled:  # now in the new file
                path.unlink(missing_ok=True)
            kept += batch.rows
        logger.warning("telemetry store unreachable at stop: %d rows spooled to %s", kept, self.spool_dir)
        self._rows = 0
        self._rows_by_table.clear()

    def _replay_spool(self) -> None:
        """Queue the spooled batches of earlier runs (and of dead processes that had claimed some)."""
        if self.spool_dir is None or not self.spool_dir.is_dir():
            return
        for path in sorted(self.spool_dir.iterdir()):
            spooled = spooled_batch(path)
            if spooled is None:  # not a name this queue wrote (or a table the store lacks): never claim it
                if not path.name.startswith("."):
                    logger.warning("ignoring %s in the OTLP spool: not a spooled batch", path.name)
                continue
            if spooled.claimed_by is not None and _alive(spooled.claimed_by):
                continue
            claimed = path.with_suffix(f"{SPOOL_CLAIMED}{os.getpid()}")
            try:
                path.rename(claimed)  # each file is claimed by one worker of several
            except OSError:
                continue
            self._push(_Batch(spooled.table, claimed.read_bytes(), spooled.rows, [claimed]))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a file this process claimed in an earlier life (pid reused): take it back
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
