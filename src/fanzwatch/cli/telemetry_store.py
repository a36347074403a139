"""``fanzwatch telemetry-store``: the process that owns the trace and log database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..settings.telemetry_store import TelemetryStoreSettings
from ._common import fail, load_settings

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def telemetry_store(
    host: Annotated[str | None, typer.Option(help="Interface to bind, loopback only [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8911].")] = None,
    data_dir: Annotated[Path, typer.Option(help="State directory (holds secrets/ and telemetry/).")] = Path(
        ".fanzwatch"
    ),
    path: Annotated[Path | None, typer.Option(help="chDB database directory [default: <data-dir>/telemetry].")] = None,
    ttl_days: Annotated[int | None, typer.Option(min=1, help="Retention in days [default: 7].")] = None,
) -> None:
    """Run the trace and log store (chDB): batches and named queries on loopback.

    chDB allows one process per database path: the server's OTLP receiver and read API reach
    the store through this process, with the token of <data-dir>/secrets/telemetry_store_token
    (generated on first start). Stop it with SIGTERM or Ctrl-C: the database is closed cleanly.
    """
    import uvicorn

    from ..core.secrets import ensure_token_file
    from ..telemetry.service import build_store_app
    from ..telemetry.store import ChdbTelemetryStore

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port, "path": path}.items() if v is not None}
    if ttl_days is not None:
        overrides["ttl_days"] = ttl_days
    settings = load_settings(lambda: TelemetryStoreSettings(**overrides))
    if settings.host not in LOOPBACK:
        raise fail("the telemetry store binds loopback only (127.0.0.1, ::1 or localhost)", code=2)
    token = ensure_token_file(settings.resolved_token_file(data_dir / "secrets"))
    database = settings.resolved_path(data_dir)
    typer.echo(f"opening the telemetry store in {database} (retention {settings.ttl_days} d)", err=True)
    app = build_store_app(ChdbTelemetryStore(database, ttl_days=settings.ttl_days), token=token)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
