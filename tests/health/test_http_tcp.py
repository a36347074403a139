"""HTTP and TCP checks against real local servers: healthy, failing, slow, refused, silent."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

from fanzwatch.core import ConfigError, HealthStatus
from fanzwatch.health import CheckResult, HealthCheckRunner, HttpCheck, TcpCheck
from fanzwatch.health.checks import redact_url

from ._servers import Blackhole, CountingHttpServer, refused_port


async def run_one(check: HttpCheck | TcpCheck) -> CheckResult:
    runner = HealthCheckRunner([check], registry=CollectorRegistry())
    try:
        return (await runner.check(check.name)).result
    finally:
        await runner.stop()


async def test_healthy_dependency_passes_with_its_latency(http_dependency: CountingHttpServer) -> None:
    result = await run_one(HttpCheck("payment_processor", http_dependency.url))
    assert result.status is HealthStatus.PASS
    assert result.observed_unit == "s"
    assert isinstance(result.observed_value, float) and 0 < result.observed_value < 1
    assert result.details == {"status_code": 200}
    assert http_dependency.hits == 1


@pytest.mark.parametrize(
    ("status", "body", "expected", "output"),
    [
        (503, {"status": "fail"}, HealthStatus.FAIL, "GET http://127.0.0.1:{port}/health answered HTTP 503"),
        (500, None, HealthStatus.FAIL, "GET http://127.0.0.1:{port}/health answered HTTP 500"),
        (404, None, HealthStatus.FAIL, "GET http://127.0.0.1:{port}/health answered HTTP 404"),
        (200, {"status": "warn"}, HealthStatus.WARN, "http://127.0.0.1:{port}/health reports status warn"),
        (200, {"status": "pass"}, HealthStatus.PASS, ""),
    ],
)
async def test_status_codes_and_the_dependencys_own_status(
    http_dependency: CountingHttpServer,
    status: int,
    body: dict[str, object] | None,
    expected: HealthStatus,
    output: str,
) -> None:
    http_dependency.answer(status, body, content_type="application/health+json")
    result = await run_one(HttpCheck("payment_processor", http_dependency.url))
    assert (result.status, result.output) == (expected, output.format(port=http_dependency.port))
    assert result.details == {"status_code": status}


async def test_expected_status_and_redirects(http_dependency: CountingHttpServer) -> None:
    http_dependency.answer(302, None, headers={"Location": "/elsewhere"})
    redirected = await run_one(HttpCheck("dep", http_dependency.url))
    assert redirected.status is HealthStatus.FAIL  # never followed: a health URL must answer itself
    http_dependency.answer(204, None)
    assert (await run_one(HttpCheck("dep", http_dependency.url, expected_status={204}))).status is HealthStatus.PASS
    assert (await run_one(HttpCheck("dep", http_dependency.url, expected_status={200}))).status is HealthStatus.FAIL


async def test_slow_answer_warns(http_dependency: CountingHttpServer) -> None:
    http_dependency.behaviour.delay = 0.15
    result = await run_one(HttpCheck("dep", http_dependency.url, slow_after=0.05))
    assert result.status is HealthStatus.WARN
    assert isinstance(result.observed_value, float) and result.observed_value >= 0.15
    assert result.output == f"answered in {result.observed_value:.3f} s, slower than 0.05 s"


async def test_shared_client_is_used_and_left_open(http_dependency: CountingHttpServer) -> None:
    async with httpx.AsyncClient() as client:
        check = HttpCheck("dep", http_dependency.url, client=client)
        assert (await check.check()).status is HealthStatus.PASS
        await check.aclose()
        assert not client.is_closed


async def test_connection_refused_fails_at_once() -> None:
    with refused_port() as port:
        result = await run_one(HttpCheck("dep", f"http://127.0.0.1:{port}/health", timeout=10))
    assert result == CheckResult(  # the refusal, not "timed out after 10 s"
        HealthStatus.FAIL, output="ConnectError: All connection attempts failed (Connection refused)"
    )


async def test_a_server_that_accepts_and_never_answers_times_out(blackhole: Blackhole) -> None:
    result = await run_one(HttpCheck("dep", f"http://127.0.0.1:{blackhole.port}/health", timeout=0.25))
    assert result == CheckResult(HealthStatus.FAIL, output="timed out after 0.25 s")  # cut off by its own timeout
    assert blackhole.accepted == 1  # and not tried again


async def test_credentials_and_query_never_reach_the_output(http_dependency: CountingHttpServer) -> None:
    http_dependency.answer(503, None)
    url = f"http://user:s3cret@127.0.0.1:{http_dependency.port}/health?token=abc"
    result = await run_one(HttpCheck("dep", url))
    assert result.output == f"GET http://127.0.0.1:{http_dependency.port}/health answered HTTP 503"
    assert redact_url("https://a:b@host/p?q=1#f") == "https://host/p"


def test_only_http_urls() -> None:
    with pytest.raises(ConfigError, match="url must be http:// or https://"):
        HttpCheck("dep", "ftp://example.org/health")


async def test_tcp_connect_passes_on_a_listening_port(http_dependency: CountingHttpServer) -> None:
    result = await run_one(TcpCheck("broker", "127.0.0.1", http_dependency.port))
    assert result.status is HealthStatus.PASS and result.observed_unit == "s"


async def test_tcp_connection_refused() -> None:
    with refused_port() as port:
        result = await run_one(TcpCheck("broker", "127.0.0.1", port))
    assert result == CheckResult(
        HealthStatus.FAIL,
        output=f"cannot connect to 127.0.0.1:{port}: Connection refused",
    )
