"""Cohort retention (day 1/7/30, UTC calendar days) and DAU/WAU/MAU on a small hand-built cohort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import Window
from fanzwatch.core import FrozenClock

from .conftest import at, insert, make_service, refreshed

# Window [02-01 00:00, 03-04 00:00): 31 days. Sign-ups r1, r2, r3 on 02-01, r4 on 02-20.
# Day N must have ended by 03-04: day 1 → signed up by 03-01 (all four), day 7 → by 02-23
# (all four), day 30 → by 02-01 (r1, r2, r3).
END = at("03-04")


@pytest.fixture
def cohort(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        insert(
            conn,
            schema.users,
            {"id": 1, "platform": "fanz-1", "role": "fan", "created_at": at("02-01 09:00")},
            {"id": 2, "platform": "fanz-1", "role": "fan", "created_at": at("02-01 23:59:59")},
            {"id": 3, "platform": "fanz-1", "role": "creator", "created_at": at("02-01 00:00:00")},
            {"id": 4, "platform": "fanz-2", "role": "fan", "created_at": at("02-20 12:00")},
            {"id": 5, "platform": "fanz-1", "role": "fan", "created_at": at("01-31 23:59:59")},  # before the window
        )

        def session(user: int, when: str, platform: str = "fanz-1") -> dict[str, object]:
            return {"platform": platform, "user_id": user, "started_at": at(when)}

        insert(
            conn,
            schema.sessions,
            session(1, "02-02 00:00:00"),  # r1 day 1 (the very first instant of it)
            session(1, "02-08 10:00"),  # r1 day 7
            session(1, "03-03 10:00"),  # r1 day 30
            session(2, "02-02 23:59:59"),  # r2 day 1 (its last second)
            session(2, "03-04 00:00:00"),  # r2 day 31: not day 30, and outside the window
            session(4, "02-21 08:00", "fanz-2"),  # r4 day 1
            session(4, "02-26 08:00", "fanz-2"),  # r4 day 6: not day 7
            session(5, "02-01 08:00"),  # not in the cohort, but active
        )
    return engine


@pytest.mark.parametrize("mode", ["raw", "rollups"])
def test_retention_by_calendar_day(cohort: sa.Engine, mode: str) -> None:
    if mode == "rollups":
        refreshed(cohort, datetime(2026, 3, 5, tzinfo=UTC))
    service = make_service(cohort, FrozenClock(END))
    users = service.compute(Window(at("02-01"), END), raw=mode == "raw").current.users
    assert users.cohort_size == 4
    assert {k: (v.eligible, v.retained, v.rate) for k, v in users.retention.items()} == {
        "day_1": (4, 3, 0.75),
        "day_7": (4, 1, 0.25),
        "day_30": (3, 1, 1 / 3),
    }
    assert (users.new_users, users.creator_signups) == (4, 1)
    # sessions of the window: r1, r2, r4 and user 5
    assert users.active_users == 4
    # complete days before 03-04: DAU on 03-03 (r1), WAU 02-25..03-03 (r1, r4), MAU 02-02..03-03 (r1, r2, r4)
    assert (users.dau, users.wau, users.mau) == (1, 2, 3)
    fanz2 = service.compute(Window(at("02-01"), END), platform="fanz-2", raw=mode == "raw").current.users
    assert fanz2.retention["day_1"].model_dump() == {"eligible": 1, "retained": 1, "rate": 1.0}


def test_stale_rollups_fall_back_to_raw_for_cohorts(cohort: sa.Engine) -> None:
    refreshed(cohort, datetime(2026, 2, 25, tzinfo=UTC))  # rollups end before day 30 of r1
    service = make_service(cohort, FrozenClock(END))
    report = service.compute(Window.ending(END, timedelta(days=31)))
    assert report.source == "rollups"
    assert report.current.users.retention["day_30"].retained == 1
    assert report.current.users.active_users == 4
