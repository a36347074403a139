"""The Redis check against the real Redis, one started by the test, killed and restarted."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from fanzwatch.core import ConfigError, HealthStatus
from fanzwatch.health import CheckResult, HealthCheckRunner, RedisCheck

from ._servers import Blackhole, RedisProcess, refused_port

pytestmark = pytest.mark.redis


@pytest.mark.redis
async def test_ping_and_info_on_the_machines_redis() -> None:
    check = RedisCheck("redis", url="redis://127.0.0.1:6379/0")
    try:
        result = await check.check()
    finally:
        await check.aclose()
    assert result.status is HealthStatus.PASS
    assert result.observed_unit == "s"
    assert set(result.details) == {
        "used_memory_bytes",
        "maxmemory_bytes",
        "memory_ratio",
        "connected_clients",
        "maxclients",
    }
    assert isinstance(result.details["used_memory_bytes"], int) and result.details["used_memory_bytes"] > 0
    assert isinstance(result.details["connected_clients"], int) and result.details["connected_clients"] >= 1


async def test_memory_near_maxmemory_warns(redis_process: RedisProcess) -> None:
    check = RedisCheck("redis", url=redis_process.url, memory_warn_ratio=0.5)
    try:
        before = await check.check()
        assert before.status is HealthStatus.PASS
        assert before.details["maxmemory_bytes"] == 0 and before.details["memory_ratio"] is None
        used = before.details["used_memory_bytes"]
        assert isinstance(used, int)
        with redis_process.client() as admin:
            admin.config_set("maxmemory", str(used + used // 2))  # used is about 2/3 of the limit
        after = await check.check()
    finally:
        await check.aclose()
    assert after.status is HealthStatus.WARN
    assert after.details["maxmemory_bytes"] == used + used // 2
    ratio = after.details["memory_ratio"]
    assert isinstance(ratio, float) and 0.5 <= ratio < 0.8
    assert after.output.startswith(f"used memory at {ratio:.0%} of maxmemory (")


async def test_killed_redis_fails_and_recovers_when_restarted(redis_process: RedisProcess) -> None:
    check = RedisCheck("redis", url=redis_process.url)
    runner = HealthCheckRunner([check], registry=CollectorRegistry(), max_age=0)
    try:
        assert (await runner.check("redis")).status is HealthStatus.PASS
        redis_process.kill()
        down = await runner.check("redis")  # the refusal within the check's timeout, not "timed out after 2 s"
        assert down.status is HealthStatus.FAIL
        assert down.result.output.startswith("ConnectionError: Error 111 connecting to 127.0.0.1:")
        assert "Connection refused" in down.result.output
        redis_process.start()
        assert (await runner.check("redis")).status is HealthStatus.PASS
    finally:
        await runner.stop()


async def test_connection_refused() -> None:
    with refused_port() as port:
        runner = HealthCheckRunner(
            [RedisCheck("redis", url=f"redis://127.0.0.1:{port}/0")], registry=CollectorRegistry()
        )
        report = await runner.check("redis")
        await runner.stop()
    assert report.result.output == (
        f"ConnectionError: Error 111 connecting to 127.0.0.1:{port}. "
        f"Connect call failed ('127.0.0.1', {port}). (Connection refused)"
    )


async def test_a_server_that_never_answers_times_out(blackhole: Blackhole) -> None:
    check = RedisCheck("redis", url=f"redis://127.0.0.1:{blackhole.port}/0", timeout=0.3)
    runner = HealthCheckRunner([check], registry=CollectorRegistry())
    report = await asyncio.wait_for(runner.check("redis"), timeout=30)
    assert report.result.output == "timed out after 0.3 s"  # cut off by its own timeout
    await runner.stop()


@pytest.mark.parametrize(
    ("info", "status", "output"),
    [
        ({"used_memory": 100, "maxmemory": 0, "connected_clients": 5, "maxclients": 10000}, "pass", ""),
        ({"used_memory": 899, "maxmemory": 1000, "connected_clients": 5, "maxclients": 10000}, "pass", ""),
        (
            {"used_memory": 900, "maxmemory": 1000, "connected_clients": 5, "maxclients": 10000},
            "warn",
            "used memory at 90% of maxmemory (900 of 1000 bytes)",
        ),
        (
            {"used_memory": 10, "maxmemory": 0, "connected_clients": 90, "maxclients": 100},
            "warn",
            "90 clients connected of maxclients 100",
        ),
    ],
)
def test_info_is_judged_against_the_thresholds(info: dict[str, int], status: str, output: str) -> None:
    check = RedisCheck("redis", url="redis://127.0.0.1:6379/0")
    result = check.judge(0.001, info)
    assert result == CheckResult(
        HealthStatus(status),
        0.001,
        "s",
        output,
        {
            "used_memory_bytes": info["used_memory"],
            "maxmemory_bytes": info["maxmemory"],
            "memory_ratio": round(info["used_memory"] / info["maxmemory"], 4) if info["maxmemory"] else None,
            "connected_clients": info["connected_clients"],
            "maxclients": info["maxclients"],
        },
    )


def test_thresholds_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"memory_warn_ratio must be in \(0, 1\]"):
        RedisCheck("redis", url="redis://127.0.0.1:6379/0", memory_warn_ratio=1.5)
