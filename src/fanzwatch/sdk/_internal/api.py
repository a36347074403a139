"""Module-level business functions: the process's telemetry, found through the holder.

They let the code where a business action happens record it without holding a
``Telemetry`` reference; code that has one may call ``telemetry.business.*`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from .business import (
    ContentType,
    CreatorTier,
    PaymentStatus,
    PaymentType,
    PayoutStatus,
    RegistrationSource,
    Role,
    Severity,
)
from .process import current_telemetry
from .telemetry import Telemetry


def record_registration(*, role: Role, source: RegistrationSource, platform: str | None = None) -> None:
    """A user finished signing up (``fanz_user_registrations_total``)."""
    current_telemetry("record_registration").business.record_registration(role=role, source=source, platform=platform)


def record_upload(*, content_type: ContentType, creator_tier: CreatorTier, platform: str | None = None) -> None:
    """A creator's content was stored (``fanz_content_uploads_total``)."""
    current_telemetry("record_upload").business.record_upload(
        content_type=content_type, creator_tier=creator_tier, platform=platform
    )


def record_payment(
    *,
    amount: Decimal | float | int,
    currency: str,
    payment_type: PaymentType,
    status: PaymentStatus,
    platform: str | None = None,
) -> None:
    """A payment attempt ended; revenue grows only for ``status="completed"``, per currency."""
    current_telemetry("record_payment").business.record_payment(
        amount=amount, currency=currency, payment_type=payment_type, status=status, platform=platform
    )


def declare_payments(*, currencies: Iterable[str], platforms: Iterable[str] | None = None) -> None:
    """Create the payment, renewal and payout series of these currencies at 0 (call at start-up)."""
    current_telemetry("declare_payments").business.declare_payments(currencies=currencies, platforms=platforms)


def record_renewal(*, currency: str, status: PaymentStatus, platform: str | None = None) -> None:
    """A subscription renewal's payment ended (``fanz_subscription_renewals_total``)."""
    current_telemetry("record_renewal").business.record_renewal(currency=currency, status=status, platform=platform)


def record_payout(*, currency: str, status: PayoutStatus, platform: str | None = None) -> None:
    """A creator payout was paid on time, late, or failed (``fanz_creator_payouts_total``)."""
    current_telemetry("record_payout").business.record_payout(currency=currency, status=status, platform=platform)


def record_error(
    *,
    error: BaseException | type[BaseException] | str,
    severity: Severity = "warning",
    service: str | None = None,
    platform: str | None = None,
) -> None:
    """An error was handled (``fanz_errors_total``, labelled by exception class, never message)."""
    current_telemetry("record_error").business.record_error(
        error=error, severity=severity, service=service, platform=platform
    )


def mark_user_active(user_id: str | int, *, platform: str | None = None) -> None:
    """``user_id`` did something now (``fanz_active_users`` counts distinct users per 5 minutes)."""
    current_telemetry("mark_user_active").business.mark_user_active(user_id, platform=platform)


def instrument_db_pool(engine: Engine | AsyncEngine, *, pool_name: str, telemetry: Telemetry | None = None) -> None:
    """Report ``engine``'s real pool occupancy and size (``db_client_connection_*``)."""
    (telemetry or current_telemetry("instrument_db_pool")).instrument_db_pool(engine, pool_name=pool_name)
