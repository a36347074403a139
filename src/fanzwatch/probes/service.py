"""``fanzwatch probe journey``: walk the money journey every ``interval`` and serve ``/metrics``.

Prometheus scrapes the prober like any target (job ``journey-prober``); several probers in
several locations, each with its own ``--location``, make the ``JourneyFailing`` quorum.
A step that raises anything (a refused connection or a bug) fails that step and so the run,
which is counted and logged (``JourneyProber.walk``); the loop goes on (a prober that dies
shows as ``TargetDown``, never as a passing journey).
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from dataclasses import dataclass

import httpx
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, start_http_server

from .journey import JourneyProber

logger = logging.getLogger(__name__)
PLATFORM_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
"""A tenant's name as it appears in the platform's URL path (``/p/<platform>/``)."""
STEP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
"""Per request: a step slower than this has failed (the step histogram shows how slow)."""


@dataclass(frozen=True, slots=True)
class JourneyProberConfig:
    """Where the platform is, which tenants to walk, from where, how often, where to serve metrics."""

    platform_url: str
    platforms: tuple[str, ...]
    location: str = "local"
    interval_seconds: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8340
    max_runs: int | None = None

    def __post_init__(self) -> None:
        if not self.platforms:
            raise ValueError("no platform to walk: give at least one (--platforms fanz-1,fanz-2)")
        bad = [p for p in self.platforms if not PLATFORM_NAME.fullmatch(p)]
        if bad:
            raise ValueError(f"not a platform name: {', '.join(map(repr, bad))} (lower-case letters, digits, '-')")
        if self.max_runs is not None and self.max_runs < 1:
            raise ValueError(f"max_runs must be at least 1, not {self.max_runs}")
        if self.interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be positive, not {self.interval_seconds}")


async def run_prober(config: JourneyProberConfig, *, registry: CollectorRegistry, tracer: Tracer | None = None) -> int:
    """Walk every ``interval_seconds`` (``max_runs`` rounds, or until cancelled); returns 0."""
    async with httpx.AsyncClient(base_url=config.platform_url, timeout=STEP_TIMEOUT) as client:
        prober = JourneyProber(
            client, platforms=config.platforms, location=config.location, registry=registry, tracer=tracer
        )
        runs = 0
        while config.max_runs is None or runs < config.max_runs:
            started = time.monotonic()
            for platform in config.platforms:
                try:
                    await prober.walk(platform)
                except Exception:  # walk() counts every step's failure; this is a bug in the recording itself
                    logger.exception("journey on %s raised outside its steps", platform)
            runs += 1
            await asyncio.sleep(max(0.0, config.interval_seconds - (time.monotonic() - started)))
    return 0


def serve_prober(config: JourneyProberConfig, *, tracer: Tracer | None = None) -> int:
    """Serve ``/metrics`` on ``host:port`` and run the prober in this thread until interrupted."""
    registry = CollectorRegistry(auto_describe=True)
    server, thread = start_http_server(config.port, config.host, registry=registry)
    logger.info(
        "journey prober at %s from %s: metrics on %s:%d", config.platform_url, config.location, config.host, config.port
    )
    # ``fanzwatch up`` stops its children with SIGTERM: end like Ctrl-C, so the caller's
    # ``finally`` flushes the last journeys' spans (often the failing ones) instead of dying.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return asyncio.run(run_prober(config, registry=registry, tracer=tracer))
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        thread.join(timeout=5)
