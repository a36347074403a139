"""Money reads "83.84 USD" wherever FanzDash prints it, and no page carries emoji (they render
as boxes without an emoji font: servers, headless browsers)."""

from __future__ import annotations

import re

import pytest

from fanzwatch.server.dash import DashSources
from fanzwatch.server.dash.formatting import currency_of, fmt_amount, fmt_money, without_emoji

from .conftest import MakeClient
from .test_pages import PAGES, text

EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [(83.84, "USD", "83.84 USD"), (12345.5, "EUR", "12,345.50 EUR"), (None, "USD", "–"), (3.0, None, "3.00")],
)
def test_money_carries_its_currency(value: float | None, currency: str | None, shown: str) -> None:
    assert fmt_money(value, currency) == shown


def test_series_labels_name_the_currency_of_their_amounts() -> None:
    assert currency_of("USD") == "USD" and currency_of("EUR last week") == "EUR"
    assert currency_of("others (3 series, sum)") is None and currency_of("usd") is None
    assert fmt_amount(83.84, "currency", "USD last week") == "83.84 USD"
    assert fmt_amount(0.25, "seconds", "USD") == "250 ms"


@pytest.mark.parametrize(
    ("sentence", "kind", "shown"),
    [
        ("📈 Revenue increased by 12.0% compared to the previous 7d", "up", "Revenue increased by 12.0%"),
        ("📉 Revenue decreased by 3.0%", "down", "Revenue decreased by 3.0%"),
        ("🚀 User registrations up 40.0% - consider scaling infrastructure", "up", "User registrations up 40.0%"),
        ("💡 Engagement per active user is down 8.0%", "note", "Engagement per active user is down 8.0%"),
        ("No emoji here", "note", "No emoji here"),
        ("📈 Gross revenue of 1234.5600 USD, up from none", "up", "Gross revenue of 1,234.56 USD, up from none"),
    ],
)
def test_emoji_become_a_kind_and_plain_text(sentence: str, kind: str, shown: str) -> None:
    found_kind, plain = without_emoji(sentence)
    assert found_kind == kind and plain.startswith(shown) and not EMOJI.search(plain)


def test_the_bi_page_prints_every_amount_with_its_currency(make_client: MakeClient, full_sources: DashSources) -> None:
    page = text(make_client(full_sources).get("/dash/bi?window=7d").text)
    for label in ("Average transaction", "ARPU", "ARPPU", "Platform fees", "creator payouts"):
        assert re.search(rf"{label} [\d,]+\.\d\d (USD|EUR)", page), (label, page[:3000])
    assert re.search(r"Refunds \d+ \([\d,]+\.\d\d USD\)", page)
    # By currency: each row's amounts in that row's currency.
    assert re.search(r"EUR [\d,]+\.\d\d EUR \d+ [\d,]+\.\d\d EUR", page), page
    # No bare amount: every "n.nn" money figure is followed by a currency code.
    money = re.findall(r"\b\d[\d,]*\.\d\d\b(?! ?%)( [A-Z]{3})?", page)
    bare = [m for m in re.finditer(r"\b\d[\d,]*\.\d\d\b(?! ?%)(?! [A-Z]{3})(?! per )", page)]
    assert money and not bare, [page[max(0, m.start() - 60) : m.end() + 10] for m in bare]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_prints_emoji(make_client: MakeClient, full_sources: DashSources, path: str) -> None:
    page = make_client(full_sources).get(path).text
    assert not EMOJI.search(page), EMOJI.findall(page)


def test_insights_show_an_svg_instead_of_their_emoji(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/bi?window=7d").text
    insights = re.findall(r'<li class="insight insight-(up|down|note)"><svg class="icon"', page)
    assert insights, page[:2000]
