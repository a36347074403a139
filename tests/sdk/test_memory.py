"""``fanz_process_memory_limit_bytes``: cgroup v2, then v1, then configured, then total RAM."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from fanzwatch.sdk import build_telemetry
from fanzwatch.sdk._internal.memory import MemoryLimit, MemoryLimitCollector, memory_limit, total_ram_bytes
from fanzwatch.settings.telemetry import TelemetrySettings

MIB = 1 << 20
V1_UNLIMITED = "9223372036854771712"  # 2**63 - 1 rounded down to a 4 KiB page
LIMIT = "fanz_process_memory_limit_bytes"


def _host(tmp_path: Path, files: dict[str, str], proc_cgroup: str, mem_total_kb: int = 2_048_000) -> dict[str, Path]:
    """A fake /sys/fs/cgroup tree, /proc/self/cgroup and /proc/meminfo under ``tmp_path``."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    (tmp_path / "self_cgroup").write_text(proc_cgroup)
    (tmp_path / "meminfo").write_text(f"MemTotal:       {mem_total_kb} kB\nMemFree:         1000 kB\n")
    return {"cgroup_root": root, "proc_self_cgroup": tmp_path / "self_cgroup", "meminfo": tmp_path / "meminfo"}


V2_SELF = "0::/system.slice/app.service\n"
V1_SELF = "4:memory:/docker/abc\n1:cpu:/docker/abc\n0::/\n"


@pytest.mark.parametrize(
    ("files", "proc_cgroup", "configured", "expected"),
    [
        pytest.param(
            {"system.slice/app.service/memory.max": str(512 * MIB)},
            V2_SELF,
            None,
            MemoryLimit(512 * MIB, "cgroup {root}/system.slice/app.service/memory.max"),
            id="v2 own cgroup",
        ),
        pytest.param(
            {"system.slice/app.service/memory.max": "max", "system.slice/memory.max": str(256 * MIB)},
            V2_SELF,
            None,
            MemoryLimit(256 * MIB, "cgroup {root}/system.slice/memory.max"),
            id="v2 ancestor binds",
        ),
        pytest.param(
            {"memory.max": str(300 * MIB)},
            "0::/kubepods/pod1/ctr\n",
            None,
            MemoryLimit(300 * MIB, "cgroup {root}/memory.max"),
            id="v2 namespaced mount: own path absent, the mount root's limit",
        ),
        pytest.param(
            {"system.slice/app.service/memory.max": "max"},
            V2_SELF,
            1024 * MIB,
            MemoryLimit(1024 * MIB, "configured"),
            id="v2 max means none: configured",
        ),
        pytest.param(
            {"system.slice/app.service/memory.max": "max"},
            V2_SELF,
            None,
            MemoryLimit(2_048_000 * 1024, "total RAM"),
            id="v2 max means none: total RAM",
        ),
        pytest.param(
            {"memory/docker/abc/memory.limit_in_bytes": str(128 * MIB), "memory/memory.limit_in_bytes": V1_UNLIMITED},
            V1_SELF,
            999 * MIB,
            MemoryLimit(128 * MIB, "cgroup {root}/memory/docker/abc/memory.limit_in_bytes"),
            id="v1 own cgroup beats configured",
        ),
        pytest.param(
            {"memory/memory.limit_in_bytes": str(64 * MIB)},
            "",
            None,
            MemoryLimit(64 * MIB, "cgroup {root}/memory/memory.limit_in_bytes"),
            id="v1 root file, /proc/self/cgroup empty",
        ),
        pytest.param(
            {"memory/docker/abc/memory.limit_in_bytes": V1_UNLIMITED, "memory/memory.limit_in_bytes": V1_UNLIMITED},
            V1_SELF,
            None,
            MemoryLimit(2_048_000 * 1024, "total RAM"),
            id="v1 huge value means none",
        ),
        pytest.param(
            {"memory.max": "garbage"},
            "0::/../../etc\n",
            77 * MIB,
            MemoryLimit(77 * MIB, "configured"),
            id="unreadable values and path tricks ignored",
        ),
    ],
)
def test_memory_limit_sources(
    tmp_path: Path, files: dict[str, str], proc_cgroup: str, configured: int | None, expected: MemoryLimit
) -> None:
    paths = _host(tmp_path, files, proc_cgroup)
    want = MemoryLimit(expected.bytes, expected.source.format(root=paths["cgroup_root"]))
    assert memory_limit(configured, **paths) == want


def test_collector_exposes_the_limit_without_labels(tmp_path: Path) -> None:
    paths = _host(tmp_path, {"system.slice/app.service/memory.max": str(512 * MIB)}, V2_SELF)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        MemoryLimitCollector(
            cgroup_root=paths["cgroup_root"], proc_self_cgroup=paths["proc_self_cgroup"], meminfo=paths["meminfo"]
        )
    )
    assert registry.get_sample_value(LIMIT) == 512 * MIB
    # Read at every scrape: a limit changed at runtime shows up.
    (paths["cgroup_root"] / "system.slice/app.service/memory.max").write_text("max\n")
    assert registry.get_sample_value(LIMIT) == 2_048_000 * 1024


def test_a_failing_read_leaves_the_gauge_out_and_is_counted(tmp_path: Path) -> None:
    class Broken(MemoryLimitCollector):
        def read(self) -> MemoryLimit:
            raise PermissionError("denied")

    failures: list[str] = []
    registry = CollectorRegistry()
    registry.register(Broken(on_failure=failures.append))
    assert registry.get_sample_value(LIMIT) is None
    assert failures == ["memory_limit"]


def test_total_ram_falls_back_to_sysconf_when_meminfo_is_unreadable(tmp_path: Path) -> None:
    assert total_ram_bytes(tmp_path / "missing") == total_ram_bytes()  # this machine's /proc/meminfo
    assert total_ram_bytes(tmp_path / "missing") > 0


def test_configured_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="memory_limit_bytes"):
        TelemetrySettings(memory_limit_bytes=0)


def test_real_machine_exposes_limit_and_rss_from_the_service_registry() -> None:
    telemetry = build_telemetry(TelemetrySettings(service_name="mem", tracing=False, auto_instrument=()))
    try:
        registry = telemetry.exposition.registry
        limit = registry.get_sample_value(LIMIT)
        rss = registry.get_sample_value("process_resident_memory_bytes")
        assert limit is not None and limit > 0
        assert rss is not None and rss > 0
        assert limit == memory_limit().bytes
        body, _ = telemetry.render_metrics()
        assert body.count(f"\n{LIMIT} ".encode()) == 1
    finally:
        telemetry.shutdown()


def test_a_registry_that_already_has_process_metrics_is_left_alone() -> None:
    from prometheus_client import ProcessCollector

    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    telemetry = build_telemetry(TelemetrySettings(tracing=False, auto_instrument=()), registry=registry)
    try:
        assert registry.get_sample_value("process_resident_memory_bytes") is not None
        assert registry.get_sample_value(LIMIT) is not None
    finally:
        telemetry.shutdown()
