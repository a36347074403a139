"""``HttpPrometheus`` and ``HttpAlertmanager`` against the real binaries, and when they are down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fanzwatch.server.dash import (
    HttpAlertmanager,
    HttpPrometheus,
    Matcher,
    SilenceRequest,
    SourceRejectedError,
    SourceUnavailableError,
)

from .stack import Child, _alertmanager, _prometheus, free_port

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An empty real Prometheus (scraping itself) and a real Alertmanager."""
    work: Path = tmp_path_factory.mktemp("dash-clients")
    prom = _prometheus(work, free_port(), rules=None, alertmanager=None)
    am = _alertmanager(work, free_port())
    started: list[Child] = []
    try:
        for child in (prom, am):
            child.start()
            started.append(child)
        yield prom.url, am.url
    finally:
        for child in started:
            child.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_query_range_returns_aligned_series(binaries: tuple[str, str], http: httpx.AsyncClient) -> None:
    prom = HttpPrometheus(http, binaries[0])
    end = float(int(time.time()))
    (series,) = await prom.query_range("vector(2.5)", start=end - 60, end=end, step=15)
    assert dict(series.labels) == {}
    assert list(series.timestamps) == [end - 60 + 15 * i for i in range(5)]
    assert list(series.values) == [2.5] * 5
    assert await prom.query_range('absent_metric_xyz{platform="fanz-1"}', start=end - 60, end=end, step=15) == []


async def test_bad_promql_is_rejected_with_prometheus_reason(
    binaries: tuple[str, str], http: httpx.AsyncClient
) -> None:
    prom = HttpPrometheus(http, binaries[0])
    with pytest.raises(SourceRejectedError, match=r"^Prometheus rejected the query: .*parse error"):
        await prom.query_range("sum(rate(", start=0, end=60, step=15)


async def test_unreachable_prometheus_says_what_to_check(http: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnavailableError) as caught:
        await HttpPrometheus(http, url).query_range("up", start=0, end=60, step=15)
    assert str(caught.value) == (
        f"Prometheus is not reachable at {url} (ConnectError) — is `fanzwatch up` running, "
        "or is FANZWATCH_DASH_PROMETHEUS_URL right?"
    )


async def test_something_that_is_not_prometheus_is_named(binaries: tuple[str, str], http: httpx.AsyncClient) -> None:
    # Alertmanager answers /api/v1/query_range with its own 404 page: not the Prometheus API.
    with pytest.raises(SourceUnavailableError, match="is FANZWATCH_DASH_PROMETHEUS_URL pointing at Prometheus"):
        await HttpPrometheus(http, binaries[1]).query_range("up", start=0, end=60, step=15)


async def test_silence_round_trip(binaries: tuple[str, str], http: httpx.AsyncClient) -> None:
    am = HttpAlertmanager(http, binaries[1])
    now = datetime.now(UTC)
    await http.post(
        f"{binaries[1]}/api/v2/alerts",
        json=[
            {
                "labels": {"alertname": "HighErrorRate", "platform": "fanz-7", "severity": "critical"},
                "annotations": {"summary": "5xx above 5%", "runbook_url": "https://runbooks.test/HighErrorRate.md"},
                "startsAt": (now - timedelta(minutes=3)).isoformat(),
                "endsAt": (now + timedelta(hours=1)).isoformat(),
            }
        ],
    )
    (alert,) = [a for a in await am.alerts() if a.labels.get("platform") == "fanz-7"]
    assert (alert.name, alert.severity, alert.state) == ("HighErrorRate", "critical", "active")
    assert alert.annotations["runbook_url"] == "https://runbooks.test/HighErrorRate.md"
    assert abs((alert.starts_at - (now - timedelta(minutes=3))).total_seconds()) < 1

    request = SilenceRequest(
        matchers=(Matcher("alertname", "HighErrorRate"), Matcher("platform", "fanz-[0-9]+", is_regex=True)),
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="test",
        comment="round trip",
    )
    silence_id = await am.create_silence(request)
    (silence,) = [s for s in await am.silences() if s.id == silence_id]
    assert silence.state == "active"
    assert [str(m) for m in silence.matchers] == ['alertname="HighErrorRate"', 'platform=~"fanz-[0-9]+"']
    assert (silence.created_by, silence.comment) == ("test", "round trip")

    await am.expire_silence(silence_id)
    (expired,) = [s for s in await am.silences() if s.id == silence_id]
    assert expired.state == "expired"


async def test_alertmanager_refusals_are_rejections(binaries: tuple[str, str], http: httpx.AsyncClient) -> None:
    am = HttpAlertmanager(http, binaries[1])
    with pytest.raises(SourceRejectedError, match="is not a silence id"):
        await am.expire_silence("../../api/v2/status")
    with pytest.raises(SourceRejectedError, match=r"^Alertmanager refused: no such silence"):
        await am.expire_silence("00000000-0000-0000-0000-000000000000")
    now = datetime.now(UTC)
    backwards = SilenceRequest((Matcher("alertname", "X"),), now, now - timedelta(hours=1), "test", "ends first")
    with pytest.raises(SourceRejectedError, match=r"^Alertmanager refused: .*start time must be before end time"):
        await am.create_silence(backwards)


async def test_unreachable_alertmanager_says_what_to_check(http: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnavailableError, match=r"Alertmanager is not reachable at .* is `fanzwatch up` running"):
        await HttpAlertmanager(http, url).alerts()
