"""The host as the process sees it: its memory (RSS against its limit) and disk space."""

from __future__ import annotations

import os
import resource
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ConfigError
from ...core.models import HealthStatus
from .._check import CheckResult, ComponentType, JsonValue
from ._base import BaseCheck, BlockingCalls

# cgroup v1 writes "no limit" as a page-rounded 2**63 - 1; anything this large means none.
_UNLIMITED = 1 << 62
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    bytes: int
    source: str


def _read_limit(path: Path) -> int | None:
    try:
        raw = path.read_text().strip()
    except OSError:
        return None
    if raw == "max" or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value < _UNLIMITED else None


def _tightest(base: Path, cgroup_path: str, filename: str) -> tuple[int, Path] | None:
    """The smallest limit on the way from the process's cgroup up to the hierarchy's root.

    A limit set on an ancestor binds the process as well as its own, and inside a
    container the process's path may not exist in the mount at all (the walk then finds
    the container's own root).
    """
    best: tuple[int, Path] | None = None
    directory = base / cgroup_path.lstrip("/")
    while True:
        limit = _read_limit(directory / filename)
        if limit is not None and (best is None or limit < best[0]):
            best = (limit, directory / filename)
        if directory == base or base not in directory.parents:
            return best
        directory = directory.parent


def cgroup_memory_limit(*, proc_cgroup: Path = PROC_SELF_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> MemoryLimit | None:
    """The memory limit of this process's cgroup (v2 ``memory.max`` or v1 ``memory.limit_in_bytes``)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    found: list[tuple[int, Path]] = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers and (cgroup_root / "cgroup.controllers").exists():
            hit = _tightest(cgroup_root, path, "memory.max")
        elif "memory" in controllers.split(","):
            hit = _tightest(cgroup_root / "memory", path, "memory.limit_in_bytes")
        else:
            continue
        if hit is not None:
            found.append(hit)
    if not found:
        return None
    limit, where = min(found)
    return MemoryLimit(limit, f"cgroup {where}")


def process_rss_bytes(statm: Path = Path("/proc/self/statm")) -> tuple[int, str]:
    """Resident set size now, from ``/proc``; elsewhere the peak from ``getrusage``."""
    try:
        pages = int(statm.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE"), "rss"
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak if sys.platform == "darwin" else peak * 1024), "peak_rss"


def physical_memory_bytes() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _check_ratios(name: str, warn: float, fail: float) -> None:
    if not 0 < warn <= fail <= 1:
        raise ConfigError(f"health check {name!r}: need 0 < warn ratio <= fail ratio <= 1", setting="ratio")


class MemoryCheck(BaseCheck):
    """This process's RSS against its memory limit.

    The limit is ``limit_bytes`` when configured, else the cgroup's (v2, then v1, the
    tightest on the path to the root), else the machine's RAM. Warns at ``warn_ratio``,
    fails at ``fail_ratio``: a process about to be OOM-killed should stop taking traffic.

    >>> MemoryCheck("memory", warn_ratio=0.8, fail_ratio=0.95)
    """

    component_type = ComponentType.SYSTEM
    measurement = "utilization"

    def __init__(
        self,
        name: str = "memory",
        *,
        limit_bytes: int | None = None,
        warn_ratio: float = 0.8,
        fail_ratio: float = 0.95,
        proc_cgroup: Path = PROC_SELF_CGROUP,
        cgroup_root: Path = CGROUP_ROOT,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        _check_ratios(name, warn_ratio, fail_ratio)
        if limit_bytes is not None and limit_bytes <= 0:
            raise ConfigError(f"memory check {name!r}: limit_bytes must be positive", setting="limit_bytes")
        self.limit_bytes, self.warn_ratio, self.fail_ratio = limit_bytes, warn_ratio, fail_ratio
        self._proc_cgroup, self._cgroup_root = proc_cgroup, cgroup_root

    def limit(self) -> MemoryLimit:
        if self.limit_bytes is not None:
            return MemoryLimit(self.limit_bytes, "configured")
        found = cgroup_memory_limit(proc_cgroup=self._proc_cgroup, cgroup_root=self._cgroup_root)
        return found or MemoryLimit(physical_memory_bytes(), "physical memory")

    async def check(self) -> CheckResult:
        rss, kind = process_rss_bytes()
        limit = self.limit()
        ratio = round(rss / limit.bytes, 4)
        details: dict[str, JsonValue] = {f"{kind}_bytes": rss, "limit_bytes": limit.bytes, "limit_source": limit.source}
        status, output = HealthStatus.PASS, ""
        if ratio >= self.warn_ratio:
            status = HealthStatus.FAIL if ratio >= self.fail_ratio else HealthStatus.WARN
            output = f"RSS {rss} bytes is {ratio:.0%} of the {limit.source} limit of {limit.bytes} bytes"
        return CheckResult(status, ratio, "ratio", output=output, details=details)


class DiskCheck(BaseCheck):
    """Free space of the configured paths (the data directory, the media directory...).

    ``observedValue`` is the used ratio of the fullest path. Each path warns at
    ``warn_used_ratio`` and fails at ``fail_used_ratio`` or when fewer than
    ``min_free_bytes`` remain; a path that does not exist fails, saying so. Space is
    counted as an unprivileged process sees it (blocks reserved for root count as used).

    >>> DiskCheck("disk", ["/var/lib/fanzwatch"], min_free_bytes=1 << 30)
    """

    component_type = ComponentType.SYSTEM
    measurement = "utilization"

    def __init__(
        self,
        name: str,
        paths: Sequence[str | Path],
        *,
        warn_used_ratio: float = 0.85,
        fail_used_ratio: float = 0.95,
        min_free_bytes: int | None = None,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        if not paths:
            raise ConfigError(f"disk check {name!r}: give at least one path", setting="paths")
        _check_ratios(name, warn_used_ratio, fail_used_ratio)
        self.paths = tuple(Path(p) for p in paths)
        self.warn_used_ratio, self.fail_used_ratio, self.min_free_bytes = (
            warn_used_ratio,
            fail_used_ratio,
            min_free_bytes,
        )
        self._blocking = BlockingCalls()  # statvfs on a hung network mount blocks

    async def check(self) -> CheckResult:
        return await self._blocking.run(self._measure)

    def _measure(self) -> CheckResult:
        statuses: list[HealthStatus] = []
        problems: list[str] = []
        details: dict[str, JsonValue] = {}
        fullest: float | None = None
        for path in self.paths:
            if not path.exists():
                statuses.append(HealthStatus.FAIL)
                problems.append(f"{path} does not exist")
                continue
            usage = shutil.disk_usage(path)
            used = round(1 - usage.free / usage.total, 4) if usage.total else 1.0
            fullest = used if fullest is None else max(fullest, used)
            details[str(path)] = {"free_bytes": usage.free, "total_bytes": usage.total, "used_ratio": used}
            status = HealthStatus.PASS
            if used >= self.fail_used_ratio or (self.min_free_bytes is not None and usage.free < self.min_free_bytes):
                status = HealthStatus.FAIL
            elif used >= self.warn_used_ratio:
                status = HealthStatus.WARN
            if status is not HealthStatus.PASS:
                problems.append(f"{path} is {used:.0%} full ({usage.free} bytes free)")
            statuses.append(status)
        return CheckResult(HealthStatus.worst(statuses), fullest, "ratio", output="; ".join(problems), details=details)
