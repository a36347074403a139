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
) -> None:
    """Run the fanzwatch server (health, RUM, BI, anomalies, alerts, FanzDash)."""
    import uvicorn

    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None
    }
    settings = load_settings(lambda: ServerSettings(**overrides))
    if workers > 1:
        # Each worker builds its own app from the environment: pass overrides through it.
        import os

        for key, value in overrides.items():
            os.environ[f"FANZWATCH_SERVER_{key.upper()}"] = str(value)
        uvicorn.run(
            "fanzwatch.server.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level,
        )
        return
    from ..server import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level)


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
