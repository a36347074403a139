from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fanzwatch.core import FrozenClock, HealthStatus, Priority, Severity
from fanzwatch.core.models import parse_hold
from fanzwatch.core.platforms import DEFAULT_PLATFORMS, bound_platform, validate_platforms


@pytest.mark.parametrize(
    ("severity", "priority", "target"),
    [
        (Severity.CRITICAL, Priority.P0, timedelta(minutes=15)),
        (Severity.WARNING, Priority.P1, timedelta(hours=1)),
        (Severity.INFO, Priority.P2, timedelta(hours=4)),
    ],
)
def test_severity_maps_to_priority_and_response_target(
    severity: Severity, priority: Priority, target: timedelta
) -> None:
    assert severity.priority is priority
    assert priority.response_target == target


def test_priority_raise_stops_at_p0() -> None:
    assert Priority.P2.raised() is Priority.P1
    assert Priority.P1.raised() is Priority.P0
    assert Priority.P0.raised() is Priority.P0


def test_worst_health_status() -> None:
    assert HealthStatus.worst([]) is HealthStatus.PASS
    assert HealthStatus.worst([HealthStatus.PASS, HealthStatus.WARN]) is HealthStatus.WARN
    assert HealthStatus.worst([HealthStatus.FAIL, HealthStatus.WARN]) is HealthStatus.FAIL


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(minutes=16))
    assert clock.now() == datetime(2026, 1, 1, 0, 16, tzinfo=UTC)
    assert clock.monotonic() == 960.0
    with pytest.raises(ValueError, match="timezone"):
        FrozenClock(datetime(2026, 1, 1))


def test_platforms() -> None:
    assert len(DEFAULT_PLATFORMS) == 13
    assert bound_platform("fanz-1", frozenset(DEFAULT_PLATFORMS)) == "fanz-1"
    assert bound_platform("../etc", frozenset(DEFAULT_PLATFORMS)) == "other"
    assert bound_platform(None, frozenset(DEFAULT_PLATFORMS)) == "other"
    with pytest.raises(ValueError, match="invalid platform"):
        validate_platforms(["Bad Slug"])
    with pytest.raises(ValueError, match="unique"):
        validate_platforms(["a", "a"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(minutes=90)),
        ("3s", timedelta(seconds=3)),
        ("1m500ms", timedelta(seconds=60.5)),
        ("1d", timedelta(days=1)),  # MAX_HOLD: the longest believed
        ("23h59m60s", timedelta(days=1)),
        ("0s", timedelta(0)),
        (None, timedelta(0)),
        ("", timedelta(0)),
        ("5 minutes", timedelta(0)),
        ("5m junk", timedelta(0)),
        ("-5m", timedelta(0)),
        ("1y", timedelta(0)),
        ("9" * 40 + "s", timedelta(0)),
        ("abc", timedelta(0)),
        # Hostile or absurd holds (any alert source may set the annotation): unknown, never an error.
        ("1d1ms", timedelta(0)),
        ("2w1d", timedelta(0)),
        ("99999999999999999999w", timedelta(0)),  # was OverflowError building the timedelta
        ("999999999d", timedelta(0)),  # was a valid timedelta that dated the alert's start before year 1
        ("9999999999999ms", timedelta(0)),  # was 115,740 days: began in 1710
    ],
)
def test_parse_hold_reads_prometheus_durations_and_nothing_else(text: str | None, expected: timedelta) -> None:
    assert parse_hold(text) == expected
