"""``fanzwatch probe``: the synthetic probes of our own (blackbox_exporter runs beside them)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from ._common import load_settings, platform_list

probe_app = typer.Typer(help="Synthetic probes: the journey prober of the money flows.", no_args_is_help=True)


@probe_app.command("journey")
def probe_journey(
    platform_url: Annotated[str, typer.Option(help="Base URL of the FANZ platform service to walk.")],
    platforms: Annotated[str, typer.Option(help="Platforms (tenants) to walk, comma-separated.")] = "fanz-1",
    location: Annotated[
        str, typer.Option(help="Where this prober runs (the `location` label; one per prober for the quorum).")
    ] = "local",
    interval: Annotated[float, typer.Option(min=1.0, help="Seconds between journeys on every platform.")] = 30.0,
    host: Annotated[str, typer.Option(help="Interface to serve /metrics on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve /metrics on.")] = 8340,
    max_runs: Annotated[
        int | None, typer.Option(help="Stop after this many rounds (default: run until stopped).")
    ] = None,
) -> None:
    """Walk sign in -> subscribe -> tip -> unlock PPV on each platform every INTERVAL, timed, checked and traced.

    Metrics (fanz_journey_*) are served for Prometheus; spans go wherever the SDK's telemetry
    settings send them (FANZWATCH_TELEMETRY_OTLP_ENDPOINT).
    """
    from ..probes import JourneyProberConfig, serve_prober
    from ..sdk import build_telemetry
    from ..settings.telemetry import TelemetrySettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the failures
    try:
        config = JourneyProberConfig(
            platform_url=platform_url,
            platforms=platform_list(platforms),
            location=location,
            interval_seconds=interval,
            host=host,
            port=port,
            max_runs=max_runs,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    telemetry = build_telemetry(
        load_settings(lambda: TelemetrySettings(service_name="fanzwatch-journey-prober", auto_instrument=()))
    )
    try:
        code = serve_prober(config, tracer=telemetry.tracer)
    finally:
        telemetry.shutdown()
    raise typer.Exit(code)
