"""Active users: distinct users in a sliding window, in memory and in the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from fanzwatch.sdk import InMemoryActiveUsers, RedisActiveUsers
from fanzwatch.sdk.testing import capture_telemetry


class FakeTime:
    """A hand-moved clock (the trackers take their time source as an argument)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_in_memory_counts_distinct_users_in_the_window() -> None:
    clock = FakeTime()
    tracker = InMemoryActiveUsers(window_s=300, monotonic=clock)
    for user in ("a", "b", "a", "a", "c"):
        tracker.mark(user, "fanz-1")
    tracker.mark("a", "fanz-2")
    assert tracker.counts() == {"fanz-1": 3, "fanz-2": 1}

    clock.now += 200
    tracker.mark("b", "fanz-1")  # b seen again: stays active
    clock.now += 101  # a and c last seen 301 s ago
    assert tracker.counts() == {"fanz-1": 1, "fanz-2": 0}
    clock.now += 300
    assert tracker.counts() == {"fanz-1": 0, "fanz-2": 0}


def test_in_memory_memory_is_bounded() -> None:
    tracker = InMemoryActiveUsers(max_users=100)
    for i in range(10_000):
        tracker.mark(f"user-{i}", "fanz-1")
    assert tracker.counts() == {"fanz-1": 100}


@pytest.fixture
def redis_client() -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    prefix = f"fw-test-{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_counts_distinct_users_across_workers(redis_client: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_client
    clock = FakeTime()
    platforms = ("fanz-1", "fanz-2")
    # Two trackers = two worker processes (or two instances) sharing Redis.
    w1 = RedisActiveUsers(client, platforms=platforms, key_prefix=prefix, wall_clock=clock)
    w2 = RedisActiveUsers(client, platforms=platforms, key_prefix=prefix, wall_clock=clock)
    for user in ("alice", "bob", "carol"):
        w1.mark(user, "fanz-1")
    for user in ("bob", "carol", "dave"):
        w2.mark(user, "fanz-1")
    w2.mark("erin", "fanz-2")
    w2.flush()
    assert w1.counts() == {"fanz-1": 4, "fanz-2": 1}
    assert w2.counts() == {"fanz-1": 4, "fanz-2": 1}
    # Stored as hashes, never the user ids themselves.
    members = client.zrange(f"{prefix}:fanz-1", 0, -1)
    assert len(members) == 4 and all(len(m) == 32 and b"alice" not in m for m in members)
    assert 0 < client.ttl(f"{prefix}:fanz-1") <= 601

    clock.now += 250
    w1.mark("alice", "fanz-1")
    clock.now += 51  # bob, carol, dave, erin last seen 301 s ago; alice 51 s ago
    w1.flush()
    assert w2.counts() == {"fanz-1": 1, "fanz-2": 0}
    assert w1.counts() == {"fanz-1": 1, "fanz-2": 0}
    w1.close()
    w2.close()


@pytest.mark.redis
def test_an_earlier_mark_never_moves_a_user_back_in_time(redis_client: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_client
    late, early = FakeTime(2_000.0), FakeTime(1_000.0)
    w1 = RedisActiveUsers(client, platforms=("fanz-1",), key_prefix=prefix, wall_clock=late)
    w2 = RedisActiveUsers(client, platforms=("fanz-1",), key_prefix=prefix, wall_clock=early)
    w1.mark("alice", "fanz-1")
    w1.flush()
    w2.mark("alice", "fanz-1")
    w2.flush()
    assert client.zrange(f"{prefix}:fanz-1", 0, -1, withscores=True)[0][1] == 2_000.0


@pytest.mark.redis
def test_the_gauge_reads_redis_at_scrape_time(redis_client: tuple[redis.Redis, str]) -> None:
    client, prefix = redis_client
    tracker = RedisActiveUsers(client, platforms=("fanz-1",), key_prefix=prefix)
    with capture_telemetry(platform="fanz-1", tracker=tracker) as cap:
        cap.telemetry.business.mark_user_active("u1")
        cap.telemetry.business.mark_user_active("u2")
        cap.telemetry.business.mark_user_active("u1")
        assert cap.get_sample_value("fanz_active_users", {"platform": "fanz-1"}) == 2


def test_a_broken_tracker_does_not_break_the_scrape() -> None:
    # Nothing listens on port 1: every Redis call fails fast.
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    tracker = RedisActiveUsers(dead, platforms=("fanz-1",), key_prefix="x", flush_interval_s=60)
    with capture_telemetry(platform="fanz-1", tracker=tracker) as cap:
        cap.telemetry.business.mark_user_active("u1")
        body, _ = cap.telemetry.render_metrics()
        assert b"fanz_active_users{" not in body
        assert cap.get_sample_value("fanz_telemetry_failures_total", {"component": "active_users"}) == 1
