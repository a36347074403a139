"""URL → page template, with a hard bound on how many distinct templates exist.

``/creator/123/posts/abc`` becomes ``/creator/:id/posts/:id``: the template is what
goes on metric labels and lets p75 be compared page by page. In order:

1. explicit routes from the settings (``/c/:handle/live``) win;
2. a segment after a configured *collection* (``creator``, ``posts``, ...) is an id,
   unless it is a well-known action word (``new``, ``edit``, ...);
3. any segment that looks like an identifier (digits, UUID, hex, e-mail, a long or
   digit-bearing slug, characters outside ``[A-Za-z0-9._~-]``) is an id.

Only the first ``max_templates`` distinct templates are kept; later ones are
``other``, so a crawler or a hostile client cannot grow the label set.

>>> t = PageTemplates(max_templates=10)
>>> t.template("https://fanz.example/creator/123/posts/abc?ref=x")
'/creator/:id/posts/:id'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ..settings.rum import DEFAULT_ID_COLLECTIONS

OTHER = "other"
MAX_SEGMENTS = 8
MAX_TEMPLATE_CHARS = 256
_CACHE_SIZE = 4096

# Words that follow a collection but name a page, not an item.
ACTION_WORDS = frozenset(
    {
        "new",
        "edit",
        "create",
        "settings",
        "search",
        "latest",
        "popular",
        "trending",
        "top",
        "all",
        "feed",
        "explore",
        "upload",
        "me",
        "following",
        "followers",
    }
)
_STATIC = re.compile(r"^[A-Za-z][A-Za-z._~-]{0,31}$|^v\d{1,2}$|^[a-z]{1,3}\d$")
_DIGITS = re.compile(r"\d")


def _is_identifier(segment: str) -> bool:
    """True for segments that name one item rather than a page."""
    return not _STATIC.match(segment) or (len(segment) > 24 and bool(_DIGITS.search(segment)))


class _Route:
    __slots__ = ("parts", "template")

    def __init__(self, template: str) -> None:
        self.template = template.rstrip("/") or "/"
        self.parts = tuple(p for p in self.template.split("/") if p)

    def matches(self, segments: list[str]) -> bool:
        if len(segments) != len(self.parts):
            return False
        return all(p.startswith(":") or p == s for p, s in zip(self.parts, segments, strict=True))


class PageTemplates:
    """Bounded URL → template mapping; cheap on repeat URLs (bounded cache)."""

    def __init__(
        self,
        *,
        max_templates: int = 200,
        routes: Iterable[str] = (),
        id_collections: Iterable[str] = DEFAULT_ID_COLLECTIONS,
    ) -> None:
        self.max_templates = max_templates
        self._routes = tuple(_Route(r) for r in routes)
        self._collections = frozenset(c.lower() for c in id_collections)
        self._known: dict[str, None] = {}
        self._cache: dict[str, str] = {}

    @property
    def known(self) -> tuple[str, ...]:
        """Templates admitted so far, in order of first sight."""
        return tuple(self._known)

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def template(self, url: str) -> str:
        """The bounded template of ``url`` (absolute URL or path)."""
        hit = self._cache.get(url)
        if hit is not None:
            return hit
        tpl = self._admit(self.template_of_path(_path_of(url)))
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()  # bounded; refilling is cheap
        self._cache[url] = tpl
        return tpl

    def template_of_path(self, path: str) -> str:
        """The unbounded template of a path (no admission, no cache)."""
        segments = [s for s in path.split("/") if s]
        for route in self._routes:
            if route.matches(segments):
                return route.template
        out: list[str] = []
        prev = ""
        for seg in segments[:MAX_SEGMENTS]:
            lower = seg.lower()
            after_collection = prev in self._collections and lower not in ACTION_WORDS
            if (after_collection and lower not in self._collections) or _is_identifier(seg):
                out.append(":id")
            else:
                out.append(lower)
            prev = "" if out[-1] == ":id" else lower
        if len(segments) > MAX_SEGMENTS:
            out.append("*")
        tpl = "/" + "/".join(out)
        return tpl[:MAX_TEMPLATE_CHARS]

    def _admit(self, tpl: str) -> str:
        if tpl in self._known:
            return tpl
        if len(self._known) >= self.max_templates:
            return OTHER
        self._known[tpl] = None
        return tpl


def _path_of(url: str) -> str:
    if url.startswith("/"):
        return url.split("?", 1)[0].split("#", 1)[0]
    try:
        return urlsplit(url).path
    except ValueError:
        return "/"
