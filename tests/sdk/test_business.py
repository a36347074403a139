"""The business API: exact counters, revenue for completed payments only, bad input rejected."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from fanzwatch.core import LabelError
from fanzwatch.sdk import (
    InvalidBusinessEventError,
    TelemetryNotInitialisedError,
    declare_payments,
    mark_user_active,
    record_error,
    record_payment,
    record_payout,
    record_registration,
    record_renewal,
    record_upload,
)
from fanzwatch.sdk.testing import TelemetryCapture, make_test_telemetry

TIP_USD = {"platform": "fanz-1", "payment_type": "tip", "currency": "USD"}


def test_revenue_is_added_for_completed_payments_only_and_per_currency(cap: TelemetryCapture) -> None:
    record_payment(amount=Decimal("9.99"), currency="USD", payment_type="tip", status="completed")
    record_payment(amount=Decimal("5.01"), currency="usd", payment_type="tip", status="completed")
    record_payment(amount=100.0, currency="USD", payment_type="tip", status="declined")
    record_payment(amount=50, currency="USD", payment_type="tip", status="failed")
    record_payment(amount=7, currency="EUR", payment_type="tip", status="completed")

    assert cap.get_sample_value("fanz_revenue_total", TIP_USD) == pytest.approx(15.0)
    assert cap.get_sample_value("fanz_revenue_total", {**TIP_USD, "currency": "EUR"}) == 7
    for status, count in (("completed", 2), ("declined", 1), ("failed", 1)):
        assert cap.get_sample_value("fanz_payment_transactions_total", {**TIP_USD, "status": status}) == count
    # The OTLP mirror carries the same values.
    points = cap.otel_points("fanz_revenue")
    assert points[frozenset(TIP_USD.items())].value == pytest.approx(15.0)


def test_failed_payments_count_their_value_and_every_outcome_exists_from_the_first_attempt(
    cap: TelemetryCapture,
) -> None:
    record_payment(amount=Decimal("9.99"), currency="USD", payment_type="tip", status="completed")
    # Before any failure, the failed series are there at 0, so rate() counts the first one.
    assert cap.get_sample_value("fanz_payment_transactions_total", {**TIP_USD, "status": "failed"}) == 0
    assert cap.get_sample_value("fanz_payment_failed_value", TIP_USD) is None  # no _total: not a sample name
    assert cap.get_sample_value("fanz_payment_failed_value_total", TIP_USD) == 0
    record_payment(amount=Decimal("12.50"), currency="USD", payment_type="tip", status="failed")
    record_payment(amount=Decimal("0.51"), currency="USD", payment_type="tip", status="failed")
    record_payment(amount=100, currency="USD", payment_type="tip", status="declined")
    assert cap.get_sample_value("fanz_payment_failed_value_total", TIP_USD) == pytest.approx(13.01)
    assert cap.get_sample_value("fanz_revenue_total", TIP_USD) == pytest.approx(9.99)
    # Another platform's series start with its own first attempt, not before.
    other = {**TIP_USD, "platform": "fanz-2"}
    assert cap.get_sample_value("fanz_payment_transactions_total", {**other, "status": "failed"}) is None


def test_renewals_and_payouts_count_by_outcome_for_the_slos(cap: TelemetryCapture) -> None:
    record_renewal(currency="eur", status="completed")
    record_renewal(currency="EUR", status="failed")
    record_payout(currency="USD", status="on_time")
    record_payout(currency="USD", status="on_time")
    record_payout(currency="USD", status="late")
    renewal = {"platform": "fanz-1", "currency": "EUR"}
    assert cap.get_sample_value("fanz_subscription_renewals_total", {**renewal, "status": "completed"}) == 1
    assert cap.get_sample_value("fanz_subscription_renewals_total", {**renewal, "status": "failed"}) == 1
    payout = {"platform": "fanz-1", "currency": "USD"}
    assert cap.get_sample_value("fanz_creator_payouts_total", {**payout, "status": "on_time"}) == 2
    assert cap.get_sample_value("fanz_creator_payouts_total", {**payout, "status": "late"}) == 1
    with pytest.raises(LabelError):
        record_payout(currency="USD", status="whenever")  # type: ignore[arg-type]


def test_unsupported_currency_and_platform_are_bounded(cap: TelemetryCapture) -> None:
    record_payment(amount=1, currency="XYZ", payment_type="ppv", status="completed", platform="not-a-platform")
    labels = {"platform": "other", "payment_type": "ppv", "currency": "OTHER"}
    assert cap.get_sample_value("fanz_revenue_total", labels) == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("-1"), "must not be negative"),
        (-0.01, "must not be negative"),
        (math.nan, "finite"),
        (Decimal("NaN"), "finite"),
        (math.inf, "finite"),
        ("9.99", "Decimal, float or int"),
        (True, "Decimal, float or int"),
    ],
)
def test_impossible_amounts_are_rejected_and_nothing_is_recorded(
    cap: TelemetryCapture, amount: object, message: str
) -> None:
    with pytest.raises(InvalidBusinessEventError, match=message):
        record_payment(amount=amount, currency="USD", payment_type="tip", status="completed")  # type: ignore[arg-type]
    assert cap.get_sample_value("fanz_payment_transactions_total", {**TIP_USD, "status": "completed"}) is None
    assert cap.get_sample_value("fanz_revenue_total", TIP_USD) is None


def test_a_status_outside_the_catalog_is_an_error_and_records_nothing(cap: TelemetryCapture) -> None:
    with pytest.raises(LabelError, match="status='refunded' is not one of: completed, declined, failed"):
        record_payment(amount=1, currency="USD", payment_type="tip", status="refunded")  # type: ignore[arg-type]
    assert cap.get_sample_value("fanz_payment_transactions_total", {**TIP_USD, "status": "completed"}) is None


def test_registrations_uploads_and_errors(cap: TelemetryCapture) -> None:
    record_registration(role="creator", source="ios")
    record_registration(role="creator", source="ios")
    record_registration(role="fan", source="web", platform="fanz-7")
    record_upload(content_type="video", creator_tier="top")
    record_error(error=TimeoutError("upstream"), severity="warning")
    record_error(error=KeyError, severity="info", service="billing")
    record_error(error="PAYMENT_GATEWAY_DOWN", severity="critical")

    reg = "fanz_user_registrations_total"
    assert cap.get_sample_value(reg, {"platform": "fanz-1", "role": "creator", "source": "ios"}) == 2
    assert cap.get_sample_value(reg, {"platform": "fanz-7", "role": "fan", "source": "web"}) == 1
    upload = {"platform": "fanz-1", "content_type": "video", "creator_tier": "top"}
    assert cap.get_sample_value("fanz_content_uploads_total", upload) == 1
    err = "fanz_errors_total"
    base = {"platform": "fanz-1", "service": "test-svc"}
    assert cap.get_sample_value(err, {**base, "error_type": "TimeoutError", "severity": "warning"}) == 1
    assert cap.get_sample_value(err, {**base, "service": "billing", "error_type": "KeyError", "severity": "info"}) == 1
    assert cap.get_sample_value(err, {**base, "error_type": "PAYMENT_GATEWAY_DOWN", "severity": "critical"}) == 1


def test_unknown_role_is_rejected(cap: TelemetryCapture) -> None:
    with pytest.raises(LabelError, match="role='admin'"):
        record_registration(role="admin", source="web")  # type: ignore[arg-type]


def test_active_users_are_distinct(cap: TelemetryCapture) -> None:
    for _ in range(10):
        mark_user_active("alice")
    mark_user_active(42)
    mark_user_active("bob", platform="fanz-3")
    mark_user_active("")  # ignored
    assert cap.get_sample_value("fanz_active_users", {"platform": "fanz-1"}) == 2
    assert cap.get_sample_value("fanz_active_users", {"platform": "fanz-3"}) == 1
    assert cap.get_sample_value("fanz_active_users", {"platform": "other"}) == 0


def test_module_functions_need_telemetry() -> None:
    with pytest.raises(TelemetryNotInitialisedError, match=r"call fanzwatch.sdk.init_telemetry\(\)"):
        record_upload(content_type="image", creator_tier="new")


def test_telemetries_are_independent() -> None:
    a, b = make_test_telemetry(), make_test_telemetry()
    a.telemetry.business.record_upload(content_type="image", creator_tier="new")
    labels = {"platform": "other", "content_type": "image", "creator_tier": "new"}
    assert a.get_sample_value("fanz_content_uploads_total", labels) == 1
    assert b.get_sample_value("fanz_content_uploads_total", labels) is None


def test_distinct_raw_labels_that_bound_alike_are_remembered_once(cap: TelemetryCapture) -> None:
    """A currency or platform taken from requests must not grow the SDK's memory without limit."""
    for n in range(2_000):
        record_payment(amount=1, currency=f"X{n:04d}", payment_type="tip", status="completed", platform=f"p-{n}")
    touched = cap.telemetry.business._touched  # the SDK's only per-label-set memory
    assert len(touched) == 1  # all of them are ("other", "tip", "OTHER")


