"""A KPI family plans and reads on its own: the composition adds nothing but the round trip."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fanzwatch.bi import Window
from fanzwatch.bi._keys import FactPart, Tag, WindowKey
from fanzwatch.bi._statement import StatementCache
from fanzwatch.bi.families import ContentQuery, EngagementQuery, ReportPlan, SubscriptionsQuery

from .conftest import NOW, load_market


def test_one_family_alone_reads_the_same_figures_as_the_whole_report(engine: sa.Engine) -> None:
    load_market(engine)
    window = Window.ending(NOW, timedelta(hours=24))
    plan = ReportPlan(covered_until_hour=None, platform=None)
    content, subs = ContentQuery(window), SubscriptionsQuery(window)
    content.plan(plan)
    subs.plan(plan)
    with engine.connect() as conn:
        rows = plan.run(conn, StatementCache())
    c, s = content.read(rows), subs.read(rows)
    assert (c.total_uploads, c.uploads_by_type, c.total_views, c.engagement_rate) == (
        4,
        {"audio": 1, "image": 2, "video": 1},
        8,
        0.75,
    )
    assert (s.active_at_start, s.active_at_end, s.new, s.churned) == (2, 2, 1, 1)
    # rows are addressed by typed tags; a tag nobody planned reads as no rows, never as a typo'd string
    assert rows[Tag(FactPart("upload"), WindowKey(0))]
    assert rows[Tag(FactPart("upload"), WindowKey(7))] == []


def test_a_family_alone_plans_its_own_distinct_count(engine: sa.Engine) -> None:
    load_market(engine)
    window = Window.ending(NOW, timedelta(hours=24))
    plan = ReportPlan(covered_until_hour=None, platform=None)
    engagement = EngagementQuery(window)
    engagement.plan(plan)
    with engine.connect() as conn:
        rows = plan.run(conn, StatementCache())
    e = engagement.read(rows)
    assert (e.likes, e.comments, e.shares, e.sessions, e.engagement_score) == (3, 2, 1, 4, 10)
    assert e.engagement_score_per_active_user == 10 / 3  # its own distinct count of active users
