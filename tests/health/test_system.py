"""Memory (RSS against the cgroup or configured limit) and disk space checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fanzwatch.core import ConfigError, HealthStatus
from fanzwatch.health import DiskCheck, MemoryCheck
from fanzwatch.health.checks import MemoryLimit, cgroup_memory_limit, process_rss_bytes


def test_rss_is_read_from_proc() -> None:
    rss, kind = process_rss_bytes()
    assert kind == "rss"
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    assert abs(rss - pages * os.sysconf("SC_PAGE_SIZE")) < 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("factor", "status"),
    [(0.5, HealthStatus.PASS), (0.87, HealthStatus.WARN), (1.2, HealthStatus.FAIL)],
)
async def test_rss_against_a_configured_limit(factor: float, status: HealthStatus) -> None:
    rss, _ = process_rss_bytes()
    limit = int(rss / factor)
    result = await MemoryCheck("memory", limit_bytes=limit).check()
    assert result.status is status
    assert result.observed_unit == "ratio"
    assert result.observed_value == pytest.approx(factor, abs=0.02)
    assert result.details["limit_bytes"] == limit
    assert result.details["limit_source"] == "configured"
    if status is not HealthStatus.PASS:
        assert result.output.startswith("RSS ") and result.output.endswith(f"of the configured limit of {limit} bytes")


async def test_without_configuration_the_cgroup_or_ram_is_the_limit() -> None:
    result = await MemoryCheck("memory").check()
    found = cgroup_memory_limit()
    expected = found.bytes if found else os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert result.details["limit_bytes"] == expected
    assert result.details["limit_source"] == (found.source if found else "physical memory")


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_cgroup_v2_takes_the_tightest_limit_up_to_the_root(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "proc_cgroup": "0::/kubepods/pod1/ctr\n",
            "fs/cgroup.controllers": "cpu memory",
            "fs/kubepods/memory.max": "max\n",
            "fs/kubepods/pod1/memory.max": "536870912\n",
            "fs/kubepods/pod1/ctr/memory.max": "1073741824\n",
        },
    )
    limit = cgroup_memory_limit(proc_cgroup=tmp_path / "proc_cgroup", cgroup_root=tmp_path / "fs")
    assert limit == MemoryLimit(536870912, f"cgroup {tmp_path / 'fs/kubepods/pod1/memory.max'}")


def test_cgroup_v2_inside_a_container_namespace(tmp_path: Path) -> None:
    # With a cgroup namespace the process sees "/" and its limit sits at the mount's root.
    _tree(tmp_path, {"proc_cgroup": "0::/\n", "fs/cgroup.controllers": "memory", "fs/memory.max": "268435456\n"})
    limit = cgroup_memory_limit(proc_cgroup=tmp_path / "proc_cgroup", cgroup_root=tmp_path / "fs")
    assert limit is not None and limit.bytes == 268435456


def test_cgroup_v1_and_its_unlimited_value(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "proc_cgroup": "12:pids:/docker/abc\n4:memory:/docker/abc\n0::/\n",
            "fs/memory/memory.limit_in_bytes": "9223372036854771712\n",
            "fs/memory/docker/abc/memory.limit_in_bytes": "2147483648\n",
        },
    )
    limit = cgroup_memory_limit(proc_cgroup=tmp_path / "proc_cgroup", cgroup_root=tmp_path / "fs")
    assert limit == MemoryLimit(2147483648, f"cgroup {tmp_path / 'fs/memory/docker/abc/memory.limit_in_bytes'}")
    (tmp_path / "fs/memory/docker/abc/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert cgroup_memory_limit(proc_cgroup=tmp_path / "proc_cgroup", cgroup_root=tmp_path / "fs") is None


async def test_memory_check_uses_the_cgroup_limit(tmp_path: Path) -> None:
    rss, _ = process_rss_bytes()
    _tree(tmp_path, {"cg": "0::/app\n", "fs/cgroup.controllers": "memory", "fs/app/memory.max": f"{rss}\n"})
    check = MemoryCheck("memory", proc_cgroup=tmp_path / "cg", cgroup_root=tmp_path / "fs")
    result = await check.check()
    assert result.status is HealthStatus.FAIL  # at (or just past) its limit: about to be OOM-killed
    assert result.details["limit_source"] == f"cgroup {tmp_path / 'fs/app/memory.max'}"


def test_memory_ratios_are_validated() -> None:
    with pytest.raises(ConfigError, match="need 0 < warn ratio <= fail ratio <= 1"):
        MemoryCheck("memory", warn_ratio=0.9, fail_ratio=0.8)


async def test_disk_free_space_of_real_paths(tmp_path: Path) -> None:
    result = await DiskCheck("disk", [tmp_path], warn_used_ratio=0.999, fail_used_ratio=1.0).check()
    usage = shutil.disk_usage(tmp_path)
    assert result.status is HealthStatus.PASS
    assert result.observed_unit == "ratio"
    assert result.observed_value == pytest.approx(1 - usage.free / usage.total, abs=0.001)
    entry = result.details[str(tmp_path)]
    assert isinstance(entry, dict) and entry["total_bytes"] == usage.total


async def test_missing_disk_path_fails_and_says_which(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    result = await DiskCheck("disk", [tmp_path, missing], warn_used_ratio=0.999, fail_used_ratio=1.0).check()
    assert result.status is HealthStatus.FAIL
    assert result.output == f"{missing} does not exist"
    assert list(result.details) == [str(tmp_path)]


async def test_disk_thresholds(tmp_path: Path) -> None:
    usage = shutil.disk_usage(tmp_path)
    used = round(1 - usage.free / usage.total, 4)
    warn = await DiskCheck("disk", [tmp_path], warn_used_ratio=used / 2, fail_used_ratio=1.0).check()
    assert warn.status is HealthStatus.WARN
    assert warn.output.startswith(f"{tmp_path} is {used:.0%} full (")
    low = await DiskCheck(
        "disk", [tmp_path], fail_used_ratio=1.0, warn_used_ratio=1.0, min_free_bytes=usage.total
    ).check()
    assert low.status is HealthStatus.FAIL


def test_disk_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="give at least one path"):
        DiskCheck("disk", [])
