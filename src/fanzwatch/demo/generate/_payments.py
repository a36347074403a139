"""Money: subscriptions with their renewals, tips, pay-per-view, and how each payment settles.

A payment attempt succeeds or is declined/failed (``_model.STATUSES``). A succeeded one may
be refunded or charged back *later*: the row is written as it stands at ``end`` — still
``completed`` if the reversal lands after ``end``, ``refunded``/``chargeback`` with
``refunded_at`` otherwise. Fees are 20 % (exact at four places), missing (NULL) on a
share of old rows, 0 on attempts that did not succeed (as the platform writes them).
"""

from __future__ import annotations

import numpy as np

from . import _model as m
from ._columns import MONEY_UNITS, Batch, concat, const, ints, money, texts, times
from ._population import _EXPONENT, Catalogue, People, _initial_times, currency_code, price_units

_STATUS = np.array([s for s, _ in m.STATUSES], dtype=object)
_FAILED = np.isin(_STATUS, ["declined", "failed"])
_COMPLETED = int(np.flatnonzero(_STATUS == "completed")[0])


def _settle(rng: np.random.Generator, batch: Batch, status: np.ndarray, end_us: int) -> Batch:
    """Add status, refunded_at, fee_amount and updated_at to a batch of payment attempts."""
    created = batch.columns["created_at"].values
    amount = batch.columns["amount"].values
    names = _STATUS[status]
    n = len(created)
    delay_days = np.where(
        names == "chargeback",
        rng.lognormal(np.log(m.CHARGEBACK_DELAY_DAYS[0]), m.CHARGEBACK_DELAY_DAYS[1], n),
        rng.lognormal(np.log(m.REFUND_DELAY_DAYS[0]), m.REFUND_DELAY_DAYS[1], n),
    )
    reversed_at = created + np.maximum((delay_days * m.US_PER_DAY).astype(np.int64), 1)
    reversal = np.isin(names, ["refunded", "chargeback"])
    not_yet = reversal & (reversed_at >= end_us)  # the refund lands after `end`: still completed today
    names = np.where(not_yet, "completed", names)
    reversal &= ~not_yet
    succeeded = ~np.isin(names, ["declined", "failed"])
    fee = np.where(succeeded, amount * int(m.PLATFORM_FEE * 100) // 100, 0)
    fee_missing = succeeded & (rng.random(n) < m.FEE_MISSING_SHARE)
    batch.columns["status"] = texts(names)
    batch.columns["refunded_at"] = times(np.where(reversal, reversed_at, 0), ~reversal)
    batch.columns["fee_amount"] = money(fee, fee_missing)
    batch.columns["updated_at"] = times(np.where(reversal, reversed_at, created))
    return batch


def subscriptions(
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
) -> tuple[Batch, Batch]:
    """Subscriptions (those older than ``start`` too) and their payments within ``[start, end)``."""
    v = volumes
    started = np.concatenate(
        [
            _initial_times(rng, v.initial_subscriptions * size, start_us, v.initial_days),
            m.event_times(rng, v.new_subscriptions * size, start_us, end_us, intensity),
        ]
    )
    fan = m.pick_existing(rng, people.fan_created, started, skew=1.5)
    creator = m.pick_existing(rng, people.creator_created, started, skew=2.0)
    keep = (fan >= 0) & (creator >= 0)
    started, fan, creator = started[keep], fan[keep], creator[keep]
    n = len(started)
    billing = m.choose(rng, m.BILLING, n)
    months = np.array([b[0] for b in m.BILLING])[billing]
    discount = np.array([b[2] for b in m.BILLING])[billing]
    currency = people.creator_currency[creator]
    minor = MONEY_UNITS // 10 ** _EXPONENT[currency]
    price = np.maximum(np.round(people.creator_price[creator] * months * discount / minor), 1).astype(np.int64) * minor
    period = months.astype(np.int64) * m.DAYS_PER_MONTH * m.US_PER_DAY
    planned = rng.geometric(0.15, n)  # paid periods before the fan cancels
    due = np.minimum(planned, -(-(end_us - started) // period))  # payments falling before `end`
    # one payment per due period
    sub = np.repeat(np.arange(n), due)
    first_of = np.cumsum(due) - due  # index of each subscription's first payment (empty-safe)
    nth = np.arange(len(sub)) - np.repeat(first_of, due)
    paid_at = started[sub] + nth * period[sub]
    status = m.choose(rng, m.STATUSES, len(sub))
    status = np.where((nth == 0) & _FAILED[status], _COMPLETED, status)  # the first payment created it
    # a failed renewal ends the subscription there (the attempt itself is recorded)
    failed = (nth > 0) & _FAILED[status]
    big = np.iinfo(np.int64).max
    first_fail = np.full(n, big)
    np.minimum.at(first_fail, sub[failed], nth[failed])
    keep = nth <= first_fail[sub]
    sub, nth, paid_at, status = sub[keep], nth[keep], paid_at[keep], status[keep]
    lapsed = first_fail < big
    lapse_at = started + np.where(lapsed, first_fail, 0) * period
    all_paid = ~lapsed & (due == planned)
    cancel_at = started + (planned - 1) * period + (rng.random(n) * period).astype(np.int64)
    cancelled = all_paid & (cancel_at < end_us)
    period_end = started + planned * period
    ended = np.where(lapsed, lapse_at, period_end)
    has_ended = lapsed | (cancelled & (period_end < end_us))
    current_end = np.where(lapsed, lapse_at, np.where(cancelled, period_end, started + due * period))
    last_paid = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_paid, sub, paid_at)
    updated = np.maximum.reduce([started, last_paid, np.where(cancelled, cancel_at, 0), np.where(has_ended, ended, 0)])
    ids = first_id + np.arange(n, dtype=np.int64)
    subs = Batch(
        "subscriptions",
        {
            "id": ints(ids),
            "platform": const(platform, n),
            "fan_id": ints(people.fan_ids[fan]),
            "creator_id": ints(people.creator_ids[creator]),
            "price": money(price),
            "currency": texts(currency_code(currency)),
            "billing_period_months": ints(months),
            "status": texts(np.where(lapsed, "expired", np.where(cancelled, "cancelled", "active")).astype(object)),
            "started_at": times(started),
            "cancelled_at": times(cancel_at, ~cancelled),
            "ended_at": times(ended, ~has_ended),
            "current_period_end": times(current_end),
            "updated_at": times(updated),
        },
    )
    written = paid_at >= start_us
    sub, paid_at, status = sub[written], paid_at[written], status[written]
    payments = Batch(
        "transactions",
        {
            "platform": const(platform, len(sub)),
            "type": const("subscription", len(sub)),
            "amount": money(price[sub]),
            "currency": texts(currency_code(currency[sub])),
            "creator_id": ints(people.creator_ids[creator[sub]]),
            "fan_id": ints(people.fan_ids[fan[sub]]),
            "subscription_id": ints(ids[sub]),
            "created_at": times(paid_at),
        },
    )
    return subs, _settle(rng, payments, status, end_us)


def one_off(
    rng: np.random.Generator,
    platform: str,
    people: People,
    catalogue: Catalogue,
    *,
    start_us: int,
    end_us: int,
    horizon_us: int,
    intensity: np.ndarray,
    size: float,
    volumes: m.Volumes,
) -> Batch:
    """Tips and pay-per-view purchases in ``[start_us, end_us)``, settled as of ``horizon_us``."""
    v = volumes
    t = m.event_times(rng, v.tips * size, start_us, end_us, intensity)
    fan = m.pick_existing(rng, people.fan_created, t, skew=1.5)
    creator = m.pick_existing(rng, people.creator_created, t, skew=2.0)
    ok = (fan >= 0) & (creator >= 0)
    t, fan, creator = t[ok], fan[ok], creator[ok]
    usd = np.clip(rng.lognormal(np.log(8.0), 0.9, len(t)), 1.0, 500.0)
    currency = people.fan_currency[fan]
    tips = Batch(
        "transactions",
        {
            "platform": const(platform, len(t)),
            "type": const("tip", len(t)),
            "amount": money(price_units(usd, currency, charm=False)),
            "currency": texts(currency_code(currency)),
            "creator_id": ints(people.creator_ids[creator]),
            "fan_id": ints(people.fan_ids[fan]),
            "created_at": times(t),
        },
    )
    t = m.event_times(rng, v.ppv_purchases * size, start_us, end_us, intensity)
    item = m.pick_existing(rng, catalogue.created[catalogue.ppv], t, skew=0.5)
    fan = m.pick_existing(rng, people.fan_created, t, skew=1.5)
    ok = (item >= 0) & (fan >= 0)
    t, item, fan = t[ok], catalogue.ppv[item[ok]], fan[ok]
    ppv = Batch(
        "transactions",
        {
            "platform": const(platform, len(t)),
            "type": const("ppv", len(t)),
            "amount": money(catalogue.ppv_price[item]),
            "currency": texts(currency_code(catalogue.currency[item])),
            "creator_id": ints(catalogue.creator_ids[item]),
            "fan_id": ints(people.fan_ids[fan]),
            "content_id": ints(catalogue.ids[item]),
            "created_at": times(t),
        },
    )
    both = concat([tips, ppv])
    both = both.take(np.argsort(both.columns["created_at"].values, kind="stable"))
    return _settle(rng, both, m.choose(rng, m.STATUSES, len(both)), horizon_us)
