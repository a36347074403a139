"""The Prometheus exposition: one process, or every worker aggregated.

In prometheus_client multiprocess mode each worker writes its counters and
histograms to files in ``PROMETHEUS_MULTIPROC_DIR``; whichever worker answers the
scrape reads them all with ``MultiProcessCollector``, so totals are exact whatever
worker got each request. Collect-time collectors that are already process-independent
(the Redis active-users tracker) are added on top.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

logger = logging.getLogger("fanzwatch.sdk")


class Exposition:
    """Renders the metrics a scrape of this service must see."""

    def __init__(
        self, registry: CollectorRegistry, *, multiprocess_dir: Path | None, shared: Iterable[Collector] = ()
    ) -> None:
        self._own = registry
        self._dir = multiprocess_dir
        self._shared = list(shared)
        self._scrape_registry = self._build_scrape_registry()

    def _build_scrape_registry(self) -> CollectorRegistry:
        if self._dir is None:
            return self._own
        reg = CollectorRegistry()
        MultiProcessCollector(reg, path=str(self._dir))  # type: ignore[no-untyped-call]
        for collector in self._shared:
            reg.register(collector)
        return reg

    def add_shared(self, collector: Collector) -> None:
        """A collector whose values are the same from any worker (registered in both registries)."""
        self._shared.append(collector)
        if self._dir is not None:
            self._scrape_registry.register(collector)

    @property
    def registry(self) -> CollectorRegistry:
        """What a scrape collects (the aggregating registry in multiprocess mode)."""
        return self._scrape_registry

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition body and its content type, negotiated from ``Accept``."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self._scrape_registry), content_type


class MetricsPortServer:
    """The exposition on a separate port (never 9090), in a daemon thread.

    Under several workers only the first to bind serves the port; the others log it
    and rely on it, which is correct because it aggregates every worker's files.
    """

    def __init__(self, exposition: Exposition, *, host: str, port: int) -> None:
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=exposition.registry)
        except OSError as exc:
            logger.info("metrics port %s:%d not bound by this process (%s); another worker serves it", host, port, exc)

    @property
    def serving(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def mark_worker_dead(pid: int, multiprocess_dir: Path | None = None) -> None:
    """Drop a dead worker's live gauges; call from gunicorn's ``child_exit`` hook.

    >>> def child_exit(server, worker):  # gunicorn.conf.py
    ...     mark_worker_dead(worker.pid)
    """
    mark_process_dead(pid, str(multiprocess_dir) if multiprocess_dir else None)  # type: ignore[no-untyped-call]
