"""The ``fanzwatch`` command. Each group lives in its own module; this one composes them."""

from __future__ import annotations

import typer

from .. import __version__
from .alerting import incidents_app, remediation_app
from .anomaly import anomaly_app
from .bi import bi_app
from .demo import demo_app
from .demo_backfill import demo_backfill
from .demo_generate import demo_generate
from .deploy import deploy_files
from .faults import incident_app
from .probes import probe_app
from .provisioning import render
from .server import db_app, serve
from .stack import up
from .telemetry_store import telemetry_store

app = typer.Typer(
    name="fanzwatch",
    help="Monitoring and observability for the FANZ creator-economy platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help text: Rich markup would eat "[...]" (defaults, metavars) and RST-ish quoting.
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
)
app.command()(serve)
app.add_typer(db_app, name="db")
# feature commands: one line each, below
app.add_typer(incidents_app, name="incidents")
app.add_typer(remediation_app, name="remediation")
app.command()(up)
app.add_typer(incident_app, name="incident")
app.add_typer(demo_app, name="demo")
demo_app.command("generate")(demo_generate)  # issue 17: platform-data history for BI
demo_app.command("backfill")(demo_backfill)  # issue 16: history before the first page view
app.add_typer(anomaly_app, name="anomaly")
app.add_typer(bi_app, name="bi")
app.command()(render)
app.add_typer(probe_app, name="probe")  # issue 19: the journey prober
app.command("telemetry-store")(telemetry_store)  # issue 18: the trace and log store process
app.command("deploy-files")(deploy_files)  # issue 18: Collector config and ClickHouse DDL for the cluster


@app.command()
def version() -> None:
    """Print the fanzwatch version."""
    typer.echo(__version__)


def main() -> None:
    app()
