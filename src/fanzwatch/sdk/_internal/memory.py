"""``fanz_process_memory_limit_bytes``: how much memory this process may use.

The HighMemoryUsage alert divides ``process_resident_memory_bytes`` by this gauge, so
it must be the limit that actually gets the process OOM-killed:

1. the cgroup's limit: v2 ``memory.max`` (``max`` = none), else v1
   ``memory/memory.limit_in_bytes`` (a page-rounded 2**63 - 1 = none). The process's
   own cgroup (from ``/proc/self/cgroup``) and every ancestor up to the mount are
   read and the tightest limit wins, because an ancestor's limit binds too (systemd
   slices, Kubernetes pod vs container); inside a container the walk ends at the
   container's own root, which is where the ``/sys/fs/cgroup/memory.max`` of a
   namespaced mount lives;
2. else the configured ``TelemetrySettings.memory_limit_bytes``;
3. else the machine's RAM (``MemTotal`` of ``/proc/meminfo``, else ``os.sysconf``).

It is read at scrape time (a few small files), so a limit changed at runtime shows up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ...core.catalog import runtime

logger = logging.getLogger("fanzwatch.sdk")

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
PROC_MEMINFO = Path("/proc/meminfo")
# cgroup v1 writes "no limit" as 2**63 - 1 rounded down to a page; anything this large is none.
_UNLIMITED = 1 << 62


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    """A limit in bytes and where it came from (``cgroup <file>``, ``configured``, ``total RAM``)."""

    bytes: int
    source: str


def _limit_in(path: Path) -> int | None:
    try:
        raw = path.read_text().strip()
    except OSError:
        return None
    if not raw.isdigit():  # "max" (v2), or anything unexpected
        return None
    value = int(raw)
    return value if 0 < value < _UNLIMITED else None


def _own_cgroup_paths(proc_self_cgroup: Path) -> tuple[str, str]:
    """The process's (v2, v1 memory) cgroup paths; "/" when unknown."""
    v2 = v1 = "/"
    try:
        lines = proc_self_cgroup.read_text().splitlines()
    except OSError:
        return v2, v1
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            v2 = path or "/"
        elif "memory" in controllers.split(","):
            v1 = path or "/"
    return v2, v1


def _tightest(base: Path, cgroup_path: str, filename: str) -> tuple[int, Path] | None:
    """The smallest limit from ``base/cgroup_path`` up to ``base`` (missing levels skipped)."""
    best: tuple[int, Path] | None = None
    directory = base.joinpath(*[p for p in cgroup_path.split("/") if p and p != ".."])
    while True:
        found = _limit_in(directory / filename)
        if found is not None and (best is None or found < best[0]):
            best = (found, directory / filename)
        if directory == base:
            return best
        directory = directory.parent


def cgroup_memory_limit(
    *, cgroup_root: Path = CGROUP_ROOT, proc_self_cgroup: Path = PROC_SELF_CGROUP
) -> MemoryLimit | None:
    """The cgroup memory limit of this process (v2, else v1), None when there is none."""
    v2_path, v1_path = _own_cgroup_paths(proc_self_cgroup)
    hit = _tightest(cgroup_root, v2_path, "memory.max")
    if hit is None:
        hit = _tightest(cgroup_root / "memory", v1_path, "memory.limit_in_bytes")
    return MemoryLimit(hit[0], f"cgroup {hit[1]}") if hit is not None else None


def total_ram_bytes(meminfo: Path = PROC_MEMINFO) -> int:
    """The machine's RAM: ``MemTotal`` from ``/proc/meminfo``, else pages x page size."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                value, unit = line.split()[1:3]
                return int(value) * (1024 if unit == "kB" else 1)
    except (OSError, ValueError):
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def memory_limit(
    configured: int | None = None,
    *,
    cgroup_root: Path = CGROUP_ROOT,
    proc_self_cgroup: Path = PROC_SELF_CGROUP,
    meminfo: Path = PROC_MEMINFO,
) -> MemoryLimit:
    """The cgroup limit, else ``configured``, else total RAM."""
    found = cgroup_memory_limit(cgroup_root=cgroup_root, proc_self_cgroup=proc_self_cgroup)
    if found is not None:
        return found
    if configured is not None:
        return MemoryLimit(configured, "configured")
    return MemoryLimit(total_ram_bytes(meminfo), "total RAM")


class MemoryLimitCollector(Collector):
    """Exposes ``fanz_process_memory_limit_bytes`` (no labels), read at each scrape.

    A failure to read is logged and counted (``on_failure("memory_limit")``) and the
    gauge left out of that scrape; the rest of the scrape goes on.

    >>> registry.register(MemoryLimitCollector(settings.memory_limit_bytes))
    """

    def __init__(
        self,
        configured: int | None = None,
        *,
        cgroup_root: Path = CGROUP_ROOT,
        proc_self_cgroup: Path = PROC_SELF_CGROUP,
        meminfo: Path = PROC_MEMINFO,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._configured = configured
        self._on_failure = on_failure
        self._paths = {"cgroup_root": cgroup_root, "proc_self_cgroup": proc_self_cgroup, "meminfo": meminfo}

    def read(self) -> MemoryLimit:
        return memory_limit(self._configured, **self._paths)

    def collect(self) -> Iterator[Metric]:
        spec = runtime.MEMORY_LIMIT
        try:
            limit = self.read()
        except Exception:  # a scrape must never fail because of one gauge
            logger.exception("reading the process memory limit failed")
            if self._on_failure is not None:
                self._on_failure("memory_limit")
            return
        family = GaugeMetricFamily(spec.name, spec.help)
        family.add_metric([], float(limit.bytes))
        yield family

    def describe(self) -> Iterator[Metric]:
        # Registration checks names only: no file reads at start-up.
        yield GaugeMetricFamily(runtime.MEMORY_LIMIT.name, runtime.MEMORY_LIMIT.help)
