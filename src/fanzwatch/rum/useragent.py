"""User agents: bots are ignored, everyone else gets a device class (mobile, tablet, desktop).

The user agent itself is never stored or labelled. Results are cached for the few
hundred distinct agents real traffic has; the cache is bounded for the rest.
"""

from __future__ import annotations

import re

_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|android(?!.*mobile)", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|iphone|ipod|windows phone|blackberry|opera mini|android", re.IGNORECASE)
_CACHE_SIZE = 2048

BOT = "bot"


class UserAgentClassifier:
    """``classify(ua)`` → ``"bot"``, ``"mobile"``, ``"tablet"`` or ``"desktop"``.

    >>> c = UserAgentClassifier(r"bot|crawl")
    >>> c.classify("Mozilla/5.0 (compatible; Googlebot/2.1)"), c.classify("Mozilla/5.0 (iPhone) Mobile/15E148")
    ('bot', 'mobile')
    """

    def __init__(self, bot_pattern: str) -> None:
        self._bot = re.compile(bot_pattern, re.IGNORECASE)
        self._cache: dict[str, str] = {}

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def classify(self, user_agent: str) -> str:
        hit = self._cache.get(user_agent)
        if hit is not None:
            return hit
        # Browsers always send a user agent: none at all is a bot too.
        result = BOT if not user_agent or self._bot.search(user_agent) else self.device_class(user_agent)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[user_agent] = result
        return result

    @staticmethod
    def device_class(user_agent: str) -> str:
        """``mobile``, ``tablet`` or ``desktop``, whatever the bot pattern says."""
        if _TABLET.search(user_agent):
            return "tablet"
        if _MOBILE.search(user_agent):
            return "mobile"
        return "desktop"
