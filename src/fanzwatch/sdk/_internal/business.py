"""The business API: typed, keyword-only, called where the business action happens.

The guide found business events by monkey-patching ``res.send`` and re-parsing every
response body. Here the code that completes a payment says so:

>>> telemetry.business.record_payment(amount=Decimal("9.99"), currency="USD",
...                                   payment_type="tip", status="completed")

Revenue is added for completed payments only, per currency, never summed across them.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

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

    def _touch_outcomes(self, labels: dict[str, object]) -> None:
        """Create every outcome's series of these labels at 0 (once; later calls find them).

        ``rate()`` counts increases from a series' first sample on: a ``failed`` series born
        with the first failure would lose that failure (and its value) from every rate,
        SLO and money figure. Existing from the platform's first payment on, it does not.
        """
        transactions = self._bounds[business.PAYMENT_TRANSACTIONS.name]
        bounded = {k: transactions.bound(k, v) for k, v in labels.items()}
        key = tuple(bounded.values())  # the bounded values: raw ones from requests would grow the set forever
        if key in self._touched:
            return
        for outcome in ("completed", "declined", "failed"):
            self._instruments.counter(business.PAYMENT_TRANSACTIONS.name).labels(**bounded, status=outcome)
        self._instruments.counter(business.REVENUE.name).labels(**bounded)
        self._instruments.counter(business.FAILED_PAYMENTS_VALUE.name).labels(**bounded)
        self._touched.add(key)

    def record_renewal(self, *, currency: str, status: PaymentStatus, platform: str | None = None) -> None:
        """A subscription renewal's payment ended with ``status`` (the subscription-renewal SLO).

        Record the payment itself with :meth:`record_payment` too; this counts renewals apart
        from first subscriptions.
        """
        self._record(
            business.SUBSCRIPTION_RENEWALS.name,
            1,
            {"platform": self._plat(platform), "currency": _currency(currency), "status": status},
        )

    def record_payout(self, *, currency: str, status: PayoutStatus, platform: str | None = None) -> None:
        """A creator payout was paid by its due date (``on_time``), after it (``late``), or ``failed``."""
        self._record(
            business.CREATOR_PAYOUTS.name,
            1,
            {"platform": self._plat(platform), "currency": _currency(currency), "status": status},
        )

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
