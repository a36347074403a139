"""Rate limiter and user-agent classifier: exact behaviour and bounded memory."""

from __future__ import annotations

import pytest

from fanzwatch.rum.ratelimit import RateLimiter
from fanzwatch.rum.useragent import BOT, UserAgentClassifier
from fanzwatch.settings.rum import DEFAULT_BOT_PATTERN


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_the_rate() -> None:
    clock = _Clock()
    rl = RateLimiter(rate=2.0, burst=3, max_clients=10, clock=clock)
    assert [rl.retry_after("a") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    clock.now = 0.25  # half a token
    assert rl.retry_after("a") == pytest.approx(0.25)
    clock.now = 0.5
    assert rl.retry_after("a") == 0.0
    assert rl.retry_after("b") == 0.0  # clients are independent
    clock.now = 100.0
    assert [rl.retry_after("a") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]  # never more than the burst


def test_least_recent_clients_are_forgotten_first() -> None:
    clock = _Clock()
    rl = RateLimiter(rate=1.0, burst=1, max_clients=2, clock=clock)
    rl.retry_after("a")
    rl.retry_after("b")
    assert rl.retry_after("a") == 1.0  # a is now the most recent
    rl.retry_after("c")  # evicts b
    assert len(rl) == 2
    assert rl.retry_after("a") == 1.0
    assert rl.retry_after("b") == 0.0  # b came back with a full bucket


def test_limiter_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=0, burst=1, max_clients=1)


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", BOT),
        ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X) AppleWebKit (compatible; Googlebot/2.1)", BOT),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/130.0.0.0 Safari/537.36", BOT),
        ("curl/8.5.0", BOT),
        ("facebookexternalhit/1.1", BOT),
        ("", BOT),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36", "desktop"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15", "desktop"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "mobile"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36", "mobile"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "tablet"),
    ],
)
def test_user_agent_classes(ua: str, expected: str) -> None:
    assert UserAgentClassifier(DEFAULT_BOT_PATTERN).classify(ua) == expected


def test_user_agent_cache_is_bounded() -> None:
    c = UserAgentClassifier(DEFAULT_BOT_PATTERN)
    for i in range(5000):
        c.classify(f"Mozilla/5.0 Chrome/{i}.0")
    assert c.cache_size <= 2048
