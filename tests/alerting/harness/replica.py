"""One fanzwatch alerting replica in its own OS process, driven by the test that started it.

    python replica.py --url postgresql+psycopg://... --settings s.json --instance a [--frozen ISO] [--serve]
        [--correlate]

It builds an ``AlertingService`` on the store at ``--url``, exactly as the server does. With
``--serve`` it starts the service's workers on the real clock and serves the alerting router
(webhook, incidents API) over HTTP on a free loopback port, like ``fanzwatch serve``; with
``--correlate`` it correlates with the server's rules (``fanzwatch.server.correlation``). Either
way it reads one JSON command per line on stdin and answers one JSON line on stdout:

    {"op": "ingest", "payload": {...}}  store a webhook payload and process the inbox
    {"op": "apply", "payload": {...}}   apply its alerts as the inbox worker does, but only these
                                        (not the other replicas' payloads waiting in the inbox)
    {"op": "run_due"}                   one round of remediation
    {"op": "tick"}                      one round of everything (``AlertingService.tick``)
    {"op": "exit"}                      stop the service (clean stop) and exit

The first line it prints is ``{"ready": true, "port": <port or null>, "pid": <pid>}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fanzwatch.alerting import AlertingService, build_router
from fanzwatch.alerting.payload import AlertmanagerPayload
from fanzwatch.core.clock import Clock, FrozenClock, SystemClock
from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.server.correlation import META_ALERTS, correlation_rules
from fanzwatch.settings.alerting import AlertingSettings
from fanzwatch.store import create_store_engine


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _commands(svc: AlertingService, clock: Clock) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "ingest":
                await svc.inbox.store(json.dumps(command["payload"]), clock.now())
                _say({"op": op, "done": await svc.inbox.drain()})
            elif op == "apply":
                payload = AlertmanagerPayload.model_validate(command["payload"])
                outcomes = []
                for alert in payload.alerts:
                    async with svc.engine.begin() as conn:
                        group_key = svc.manager.group_key(payload, alert)
                        outcomes.append((await svc.manager.apply(conn, alert, group_key, clock.now())).result)
                _say({"op": op, "done": outcomes})
            elif op == "run_due":
                _say({"op": op, "done": await svc.remediation.run_due()})
            elif op == "tick":
                await svc.tick()
                _say({"op": op, "done": True})
            elif op == "exit":
                return
            else:
                _say({"op": op, "error": "unknown op"})
        except Exception as exc:  # report it to the test instead of dying silently
            _say({"op": op, "error": f"{type(exc).__name__}: {exc}"})


async def run(args: argparse.Namespace, settings: AlertingSettings) -> None:
    clock: Clock = FrozenClock(datetime.fromisoformat(args.frozen)) if args.frozen else SystemClock()
    engine = create_store_engine(args.url)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
        rules = {"explains": correlation_rules(DEFAULT_PLATFORMS), "meta_alerts": META_ALERTS} if args.correlate else {}
        svc = AlertingService(settings, engine, http, CollectorRegistry(), clock, instance_id=args.instance, **rules)
        server = serving = port = None
        if args.serve:
            await svc.start()
            app = FastAPI()
            app.include_router(build_router(lambda: svc))
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await asyncio.sleep(0.01)
        _say({"ready": True, "port": port, "pid": os.getpid()})
        await _commands(svc, clock)
        if server is not None and serving is not None:
            server.should_exit = True
            await serving
            await svc.stop()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--frozen", help="a FrozenClock at this ISO time instead of the real clock")
    parser.add_argument("--serve", action="store_true", help="start the workers and serve HTTP")
    parser.add_argument("--correlate", action="store_true", help="correlate with the server's rules")
    args = parser.parse_args()
    with open(args.settings, encoding="utf-8") as f:
        settings = AlertingSettings(**json.load(f))
    asyncio.run(run(args, settings))


if __name__ == "__main__":
    main()
