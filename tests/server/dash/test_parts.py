"""The pure parts: time ranges and variables, number formats, chart payloads, silence matchers,
the health history ring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from _waiting import async_wait_until
from fanzwatch.core.clock import FrozenClock
from fanzwatch.core.models import HealthStatus
from fanzwatch.health import HealthCheckRunner
from fanzwatch.health.testing import InMemoryCheck
from fanzwatch.provisioning.promql import check_expression
from fanzwatch.server.dash import HealthHistory
from fanzwatch.server.dash.charts import chart, legend
from fanzwatch.server.dash.formatting import fmt, fmt_growth
from fanzwatch.server.dash.page_rum import VITALS, trend_query
from fanzwatch.server.dash.pulse import PULSE
from fanzwatch.server.dash.silences import SilenceFormError, parse_matchers
from fanzwatch.server.dash.timerange import RangeError, nice_step, resolve, time_range

from .fakes import NOW


@pytest.mark.parametrize(("key", "step"), [("15m", 5.0), ("1h", 15.0), ("6h", 120.0), ("24h", 300.0), ("7d", 1800.0)])
def test_ranges_get_nice_steps_within_the_point_budget(key: str, step: float) -> None:
    rng = time_range(key, now=1_000_000_123.0, max_points=360)
    assert rng.step == step
    assert rng.end % step == 0 and rng.end <= 1_000_000_123.0
    assert (rng.end - rng.start) / rng.step + 1 <= 361


def test_short_ranges_never_step_below_the_scrape_interval() -> None:
    assert time_range("15m", now=1_000_000_000.0, max_points=360, min_step=15).step == 15.0
    assert time_range("1h", now=1_000_000_000.0, max_points=360, min_step=120).step == 120.0
    assert nice_step(10 * 86400, 10) == 86400.0 * 2


def test_unknown_range_is_refused() -> None:
    with pytest.raises(RangeError, match="range '2y' is not offered"):
        time_range("2y", now=0, max_points=100)


def test_variables_are_resolved_like_grafana() -> None:
    rng = time_range("6h", now=1_000_000_000.0, max_points=360)
    expr = 'rate(x{platform=~"$platform"}[$__rate_interval]) + $__interval_ms + rate(y[$__interval]) + $__range_s'
    assert resolve(expr, platform="fanz-2", rng=rng, scrape_interval=15) == (
        'rate(x{platform=~"fanz-2"}[135s]) + 120000 + rate(y[120s]) + 21600'
    )
    assert resolve('up{platform=~"$platform"}[$__range]', platform=None, rng=rng, scrape_interval=30) == (
        'up{platform=~".+"}[21600s]'
    )
    with pytest.raises(RangeError, match="not platform slugs"):
        resolve('up{platform=~"$platform"}', platform='a"}) or vector(1', rng=rng, scrape_interval=15)


@pytest.mark.parametrize("signal", PULSE, ids=lambda s: s.key)
@pytest.mark.parametrize("last_week", [False, True])
def test_pulse_queries_name_only_catalog_series(signal: object, last_week: bool) -> None:
    rng = time_range("6h", now=1_000_000_000.0, max_points=360)
    expr = resolve(signal.query(last_week=last_week), platform="fanz-1", rng=rng, scrape_interval=15)  # type: ignore[attr-defined]
    assert check_expression(expr) == []
    assert ("offset 1w" in expr) is last_week


@pytest.mark.parametrize("vital", VITALS)
def test_rum_trend_queries_name_only_catalog_series(vital: str) -> None:
    rng = time_range("24h", now=1_000_000_000.0, max_points=360)
    assert check_expression(resolve(trend_query(vital), platform=None, rng=rng, scrape_interval=15)) == []


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (None, "ratio", "–"),
        (float("nan"), "", "–"),
        (0.0123, "ratio", "1.23%"),
        (0.953, "ratio", "95.3%"),
        (0.25, "seconds", "250 ms"),
        (2.5, "seconds", "2.5 s"),
        (90, "seconds", "1.5 min"),
        (1536, "bytes", "1.5 KiB"),
        (3 * 2**30, "bytes", "3.0 GiB"),
        (12345.5, "currency", "12,345.50"),
        (31.2, "requests_per_second", "31.2 req/s"),
        (0.004, "registrations/s", "0.004/s"),
        (15_300.0, "count", "15.3k"),
        (15_300, "count", "15,300"),
        (1234, "count", "1,234"),
        (0.0625, "score", "0.0625"),
    ],
)
def test_numbers_read_as_people_expect(value: object, unit: str, shown: str) -> None:
    assert fmt(value, unit) == shown


def test_growth_labels() -> None:
    assert (fmt_growth(12.46), fmt_growth(-3.0), fmt_growth(None, "new"), fmt_growth(None)) == (
        "+12.5%",
        "-3.0%",
        "new",
        "n/a",
    )


def test_legends_expand_labels_like_grafana() -> None:
    labels = {"platform": "fanz-1", "http_route": "/feed", "__name__": "x"}
    assert legend("{{platform}} {{ http_route }} {{missing}}", labels) == "fanz-1 /feed"
    assert legend("", labels) == "http_route=/feed, platform=fanz-1"
    assert legend("", {}) == "value"


def test_chart_aligns_series_and_breaks_each_line_over_its_own_gaps() -> None:
    drawn = chart(
        "t",
        "count",
        [("a", [0, 60, 120, 600, 660], [1, 2, 3, 4, 5]), ("b", [60, 180, 300, 420], [7, None, 8, 9])],
    )
    assert drawn["x"] == [0, 60, 120, 180, 300, 420, 600, 660]  # 180: a's gap after 120
    assert drawn["series"][0]["values"] == [1, 2, 3, None, None, None, 4, 5]
    assert drawn["series"][0]["breaks"] == [3]  # a lifts the pen at 180 only
    assert drawn["series"][1]["values"] == [None, 7, None, None, 8, 9, None, None]
    assert drawn["series"][1]["breaks"] == []  # b's 120 s step is its normal pace, not a gap
    assert (drawn["series"][0]["last"], drawn["series"][0]["min"], drawn["series"][0]["max"]) == (5, 1, 5)
    assert drawn["points"] == 8


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('alertname="HighErrorRate"', ['alertname="HighErrorRate"']),
        ("alertname=HighErrorRate, platform!=fanz-1", ['alertname="HighErrorRate"', 'platform!="fanz-1"']),
        ('service=~"fanz-.*"\nseverity!~"info|none"', ['service=~"fanz-.*"', 'severity!~"info|none"']),
        ('summary="say \\"hi\\", then go"', ['summary="say \\"hi\\", then go"']),
    ],
)
def test_matchers_parse_alertmanager_syntax(text: str, shown: list[str]) -> None:
    assert [str(m) for m in parse_matchers(text)] == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "add at least one matcher"),
        ("alertname", 'cannot read the matcher at "alertname"'),
        ('1abc="x"', 'cannot read the matcher at "1abc="x""'),
        ('a!="x"', "at least one matcher must need a non-empty value"),
        (", ".join(f'l{i}="v"' for i in range(21)), "at most 20 matchers"),
    ],
)
def test_bad_matchers_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(SilenceFormError, match=message.replace("(", r"\(")):
        parse_matchers(text)


async def test_health_history_keeps_new_results_only_and_is_bounded() -> None:
    clock = FrozenClock(NOW)
    check = InMemoryCheck("db")
    runner = HealthCheckRunner([check], registry=CollectorRegistry(), clock=clock, max_age=0)
    history = HealthHistory(runner, points=3, interval=0.01)
    for status in (HealthStatus.PASS, HealthStatus.FAIL, HealthStatus.PASS, HealthStatus.WARN):
        check.set(status, output=status.value)
        clock.advance(timedelta(seconds=15))
        assert history.record(await runner.run_now()) == 1
        assert history.record(runner.snapshot()) == 0  # the same result again is not a new point
    assert [p.status for p in history.history("db")] == ["fail", "pass", "warn"]
    assert history.history("nope") == []

    check.set(HealthStatus.FAIL, output="down")
    clock.advance(timedelta(seconds=15))
    await runner.run_now()
    await history.start()
    try:
        await async_wait_until(
            lambda: history.history("db")[-1].output == "down",
            timeout=30,
            message="the history's first background run did not record the failure",
        )
    finally:
        await history.stop()
    assert [p.status for p in history.history("db")] == ["pass", "warn", "fail"]
