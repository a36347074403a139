"""On-call rotations: who is on call for a schedule at a given moment.

A rotation hands over every day or every week at ``start``'s time of day; before
``start`` the rotation is read backwards, so there is always someone on call. With a
``timezone`` the hand-over follows local wall-clock time (09:00 in Berlin stays 09:00
across daylight-saving changes); without one, ``start``'s fixed UTC offset is kept.

>>> on_call(ScheduleConfig(name="primary", users=("ana", "ben"), rotation="weekly",
...         start=datetime(2026, 1, 5, 9), timezone="Europe/Berlin"), datetime(2026, 1, 13, tzinfo=UTC))
'ben'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from ...settings.alerting import ScheduleConfig

_PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
DEFAULT_START = datetime(2024, 1, 1, 9)  # a Monday, 09:00 wall-clock


def _clock(schedule: ScheduleConfig) -> tuple[datetime, tzinfo]:
    """(the first hand-over as naive wall-clock time, the zone that wall clock is in)."""
    start = schedule.start or DEFAULT_START
    if schedule.timezone is not None:
        zone: tzinfo = ZoneInfo(schedule.timezone)
        local = start.astimezone(zone) if start.tzinfo is not None else start
        return local.replace(tzinfo=None), zone
    zone = start.tzinfo or UTC  # a fixed offset
    return start.replace(tzinfo=None), zone


def _turns(schedule: ScheduleConfig, at: datetime) -> tuple[int, datetime, tzinfo]:
    start, zone = _clock(schedule)
    wall = at.astimezone(zone).replace(tzinfo=None)
    return (wall - start) // _PERIOD[schedule.rotation], start, zone


def on_call(schedule: ScheduleConfig, at: datetime) -> str:
    """The user on call for ``schedule`` at ``at`` (timezone-aware)."""
    turns, _, _ = _turns(schedule, at)
    return schedule.users[turns % len(schedule.users)]


def next_handover(schedule: ScheduleConfig, at: datetime) -> datetime:
    """When the person on call at ``at`` hands over (UTC)."""
    turns, start, zone = _turns(schedule, at)
    return (start + (turns + 1) * _PERIOD[schedule.rotation]).replace(tzinfo=zone).astimezone(UTC)
