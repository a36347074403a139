"""A platform's people and catalogue: users, creators' prices, content, subscriptions.

Ids are handed out in creation order from the offsets given (the table's ``max(id) + 1``),
so activity generated later can pick "a fan who existed then" by binary search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _model as m
from ._columns import MONEY_UNITS, Batch, const, ints, money, texts, times

_CURRENCY_CODES = tuple(m.CURRENCIES)
_COUNTRY_CURRENCY = np.array([_CURRENCY_CODES.index(c) for _, c, _ in m.COUNTRIES])
_EXPONENT = np.array([m.CURRENCIES[c][0] for c in _CURRENCY_CODES])
_BASE_RATE = np.array([float(m.CURRENCIES[c][1]) for c in _CURRENCY_CODES])


def currency_code(index: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.array(_CURRENCY_CODES, dtype=object)[index]
    return out


def price_units(usd: np.ndarray, currency: np.ndarray, *, charm: bool = True) -> np.ndarray:
    """USD amounts as prices in each currency, in money units (0.0001), at the currency's minor digits.

    ``charm``: end in .99 (or in 00 yen), as people price things.
    """
    exponent = _EXPONENT[currency]
    local = usd / _BASE_RATE[currency]
    whole = np.maximum(np.round(local / 100.0) * 100.0, 100.0)  # no minor digits (JPY): round to 100
    cents = np.maximum(np.round(local) * 100.0 - 1.0, 99.0) if charm else np.maximum(np.round(local * 100.0), 1.0)
    minor = np.where(exponent == 0, whole, cents)
    out: np.ndarray = minor.astype(np.int64) * (MONEY_UNITS // 10**exponent)
    return out


@dataclass(frozen=True, slots=True)
class People:
    """One platform's users, sorted by creation time (ids ascending with it)."""

    fan_ids: np.ndarray
    fan_created: np.ndarray
    fan_currency: np.ndarray
    creator_ids: np.ndarray
    creator_created: np.ndarray
    creator_currency: np.ndarray
    creator_price: np.ndarray  # monthly subscription price, money units, creator's currency

    @property
    def all_ids(self) -> np.ndarray:
        return np.concatenate([self.fan_ids, self.creator_ids])


def _initial_times(rng: np.random.Generator, count: float, start_us: int, days: int) -> np.ndarray:
    n = int(rng.poisson(count))
    out = np.sort(rng.integers(start_us - days * m.US_PER_DAY, start_us, size=n, dtype=np.int64))
    return out


def users(
    rng: np.random.Generator,
    platform: str,
    *,
    start_us: int,
    end_us: int,
    intensity: np.ndarray,
    size: float,
    volumes: m.Volumes,
    first_id: int,
) -> tuple[Batch, People]:
    v = volumes
    fan_t = np.concatenate(
        [
            _initial_times(rng, v.initial_fans * size, start_us, v.initial_days),
            m.event_times(rng, v.fan_signups * size, start_us, end_us, intensity),
        ]
    )
    creator_t = np.concatenate(
        [
            _initial_times(rng, v.initial_creators * size, start_us, v.initial_days),
            m.event_times(rng, v.creator_signups * size, start_us, end_us, intensity),
        ]
    )
    created = np.concatenate([fan_t, creator_t])
    is_creator = np.concatenate([np.zeros(len(fan_t), bool), np.ones(len(creator_t), bool)])
    order = np.argsort(created, kind="stable")
    created, is_creator = created[order], is_creator[order]
    n = len(created)
    ids = first_id + np.arange(n, dtype=np.int64)
    country = m.choose(rng, m.COUNTRIES, n)
    tier = m.choose(rng, m.CREATOR_TIERS, n)
    role = np.where(is_creator, "creator", "fan").astype(object)
    batch = Batch(
        "users",
        {
            "id": ints(ids),
            "platform": const(platform, n),
            "role": texts(role),
            "creator_tier": texts(np.array([t for t, _ in m.CREATOR_TIERS], dtype=object)[tier], ~is_creator),
            "country": texts(np.array([c for c, _, _ in m.COUNTRIES], dtype=object)[country]),
            "source": texts(np.array([s for s, _ in m.SOURCES], dtype=object)[m.choose(rng, m.SOURCES, n)]),
            "created_at": times(created),
            "updated_at": times(created),
        },
    )
    currency = _COUNTRY_CURRENCY[country]
    creators = np.flatnonzero(is_creator)
    usd_price = rng.choice(np.array(m.MONTHLY_PRICES_USD), size=len(creators))
    people = People(
        fan_ids=ids[~is_creator],
        fan_created=created[~is_creator],
        fan_currency=currency[~is_creator],
        creator_ids=ids[creators],
        creator_created=created[creators],
        creator_currency=currency[creators],
        creator_price=price_units(usd_price, currency[creators]),
    )
    return batch, people


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One platform's content, sorted by creation time; ``ppv`` indexes the pay-per-view items."""

    ids: np.ndarray
    created: np.ndarray
    creator_ids: np.ndarray
    ppv: np.ndarray
    ppv_price: np.ndarray  # money units (0 when not ppv)
    currency: np.ndarray  # currency index of the creator


def content(
    rng: np.random.Generator,
    platform: str,
    people: People,
    *,
    start_us: int,
    end_us: int,
    intensity: np.ndarray,
    size: float,
    volumes: m.Volumes,
    first_id: int,
) -> tuple[Batch, Catalogue]:
    v = volumes
    created = np.concatenate(
        [
            _initial_times(rng, v.initial_content * size, start_us, v.initial_days),
            m.event_times(rng, v.uploads * size, start_us, end_us, intensity),
        ]
    )
    creator = m.pick_existing(rng, people.creator_created, created, skew=1.5)
    created = created[creator >= 0]
    creator = creator[creator >= 0]
    n = len(created)
    ids = first_id + np.arange(n, dtype=np.int64)
    is_ppv = rng.random(n) < v.ppv_share
    currency = people.creator_currency[creator]
    price = np.where(is_ppv, price_units(rng.choice(np.array([2.99, 4.99, 9.99, 14.99, 24.99]), n), currency), 0)
    batch = Batch(
        "content",
        {
            "id": ints(ids),
            "platform": const(platform, n),
            "creator_id": ints(people.creator_ids[creator]),
            "type": texts(np.array([t for t, _ in m.CONTENT_TYPES], dtype=object)[m.choose(rng, m.CONTENT_TYPES, n)]),
            "ppv_price": money(price, ~is_ppv),
            "currency": texts(currency_code(currency), ~is_ppv),
            "created_at": times(created),
            "updated_at": times(created),
        },
    )
    catalogue = Catalogue(
        ids=ids,
        created=created,
        creator_ids=people.creator_ids[creator],
        ppv=np.flatnonzero(is_ppv),
        ppv_price=price,
        currency=currency,
    )
    return batch, catalogue
