"""``fanzwatch incidents`` and ``fanzwatch remediation`` against a real HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from fanzwatch.alerting import AlertingService, build_router
from fanzwatch.cli import app

from ._helpers import (
    API_TOKEN,
    Harness,
    advance,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    post_alerts,
    serving_with_auth,
)


@contextlib.asynccontextmanager
async def serving(svc: AlertingService, secrets_dir: Path) -> AsyncIterator[str]:
    web = FastAPI()
    web.include_router(build_router(lambda: svc))
    async with serving_with_auth(web, secrets_dir) as url:
        yield url


async def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run the command in a thread: the server answering it runs on this event loop."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env or {})


@pytest.fixture
async def server(harness: Harness, tmp_path: Path) -> AsyncIterator[str]:
    svc = harness.service(base_settings(api_token=API_TOKEN))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await post_alerts(c, am_payload(am_alert("HighLatency", severity="warning", platform="fanz-2")))
        await svc.tick()
    advance(harness.clock, minutes=3)
    async with serving(svc, tmp_path / "secrets") as url:
        yield url


async def test_list_and_show(server: str) -> None:
    env = {"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN}  # reads need a token too
    listed = await cli("incidents", "list", "--server", server, env=env)
    shown = await cli("incidents", "show", "1", "--server", server, env=env)
    as_json = await cli("incidents", "list", "--server", server, "--priority", "P1", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        "   ID  PRIO  STATUS        PLATFORM    OPENED                 AT RISK / LOST  TITLE",
        "    2  P1    triggered     fanz-2      2026-03-02 10:00:00                 -  HighLatency on fanz-2",
        "    1  P0    triggered     fanz-1      2026-03-02 10:00:00                 -  PaymentFailureRate on fanz-1",
    ]
    assert shown.exit_code == 0
    assert shown.output.splitlines()[:5] == [
        "Incident #1 [P0] triggered: PaymentFailureRate on fanz-1",
        "  PaymentFailureRate on fanz-1",
        "  opened 2026-03-02 10:00:00",
        "Alerts:",
        "  firing    PaymentFailureRate on fanz-1  fired 1x  since 2026-03-02 10:00:00",
    ]
    assert "2026-03-02 10:00:00  opened                alertmanager  Incident opened: PaymentFailureRate on fanz-1" in (
        shown.output
    )
    assert [i["id"] for i in json.loads(as_json.output)["incidents"]] == [2]


async def test_ack_note_resolve_with_the_token(server: str) -> None:
    env = {"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN}
    ack = await cli("incidents", "ack", "1", "--by", "ana", "--server", server, env=env)
    again = await cli("incidents", "ack", "1", "--by", "ben", "--server", server, env=env)
    note = await cli("incidents", "note", "1", "failing over by hand", "--by", "ana", "--server", server, env=env)
    done = await cli("incidents", "resolve", "1", "--note", "backup active", "--by", "ana", "--server", server, env=env)
    shown = await cli("incidents", "show", "1", "--server", server, env=env)
    assert [r.exit_code for r in (ack, again, note, done)] == [0, 0, 0, 0]
    assert ack.output == "incident 1 acknowledged\n"
    assert again.output == "incident 1 was already acknowledged by ana\n"
    assert note.output == "note added to incident 1\n"
    assert done.output == "incident 1 resolved\n"
    assert "Incident #1 [P0] resolved" in shown.output
    assert "note                  ana           failing over by hand" in shown.output


async def test_kill_switch_on_off_status(server: str) -> None:
    env = {"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN}
    on = await cli("remediation", "kill-switch", "on", "--by", "ana", "--server", server, env=env)
    status = await cli("remediation", "kill-switch", "--server", server, env=env)
    off = await cli("remediation", "kill-switch", "off", "--by", "ben", "--server", server, env=env)
    assert on.output == "kill switch ENGAGED: no remediation will run (set by ana 2026-03-02 10:03:00)\n"
    assert status.output == on.output
    assert off.output == "kill switch released: remediation may run (set by ben 2026-03-02 10:03:00)\n"


async def test_errors_are_messages_not_tracebacks(server: str) -> None:
    missing = await cli("incidents", "show", "9", "--server", server, env={"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN})
    no_token = await cli("incidents", "ack", "1", "--server", server)
    bad_token = await cli("incidents", "ack", "1", "--server", server, "--token", "nope")
    bad_state = await cli("remediation", "kill-switch", "maybe", "--server", server)
    down = await cli("incidents", "list", "--server", "http://127.0.0.1:9")
    for r in (missing, no_token, bad_token, bad_state, down):
        assert r.exit_code == 1, r.output
        assert "Traceback" not in r.output
    assert "error: incident 9 does not exist (HTTP 404)" in missing.output
    assert "the server wants an API token" in no_token.output
    assert "the server wants an API token" in bad_token.output
    assert "unknown state 'maybe': use on, off or status" in bad_state.output
    assert "cannot reach the fanzwatch server at http://127.0.0.1:9 (ConnectError)" in down.output
