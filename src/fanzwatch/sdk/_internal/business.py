"""The business API: typed, keyword-only, called where the business action happens.

The guide found business events by monkey-patching ``res.send`` and re-parsing every
response body. Here the code that completes a payment says so:

>>> telemetry.business.record_payment(amount=Decimal("9.99"), currency="USD",
...                                   payment_type="tip", status="completed")

Revenue is added for completed payments only, per currency, never summed across them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal, get_args

from ...core import FanzwatchError
from ...core.catalog import business, runtime
from .active_users import ActiveUsersTracker
from .instruments import LabelBounds, SdkInstruments
from .otel_metrics import OtelMirror

Role = Literal["fan", "creator"]
RegistrationSource = Literal["web", "ios", "android", "api", "referral", "other"]
ContentType = Literal["image", "video", "audio", "text"]
CreatorTier = Literal["new", "standard", "verified", "top"]
PaymentType = Literal["subscription", "tip", "ppv"]
PaymentStatus = Literal["completed", "declined", "failed"]
PayoutStatus = Literal["on_time", "late", "failed"]
_PAYMENT_TYPES: tuple[PaymentType, ...] = get_args(PaymentType)
_PAYMENT_STATUSES: tuple[PaymentStatus, ...] = get_args(PaymentStatus)
_PAYOUT_STATUSES: tuple[PayoutStatus, ...] = get_args(PayoutStatus)
Severity = Literal["critical", "warning", "info"]


class InvalidBusinessEventError(FanzwatchError, ValueError):
    """A business event carried an impossible value (negative or NaN amount, ...)."""


class BusinessMetrics:
    """Records the catalog's business metrics for one service.

    Built by ``init_telemetry``; reach it as ``telemetry.business`` or through the
    module-level functions (``fanzwatch.sdk.record_payment``...).
    """

    def __init__(
        self,
        instruments: SdkInstruments,
        *,
        platforms: frozenset[str],
        platform: str,
        service: str,
        tracker: ActiveUsersTracker,
        mirror: OtelMirror | None = None,
    ) -> None:
        self._instruments = instruments
        self._platform = platform
        self._service = service
        self._tracker = tracker
        self._mirror = mirror
        self._bounds = instruments.bounds
        self._platform_bounds = LabelBounds(business.ACTIVE_USERS, platforms)
        self._touched: set[tuple[object, ...]] = set()

    def _record(self, spec_name: str, value: float, labels: dict[str, object]) -> None:
        bounds = self._bounds[spec_name]
        bounded = {k: bounds.bound(k, v) for k, v in labels.items()}
        self._instruments.counter(spec_name).labels(**bounded).inc(value)
        if self._mirror is not None:
            self._mirror.add(spec_name, value, bounded)

    def _plat(self, platform: str | None) -> str:
        return self._platform if platform is None else platform

    def record_registration(self, *, role: Role, source: RegistrationSource, platform: str | None = None) -> None:
        """A user finished signing up."""
        self._record(
            business.USER_REGISTRATIONS.name, 1, {"platform": self._plat(platform), "role": role, "source": source}
        )

    def record_upload(
        self, *, content_type: ContentType, creator_tier: CreatorTier, platform: str | None = None
    ) -> None:
        """A creator's content item was stored."""
        self._record(
            business.CONTENT_UPLOADS.name,
            1,
            {"platform": self._plat(platform), "content_type": content_type, "creator_tier": creator_tier},
        )

    def record_payment(
        self,
        *,
        amount: Decimal | float | int,
        currency: str,
        payment_type: PaymentType,
        status: PaymentStatus,
        platform: str | None = None,
    ) -> None:
        """A payment attempt ended with ``status``; revenue grows only when it completed.

        ``amount`` is in major units of ``currency`` (ISO 4217; unsupported codes are
        recorded as ``OTHER``). Negative, infinite or NaN amounts raise
        :class:`InvalidBusinessEventError`: nothing is recorded.
        """
        value = _amount(amount)
        labels: dict[str, object] = {
            "platform": self._plat(platform),
            "payment_type": payment_type,
            "currency": _currency(currency),
        }
        # Validate every label before recording anything, so a bad status records nothing.
        self._bounds[business.PAYMENT_TRANSACTIONS.name].bound("status", status)
        self._touch_outcomes(labels)
        self._record(business.PAYMENT_TRANSACTIONS.name, 1, {**labels, "status": status})
        if status == "completed":
            self._record(business.REVENUE.name, value, labels)
        elif status == "failed":
            self._record(business.FAILED_PAYMENTS_VALUE.name, value, labels)

    def declare_payments(self, *, currencies: Iterable[str], platforms: Iterable[str] | None = None) -> None:
        """Create every payment, renewal and payout series of these currencies at 0, now.

        Call it at start-up with the currencies (and, for a multi-tenant service, the
        platforms) the service takes payments in. ``rate()`` counts increases from a series'
        first sample on: a ``failed`` series born with the first failure would lose that
        failure (and its value) from every rate, SLO and money figure. The SDK also creates
        them on the first payment of a platform and currency, but a combination first seen
        in an outage would lose its first failure: declared, it does not.
        """
        for platform in (self._platform,) if platforms is None else platforms:
            for currency in currencies:
                self._touch_outcomes({"platform": platform, "currency": _currency(currency)})

    def _touch_outcomes(self, labels: dict[str, object]) -> None:
        """Create every outcome's series of this platform and currency at 0 (once; later calls find them).

        Every payment type, status, renewal and payout outcome: see :meth:`declare_payments`
        for why a series must exist before its first event.
        """
        transactions = self._bounds[business.PAYMENT_TRANSACTIONS.name]
        bounded = {k: transactions.bound(k, labels[k]) for k in ("platform", "currency")}
        key = tuple(bounded.values())  # the bounded values: raw ones from requests would grow the set forever
        if key in self._touched:
            return
        for payment_type in _PAYMENT_TYPES:
            typed = {**bounded, "payment_type": payment_type}
            for outcome in _PAYMENT_STATUSES:
                self._instruments.counter(business.PAYMENT_TRANSACTIONS.name).labels(**typed, status=outcome)
            self._instruments.counter(business.REVENUE.name).labels(**typed)
            self._instruments.counter(business.FAILED_PAYMENTS_VALUE.name).labels(**typed)
        for outcome in _PAYMENT_STATUSES:
            self._instruments.counter(business.SUBSCRIPTION_RENEWALS.name).labels(**bounded, status=outcome)
        for payout in _PAYOUT_STATUSES:
            self._instruments.counter(business.CREATOR_PAYOUTS.name).labels(**bounded, status=payout)
        self._touched.add(key)

    def record_renewal(self, *, currency: str, status: PaymentStatus, platform: str | None = None) -> None:
        """A subscription renewal's payment ended with ``status`` (the subscription-renewal SLO).

        Record the payment itself with :meth:`record_payment` too; this counts renewals apart
        from first subscriptions.
        """
        labels: dict[str, object] = {"platform": self._plat(platform), "currency": _currency(currency)}
        self._bounds[business.SUBSCRIPTION_RENEWALS.name].bound("status", status)  # a bad status creates nothing
        self._touch_outcomes(labels)
        self._record(business.SUBSCRIPTION_RENEWALS.name, 1, {**labels, "status": status})

    def record_payout(self, *, currency: str, status: PayoutStatus, platform: str | None = None) -> None:
        """A creator payout was paid by its due date (``on_time``), after it (``late``), or ``failed``."""
        labels: dict[str, object] = {"platform": self._plat(platform), "currency": _currency(currency)}
        self._bounds[business.CREATOR_PAYOUTS.name].bound("status", status)  # a bad status creates nothing
        self._touch_outcomes(labels)
        self._record(business.CREATOR_PAYOUTS.name, 1, {**labels, "status": status})

    def record_error(
        self,
        *,
        error: BaseException | type[BaseException] | str,
        severity: Severity = "warning",
        service: str | None = None,
        platform: str | None = None,
    ) -> None:
        """An error was handled (or is about to be raised); ``error`` is the exception, its class or a code."""
        if isinstance(error, BaseException):
            error_type = type(error).__name__
        elif isinstance(error, type):
            error_type = error.__name__
        else:
            error_type = error
        self._record(
            runtime.ERRORS.name,
            1,
            {
                "platform": self._plat(platform),
                "error_type": error_type,
                "service": service or self._service,
                "severity": severity,
            },
        )

    def mark_user_active(self, user_id: str | int, *, platform: str | None = None) -> None:
        """``user_id`` did something now; counted once per window in ``fanz_active_users``."""
        uid = str(user_id)
        if not uid:
            return
        self._tracker.mark(uid, self._platform_bounds.bound("platform", self._plat(platform)))

    @property
    def tracker(self) -> ActiveUsersTracker:
        return self._tracker


def _currency(currency: object) -> object:
    return currency.upper() if isinstance(currency, str) else currency


def _amount(amount: Decimal | float | int) -> float:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | float | int):
        raise InvalidBusinessEventError(f"payment amount must be a Decimal, float or int, not {type(amount).__name__}")
    value = float(amount)
    if math.isnan(value) or math.isinf(value):
        raise InvalidBusinessEventError(f"payment amount must be a finite number, got {amount!r}")
    if value < 0:
        raise InvalidBusinessEventError(
            f"payment amount must not be negative, got {amount!r}; record refunds separately"
        )
    return value
