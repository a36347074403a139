"""``fanzwatch incidents`` and ``fanzwatch remediation``: the incident API from a terminal.

They talk to a running server over HTTP: ``--server``, else the running ``fanzwatch up``
(found from any directory), else the server settings; with a role token: ``--token``,
else the first configured of ``FANZWATCH_ALERTING_API_TOKEN`` and
``FANZWATCH_AUTH_{ADMIN,RESPONDER,VIEWER}_TOKEN[_FILE]``, else the tokens the running
stack (or a local server) generated in ``<data-dir>/secrets/``. Reads need viewer,
ack/resolve/note responder, the kill switch admin.
``--json`` prints the server's answer as is, for scripts.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from ..settings import ServerSettings
from ..settings.alerting import AlertingSettings
from ._common import load_settings, running_stack

incidents_app = typer.Typer(
    help="Incidents: list, show, acknowledge, resolve, add notes, write the post-incident report.",
    no_args_is_help=True,
)
remediation_app = typer.Typer(
    help="Automatic remediation: the kill switch and the audit log of its decisions.", no_args_is_help=True
)

ServerOpt = Annotated[
    str | None, typer.Option("--server", help="Server base URL  [default: the running stack's, else from settings].")
]
TokenOpt = Annotated[
    str | None, typer.Option("--token", help="Role token [default: FANZWATCH_AUTH_*_TOKEN or the generated ones].")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON answer.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does it [default: your user name].")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _target(server: str | None) -> tuple[str, Path | None]:
    """The server's base URL and, when it is the running stack's, that stack's secrets dir."""
    if server:
        return server.rstrip("/"), None
    stack = running_stack(hint="--server")
    if stack is not None and stack.server_url:
        return stack.server_url.rstrip("/"), stack.secrets_dir
    s = load_settings(ServerSettings)
    host = f"[{s.host}]" if ":" in s.host else s.host
    return f"http://{host}:{s.port}", None


def _token(token: str | None, secrets_dir: Path | None) -> str | None:
    if token:
        return token
    alerting = load_settings(AlertingSettings)
    if alerting.api_token:
        return alerting.api_token.read("alerting.api_token")
    server = load_settings(ServerSettings)
    for role in ("admin", "responder", "viewer"):
        inline = getattr(server.auth, f"{role}_token")
        if inline is not None:
            return str(inline.get_secret_value())
        path = getattr(server.auth, f"{role}_token_file") or (secrets_dir or server.secrets_dir) / f"{role}_token"
        if path.is_file():
            try:
                return str(path.read_text().strip()) or None
            except OSError:
                continue
    return None


def _call(
    method: str,
    server: str | None,
    path: str,
    *,
    token: str | None = None,
    text: bool = False,
    error_code: int = 1,
    **kwargs: Any,
) -> Any:
    """The server's JSON answer (``text``: its body as text); errors end the command with ``error_code``."""
    url, secrets_dir = _target(server)
    token = _token(token, secrets_dir)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(10.0, connect=3.0)) as http:
            response = http.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the fanzwatch server at {url} ({type(exc).__name__})", error_code) from None
    if response.status_code == 401:
        raise _fail(
            "the server wants an API token of a role that may do this: pass --token or set "
            "FANZWATCH_AUTH_RESPONDER_TOKEN (a server without configured tokens generated them in <data-dir>/secrets/)",
            error_code,
        )
    if response.status_code == 404 and "detail" not in response.text:
        raise _fail(f"{url} does not serve the incident API (is alerting enabled?)", error_code)
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if isinstance(detail, list):  # request validation errors
            detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
        raise _fail(f"{detail} (HTTP {response.status_code})", error_code)
    return response.text if text else response.json()


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def _when(value: str | None) -> str:
    return (value or "-").replace("T", " ").replace("Z", "")[:19]


