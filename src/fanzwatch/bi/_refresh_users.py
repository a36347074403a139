"""Refresh of the distinct-user rollups: per-user active days, first-activity counts, cohorts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from .. import schema
from ._plan import RefreshPlan, in_int_ranges, merge_ranges
from ._ranges import chunks, to_ranges
from ._rollup_write import bulk_insert, is_empty, roll_up_days
from ._sql import day_start, epoch_day, epoch_hour, hour_start
from .facts import Activity
from .rollup_tables import (
    LOOKBACK_DAYS,
    RETENTION_DAYS,
    cohort_daily,
    cohort_hourly,
    first_active,
    user_days,
    user_hours,
)

_tmp_meta = sa.MetaData()
#: Users whose day rows must be recomputed from ``from_day`` on (one refresh, one connection).
affected_users = sa.Table(
    "bi_tmp_affected_users",
    _tmp_meta,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("from_day", sa.BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)


def _day_rows(activity: Activity, plan: RefreshPlan, *, since_day: int | None) -> sa.Select[Any]:
    """Per (user, platform, day): first/last hour, previous active day and its last hour.

    ``since_day=None``: every user's whole history (a rebuild). Otherwise only the users
    in ``affected_users``, from their ``from_day`` (>= ``since_day``) on; the previous day
    of their first recomputed row comes from their last row still in ``bi_user_days``, so
    a refresh reads recent activity only, not each user's history.
    """
    src, ud, tmp = activity.source, user_days, affected_users
    day = epoch_day(activity.time)
    cond = activity.filtered(activity.time < plan.new_until)
    from_: Any = src
    if since_day is not None:
        from_ = src.join(tmp, activity.user == tmp.c.user_id)
        cond = sa.and_(cond, activity.time >= day_start(since_day), day >= tmp.c.from_day)
    fresh = (
        sa.select(
            activity.user.label("user_id"),
            src.c.platform.label("platform"),
            day.label("day"),
            sa.func.min(epoch_hour(activity.time)).label("first_hour"),
            sa.func.max(epoch_hour(activity.time)).label("last_hour"),
        )
        .select_from(from_)
        .where(cond)
        .group_by(activity.user, src.c.platform, day)
    )
    daily: Any = fresh.cte("daily")
    if since_day is not None:
        last = (
            sa.select(ud.c.user_id, ud.c.platform, sa.func.max(ud.c.day).label("day"))
            .select_from(ud.join(tmp, ud.c.user_id == tmp.c.user_id))
            .where(ud.c.kind == activity.kind, ud.c.day < tmp.c.from_day)
            .group_by(ud.c.user_id, ud.c.platform)
            .subquery("last_known")
        )
        seeds = sa.select(ud.c.user_id, ud.c.platform, ud.c.day, ud.c.first_hour, ud.c.last_hour).join(
            last,
            sa.and_(
                ud.c.kind == activity.kind,
                ud.c.user_id == last.c.user_id,
                ud.c.platform == last.c.platform,
                ud.c.day == last.c.day,
            ),
        )
        daily = sa.union_all(fresh, seeds).cte("daily")
    owner = [daily.c.user_id, daily.c.platform]
    linked = sa.select(
        sa.literal(activity.kind, sa.String(8)).label("kind"),
        daily.c.user_id,
        daily.c.day,
        daily.c.platform,
        daily.c.first_hour,
        daily.c.last_hour,
        sa.func.lag(daily.c.day).over(partition_by=owner, order_by=daily.c.day).label("prev_day"),
        sa.func.lag(daily.c.last_hour).over(partition_by=owner, order_by=daily.c.day).label("prev_last_hour"),
    ).subquery("linked")
    out = sa.select(*linked.c)
    if since_day is not None:
        out = out.join(tmp, tmp.c.user_id == linked.c.user_id).where(linked.c.day >= tmp.c.from_day)
    return out


def _touched_days(conn: Connection, kind: str) -> set[int]:
    rows = conn.execute(
        sa.select(user_days.c.day)
        .join_from(user_days, affected_users, affected_users.c.user_id == user_days.c.user_id)
        .where(user_days.c.kind == kind, user_days.c.day >= affected_users.c.from_day)
        .distinct()
    ).scalars()
    return {int(d) for d in rows}


def refresh_activity(conn: Connection, activity: Activity, plan: RefreshPlan) -> int:
    """Recompute ``bi_user_days`` rows of users with new or changed activity; return how many users.

    Leaves the affected users in the temporary table for ``refresh_cohorts``.
    """
    kind = activity.kind
    columns = ["kind", "user_id", "day", "platform", "first_hour", "last_hour", "prev_day", "prev_last_hour"]
    affected_users.create(conn, checkfirst=True)
    conn.execute(sa.delete(affected_users))
    if plan.full:
        conn.execute(sa.delete(user_days).where(user_days.c.kind == kind))
        conn.execute(sa.insert(user_days).from_select(columns, _day_rows(activity, plan, since_day=None)))
        recompute_user_hours(conn, kind, None)
        recompute_first_active(conn, kind, None, plan.complete_days_until)
        users = sa.select(sa.func.count(sa.distinct(user_days.c.user_id))).where(user_days.c.kind == kind)
        return int(conn.execute(users).scalar_one())
    # Detection ignores activity.where: a payment that stopped being 'completed' matters too.
    src, time = activity.source, activity.time
    changes = sa.union_all(
        sa.select(activity.user.label("u"), epoch_day(time).label("d")).where(plan.changed(src, time)),
        sa.select(activity.user.label("u"), epoch_day(time).label("d")).where(plan.in_new_hours(time)),
    ).subquery()
    conn.execute(
        sa.insert(affected_users).from_select(
            ["user_id", "from_day"],
            sa.select(changes.c.u, sa.func.min(changes.c.d)).group_by(changes.c.u),
        )
    )
    touched = _touched_days(conn, kind)
    conn.execute(
        sa.delete(user_days).where(
            user_days.c.kind == kind,
            sa.exists().where(
                affected_users.c.user_id == user_days.c.user_id, user_days.c.day >= affected_users.c.from_day
            ),
        )
    )
    since = conn.execute(sa.select(sa.func.min(affected_users.c.from_day))).scalar()
    if since is not None:
        rows = _day_rows(activity, plan, since_day=int(since))
        conn.execute(sa.insert(user_days).from_select(columns, rows))
    touched |= _touched_days(conn, kind)
    days = to_ranges(touched)
    if days:
        recompute_user_hours(conn, kind, days)
    complete = {d for d in touched if d < plan.complete_days_until}
    ranges = merge_ranges(to_ranges(complete) + plan.newly_complete_days())
    if ranges:
        recompute_first_active(conn, kind, ranges, plan.complete_days_until)
    return int(conn.execute(sa.select(sa.func.count()).select_from(affected_users)).scalar_one())


def recompute_user_hours(conn: Connection, kind: str, day_ranges: list[tuple[int, int]] | None) -> None:
    """``bi_user_hours`` of ``day_ranges`` (None: every day) from ``bi_user_days``: first/last-hour counts."""
    ud, uh = user_days, user_hours
    for group in [None] if day_ranges is None else list(chunks(day_ranges)):
        where, uh_where = [ud.c.kind == kind], [uh.c.kind == kind]
        if group is not None:
            where.append(in_int_ranges(ud.c.day, group))
            uh_where.append(in_int_ranges(uh.c.hour, [(a * 24, b * 24) for a, b in group]))
        conn.execute(sa.delete(uh).where(*uh_where))
        one, zero = sa.literal(1, sa.BigInteger), sa.literal(0, sa.BigInteger)
        ends = sa.union_all(
            sa.select(ud.c.platform, ud.c.first_hour.label("hour"), one.label("f"), zero.label("l")).where(*where),
            sa.select(ud.c.platform, ud.c.last_hour.label("hour"), zero.label("f"), one.label("l")).where(*where),
        ).subquery("ends")
        rows = (
            sa.select(
                sa.literal(kind, sa.String(8)),
                ends.c.hour,
                ends.c.platform,
                sa.func.sum(ends.c.f),
                sa.func.sum(ends.c.l),
            )
            .group_by(ends.c.hour, ends.c.platform)
            .order_by(ends.c.hour, ends.c.platform)
        )
        conn.execute(sa.insert(uh).from_select(["kind", "hour", "platform", "first_users", "last_users"], rows))


def recompute_first_active(conn: Connection, kind: str, day_ranges: list[tuple[int, int]] | None, top: int) -> None:
    """``bi_first_active`` for complete days: F(anchor, day) = users on day with no activity in [anchor, day)."""
    ud = user_days
    for group in [None] if day_ranges is None else list(chunks(day_ranges)):
        where = [ud.c.kind == kind, ud.c.day < top]
        fa_where = [first_active.c.kind == kind]
        if group is not None:
            where.append(in_int_ranges(ud.c.day, group))
            fa_where.append(in_int_ranges(first_active.c.day, group))
        conn.execute(sa.delete(first_active).where(*fa_where))
        counts: dict[tuple[str, int], list[tuple[int | None, int]]] = defaultdict(list)
        for platform, day, prev_day, n in conn.execute(
            sa.select(ud.c.platform, ud.c.day, ud.c.prev_day, sa.func.count())
            .where(*where)
            .group_by(ud.c.platform, ud.c.day, ud.c.prev_day)
        ):
            counts[(platform, int(day))].append((None if prev_day is None else int(prev_day), int(n)))
        rows: list[tuple[Any, ...]] = []
        for (platform, day), by_prev in counts.items():
            never = sum(n for p, n in by_prev if p is None)
            dated = sorted((p, n) for p, n in by_prev if p is not None)
            i, running = 0, never
            for anchor in range(day - LOOKBACK_DAYS, day + 1):
                while i < len(dated) and dated[i][0] < anchor:
                    running += dated[i][1]
                    i += 1
                if running:
                    rows.append((kind, anchor, day, platform, running))
        # in key order (kind, anchor, day, platform): a report's range of one anchor is a few pages
        rows.sort(key=lambda r: (r[1], r[2], r[3]))
        for start in range(0, len(rows), 100_000):
            bulk_insert(conn, first_active, rows[start : start + 100_000])


def _cohort_select(cond: sa.ColumnElement[bool]) -> sa.Select[Any]:
    u = schema.users
    signup_day = epoch_day(u.c.created_at)

    def came_back(n: int) -> sa.ColumnElement[Any]:
        back = sa.exists().where(
            user_days.c.kind == "active", user_days.c.user_id == u.c.id, user_days.c.day == signup_day + n
        )
        return sa.func.sum(sa.case((back, 1), else_=0))

    hour = epoch_hour(u.c.created_at)
    return (
        sa.select(hour, u.c.platform, sa.func.count(), *(came_back(n) for n in RETENTION_DAYS))
        .where(cond)
        .group_by(hour, u.c.platform)
        .order_by(hour, u.c.platform)
    )


def refresh_cohorts(conn: Connection, plan: RefreshPlan) -> bool:
    """Recompute cohort rows for new sign-up hours and hours whose members' activity changed.

    Must run right after ``refresh_activity(ACTIVE)``, whose affected users it reads. Returns
    whether ``bi_cohort_daily`` was derived in full because an upgrade added it.
    """
    u = schema.users
    columns = ["hour", "platform", "users", *(f"d{n}" for n in RETENTION_DAYS)]
    if plan.full:
        conn.execute(sa.delete(cohort_hourly))
        conn.execute(sa.insert(cohort_hourly).from_select(columns, _cohort_select(u.c.created_at < plan.new_until)))
        _roll_up_cohort_days(conn, [(-(2**40), plan.complete_days_until)])
        return False
    hours: set[int] = set(
        int(h)
        for h in conn.execute(
            sa.select(epoch_hour(u.c.created_at)).where(plan.changed(u, u.c.created_at)).distinct()
        ).scalars()
    )
    # Only users whose changed days can be a day 1/7/30 of their cohort.
    returning = conn.execute(
        sa.select(epoch_hour(u.c.created_at))
        .join_from(u, affected_users, affected_users.c.user_id == u.c.id)
        .where(
            u.c.created_at < plan.new_until,
            epoch_day(u.c.created_at) + max(RETENTION_DAYS) >= affected_users.c.from_day,
        )
        .distinct()
    ).scalars()
    hours.update(int(h) for h in returning)
    ranges = merge_ranges(to_ranges(hours) + plan.new_hours())
    for group in chunks(ranges):
        conn.execute(sa.delete(cohort_hourly).where(in_int_ranges(cohort_hourly.c.hour, group)))
        cond = sa.and_(
            sa.or_(*(sa.and_(u.c.created_at >= hour_start(a), u.c.created_at < hour_start(b)) for a, b in group)),
            u.c.created_at < plan.new_until,
        )
        conn.execute(sa.insert(cohort_hourly).from_select(columns, _cohort_select(cond)))
    derive = _cohort_days_underived(conn)  # an upgrade added the daily table: derive it once
    if derive:
        days = [(-(2**40), plan.complete_days_until)]
    else:
        touched = {h // 24 for a, b in ranges for h in range(a, b)}
        days = merge_ranges(to_ranges(d for d in touched if d < plan.complete_days_until) + plan.newly_complete_days())
    _roll_up_cohort_days(conn, days)
    return derive


def _cohort_days_underived(conn: Connection) -> bool:
    return is_empty(conn, cohort_daily) and not is_empty(conn, cohort_hourly)


def _roll_up_cohort_days(conn: Connection, day_ranges: list[tuple[int, int]]) -> None:
    """``bi_cohort_daily`` of complete days from ``bi_cohort_hourly`` (a cohort's day N is fixed by its sign-up day)."""
    roll_up_days(conn, cohort_hourly, cohort_daily, [], ["users", *(f"d{n}" for n in RETENTION_DAYS)], day_ranges)
