"""``fanzwatch demo ...``: the demo's services (``fanzwatch up --demo`` runs them all) and its faults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ._common import load_settings, platform_list
from .faults import fault_app

demo_app = typer.Typer(
    help="The demo: inject faults (fault), or run one demo service (`fanzwatch up --demo` runs them all).",
    no_args_is_help=True,
)
demo_app.add_typer(fault_app, name="fault", no_args_is_help=True)

_ALL_PLATFORMS = ",".join(f"fanz-{n}" for n in range(1, 14))


def _loopback(host: str) -> str:
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise typer.BadParameter("the demo services listen on loopback only")
    return host


@demo_app.command("processor")
def demo_processor(
    host: Annotated[str, typer.Option(callback=_loopback)] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8310,
    seed: Annotated[int | None, typer.Option(help="Random seed of failure sampling.")] = None,
) -> None:
    """The fake payment processor (primary and backup endpoints, fault injection)."""
    import uvicorn

    from ..demo.processor import ProcessorConfig, create_processor_app
    from ..demo.processor.app import SERVICE_NAME
    from ..sdk import build_telemetry, configure_logging
    from ..settings.telemetry import TelemetrySettings

    settings = load_settings(TelemetrySettings)
    if "service_name" not in settings.model_fields_set:
        settings = settings.model_copy(update={"service_name": SERVICE_NAME})
    configure_logging(service=settings.service_name)
    telemetry = load_settings(lambda: build_telemetry(settings))
    telemetry.attach_log_handler()  # JSON lines on stderr, and OTLP logs when an endpoint is set
    try:
        app = create_processor_app(ProcessorConfig(seed=seed), telemetry=telemetry)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        telemetry.shutdown()


@demo_app.command("platform")
def demo_platform(
    processor_url: Annotated[str, typer.Option(help="Base URL of the payment processor.")],
    database_url: Annotated[str, typer.Option(help="sqlite:///PATH or postgresql+psycopg://...")],
    storage_dir: Annotated[Path, typer.Option(help="Object storage directory for uploads.")],
    platforms: Annotated[str, typer.Option(help="Tenants, comma-separated.")] = _ALL_PLATFORMS,
    host: Annotated[str, typer.Option(callback=_loopback)] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8300,
    rum_script_url: Annotated[str | None, typer.Option(help="fanz-rum.js URL to include in pages.")] = None,
) -> None:
    """The demo creator platform (several tenants), instrumented with fanzwatch.sdk."""
    import uvicorn

    from ..demo.platform import PlatformConfig, create_platform_app
    from ..sdk import configure_logging, init_telemetry

    tenants = platform_list(platforms)
    config = load_settings(
        lambda: PlatformConfig(
            database_url=database_url,
            storage_dir=storage_dir,
            processor_url=processor_url,
            platforms=tenants,
            rum_script_url=rum_script_url,
        )
    )
    configure_logging(service=config.service_name)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per processor call is noise
    # Only the explicit spans: auto-instrumented httpx would duplicate the processor client spans.
    telemetry = load_settings(
        lambda: init_telemetry(
            service_name=config.service_name, platform=tenants[0], platforms=tenants, auto_instrument=()
        )
    )
    try:
        uvicorn.run(create_platform_app(config, telemetry=telemetry), host=host, port=port, log_level="warning")
    finally:
        telemetry.shutdown()


@demo_app.command("simulate")
def demo_simulate(
    platform_url: Annotated[str, typer.Option(help="Base URL of the demo platform (loopback only).")],
    platforms: Annotated[str, typer.Option(help="Tenants, comma-separated.")] = _ALL_PLATFORMS,
    host: Annotated[str, typer.Option(callback=_loopback)] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Admin API port.")] = 8320,
    peak_rps: Annotated[float, typer.Option(help="Requests per second at the peak hour.")] = 6.0,
    day_seconds: Annotated[float, typer.Option(help="Real seconds per simulated day.")] = 600.0,
    max_requests: Annotated[int, typer.Option(help="Stop after this many requests.")] = 100_000,
    max_duration: Annotated[float, typer.Option(help="Stop after this many seconds.")] = 3600.0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    """Seasonal fan and creator traffic against the demo platform; exits when its budget is spent."""
    import anyio

    from ..demo.simulator import SimulatorConfig, serve_simulator

    config = load_settings(
        lambda: SimulatorConfig(
            platform_url=platform_url,
            platforms=platform_list(platforms),
            peak_rps=peak_rps,
            day_seconds=day_seconds,
            max_requests=max_requests,
            max_duration_seconds=max_duration,
            seed=seed,
        )
    )
    code = anyio.run(lambda: serve_simulator(config, host=host, port=port))
    raise typer.Exit(code)


@demo_app.command("sinks")
def demo_sinks(
    host: Annotated[str, typer.Option(callback=_loopback)] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port: Slack, PagerDuty and the page.")] = 8330,
    smtp_port: Annotated[int, typer.Option(min=1, max=65535, help="SMTP port.")] = 8325,
    log_file: Annotated[Path | None, typer.Option(help="JSON-lines file of every delivered message.")] = None,
) -> None:
    """Local Slack, PagerDuty and SMTP receivers, and a page where every delivered message can be read."""
    from ..demo.sinks import run_sinks

    run_sinks(host=host, http_port=port, smtp_port=smtp_port, log_path=log_file)


@demo_app.command("browse")
def demo_browse(
    platform_url: Annotated[str, typer.Option(help="Base URL of the demo platform.")],
    synthetic_key_file: Annotated[Path, typer.Option(help="The RUM synthetic-session key (FANZWATCH_RUM_*).")],
    platforms: Annotated[str, typer.Option(help="Tenants, comma-separated.")] = _ALL_PLATFORMS,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between sessions (on average).")] = 15.0,
    max_sessions: Annotated[int, typer.Option(min=1, help="Stop after this many sessions.")] = 10_000,
    max_duration: Annotated[float, typer.Option(min=1, help="Stop after this many seconds.")] = 12 * 3600.0,
    chromium: Annotated[Path | None, typer.Option(help="Chromium executable.  [default: chromium on PATH]")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    """Real headless-Chromium sessions on the demo platform, so RUM gets real beacons."""
    from ..demo.browser import BrowserConfig, BrowserUnavailableError, run_sessions

    try:
        key = synthetic_key_file.read_text().strip()
    except OSError as exc:
        typer.secho(f"cannot read {synthetic_key_file}: {exc.strerror}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = BrowserConfig(
        platform_url=platform_url,
        platforms=platform_list(platforms),
        synthetic_key=key,
        chromium=chromium,
        interval_seconds=interval,
        max_sessions=max_sessions,
        max_duration_seconds=max_duration,
        seed=seed,
    )
    try:
        done = run_sessions(config)
    except BrowserUnavailableError as exc:
        typer.echo(f"no browser sessions: {exc}; RUM stays empty unless real browsers visit the platform")
        return
    typer.echo(f"{done} browser sessions done")
