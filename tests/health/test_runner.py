"""The runner: timeouts, concurrency, cache, shared runs, background period, metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from _waiting import async_wait_until
from fanzwatch.core import ConfigError, FrozenClock, HealthStatus
from fanzwatch.health import CheckResult, HealthCheckRegistry, HealthCheckRunner, UnknownCheckError
from fanzwatch.health.testing import InMemoryCheck

from .conftest import START


def make_runner(registry: CollectorRegistry, *checks: InMemoryCheck, **kwargs: object) -> HealthCheckRunner:
    return HealthCheckRunner(list(checks), registry=registry, **kwargs)  # type: ignore[arg-type]


class GatedCheck(InMemoryCheck):
    """A check whose runs hold until the test opens ``gate`` (or all ``barrier`` parties arrive).

    With ``ignore_cancellation`` it keeps waiting when cancelled, like a client library that
    swallows cancellation; ``finished`` counts the runs that have ended.
    """

    def __init__(self, name: str, *, barrier: asyncio.Barrier | None = None, **kwargs: object) -> None:
        super().__init__(name, **kwargs)  # type: ignore[arg-type]
        self.gate, self.barrier, self.finished = asyncio.Event(), barrier, 0

    async def check(self) -> CheckResult:
        self.calls += 1
        try:
            while True:
                try:
                    await (self.barrier.wait() if self.barrier is not None else self.gate.wait())
                    break
                except asyncio.CancelledError:
                    if not self.ignore_cancellation:
                        raise
        finally:
            self.finished += 1
        return CheckResult(self.status, output=self.output)


async def test_checks_run_concurrently(registry: CollectorRegistry) -> None:
    # Each check passes only once all four are running at the same time; run one after the
    # other, the first would wait for the others until its timeout and fail.
    barrier = asyncio.Barrier(4)
    checks = [GatedCheck(f"c{i}", barrier=barrier, timeout=10) for i in range(4)]
    runner = make_runner(registry, *checks)
    report = await asyncio.wait_for(runner.health(), timeout=30)
    assert [(c.name, c.status, c.result.output) for c in report.checks] == [
        (f"c{i}", HealthStatus.PASS, "") for i in range(4)
    ]
    assert [c.calls for c in checks] == [1, 1, 1, 1]


async def test_each_check_has_its_own_timeout(registry: CollectorRegistry) -> None:
    slow = GatedCheck("slow", timeout=0.1)  # never answers: its gate stays shut
    fine = InMemoryCheck("fine", delay=0.15)  # longer than the slow one's timeout, under the default 2 s
    runner = make_runner(registry, slow, fine)
    report = await asyncio.wait_for(runner.health(), timeout=30)  # the slow check does not hold the report
    by_name = {c.name: c for c in report.checks}
    assert by_name["slow"].result == CheckResult(HealthStatus.FAIL, output="timed out after 0.1 s")
    assert by_name["slow"].duration >= 0.1
    assert (slow.calls, slow.finished) == (1, 1)  # cancelled at its timeout, not left running
    assert by_name["fine"].status is HealthStatus.PASS
    assert report.status is HealthStatus.FAIL


async def test_a_check_that_ignores_cancellation_is_abandoned_and_never_doubled(registry: CollectorRegistry) -> None:
    hung = GatedCheck("hung", timeout=0.05)
    hung.ignore_cancellation = True
    runner = make_runner(registry, hung, max_age=0)

    first = await asyncio.wait_for(runner.check("hung"), timeout=30)  # answers while the check hangs
    assert first.result.output == "timed out after 0.05 s"
    assert hung.finished == 0

    second = await runner.check("hung")  # the first run is still stuck: do not start another
    assert second.status is HealthStatus.FAIL
    assert second.result.output.startswith("timed out: the previous run has still not finished")
    assert hung.calls == 1

    hung.gate.set()  # the stuck run ends by itself
    await async_wait_until(lambda: hung.finished == 1, timeout=30, message="the released run did not end")
    hung.gate.clear()
    third = await runner.check("hung")
    assert hung.calls == 2
    assert third.result.output == "timed out after 0.05 s"
    hung.gate.set()
    await runner.stop()


async def test_results_are_cached_for_max_age(registry: CollectorRegistry, clock: FrozenClock) -> None:
    check = InMemoryCheck("db")
    runner = make_runner(registry, check, max_age=10.0, clock=clock)
    await runner.health()
    await runner.health()
    await runner.readiness()
    await runner.check("db")
    assert check.calls == 1
    clock.advance(timedelta(seconds=10))
    await runner.health()
    assert check.calls == 1
    clock.advance(timedelta(seconds=0.5))
    await runner.health()
    assert check.calls == 2
    await runner.run_now()  # explicit refresh ignores the cache
    assert check.calls == 3


async def test_concurrent_callers_share_one_run(registry: CollectorRegistry) -> None:
    check = InMemoryCheck("db", delay=0.05)
    runner = make_runner(registry, check)
    reports = await asyncio.gather(*(runner.health() for _ in range(100)))
    assert check.calls == 1
    assert len({id(r.checks[0]) for r in reports}) == 1


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_run(registry: CollectorRegistry) -> None:
    check = GatedCheck("db")
    runner = make_runner(registry, check)
    impatient = asyncio.create_task(runner.health())
    await async_wait_until(lambda: check.calls == 1, timeout=30, message="the run did not start")
    patient = asyncio.create_task(runner.health())
    await asyncio.sleep(0)  # the patient caller joins the run in flight
    impatient.cancel()
    await asyncio.wait({impatient})
    check.gate.set()  # the run ends only now, after the impatient caller left
    report = await asyncio.wait_for(patient, timeout=30)
    assert report.status is HealthStatus.PASS
    assert (check.calls, check.finished) == (1, 1)
    assert impatient.cancelled()


@pytest.mark.parametrize(
    ("critical", "status", "overall", "ready"),
    [
        (True, HealthStatus.PASS, HealthStatus.PASS, HealthStatus.PASS),
        (True, HealthStatus.WARN, HealthStatus.WARN, HealthStatus.WARN),
        (True, HealthStatus.FAIL, HealthStatus.FAIL, HealthStatus.FAIL),
        (False, HealthStatus.WARN, HealthStatus.WARN, HealthStatus.PASS),
        (False, HealthStatus.FAIL, HealthStatus.WARN, HealthStatus.PASS),
    ],
)
async def test_critical_flag_decides_what_a_failure_does(
    registry: CollectorRegistry, critical: bool, status: HealthStatus, overall: HealthStatus, ready: HealthStatus
) -> None:
    runner = make_runner(registry, InMemoryCheck("base"), InMemoryCheck("dep", status=status, critical=critical))
    assert (await runner.health()).status is overall
    assert (await runner.readiness()).status is ready
    assert (await runner.check("dep")).status is status  # one check alone shows its own status


async def test_readiness_runs_only_critical_checks(registry: CollectorRegistry) -> None:
    critical, optional = InMemoryCheck("db"), InMemoryCheck("cache", critical=False)
    runner = make_runner(registry, critical, optional)
    report = await runner.readiness()
    assert [c.name for c in report.checks] == ["db"]
    assert (critical.calls, optional.calls) == (1, 0)


async def test_an_exception_becomes_a_failure_with_its_message(registry: CollectorRegistry) -> None:
    check = InMemoryCheck("db")
    check.error = ConnectionRefusedError(111, "Connection refused")
    report = await make_runner(registry, check).check("db")
    assert report.result == CheckResult(
        HealthStatus.FAIL, output="ConnectionRefusedError: [Errno 111] Connection refused"
    )


async def test_unknown_check_names_the_known_ones(registry: CollectorRegistry) -> None:
    runner = make_runner(registry, InMemoryCheck("db"), InMemoryCheck("cache"))
    with pytest.raises(UnknownCheckError) as info:
        await runner.check("nope")
    assert str(info.value) == "no health check named 'nope'; known checks: cache, db"
    assert isinstance(info.value, KeyError)


async def test_background_runs_every_period_until_stopped(registry: CollectorRegistry) -> None:
    check = InMemoryCheck("db")
    runner = make_runner(registry, check, period=0.05, default_timeout=0.02)
    loop = asyncio.get_running_loop()
    async with runner:
        started = loop.time()
        assert runner.running
        await async_wait_until(lambda: check.calls >= 3, timeout=30, message="fewer than 3 background runs")
        elapsed = loop.time() - started
    assert not runner.running
    assert check.calls <= elapsed / 0.05 + 2  # one run per period (at 0, 0.05, 0.10, ...), never more often
    assert check.closed
    calls = check.calls
    await asyncio.sleep(0.2)  # four periods: a run would have been due
    assert check.calls == calls


async def test_stop_does_not_wait_for_a_hung_check(registry: CollectorRegistry) -> None:
    hung = GatedCheck("hung", timeout=1.0)  # hangs, ignoring cancellation, until the test opens its gate
    hung.ignore_cancellation = True
    runner = make_runner(registry, hung)
    await runner.start()
    await async_wait_until(lambda: hung.calls == 1, timeout=30, message="the background run did not start")
    await asyncio.wait_for(runner.stop(), timeout=30)
    assert hung.finished == 0  # stop returned while the check was still hung
    assert hung.closed
    hung.gate.set()
    await async_wait_until(lambda: hung.finished == 1, timeout=30, message="the released check did not end")


async def test_metrics_follow_the_catalog(registry: CollectorRegistry, clock: FrozenClock) -> None:
    ok, down = InMemoryCheck("db"), InMemoryCheck("cache", status=HealthStatus.FAIL, critical=False)
    runner = make_runner(registry, ok, down, platform="fanz-3", clock=clock)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"platform": "fanz-3", **labels})

    assert value("fanz_health_check_critical", check="db") == 1.0
    assert value("fanz_health_check_critical", check="cache") == 0.0
    assert value("fanz_health_check_status", check="db", status="pass") is None  # not run yet

    await runner.health()
    assert [value("fanz_health_check_status", check="db", status=s) for s in ("pass", "warn", "fail")] == [1, 0, 0]
    assert [value("fanz_health_check_status", check="cache", status=s) for s in ("pass", "warn", "fail")] == [0, 0, 1]
    assert value("fanz_health_check_duration_seconds_count", check="db") == 1.0
    assert value("fanz_health_check_last_success_timestamp_seconds", check="db") == START.timestamp()
    assert value("fanz_health_check_last_success_timestamp_seconds", check="cache") is None

    ok.set(HealthStatus.WARN, "slow")
    clock.advance(timedelta(seconds=60))
    await runner.health()
    assert [value("fanz_health_check_status", check="db", status=s) for s in ("pass", "warn", "fail")] == [0, 1, 0]
    assert value("fanz_health_check_duration_seconds_count", check="db") == 2.0
    assert value("fanz_health_check_last_success_timestamp_seconds", check="db") == START.timestamp() + 60


def test_timeouts_must_be_shorter_than_the_period(registry: CollectorRegistry) -> None:
    with pytest.raises(ConfigError, match=r"timeout 30 s must be shorter than the period 30 s"):
        make_runner(registry, InMemoryCheck("db", timeout=30), period=30)
    with pytest.raises(ConfigError, match=r"timeout 2 s must be shorter than the period 1 s"):
        make_runner(registry, InMemoryCheck("db"), period=1)


@pytest.mark.parametrize("name", ["Database", "1db", "db-main", "", "x" * 64, "db/../x"])
def test_check_names_must_be_label_and_url_safe(name: str) -> None:
    with pytest.raises(ConfigError, match="invalid health check name"):
        InMemoryCheck(name)
    with pytest.raises(ConfigError, match="invalid health check name"):
        HealthCheckRegistry([PlainCheck(name)])


class PlainCheck:
    """A check written against the protocol alone, without the built-ins' base class."""

    component_type, measurement, critical, timeout = "component", "status", True, None

    def __init__(self, name: str) -> None:
        self.name = name

    async def check(self) -> CheckResult:
        return CheckResult(HealthStatus.PASS, 1, "count")

    async def aclose(self) -> None:
        pass


async def test_any_object_following_the_protocol_is_a_check(registry: CollectorRegistry) -> None:
    report = await HealthCheckRunner([PlainCheck("plain")], registry=registry).check("plain")
    assert (report.status, report.result.observed_value, report.measurement) == (HealthStatus.PASS, 1, "status")


def test_registry_rejects_a_second_check_with_the_same_name() -> None:
    registry = HealthCheckRegistry([InMemoryCheck("db")])
    with pytest.raises(ConfigError, match="a health check named 'db' is already registered"):
        registry.register(InMemoryCheck("db"))
    assert registry.names == ("db",)
    assert "db" in registry and len(registry) == 1


def test_invalid_platform_label_is_refused(registry: CollectorRegistry) -> None:
    with pytest.raises(ConfigError, match="invalid platform 'FANZ 1'"):
        make_runner(registry, InMemoryCheck("db"), platform="FANZ 1")
