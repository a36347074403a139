"""How long from a payment processor outage to the notification, and where the time goes.

Runs the real stack (Prometheus, Alertmanager, node_exporter, demo platform and
processor) with the short and/or the default intervals, drives tips through the
platform, injects the processor outage and timestamps each step:

    injection → failure in the TSDB (scrape) → alert pending (rule evaluation)
    → firing (the rule's ``for:``) → in Alertmanager → webhook (group_wait 0)
    → Slack (route group_wait)

Each run uses its own platform (tenant), so its alert group is new and runs do not
wait for the previous alert to resolve (with 5-minute rate windows that takes minutes).

    python bench/bench_alert_latency.py --profile short --runs 3
    python bench/bench_alert_latency.py --profile default --runs 1     # ~3 min per run
    python bench/bench_alert_latency.py --profile both

Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx

from fanzwatch.demo.incidents import IncidentController, IncidentKind, IncidentTargets
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack

ALERT = "PaymentFailureRate"
RATIO = "platform:fanz_payment_transactions_failed:ratio_rate5m"
POLL = 0.05
PROFILES: dict[str, tuple[dict[str, Any], float]] = {
    # name: (StackSettings overrides, per-phase timeout seconds)
    "short": ({"short_intervals": True}, 60.0),
    "default": ({"short_intervals": False}, 300.0),
}


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@dataclass
class Inbox:
    """Arrival times (wall clock) of notifications, by a key the caller chooses."""

    arrivals: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first(self, predicate: Callable[[str, dict[str, Any]], bool]) -> float | None:
        with self.lock:
            return next((t for t, path, body in self.arrivals if predicate(path, body)), None)


@contextmanager
def receiver(port: int, inbox: Inbox, answer: bytes) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.time()
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            with inbox.lock:
                inbox.arrivals.append((arrived, self.path, body))
            self.send_response(200)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


class TipLoad:
    """Tips on one platform at ``rate`` per second, from a thread, at most 4 in flight."""

    def __init__(self, platform_url: str, platform: str, rate: float) -> None:
        self.api = f"{platform_url}/p/{platform}/api/v1"
        self.rate = rate
        self.stop_flag = threading.Event()
        self.http = httpx.Client(timeout=10.0)
        self.slots = threading.BoundedSemaphore(4)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _register(self, role: str) -> dict[str, str]:
        body = {
            "email": f"bench-{uuid.uuid4().hex[:10]}@example.org",
            "password": "bench password",
            "role": role,
            "display_name": "bench",
        }
        r = self.http.post(f"{self.api}/auth/register", json=body)
        r.raise_for_status()
        data: dict[str, str] = r.json()
        return data

    def start(self) -> TipLoad:
        creator, fan = self._register("creator"), self._register("fan")
        self.url = f"{self.api}/creators/{creator['user_id']}/tips"
        self.headers = {"Authorization": f"Bearer {fan['token']}"}
        self.thread.start()
        return self

    def _one(self) -> None:
        try:
            self.http.post(self.url, headers=self.headers, json={"amount_minor": 500, "card_token": "tok_visa"})
        except httpx.HTTPError:
            pass
        finally:
            self.slots.release()

    def _run(self) -> None:
        while not self.stop_flag.wait(1.0 / self.rate):
            if self.slots.acquire(blocking=False):
                threading.Thread(target=self._one, daemon=True).start()

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=5)


def wait_until(check: Callable[[], float | None], timeout: float, what: str) -> float:
    """Poll ``check`` (returns a wall-clock time or None) every 50 ms; the time it returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(POLL)
    raise TimeoutError(f"{what}: not within {timeout:g} s")


