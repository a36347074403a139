"""``fanzwatch serve`` and ``fanzwatch db``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..settings import ServerSettings
from ._common import load_settings

db_app = typer.Typer(help="The server's store: migrations and status.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8900].")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="State directory [default: .fanzwatch].")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    insecure_open_loopback: Annotated[
        bool,
        typer.Option(
            "--insecure-open-loopback",
            help="Turn authentication off (everyone is admin). Only allowed on 127.0.0.1/::1; "
            "for a laptop demo, never for a shared machine.",
        ),
    ] = False,
) -> None:
    """Run the fanzwatch server (health, RUM, BI, anomalies, alerts, FanzDash).

    Authentication is on: with no FANZWATCH_AUTH_*_TOKEN set, a viewer, a responder and an
    admin token are generated into <data-dir>/secrets/ on first start (see docs/security.md).
    """
    import os

    import uvicorn

    from ..core.errors import ConfigError
    from ..server.auth import check_bind

    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None
    }
    if insecure_open_loopback:
        os.environ["FANZWATCH_AUTH_INSECURE_OPEN_LOOPBACK"] = "true"  # workers read the environment
    settings = load_settings(lambda: ServerSettings(**overrides))
    try:
        check_bind(settings.auth, settings.host)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    # Forwarded headers are believed only from FANZWATCH_AUTH_TRUSTED_PROXIES (the app's own
    # middleware); uvicorn's default would trust them from 127.0.0.1.
    common: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_level": settings.log_level}
    common["proxy_headers"] = False
    if workers > 1:
        # Each worker builds its own app from the environment: pass overrides through it.
        for key, value in overrides.items():
            os.environ[f"FANZWATCH_SERVER_{key.upper()}"] = str(value)
        uvicorn.run("fanzwatch.server.app:create_app", factory=True, workers=workers, **common)
        return
    from ..server import create_app

    try:
        app = create_app(settings)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    uvicorn.run(app, **common)


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[str | None, typer.Option(help="Store URL [default: from settings].")] = None,
) -> None:
    """Apply every pending migration to the store."""
    from ..store import upgrade

    settings = load_settings(ServerSettings)
    target = url or settings.store_url
    upgrade(target)
    typer.echo("store is up to date")


@db_app.command("status")
def db_status(
    url: Annotated[str | None, typer.Option(help="Store URL [default: from settings].")] = None,
) -> None:
    """Show applied and known migration heads; exit 1 when the store is behind."""
    from ..store import current_heads

    settings = load_settings(ServerSettings)
    applied, known = current_heads(url or settings.store_url)
    typer.echo(f"applied: {', '.join(sorted(applied)) or '(none)'}")
    typer.echo(f"known:   {', '.join(sorted(known))}")
    if applied != known:
        typer.echo("the store is behind: run `fanzwatch db upgrade`")
        raise typer.Exit(1)
