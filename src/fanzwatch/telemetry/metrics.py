"""The traces and logs pipeline's own metrics, built from the catalog into the server's registry.

Every (signal, outcome) child exists from the start at 0, so a rate or an increase sees the
first refusal. Queue depth, store state and the spool are read when Prometheus scrapes
(``watch``): the spool is measured on disk, so batches spooled by another worker count too.

>>> metrics = OtlpMetrics(CollectorRegistry())
>>> metrics.request("traces", "accepted"); metrics.records("traces", "accepted", 512)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..core.catalog import MetricKind, MetricSpec
from ..core.catalog import otlp as catalog
from .schema import LOGS_TABLE, TRACES_TABLE
from .spool import spooled_batch

SIGNAL_OF_TABLE = {TRACES_TABLE: "traces", LOGS_TABLE: "logs"}


def spool_usage(spool_dir: Path | None) -> tuple[int, int]:
    """``(files, bytes)`` of the batches in ``spool_dir`` the queue writes or claims (not foreign files)."""
    if spool_dir is None:
        return 0, 0
    files = size = 0
    try:
        entries = list(spool_dir.iterdir())
    except OSError:  # not created yet (nothing ever spooled), or gone
        return 0, 0
    for path in entries:
        if spooled_batch(path) is None:
            continue
        try:
            size += path.stat().st_size
        except OSError:  # delivered and removed between listing and stat
            continue
        files += 1
    return files, size


def _counter(spec: MetricSpec, registry: CollectorRegistry) -> Counter:
    if spec.kind is not MetricKind.COUNTER:
        raise ValueError(f"{spec.name} is not a counter in the catalog")
    return Counter(spec.name, spec.help, spec.label_names, registry=registry)


def _gauge(spec: MetricSpec, registry: CollectorRegistry) -> Gauge:
    if spec.kind is not MetricKind.GAUGE:
        raise ValueError(f"{spec.name} is not a gauge in the catalog")
    return Gauge(spec.name, spec.help, spec.label_names, registry=registry)


class OtlpMetrics:
    """Counters, gauges and the write-latency histogram of one server's receiver and queue."""

    def __init__(self, registry: CollectorRegistry) -> None:
        c = catalog
        self._requests = _counter(c.OTLP_REQUESTS, registry)
        self._records = _counter(c.OTLP_RECORDS, registry)
        self._stored = _counter(c.OTLP_STORED_RECORDS, registry)
        self._dropped = _counter(c.OTLP_DROPPED_RECORDS, registry)
        self._write_errors = _counter(c.OTLP_STORE_WRITE_ERRORS, registry)
        spec = c.OTLP_STORE_WRITE_DURATION
        if spec.kind is not MetricKind.HISTOGRAM or spec.buckets is None:
            raise ValueError(f"{spec.name} is not a histogram in the catalog")
        self._write_seconds = Histogram(spec.name, spec.help, spec.label_names, buckets=spec.buckets, registry=registry)
        self._queued = _gauge(c.OTLP_QUEUED_RECORDS, registry)
        self._capacity = _gauge(c.OTLP_QUEUE_CAPACITY, registry)
        self._store_up = _gauge(c.OTLP_STORE_UP, registry)
        self._spool_files = _gauge(c.OTLP_SPOOL_FILES, registry)
        self._spool_bytes = _gauge(c.OTLP_SPOOL_BYTES, registry)
        for signal in c.SIGNALS:
            for outcome in c.REQUEST_OUTCOMES:
                self._requests.labels(signal, outcome)
            for outcome in c.RECORD_OUTCOMES:
                self._records.labels(signal, outcome)
            for error in c.WRITE_ERRORS:
                self._write_errors.labels(signal, error)
            self._stored.labels(signal)
            self._dropped.labels(signal)
            self._write_seconds.labels(signal)
        self.watch(queued=lambda _signal: 0, capacity=0, store_up=lambda: True, spool_dir=None)

    def watch(
        self,
        *,
        queued: Callable[[str], int],
        capacity: int,
        store_up: Callable[[], bool],
        spool_dir: Path | None,
    ) -> None:
        """Read the queue's depth (per signal), the store's state and the spool at scrape time."""
        for signal in catalog.SIGNALS:
            self._queued.labels(signal).set_function(functools.partial(queued, signal))
        self._capacity.set(capacity)
        self._store_up.set_function(lambda: 1.0 if store_up() else 0.0)
        self._spool_files.set_function(lambda: spool_usage(spool_dir)[0])
        self._spool_bytes.set_function(lambda: spool_usage(spool_dir)[1])

    def request(self, signal: str, outcome: str) -> None:
        self._requests.labels(signal, outcome).inc()

    def records(self, signal: str, outcome: str, n: int) -> None:
        if n:
            self._records.labels(signal, outcome).inc(n)

    def written(self, signal: str, rows: int, seconds: float) -> None:
        self._stored.labels(signal).inc(rows)
        self._write_seconds.labels(signal).observe(seconds)

    def write_failed(self, signal: str, error: str) -> None:
        self._write_errors.labels(signal, error).inc()

    def dropped(self, signal: str, rows: int) -> None:
        self._dropped.labels(signal).inc(rows)