@incidents_app.command("list")
def list_incidents(
    status: Annotated[
        str, typer.Option(help="active (not resolved), triggered, acknowledged, resolving, resolved, all.")
    ] = "active",
    priority: Annotated[str | None, typer.Option(help="P0, P1 or P2.")] = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    order: Annotated[
        str, typer.Option(help="money (most revenue at risk or lost first, unpriced after) or newest.")
    ] = "money",
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, most money at risk first (active ones by default)."""
    params = {
        k: v
        for k, v in {
            "status": None if status == "all" else status,
            "priority": priority,
            "platform": platform,
            "limit": limit,
            "order": order,
        }.items()
        if v is not None
    }
    data = _call("GET", server, "/api/v1/incidents", params=params)
    if as_json:
        _echo_json(data)
        return
    if not data["incidents"]:
        typer.echo("no incidents")
        return
    typer.echo(f"{'ID':>5}  {'PRIO':4}  {'STATUS':12}  {'PLATFORM':10}  {'OPENED':19}  {'AT RISK / LOST':>16}  TITLE")
    for i in data["incidents"]:
        money = i.get("revenue_at_risk")
        at_risk = "-" if money is None else f"{money:,.2f} {i.get('revenue_currency') or ''}".rstrip()
        typer.echo(
            f"{i['id']:>5}  {i['priority']:4}  {i['status']:12}  {i['platform']:10}  {_when(i['opened_at']):19}  "
            f"{at_risk:>16}  {i['title']}"
        )
    if data["total"] > len(data["incidents"]):
        typer.echo(f"({data['total']} in all; use --limit)")


@incidents_app.command("show")
def show(
    incident_id: Annotated[int, typer.Argument(min=1, help="Incident number.")],
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One incident: its alerts, its timeline and what automation did."""
    i = _call("GET", server, f"/api/v1/incidents/{incident_id}")
    if as_json:
        _echo_json(i)
        return
    typer.echo(f"Incident #{i['id']} [{i['priority']}] {i['status']}: {i['title']}")
    typer.echo(f"  {i['summary']}")
    typer.echo(f"  opened {_when(i['opened_at'])}", nl=False)
    if i["acknowledged_at"]:
        typer.echo(f", acknowledged {_when(i['acknowledged_at'])} by {i['acknowledged_by']}", nl=False)
    if i.get("resolve_after"):
        typer.echo(f", resolving: resolves {_when(i['resolve_after'])} unless an alert fires again", nl=False)
    if i["resolved_at"]:
        typer.echo(f", resolved {_when(i['resolved_at'])} by {i['resolved_by']}", nl=False)
    typer.echo("")
    typer.echo("Alerts:")
    for a in i["alerts"]:
        where = f" on {a['labels']['platform']}" if a["labels"].get("platform") else ""
        typer.echo(
            f"  {a['status']:8}  {a['alertname']}{where}  fired {a['fired_count']}x  since {_when(a['starts_at'])}"
        )
    typer.echo("Timeline:")
    for e in i["timeline"]:
        typer.echo(f"  {_when(e['at'])}  {e['kind']:20}  {e['actor']:12}  {e['message']}")


@incidents_app.command("report")
def report(
    incident_id: Annotated[int, typer.Argument(min=1, help="Incident number.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it to this file.")] = None,
    server: ServerOpt = None,
) -> None:
    """The post-incident report draft in Markdown: summary, impact (money, payments, creators and
    fans), detection speed, timeline, alerts, remediation, and blank causes and actions.

    Errors (an unknown incident, an unreachable server) end with one error line and exit code 2."""
    markdown = _call("GET", server, f"/api/v1/incidents/{incident_id}/report", text=True, error_code=2)
    if output is None:
        typer.echo(markdown, nl=False)
        return
    try:
        output.write_text(markdown)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}", 2) from None
    typer.echo(f"report of incident {incident_id} written to {output}")


def _change(path: str, body: dict[str, Any], server: str | None, token: str | None) -> Any:
    return _call("POST", server, path, json=body, token=token)


@incidents_app.command("ack")
def ack(
    incident_id: Annotated[int, typer.Argument(min=1)],
    by: ByOpt = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Acknowledge: you are on it; escalation stops."""
    data = _change(f"/api/v1/incidents/{incident_id}/ack", {"by": by or getpass.getuser()}, server, token)
    verb = "acknowledged" if data["changed"] else f"was already acknowledged by {data['acknowledged_by']}"
    typer.echo(f"incident {incident_id} {verb}")


@incidents_app.command("resolve")
def resolve(
    incident_id: Annotated[int, typer.Argument(min=1)],
    note: Annotated[str | None, typer.Option(help="What fixed it.")] = None,
    by: ByOpt = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Resolve by hand (alerts resolving resolve it on their own)."""
    body = {"by": by or getpass.getuser(), "note": note}
    _change(f"/api/v1/incidents/{incident_id}/resolve", body, server, token)
    typer.echo(f"incident {incident_id} resolved")


@incidents_app.command("note")
def note(
    incident_id: Annotated[int, typer.Argument(min=1)],
    text: Annotated[str, typer.Argument(help="The note.")],
    by: ByOpt = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a note to the timeline."""
    _change(f"/api/v1/incidents/{incident_id}/notes", {"by": by or getpass.getuser(), "text": text}, server, token)
    typer.echo(f"note added to incident {incident_id}")


@remediation_app.command("kill-switch")
def kill_switch(
    state: Annotated[str, typer.Argument(help="on (stop all remediation), off, or status.")] = "status",
    by: ByOpt = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Engage or release the global kill switch of automatic remediation."""
    if state not in ("on", "off", "status"):
        raise _fail(f"unknown state {state!r}: use on, off or status")
    if state == "status":
        data = _call("GET", server, "/api/v1/remediation/kill-switch")
    else:
        body = {"engaged": state == "on", "by": by or getpass.getuser()}
        data = _call("PUT", server, "/api/v1/remediation/kill-switch", json=body, token=token)
    word = "ENGAGED: no remediation will run" if data["engaged"] else "released: remediation may run"
    typer.echo(f"kill switch {word} (set by {data['updated_by']} {_when(data['updated_at'])})")


@remediation_app.command("audit")
def audit(
    playbook: Annotated[str | None, typer.Option(help="Only this playbook.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Newest decisions to show.")] = 50,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What remediation decided, newest first: ran, dry-run, refused, verified, gave up, and why."""
    params: dict[str, Any] = {"limit": limit} | ({"playbook": playbook} if playbook else {})
    data = _call("GET", server, "/api/v1/remediation/audit", params=params)
    if as_json:
        _echo_json(data)
        return
    decisions = data["decisions"]
    if not decisions:
        typer.echo("no remediation decisions yet" + (f" for playbook {playbook}" if playbook else ""))
        return
    typer.echo(f"{'AT':19}  {'INCIDENT':>8}  {'PLAYBOOK':20}  {'DECISION':15}  REASON")
    for d in decisions:
        incident = f"#{d['incident_id']}" if d.get("incident_id") else "-"
        typer.echo(f"{_when(d['at']):19}  {incident:>8}  {d['playbook']:20}  {d['decision']:15}  {d['reason']}")
