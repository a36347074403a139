"""Business metrics of the creator economy, recorded where the business action happens."""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec

ROLES = ("fan", "creator")
REGISTRATION_SOURCES = ("web", "ios", "android", "api", "referral", "other")
CONTENT_TYPES = ("image", "video", "audio", "text")
CREATOR_TIERS = ("new", "standard", "verified", "top")
PAYMENT_TYPES = ("subscription", "tip", "ppv")
PAYMENT_STATUSES = ("completed", "declined", "failed")
PAYOUT_STATUSES = ("on_time", "late", "failed")
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "BRL", "MXN", "OTHER")

CURRENCY = Label("currency", "ISO 4217 code from the supported list, else OTHER", CURRENCIES)
PAYMENT_TYPE = Label("payment_type", "what the fan paid for", PAYMENT_TYPES)

USER_REGISTRATIONS = MetricSpec(
    name="fanz_user_registrations",
    kind=MetricKind.COUNTER,
    unit="registrations",
    help="Completed user registrations.",
    labels=(PLATFORM, Label("role", "fan or creator", ROLES), Label("source", "sign-up channel", REGISTRATION_SOURCES)),
    guide_name="user_registrations_total",
    guide_note="label user_type renamed role; values bounded",
)
CONTENT_UPLOADS = MetricSpec(
    name="fanz_content_uploads",
    kind=MetricKind.COUNTER,
    unit="uploads",
    help="Content items uploaded by creators.",
    labels=(
        PLATFORM,
        Label("content_type", "kind of content", CONTENT_TYPES),
        Label("creator_tier", "the uploading creator's tier", CREATOR_TIERS),
    ),
    guide_name="content_uploads_total",
)
PAYMENT_TRANSACTIONS = MetricSpec(
    name="fanz_payment_transactions",
    kind=MetricKind.COUNTER,
    unit="transactions",
    help="Payment attempts by outcome.",
    labels=(PLATFORM, PAYMENT_TYPE, CURRENCY, Label("status", "outcome of the attempt", PAYMENT_STATUSES)),
    guide_name="payment_transactions_total",
    guide_note="adds the status label the guide's success-rate panel and alert filter on",
)
REVENUE = MetricSpec(
    name="fanz_revenue",
    kind=MetricKind.COUNTER,
    unit="currency units",
    help="Gross revenue of completed payments, in major units of the label's currency.",
    labels=(PLATFORM, PAYMENT_TYPE, CURRENCY),
    guide_name="revenue_amount_total",
    guide_note="completed payments only; never summed across currencies",
)
FAILED_PAYMENTS_VALUE = MetricSpec(
    name="fanz_payment_failed_value",
    kind=MetricKind.COUNTER,
    unit="currency units",
    help="Value of the payment attempts the processor failed, in major units of the label's currency.",
    labels=(PLATFORM, PAYMENT_TYPE, CURRENCY),
)
ACTIVE_USERS = MetricSpec(
    name="fanz_active_users",
    kind=MetricKind.GAUGE,
    unit="users",
    help="Distinct authenticated users seen in the last 5 minutes.",
    labels=(PLATFORM,),
    guide_name="active_users",
    guide_note="distinct users in a sliding window, not +1/-1 per request",
)

SUBSCRIPTION_RENEWALS = MetricSpec(
    name="fanz_subscription_renewals",
    kind=MetricKind.COUNTER,
    unit="renewals",
    help="Subscription renewal attempts by outcome (also counted as subscription payments).",
    labels=(PLATFORM, CURRENCY, Label("status", "outcome of the renewal's payment", PAYMENT_STATUSES)),
)
CREATOR_PAYOUTS = MetricSpec(
    name="fanz_creator_payouts",
    kind=MetricKind.COUNTER,
    unit="payouts",
    help="Creator payouts by outcome: paid by their due date, paid late, or failed.",
    labels=(PLATFORM, CURRENCY, Label("status", "on_time, late or failed", PAYOUT_STATUSES)),
)

METRICS = (
    USER_REGISTRATIONS,
    CONTENT_UPLOADS,
    PAYMENT_TRANSACTIONS,
    REVENUE,
    FAILED_PAYMENTS_VALUE,
    ACTIVE_USERS,
    SUBSCRIPTION_RENEWALS,
    CREATOR_PAYOUTS,
)
