"""``fanzwatch up``, ``fanzwatch incident inject|heal KIND`` and ``fanzwatch demo ...``."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from ._common import load_settings

incident_app = typer.Typer(help="Inject and heal incidents in the running demo.", no_args_is_help=True)
demo_app = typer.Typer(help="Run one demo service (`fanzwatch up --demo` runs them all).", no_args_is_help=True)

_ALL_PLATFORMS = ",".join(f"fanz-{n}" for n in range(1, 14))
INCIDENT_KINDS = ("payment_outage", "latency_regression", "error_burst", "registration_breakage", "traffic_spike")


def _say(message: str) -> None:
    typer.echo(f"  {message}")


def up(
    demo: Annotated[bool, typer.Option("--demo", help="Also run the demo platform, processor and traffic.")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="State directory, reused by the next run [.fanzwatch].")] = None,
    short_intervals: Annotated[
        bool | None,
        typer.Option(
            "--short-intervals/--production-intervals",
            help="Demo pacing (1 s scrape/evaluation/grouping, short alert holds, 60 s rate windows with --demo) "
            "or production pacing (15 s scrape, 5 m windows). Default: demo pacing with --demo, else production.",
        ),
    ] = None,
    prometheus_port: Annotated[int | None, typer.Option(help="Prometheus port [9090].")] = None,
    alertmanager_port: Annotated[int | None, typer.Option(help="Alertmanager port [9093].")] = None,
    node_exporter_port: Annotated[int | None, typer.Option(help="node_exporter port [9100].")] = None,
    server_port: Annotated[int | None, typer.Option(help="fanzwatch server port [8900].")] = None,
    platform_port: Annotated[int | None, typer.Option(help="Demo platform port [8300].")] = None,
    processor_port: Annotated[int | None, typer.Option(help="Demo payment processor port [8310].")] = None,
    simulator_port: Annotated[int | None, typer.Option(help="Traffic simulator port [8320].")] = None,
    platforms: Annotated[str | None, typer.Option(help="Demo tenants, comma-separated [fanz-1,...,fanz-13].")] = None,
    traffic: Annotated[bool, typer.Option(help="Run the traffic simulator with --demo.")] = True,
    peak_rps: Annotated[
        float | None, typer.Option(help="Simulated requests per second of all platforms at their peaks [16].")
    ] = None,
    day_seconds: Annotated[
        float | None, typer.Option(help="Real seconds per simulated day [86400: real time, continues the history].")
    ] = None,
    startup_timeout: Annotated[
        float | None, typer.Option(help="Seconds each child may take to be healthy [60].")
    ] = None,
) -> None:
    """Run Prometheus, Alertmanager, node_exporter and the fanzwatch server (and the demo) until Ctrl-C."""
    from ..core import ConfigError, DependencyMissingError
    from ..settings.demo import DemoSettings
    from ..settings.stack import StackSettings
    from ..stack import Stack, StackError, StartInterruptedError

    stack_args = _given(
        data_dir=data_dir,
        short_intervals=short_intervals,
        prometheus_port=prometheus_port,
        alertmanager_port=alertmanager_port,
        node_exporter_port=node_exporter_port,
        server_port=server_port,
        startup_timeout_seconds=startup_timeout,
    )
    settings = load_settings(lambda: StackSettings(**stack_args))
    if demo and "short_intervals" not in settings.model_fields_set:  # neither the option nor the environment
        settings = settings.model_copy(update={"short_intervals": True})
    demo_settings = None
    if demo:
        demo_args = _given(
            platform_port=platform_port,
            processor_port=processor_port,
            simulator_port=simulator_port,
            platforms=tuple(p.strip() for p in platforms.split(",")) if platforms else None,
            traffic=traffic,
            peak_rps=peak_rps,
            day_seconds=day_seconds,
        )
        demo_settings = load_settings(lambda: DemoSettings(**demo_args))

    stack = Stack(settings, demo=demo_settings, on_event=_say)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stack.stop_requested:  # a terminal may deliver the signal twice (process and group)
            typer.echo(f"\n{signal.Signals(signum).name} received: stopping the stack…")
        stack.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    typer.echo(f"fanzwatch up{' --demo' if demo else ''}: data dir {settings.data_dir.resolve()}")
    try:
        try:
            stack.start()
        except StartInterruptedError:
            typer.echo("stopped before the stack was ready")
            raise typer.Exit(130) from None
        except (StackError, ConfigError, DependencyMissingError) as exc:
            typer.secho(f"fanzwatch up failed: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1 if isinstance(exc, StackError) else 2) from None
        typer.secho("\nthe stack is up:", fg=typer.colors.GREEN, bold=True)
        for name, url in stack.urls().items():
            typer.echo(f"  {name:<14} {url}")
        tokens = settings.resolved_secrets_dir.resolve()
        typer.echo(f"\nsign in to FanzDash with a token from {tokens}: admin_token, responder_token or viewer_token")
        if demo:
            typer.echo("\ninject an incident: fanzwatch incident inject payment_outage")
            typer.echo("heal it:            fanzwatch incident heal all")
        typer.echo("press Ctrl-C to stop")
        code = stack.watch()
        stack.stop()
        typer.echo("stopped" if code == 0 else "the stack was stopped because a process died (see above)")
        raise typer.Exit(code)
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _controller(data_dir: Path | None) -> Any:
    from ..demo.incidents import IncidentController, IncidentTargets
    from ..settings.stack import StackSettings
    from ..stack import StackError, read_state

    root = data_dir or load_settings(StackSettings).data_dir
    try:
        state = read_state(root)
    except StackError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    demo = state.get("demo")
    if not demo:
        typer.secho("the running stack has no demo: start it with `fanzwatch up --demo`", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    return IncidentController(
        IncidentTargets(
            platform_url=demo["platform_url"],
            processor_url=demo["processor_url"],
            simulator_url=demo.get("simulator_url"),
        )
    )


def _kind(value: str) -> Any:
    from ..demo.incidents import IncidentKind

    try:
        return IncidentKind(value)
    except ValueError:
        raise typer.BadParameter(f"unknown incident {value!r}; one of: {', '.join(INCIDENT_KINDS)}") from None


@incident_app.command("inject")
def incident_inject(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(INCIDENT_KINDS)}.")],
    data_dir: Annotated[Path | None, typer.Option(help="Data dir of the running stack [.fanzwatch].")] = None,
) -> None:
    """Start an incident in the running demo."""
    import anyio

    from ..demo.incidents import IncidentError

    incident = _kind(kind)
    controller = _controller(data_dir)
    try:
        state = anyio.run(controller.inject, incident)
    except IncidentError as exc:
        typer.secho(f"could not inject {incident.value}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(f"injected {incident.value}: {state}")


@incident_app.command("heal")
def incident_heal(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(INCIDENT_KINDS)}, or all.")],
    data_dir: Annotated[Path | None, typer.Option(help="Data dir of the running stack [.fanzwatch].")] = None,
) -> None:
    """End an incident (``all``: every one)."""
    import anyio

    from ..demo.incidents import IncidentError

    controller = _controller(data_dir)
    if kind == "all":
        problems = anyio.run(controller.heal_all)
        for problem in problems:
            typer.secho(f"could not heal {problem}", err=True, fg=typer.colors.RED)
        if problems:
            raise typer.Exit(1)
        typer.echo("healed every incident")
        return
    incident = _kind(kind)
    try:
        anyio.run(controller.heal, incident)
    except IncidentError as exc:
        typer.secho(f"could not heal {incident.value}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(f"healed {incident.value}")


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

    uvicorn.run(create_processor_app(ProcessorConfig(seed=seed)), host=host, port=port, log_level="warning")


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

    tenants = tuple(p.strip() for p in platforms.split(",") if p.strip())
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
            platforms=tuple(p.strip() for p in platforms.split(",") if p.strip()),
            peak_rps=peak_rps,
            day_seconds=day_seconds,
            max_requests=max_requests,
            max_duration_seconds=max_duration,
            seed=seed,
        )
    )
    code = anyio.run(lambda: serve_simulator(config, host=host, port=port))
    raise typer.Exit(code)
