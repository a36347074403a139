"""URL → page template: ids become :id, explicit routes win, the set is bounded."""

from __future__ import annotations

import pytest

from fanzwatch.rum.templates import OTHER, PageTemplates


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/", "/"),
        ("", "/"),
        ("/creator/123/posts/abc", "/creator/:id/posts/:id"),
        ("/creator/123/posts/abc/", "/creator/:id/posts/:id"),
        ("/u/alice/settings", "/u/:id/settings"),
        ("/posts/new", "/posts/new"),
        ("/explore/trending", "/explore/trending"),
        ("/api/v2/feed", "/api/v2/feed"),
        ("/p/a1b2c3", "/p/:id"),
        ("/reset/3f2a9c0b1d4e5f60", "/reset/:id"),
        ("/order/123e4567-e89b-12d3-a456-426614174000", "/order/:id"),
        ("/Pricing", "/pricing"),
        ("/user/j%C3%B6rg/photos", "/user/:id/photos"),
        ("/a/b/c/d/e/f/g/h/i/j", "/a/b/c/d/e/f/g/h/*"),
    ],
)
def test_heuristic_templates(path: str, template: str) -> None:
    assert PageTemplates().template_of_path(path) == template


def test_explicit_routes_win() -> None:
    t = PageTemplates(routes=("/c/:handle/live", "/s/:slug"))
    assert t.template_of_path("/c/bob/live") == "/c/:handle/live"
    assert t.template_of_path("/s/summer-sale") == "/s/:slug"
    assert t.template_of_path("/s/summer-sale/x") == "/s/summer-sale/x"


def test_collections_are_configurable() -> None:
    t = PageTemplates(id_collections=("shop",))
    assert t.template_of_path("/shop/blue-hat") == "/shop/:id"
    assert t.template_of_path("/creator/alice") == "/creator/alice"


def test_the_template_set_is_bounded_and_stable() -> None:
    t = PageTemplates(max_templates=3)
    urls = [f"https://x.example/{name}" for name in ("home", "about", "pricing", "careers", "press")]
    assert [t.template(u) for u in urls] == ["/home", "/about", "/pricing", OTHER, OTHER]
    assert t.template("https://x.example/about?x=1") == "/about"
    assert t.known == ("/home", "/about", "/pricing")


def test_the_cache_is_bounded() -> None:
    t = PageTemplates(max_templates=10)
    for i in range(10_000):
        t.template(f"https://x.example/creator/{i}")
    assert t.cache_size <= 4096
    assert t.known == ("/creator/:id",)
