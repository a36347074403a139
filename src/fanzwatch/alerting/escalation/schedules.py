"""On-call rotations: who is on call for a schedule at a given moment.

A rotation hands over every day or every week at ``start``'s time of day; before
``start`` the rotation is read backwards, so there is always someone on call.

>>> on_call(ScheduleConfig(name="primary", users=("ana", "ben"), rotation="weekly",
...         start=datetime(2026, 1, 5, 9, tzinfo=UTC)), datetime(2026, 1, 13, tzinfo=UTC))
'ben'
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ...settings.alerting import ScheduleConfig

_PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


def on_call(schedule: ScheduleConfig, at: datetime) -> str:
    """The user on call for ``schedule`` at ``at`` (timezone-aware)."""
    turns = (at - schedule.start) // _PERIOD[schedule.rotation]
    return schedule.users[turns % len(schedule.users)]


def next_handover(schedule: ScheduleConfig, at: datetime) -> datetime:
    """When the person on call at ``at`` hands over."""
    period = _PERIOD[schedule.rotation]
    return schedule.start + ((at - schedule.start) // period + 1) * period
