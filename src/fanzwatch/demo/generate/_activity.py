"""Activity without money: sessions, views, likes, comments, shares."""

from __future__ import annotations

import numpy as np

from . import _model as m
from ._columns import Batch, const, ints, times
from ._population import Catalogue, People

_MAX_SESSION_US = 4 * m.US_PER_HOUR


def sessions(
    rng: np.random.Generator,
    platform: str,
    people: People,
    *,
    start_us: int,
    end_us: int,
    horizon_us: int,
    intensity: np.ndarray,
    size: float,
    volumes: m.Volumes,
) -> Batch:
    """Sessions started in ``[start_us, end_us)``; one still running at ``horizon_us`` has no end."""
    t = m.event_times(rng, volumes.sessions * size, start_us, end_us, intensity)
    created = np.concatenate([people.fan_created, people.creator_created])
    order = np.argsort(created, kind="stable")
    user = m.pick_existing(rng, created[order], t, skew=1.5)
    t, user = t[user >= 0], people.all_ids[order][user[user >= 0]]
    n = len(t)
    seconds = rng.lognormal(np.log(m.SESSION_MEDIAN_SECONDS), 1.0, n)
    ended = t + np.minimum((seconds * 1e6).astype(np.int64), _MAX_SESSION_US) + 1
    open_ = (ended >= horizon_us) | (rng.random(n) < m.SESSION_OPEN_SHARE)
    return Batch(
        "sessions",
        {
            "platform": const(platform, n),
            "user_id": ints(user),
            "started_at": times(t),
            "ended_at": times(ended, open_),
            "updated_at": times(np.where(open_, t, ended)),
        },
    )


def engagement(
    rng: np.random.Generator,
    table: str,
    per_day: float,
    platform: str,
    people: People,
    catalogue: Catalogue,
    *,
    start_us: int,
    end_us: int,
    intensity: np.ndarray,
    anonymous_share: float = 0.0,
) -> Batch:
    """Views, likes, comments or shares of content that existed then, mostly recent content."""
    t = m.event_times(rng, per_day, start_us, end_us, intensity)
    item = m.pick_existing(rng, catalogue.created, t, skew=0.4)
    fan = m.pick_existing(rng, people.fan_created, t, skew=1.5)
    ok = (item >= 0) & (fan >= 0)
    t, item, fan = t[ok], item[ok], fan[ok]
    n = len(t)
    return Batch(
        table,
        {
            "platform": const(platform, n),
            "content_id": ints(catalogue.ids[item]),
            "user_id": ints(people.fan_ids[fan], rng.random(n) < anonymous_share),
            "created_at": times(t),
            "updated_at": times(t),
        },
    )