def _rfc3339(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def one_run(
    http: httpx.Client, urls: dict[str, str], platform: str, inboxes: dict[str, Inbox], timeout: float, interval: float
) -> dict[str, float]:
    prom, am = urls["prometheus"], urls["alertmanager"]

    def query(expr: str) -> float | None:
        result = http.get(f"{prom}/api/v1/query", params={"query": expr}).json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def alert() -> dict[str, Any] | None:
        alerts = http.get(f"{prom}/api/v1/alerts").json()["data"]["alerts"]
        return next(
            (a for a in alerts if a["labels"]["alertname"] == ALERT and a["labels"].get("platform") == platform), None
        )

    load = TipLoad(urls["platform"], platform, rate=8).start()
    incidents = IncidentController(IncidentTargets(platform_url=urls["platform"], processor_url=urls["processor"]))
    try:
        attempts = f'platform:fanz_payment_transactions:increase5m{{platform="{platform}"}}'
        wait_until(lambda: time.time() if (query(attempts) or 0) >= 10 else None, timeout, "10 attempts recorded")
        # Inject at a random phase of the scrape/evaluation cycle, or every run measures the same phase.
        time.sleep(random.uniform(0.0, interval))
        t0 = time.time()
        anyio.run(incidents.inject, IncidentKind.PAYMENT_OUTAGE)
        failed = f'sum(fanz_payment_transactions_total{{platform="{platform}",status="failed"}})'
        t_scraped = wait_until(lambda: time.time() if query(failed) else None, timeout, "failure scraped")
        ratio = f'{RATIO}{{platform="{platform}"}} > 0.05'
        t_ratio = wait_until(lambda: time.time() if query(ratio) is not None else None, timeout, "ratio recorded")

        def active_at() -> float | None:
            found = alert()
            return _rfc3339(found["activeAt"]) if found else None

        pending = wait_until(active_at, timeout, "alert pending (its activeAt)")
        t_firing = wait_until(
            lambda: time.time() if (a := alert()) and a["state"] == "firing" else None, timeout, "firing"
        )

        def in_am() -> float | None:
            found = http.get(
                f"{am}/api/v2/alerts", params={"filter": [f'alertname="{ALERT}"', f'platform="{platform}"']}
            )
            return time.time() if found.json() else None

        t_am = wait_until(in_am, timeout, "in Alertmanager")

        def is_webhook(path: str, body: dict[str, Any]) -> bool:
            return body.get("status") == "firing" and any(
                a["labels"].get("alertname") == ALERT and a["labels"].get("platform") == platform
                for a in body["alerts"]
            )

        def is_slack(path: str, body: dict[str, Any]) -> bool:
            title = str((body.get("attachments") or [{}])[0].get("title", ""))
            return title.startswith(f"[FIRING:1] {ALERT} on {platform}")

        t_webhook = wait_until(lambda: inboxes["webhook"].first(is_webhook), timeout, "webhook")
        t_slack = wait_until(lambda: inboxes["slack"].first(is_slack), timeout, "slack")
    finally:
        anyio.run(incidents.heal, IncidentKind.PAYMENT_OUTAGE)
        load.stop()
    return {
        "scrape": t_scraped - t0,
        "rate_and_recording": t_ratio - t_scraped,
        "alert_rule_eval": pending - t_ratio,
        "for_hold": t_firing - pending,
        "to_alertmanager": t_am - t_firing,
        "webhook_after_am": t_webhook - t_am,
        "slack_after_am": t_slack - t_am,
        "total_webhook": t_webhook - t0,
        "total_slack": t_slack - t0,
    }


def run_profile(name: str, runs: int) -> list[dict[str, float]]:
    overrides, timeout = PROFILES[name]
    names = ("prometheus", "alertmanager", "node_exporter", "server", "platform", "processor", "slack")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    inboxes = {"webhook": Inbox(), "slack": Inbox()}
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="fw-bench-") as tmp, ExitStack() as stack:
        secrets = Path(tmp) / "secrets"
        secrets.mkdir()
        (secrets / "slack_api_url").write_text(f"http://127.0.0.1:{ports['slack']}/services/bench")
        settings = StackSettings(
            data_dir=Path(tmp) / "data",
            run_server=False,
            secrets_dir=secrets,
            startup_timeout_seconds=120,
            prometheus_port=ports["prometheus"],
            alertmanager_port=ports["alertmanager"],
            node_exporter_port=ports["node_exporter"],
            server_port=ports["server"],
            **overrides,
        )
        demo = DemoSettings(
            platform_port=ports["platform"],
            processor_port=ports["processor"],
            traffic=False,
            platforms=tuple(f"fanz-{i}" for i in range(1, runs + 1)),
        )
        stack.enter_context(receiver(ports["server"], inboxes["webhook"], b""))
        stack.enter_context(receiver(ports["slack"], inboxes["slack"], b"ok"))
        started = time.monotonic()
        running = stack.enter_context(Stack(settings, demo=demo, on_event=lambda _m: None))
        p = running.provisioning
        assert p is not None
        print(
            f"[{name}] stack up in {time.monotonic() - started:.1f} s: scrape {p.scrape_interval.total_seconds():g} s, "
            f"evaluation {p.evaluation_interval.total_seconds():g} s, for x{p.for_scale:g} (PaymentFailureRate 1 m), "
            f"group_wait {p.group_wait.total_seconds():g} s (webhook route 0 s)",
            flush=True,
        )
        urls = {
            "prometheus": f"http://127.0.0.1:{ports['prometheus']}",
            "alertmanager": f"http://127.0.0.1:{ports['alertmanager']}",
            "platform": f"http://127.0.0.1:{ports['platform']}",
            "processor": f"http://127.0.0.1:{ports['processor']}",
        }
        with httpx.Client(timeout=5.0) as http:
            for i in range(1, runs + 1):
                interval = p.scrape_interval.total_seconds()
                result = one_run(http, urls, f"fanz-{i}", inboxes, timeout, interval)
                results.append(result)
                print(f"[{name}] run {i}: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.items()), flush=True)
    return results


def summarize(name: str, results: list[dict[str, float]]) -> None:
    print(f"\n## {name} intervals: {len(results)} run(s), median (min-max) seconds")
    print("| step | median | min | max |\n|---|---|---|---|")
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"| {key} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=("short", "default", "both"), default="short")
    parser.add_argument("--runs", type=int, default=3, help="outages per profile (each on its own platform, max 13)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 13:
        parser.error("--runs must be 1 to 13")
    profiles = ("short", "default") if args.profile == "both" else (args.profile,)
    collected = {p: run_profile(p, args.runs) for p in profiles}
    for name, results in collected.items():
        summarize(name, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
