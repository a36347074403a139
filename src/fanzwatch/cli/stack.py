"""``fanzwatch up``: the whole stack on this machine until Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from ..settings.demo import DemoSettings
from ..settings.stack import StackSettings
from ._common import load_settings


def _say(message: str) -> None:
    typer.echo(f"  {message}")


def _default(model: type[BaseModel], name: str) -> str:
    """A settings field's default as ``--help`` shows it (one source: the settings class)."""
    value = model.model_fields[name].default
    if isinstance(value, tuple):
        return ",".join(map(str, value)) if len(value) <= 4 else f"{value[0]},...,{value[-1]}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _stack_help(text: str, name: str) -> str:
    # Not show_default=: click prints a string default in parentheses.
    return f"{text}  [default: {_default(StackSettings, name)}]"


def _demo_help(text: str, name: str) -> str:
    return f"{text}  [default: {_default(DemoSettings, name)}]"


def up(
    demo: Annotated[bool, typer.Option("--demo", help="Also run the demo platform, processor and traffic.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(help=_stack_help("State directory, reused by the next run.", "data_dir")),
    ] = None,
    short_intervals: Annotated[
        bool | None,
        typer.Option(
            "--short-intervals/--production-intervals",
            help="Demo pacing (1 s scrape/evaluation/grouping, short alert holds, 60 s rate windows with --demo) "
            "or production pacing (15 s scrape, 5 m windows).  [default: demo pacing with --demo, else production]",
        ),
    ] = None,
    prometheus_port: Annotated[
        int | None, typer.Option(help=_stack_help("Prometheus port.", "prometheus_port"))
    ] = None,
    alertmanager_port: Annotated[
        int | None, typer.Option(help=_stack_help("Alertmanager port.", "alertmanager_port"))
    ] = None,
    node_exporter_port: Annotated[
        int | None, typer.Option(help=_stack_help("node_exporter port.", "node_exporter_port"))
    ] = None,
    blackbox_port: Annotated[
        int | None, typer.Option(help=_stack_help("blackbox_exporter port (synthetic probes).", "blackbox_port"))
    ] = None,
    server_port: Annotated[int | None, typer.Option(help=_stack_help("fanzwatch server port.", "server_port"))] = None,
    telemetry_store_port: Annotated[
        int | None, typer.Option(help=_stack_help("Trace and log store process port.", "telemetry_store_port"))
    ] = None,
    platform_port: Annotated[int | None, typer.Option(help=_demo_help("Demo platform port.", "platform_port"))] = None,
    processor_port: Annotated[
        int | None, typer.Option(help=_demo_help("Demo payment processor port.", "processor_port"))
    ] = None,
    simulator_port: Annotated[
        int | None, typer.Option(help=_demo_help("Traffic simulator port.", "simulator_port"))
    ] = None,
    platforms: Annotated[
        str | None, typer.Option(help=_demo_help("Demo tenants, comma-separated.", "platforms"))
    ] = None,
    sinks_port: Annotated[
        int | None, typer.Option(help=_demo_help("Demo Slack/PagerDuty receivers and their page.", "sinks_port"))
    ] = None,
    smtp_port: Annotated[int | None, typer.Option(help=_demo_help("Demo SMTP receiver port.", "smtp_port"))] = None,
    remediation_dry_run: Annotated[
        bool,
        typer.Option(
            "--remediation-dry-run",
            help="With --demo: the payment-failover playbook decides and audits but never switches processors.",
        ),
    ] = False,
    traffic: Annotated[bool, typer.Option(help="Run the traffic simulator with --demo.")] = True,
    backfill: Annotated[
        bool | None,
        typer.Option(
            "--backfill/--no-backfill",
            help="With --demo, first backfill weeks of metrics and months of platform data (once per data dir; "
            "about a minute).  [default: backfill]",
        ),
    ] = None,
    peak_rps: Annotated[
        float | None,
        typer.Option(help=_demo_help("Simulated requests per second of all platforms at their peaks.", "peak_rps")),
    ] = None,
    day_seconds: Annotated[
        float | None,
        typer.Option(
            help=_demo_help("Real seconds per simulated day (86400: real time, continues the history).", "day_seconds")
        ),
    ] = None,
    startup_timeout: Annotated[
        float | None,
        typer.Option(help=_stack_help("Seconds each child may take to be healthy.", "startup_timeout_seconds")),
    ] = None,
) -> None:
    """Run Prometheus, Alertmanager, the exporters and the fanzwatch server (and the demo) until Ctrl-C."""
    from ..core import ConfigError, DependencyMissingError
    from ..stack import Stack, StackError, StartInterruptedError

    stack_args = _given(
        data_dir=data_dir,
        short_intervals=short_intervals,
        prometheus_port=prometheus_port,
        alertmanager_port=alertmanager_port,
        node_exporter_port=node_exporter_port,
        blackbox_port=blackbox_port,
        server_port=server_port,
        telemetry_store_port=telemetry_store_port,
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
            sinks_port=sinks_port,
            smtp_port=smtp_port,
            remediation_dry_run=remediation_dry_run or None,
            platforms=tuple(p.strip() for p in platforms.split(",")) if platforms else None,
            traffic=traffic,
            backfill=backfill,
            peak_rps=peak_rps,
            day_seconds=day_seconds,
        )
        demo_settings = load_settings(lambda: DemoSettings(**demo_args))
        if "backfill" not in demo_settings.model_fields_set:  # neither the option nor the environment
            demo_settings = demo_settings.model_copy(update={"backfill": True})

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
        urls = stack.urls()
        if "server" in urls:
            typer.echo(f"  {'FanzDash':<14} {urls['server'].rstrip('/')}/dash/")
        for name, url in urls.items():
            typer.echo(f"  {name:<14} {url}")
        tokens = settings.resolved_secrets_dir.resolve()
        typer.echo(f"\nsign in to FanzDash with a token from {tokens}: admin_token, responder_token or viewer_token")
        if "server" in urls:
            typer.echo(
                f"send OTLP traces and logs to {urls['server'].rstrip('/')}/v1/traces and /v1/logs with "
                f'"Authorization: Bearer <{tokens / "otlp_token"}>"'
            )
        if demo:
            typer.echo("\ninject a fault: fanzwatch demo fault inject payment_outage  (all: fanzwatch demo fault list)")
            typer.echo("heal it:        fanzwatch demo fault heal all")
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
