"""An independent recomputation of every BI figure from raw rows, in plain Python.

It shares nothing with ``fanzwatch.bi`` but the report models: rows are read with plain
SELECTs of whole tables, every figure is computed from its definition in docs/bi.md with
``Fraction`` (exact) and rounded once at the end as documented. The tests compare its
``BiMetrics`` with the database's, field for field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import BiMetrics, Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOUR = Decimal("0.0001")
SUCCEEDED = {"completed", "refunded", "chargeback"}


def r4(value: Fraction | Decimal | int) -> Decimal:
    """Round once to four places, half to even."""
    f = Fraction(value)
    with localcontext() as ctx:
        ctx.prec = 80
        return (Decimal(f.numerator) / Decimal(f.denominator)).quantize(FOUR, rounding=ROUND_HALF_EVEN)


def day_of(t: datetime) -> int:
    return (t - EPOCH) // timedelta(days=1)


@dataclass
class Rows:
    """Every platform row, as Python values."""

    tables: dict[str, list[Any]]

    @classmethod
    def load(cls, engine: sa.Engine) -> Rows:
        with engine.connect() as conn:
            return cls({t.name: list(conn.execute(sa.select(t))) for t in schema.TABLES})

    def of(self, table: str, platform: str | None) -> list[Any]:
        rows = self.tables[table]
        return rows if platform is None else [r for r in rows if r.platform == platform]

    def rates(self, at: datetime) -> dict[str, Decimal]:
        latest: dict[str, tuple[datetime, Decimal]] = {}
        for r in self.tables["exchange_rates"]:
            if r.valid_from < at and (r.currency not in latest or r.valid_from > latest[r.currency][0]):
                latest[r.currency] = (r.valid_from, r.rate_to_usd)
        return {"USD": Decimal(1)} | {c: v for c, (_, v) in latest.items()}


def _inside(t: datetime | None, w: Window) -> bool:
    return t is not None and w.start <= t < w.end


def _recurring(sub: Any, t: datetime) -> bool:
    return (
        sub.started_at < t
        and (sub.cancelled_at is None or sub.cancelled_at >= t)
        and (sub.ended_at is None or sub.ended_at >= t)
    )


def _stopped_at(sub: Any) -> datetime | None:
    stops = [t for t in (sub.cancelled_at, sub.ended_at) if t is not None]
    return min(stops) if stops else None


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _avg(num: Fraction | Decimal, den: int) -> Decimal | None:
    return None if den == 0 else r4(Fraction(num) / den)


def metrics(
    rows: Rows, w: Window, platform: str | None, rates: dict[str, Decimal], *, fee_rate: Decimal = Decimal("0.20")
) -> BiMetrics:
    """Every KPI of ``w`` (rates: the report's, fixed at the current window's end)."""

    def conv(amount: Fraction | Decimal, currency: str) -> Fraction | None:
        return None if currency not in rates else Fraction(amount) * Fraction(rates[currency])

    txs = rows.of("transactions", platform)
    paid = [t for t in txs if _inside(t.created_at, w)]
    succeeded = [t for t in paid if t.status in SUCCEEDED]
    reversed_ = [t for t in txs if t.status in ("refunded", "chargeback") and _inside(t.refunded_at, w)]
    missing: set[str] = set()
    per: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(Fraction))
    by_type: dict[str, Fraction] = defaultdict(Fraction)
    gross_usd, convertible = Fraction(0), 0
    for t in paid:
        _ = per[t.currency]  # a currency with attempts only is listed too, with zeros
    for t in succeeded:
        c = per[t.currency]
        c["gross"] += Fraction(t.amount)
        c["n"] += 1
        c["fee"] += Fraction(t.fee_amount) if t.fee_amount is not None else Fraction(t.amount) * Fraction(fee_rate)
        c["estimated"] += 0 if t.fee_amount is not None else Fraction(t.amount) * Fraction(fee_rate)
        usd = conv(t.amount, t.currency)
        if usd is None:
            missing.add(t.currency)
            continue
        by_type[t.type] += usd
        gross_usd += usd
        convertible += 1
    for t in reversed_:
        per[t.currency][t.status] += Fraction(t.amount)
    subs = rows.of("subscriptions", platform)
    mrr_by: dict[str, Fraction] = defaultdict(Fraction)
    active_end = [s for s in subs if _recurring(s, w.end)]
    for s in active_end:
        mrr_by[s.currency] += Fraction(s.price) / s.billing_period_months
    for c in mrr_by:
        per[c]["mrr"] += mrr_by[c]

    def usd_exact(values: dict[str, Fraction]) -> Fraction:
        total = Fraction(0)
        for c, v in values.items():
            u = conv(v, c)
            if u is None:
                missing.add(c)
            else:
                total += u
        return total

    def usd_total(values: dict[str, Fraction]) -> Decimal:
        return r4(usd_exact(values))

    # exact to the end: net and payouts from exact sums, rounded once
    gross = r4(gross_usd)
    fees_exact = usd_exact({c: v["fee"] for c, v in per.items()})
    refunds_exact = usd_exact({c: v["refunded"] for c, v in per.items() if v["refunded"]})
    chargebacks_exact = usd_exact({c: v["chargeback"] for c, v in per.items() if v["chargeback"]})
    by_currency = {}
    for c in sorted(per):
        v = per[c]
        g, fee = r4(v["gross"]), r4(v["fee"])
        by_currency[c] = {
            "revenue": g, "net": r4(v["gross"] - v["refunded"] - v["chargeback"]),
            "completed_transactions": int(v["n"]),
            "average_transaction_value": _avg(v["gross"], int(v["n"])), "platform_fees": fee,
            "creator_payouts": r4(v["gross"] - v["fee"]), "refunds": r4(v["refunded"]),
            "chargebacks": r4(v["chargeback"]),
            "mrr": r4(v["mrr"]),
        }  # fmt: skip
    sessions = rows.of("sessions", platform)

    def distinct(items: list[Any], attr: str, within: Window) -> int:
        time = "started_at" if attr == "user_id" else "created_at"
        return len({(r.platform, getattr(r, attr)) for r in items if _inside(getattr(r, time), within)})

    active = distinct(sessions, "user_id", w)
    paying = len({(t.platform, t.fan_id) for t in succeeded})
    day_end = EPOCH + timedelta(days=day_of(w.end))
    dau, wau, mau = (distinct(sessions, "user_id", Window(day_end - timedelta(days=n), day_end)) for n in (1, 7, 30))
    revenue = {
        "currency": "USD", "gross": gross, "net": r4(gross_usd - refunds_exact - chargebacks_exact), "total": gross,
        "by_type": {k: r4(v) for k, v in sorted(by_type.items())}, "by_currency": by_currency,
        "completed_transactions": len(succeeded), "average_transaction_value": _avg(gross_usd, convertible),
        "mrr": usd_total(dict(mrr_by)), "active_subscriptions": len(active_end), "platform_fees": r4(fees_exact),
        "platform_fees_at_default_rate": usd_total({c: v["estimated"] for c, v in per.items()}),
        "creator_payouts": r4(gross_usd - fees_exact),
        "refunds": sum(t.status == "refunded" for t in reversed_), "refund_amount": r4(refunds_exact),
        "chargebacks": sum(t.status == "chargeback" for t in reversed_), "chargeback_amount": r4(chargebacks_exact),
        "payment_attempts": len(paid), "payments_declined": sum(t.status == "declined" for t in paid),
        "payments_failed": sum(t.status == "failed" for t in paid),
        "payment_success_ratio": _ratio(len(succeeded), len(paid)), "paying_users": paying,
        "arpu": _avg(gross_usd, active), "arppu": _avg(gross_usd, paying), "unconverted_currencies": sorted(missing),
    }  # fmt: skip
    users = rows.of("users", platform)
    signups = [u for u in users if _inside(u.created_at, w)]
    active_days = {(s.user_id, day_of(s.started_at)) for s in sessions}
    last_day = day_of(w.end)
    retention = {}
    for n in (1, 7, 30):
        eligible = [u for u in signups if day_of(u.created_at) <= last_day - (n + 1)]
        retained = sum((u.id, day_of(u.created_at) + n) in active_days for u in eligible)
        retention[f"day_{n}"] = {
            "eligible": len(eligible),
            "retained": retained,
            "rate": _ratio(retained, len(eligible)),
        }
    at_start = sum(_recurring(s, w.start) for s in subs)
    new = sum(_inside(s.started_at, w) for s in subs)
    churned = sum(_inside(_stopped_at(s), w) for s in subs)
    user_metrics = {
        "new_users": len(signups), "creator_signups": sum(u.role == "creator" for u in signups),
        "fan_signups": sum(u.role == "fan" for u in signups), "active_users": active, "dau": dau, "wau": wau,
        "mau": mau, "cohort_size": len(signups), "retention": retention,
        "subscriptions": {"active_at_start": at_start, "active_at_end": len(active_end), "new": new,
                          "churned": churned, "churn_rate": _ratio(churned, at_start + new)},
    }  # fmt: skip
    count = {t: sum(_inside(r.created_at, w) for r in rows.of(t, platform)) for t in ("likes", "comments", "shares")}
    views = sum(_inside(r.created_at, w) for r in rows.of("content_views", platform))
    uploads: dict[str, int] = defaultdict(int)
    for c in rows.of("content", platform):
        if _inside(c.created_at, w):
            uploads[c.type] += 1
    started = [s for s in sessions if _inside(s.started_at, w)]
    ended = [s for s in started if s.ended_at is not None]
    micros = sum((s.ended_at - s.started_at) // timedelta(microseconds=1) for s in ended)
    score = count["likes"] + 2 * count["comments"] + 3 * count["shares"]
    engagement = {
        "likes": count["likes"], "comments": count["comments"], "shares": count["shares"], "sessions": len(started),
        "average_session_seconds": None if not ended else round(micros / len(ended) / 1e6, 3),
        "engagement_score": score, "engagement_score_per_active_user": None if active == 0 else score / active,
    }  # fmt: skip
    content = {
        "total_uploads": sum(uploads.values()), "uploads_by_type": dict(sorted(uploads.items())),
        "total_views": views, "engagement_rate": _ratio(sum(count.values()), views),
    }  # fmt: skip
    return BiMetrics.model_validate(
        {"revenue": revenue, "users": user_metrics, "content": content, "engagement": engagement}
    )
