"""Windows: parsing, half-open edges, the previous window, UTC conversion, and the rollup split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fanzwatch.bi import Window, WindowError, parse_duration
from fanzwatch.bi._sql import hour_number, hour_start
from fanzwatch.bi.window import split_window

T = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", timedelta(minutes=15)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
     ("4w", timedelta(weeks=4)), (" 1h ", timedelta(hours=1)), ("366d", timedelta(days=366))],
)  # fmt: skip
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "1.5h", "-1h", "0h", "367d", "10y", "24 hours", "1e3h"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(WindowError, match=r"(use a number and a unit|out of range)"):
        parse_duration(text)


def test_windows_are_utc_half_open_and_the_previous_one_does_not_overlap() -> None:
    w = Window.ending(T.astimezone(timezone(timedelta(hours=-5))), timedelta(hours=24))
    assert (w.start, w.end) == (datetime(2026, 3, 9, 12, 30, tzinfo=UTC), T)
    assert w.start.tzinfo is UTC
    prev = w.previous()
    assert (prev.start, prev.end) == (datetime(2026, 3, 8, 12, 30, tzinfo=UTC), w.start)
    assert prev.length == w.length


def test_naive_and_empty_windows_are_refused() -> None:
    with pytest.raises(WindowError, match="has no time zone"):
        Window(datetime(2026, 1, 1), T)
    with pytest.raises(WindowError, match="is not after start"):
        Window(T, T)


def test_split_reads_partial_hours_raw_whole_days_from_daily_rollups() -> None:
    w = Window(datetime(2026, 3, 1, 22, 10, tzinfo=UTC), datetime(2026, 3, 4, 5, 45, tzinfo=UTC))
    s = split_window(w, covered_until_hour=hour_number(datetime(2026, 3, 10, tzinfo=UTC)))
    assert s.raw == (
        (w.start, datetime(2026, 3, 1, 23, tzinfo=UTC)),
        (datetime(2026, 3, 4, 5, tzinfo=UTC), w.end),
    )
    hours = [(hour_start(a), hour_start(b)) for a, b in s.hours]
    assert hours == [
        (datetime(2026, 3, 1, 23, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
        (datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 4, 5, tzinfo=UTC)),
    ]
    assert [(hour_start(a * 24), hour_start(b * 24)) for a, b in s.days] == [
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    ]


def test_split_reads_past_the_rollups_raw() -> None:
    w = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    s = split_window(w, covered_until_hour=hour_number(datetime(2026, 3, 1, 9, tzinfo=UTC)))
    assert s.raw == ((datetime(2026, 3, 1, 9, tzinfo=UTC), w.end),)
    assert s.hours == ((hour_number(w.start), hour_number(datetime(2026, 3, 1, 9, tzinfo=UTC))),)
    assert split_window(w, None).raw == ((w.start, w.end),)


@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
    seconds=st.integers(min_value=1, max_value=40 * 86400),
    covered_offset=st.integers(min_value=-50 * 24, max_value=50 * 24),
)
def test_split_tiles_the_window_exactly_once(start: datetime, seconds: int, covered_offset: int) -> None:
    w = Window(start, start + timedelta(seconds=seconds))
    s = split_window(w, hour_number(w.end) + covered_offset)
    pieces = list(s.raw)
    pieces += [(hour_start(a), hour_start(b)) for a, b in s.hours]
    pieces += [(hour_start(a * 24), hour_start(b * 24)) for a, b in s.days]
    pieces.sort()
    assert all(a < b for a, b in pieces)
    assert pieces[0][0] == w.start and pieces[-1][1] == w.end
    assert all(pieces[i][1] == pieces[i + 1][0] for i in range(len(pieces) - 1))
