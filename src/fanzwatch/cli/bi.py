"""``fanzwatch bi``: KPI reports and rollup maintenance from the command line."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError

from ..core.clock import SystemClock
from ..core.errors import ConfigError
from ..settings import ServerSettings
from ..settings.bi import BiSettings
from ._common import load_settings

bi_app = typer.Typer(
    help="Business intelligence: creator-economy KPIs from the platform database.", no_args_is_help=True
)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Platform database URL [default: FANZWATCH_BI_DATABASE_URL].")
]

# (label, dotted path in the report's changes) for the text summary
_SUMMARY = (
    ("Gross revenue", "revenue.gross"),
    ("Refunded", "revenue.refund_amount"),
    ("Charged back", "revenue.chargeback_amount"),
    ("Net revenue", "revenue.net"),
    ("Payments (gross)", "revenue.completed_transactions"),
    ("Average transaction", "revenue.average_transaction_value"),
    ("MRR", "revenue.mrr"),
    ("Platform fees", "revenue.platform_fees"),
    ("Creator payouts", "revenue.creator_payouts"),
    ("Refunds", "revenue.refunds"),
    ("Chargebacks", "revenue.chargebacks"),
    ("Payment success", "revenue.payment_success_ratio"),
    ("ARPU", "revenue.arpu"),
    ("ARPPU", "revenue.arppu"),
    ("New users", "users.new_users"),
    ("Creator sign-ups", "users.creator_signups"),
    ("Active users", "users.active_users"),
    ("DAU", "users.dau"),
    ("MAU", "users.mau"),
    ("Subscription churn", "users.subscriptions.churn_rate"),
    ("Uploads", "content.total_uploads"),
    ("Views", "content.total_views"),
    ("Engagement rate", "content.engagement_rate"),
    ("Avg session (s)", "engagement.average_session_seconds"),
    ("Engagement / user", "engagement.engagement_score_per_active_user"),
)


def _fail(message: str) -> NoReturn:
    typer.secho(message, err=True, fg="red")
    raise typer.Exit(2)


def _settings(database_url: str | None) -> BiSettings:
    """Settings whose platform database exists and has the platform tables (else exit 2, nothing created)."""
    from ..bi.database import PlatformDatabaseError, check_platform_database

    overrides: dict[str, Any] = {} if database_url is None else {"database_url": SecretStr(database_url)}
    settings = load_settings(lambda: BiSettings(**overrides))
    if settings.database_url is None:
        _fail("no platform database: pass --database-url or set FANZWATCH_BI_DATABASE_URL")
    try:
        check_platform_database(settings.database_url.get_secret_value())
    except PlatformDatabaseError as exc:
        _fail(str(exc))
    return settings


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@bi_app.command("report")
def report(
    window: Annotated[str, typer.Option(help="Window length: 15m, 24h, 7d, 4w.")] = "24h",
    platform: Annotated[str | None, typer.Option(help="One platform slug [default: all].")] = None,
    end: Annotated[datetime | None, typer.Option(help="Window end, ISO 8601 with offset [default: now].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    raw: Annotated[bool, typer.Option(help="Bypass the rollups (slow at scale; for checking).")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """KPIs of the window against the previous window of equal length, with insights."""
    from ..bi import build_bi

    settings = _settings(database_url)
    platforms = load_settings(ServerSettings).platforms
    parts = build_bi(settings.model_copy(update={"refresh_rollups": False}), platforms=platforms, clock=SystemClock())
    try:
        result = parts.service.report(window, platform=platform, end=end, raw=raw)
    except ConfigError as exc:
        _fail(str(exc))
    except DBAPIError as exc:
        _fail(f"the platform database failed: {str(exc.orig or exc).strip().splitlines()[0]}")
    finally:
        parts.dispose()
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    w = result.window
    typer.echo(f"{platform or 'all platforms'}: {w.start.isoformat()} .. {w.end.isoformat()} ({result.source})")
    typer.echo(f"{'':22}{'current':>16}{'previous':>16}{'change':>10}")
    for label, path in _SUMMARY:
        c = result.changes[path]
        typer.echo(f"{label:22}{_fmt(c.current):>16}{_fmt(c.previous):>16}{c.growth:>10}")
    if result.current.revenue.unconverted_currencies:
        typer.echo(f"not converted (no rate): {', '.join(result.current.revenue.unconverted_currencies)}")
    for line in result.insights:
        typer.echo(line)


@bi_app.command("rollup")
def rollup(
    rebuild: Annotated[bool, typer.Option(help="Recompute every rollup from scratch.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Bring the hourly rollups up to the last complete hour (idempotent)."""
    from ..bi import build_bi

    settings = _settings(database_url)
    parts = build_bi(settings.model_copy(update={"refresh_rollups": False}), platforms=("other",), clock=SystemClock())
    try:
        if parts.refresher is None:
            _fail("rollups are disabled (FANZWATCH_BI_USE_ROLLUPS=false)")
        result = parts.refresher.refresh(rebuild=rebuild)
    except DBAPIError as exc:
        _fail(f"the rollup refresh failed: {str(exc.orig or exc).strip().splitlines()[0]}")
    finally:
        parts.dispose()
    typer.echo(
        f"rollups cover until {result.covered_until.isoformat()} "
        f"({'rebuilt' if result.rebuilt else 'incremental'}, {result.users_recomputed} users, {result.seconds:.2f}s)"
    )