def test_the_first_payment_of_a_platform_and_currency_creates_every_outcome_at_zero(cap: TelemetryCapture) -> None:
    """A failure of a payment type never paid before must not be the birth of its series (``rate()`` would miss it)."""
    record_payment(amount=5, currency="EUR", payment_type="tip", status="completed")
    for payment_type in ("subscription", "tip", "ppv"):
        labels = {"platform": "fanz-1", "payment_type": payment_type, "currency": "EUR"}
        assert cap.get_sample_value("fanz_payment_failed_value_total", labels) == 0
        assert cap.get_sample_value("fanz_payment_transactions_total", {**labels, "status": "failed"}) == 0
    assert (
        cap.get_sample_value(
            "fanz_subscription_renewals_total", {"platform": "fanz-1", "currency": "EUR", "status": "failed"}
        )
        == 0
    )
    assert (
        cap.get_sample_value("fanz_creator_payouts_total", {"platform": "fanz-1", "currency": "EUR", "status": "late"})
        == 0
    )
    assert (
        cap.get_sample_value(
            "fanz_payment_failed_value_total", {"platform": "fanz-1", "payment_type": "ppv", "currency": "USD"}
        )
        is None
    )


def test_declared_currencies_exist_before_any_payment(cap: TelemetryCapture) -> None:
    declare_payments(currencies=("USD", "GBP"), platforms=("fanz-1", "fanz-3"))
    for platform in ("fanz-1", "fanz-3"):
        for currency in ("USD", "GBP"):
            labels = {"platform": platform, "payment_type": "ppv", "currency": currency}
            assert cap.get_sample_value("fanz_payment_failed_value_total", labels) == 0
    assert (
        cap.get_sample_value(
            "fanz_payment_failed_value_total", {"platform": "fanz-1", "payment_type": "ppv", "currency": "EUR"}
        )
        is None
    )
    record_payment(amount=Decimal("2.75"), currency="GBP", payment_type="ppv", status="failed", platform="fanz-3")
    labels = {"platform": "fanz-3", "payment_type": "ppv", "currency": "GBP"}
    assert cap.get_sample_value("fanz_payment_failed_value_total", labels) == 2.75


def test_a_renewal_with_an_unknown_status_creates_no_series(cap: TelemetryCapture) -> None:
    with pytest.raises(LabelError):
        record_renewal(currency="CAD", status="lost", platform="fanz-1")  # type: ignore[arg-type]
    assert (
        cap.get_sample_value(
            "fanz_subscription_renewals_total", {"platform": "fanz-1", "currency": "CAD", "status": "failed"}
        )
        is None
    )
