"""The traffic simulator: seasonal arrivals of fan and creator actions, bounded in time and count.

Arrivals are a Poisson process whose rate is the sum of every platform's rate (its size
times its own seasonal profile at the simulated time, ``platform_rates``), times a runtime
multiplier (the traffic-spike incident); each arrival goes to a platform in proportion
to its current rate, so 13 platforms share one loop and one HTTP client. At most
``max_in_flight`` requests run at once; an arrival beyond that is counted as skipped, never
queued, so a slow platform cannot make the simulator grow without bound.

>>> sim = Simulator(SimulatorConfig(platform_url="http://127.0.0.1:8300", platforms=("fanz-1",)), http)
>>> await sim.run()   # returns when a budget is spent or stop() is called
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from .actions import ACTION_WEIGHTS, ActionContext, pick, run_action
from .config import SimulatorConfig
from .population import Population
from .seasonality import SimulatedClock, default_start, platform_rates

logger = logging.getLogger(__name__)
MAX_MULTIPLIER = 50.0
RATE_TICK_SECONDS = 0.5


class Simulator:
    """Generates traffic until a budget is spent or :meth:`stop` is called."""

    def __init__(
        self,
        config: SimulatorConfig,
        http: httpx.AsyncClient,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.http = http
        self._monotonic = monotonic
        self.rng = random.Random(config.seed)
        self.clock = SimulatedClock(start=config.start or default_start(), day_seconds=config.day_seconds)
        self.population = Population(fan_cap=config.fans_per_platform, creator_cap=config.creators_per_platform)
        self.ctx = ActionContext(http=http, population=self.population, rng=self.rng, run_id=uuid.uuid4().hex[:8])
        self.stats: Counter[str] = Counter()
        self.sent = 0
        self.skipped = 0
        self.in_flight = 0
        self.multiplier = 1.0
        self.state = "idle"
        self.stop_reason: str | None = None
        self._started_at: float | None = None
        self._stop = anyio.Event()

    # --- control -------------------------------------------------------------------
    def stop(self, reason: str = "stopped") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    def set_multiplier(self, value: float) -> None:
        if not 0.0 < value <= MAX_MULTIPLIER:
            raise ValueError(f"traffic multiplier must be in (0, {MAX_MULTIPLIER:g}]")
        self.multiplier = value

    def elapsed(self) -> float:
        return 0.0 if self._started_at is None else self._monotonic() - self._started_at

    def platform_rates(self) -> dict[str, float]:
        """Requests per second of each platform right now (multiplier included)."""
        moment = self.clock.at(self.elapsed())
        rates = platform_rates(self.config.platforms, self.config.peak_rps, moment)
        return {p: rate * self.multiplier for p, rate in rates.items()}

    def current_rate(self) -> float:
        """Requests per second right now: the platforms' seasonal rates × multiplier."""
        return sum(self.platform_rates().values())

    def pick_platform(self) -> str:
        """The platform of the next arrival, in proportion to the platforms' current rates."""
        rates = self.platform_rates()
        return self.rng.choices(list(rates), weights=list(rates.values()))[0]

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "stop_reason": self.stop_reason,
            "sent": self.sent,
            "skipped": self.skipped,
            "in_flight": self.in_flight,
            "elapsed_seconds": round(self.elapsed(), 3),
            "simulated_time": self.clock.at(self.elapsed()).isoformat(),
            "rate_per_second": round(self.current_rate(), 3),
            "platform_rates": {p: round(r, 3) for p, r in self.platform_rates().items()},
            "multiplier": self.multiplier,
            "population": self.population.size(),
            "outcomes": dict(sorted(self.stats.items())),
        }

    # --- running -------------------------------------------------------------------
    def _budget_left(self) -> bool:
        if self.sent >= self.config.max_requests:
            self.stop("max_requests reached")
            return False
        if self.elapsed() >= self.config.max_duration_seconds:
            self.stop("max_duration reached")
            return False
        return not self._stop.is_set()

    async def _do(self, platform: str, action: str) -> None:
        self.sent += 1
        self.in_flight += 1
        try:
            code = await run_action(self.ctx, platform, action)
            outcome = "noop" if code is None else str(code)  # status codes: a bounded set
        except httpx.HTTPError as exc:
            outcome = "transport_error"
            logger.debug("simulator request failed: %s %s", action, type(exc).__name__)
        finally:
            self.in_flight -= 1
        self.stats[f"{action}.{outcome}"] += 1

    async def _bootstrap(self) -> None:
        """Give every tenant creators, a few fans and some content before the mix starts."""
        cfg = self.config
        plan = (
            ("register_creator", min(cfg.creators_per_platform, 3)),
            ("register_fan", min(cfg.fans_per_platform, 8)),
            ("upload", 4),
        )
        for platform in cfg.platforms:
            for action, count in plan:
                for _ in range(count):
                    if not self._budget_left():
                        return
                    await self._do(platform, action)

    async def run(self) -> None:
        """Bootstrap, then generate seasonal traffic until a budget is spent or stopped."""
        self._started_at = self._monotonic()
        self.state = "bootstrapping"
        await self._bootstrap()
        self.state = "running"
        try:
            async with anyio.create_task_group() as tg:
                while self._budget_left():
                    gap = self.rng.expovariate(max(self.current_rate(), 1e-6))
                    with anyio.move_on_after(min(gap, RATE_TICK_SECONDS)):
                        await self._stop.wait()
                    if not self._budget_left():
                        break
                    if gap > RATE_TICK_SECONDS:
                        # No arrival within the tick: draw again at the current rate. Exponential
                        # gaps are memoryless, so this is exact for a rate that changes over time.
                        continue
                    if self.in_flight >= self.config.max_in_flight:
                        self.skipped += 1
                        continue
                    tg.start_soon(self._do, self.pick_platform(), pick(self.rng, ACTION_WEIGHTS))
        finally:
            self.state = "finished"
            logger.info("simulator finished: %s after %d requests", self.stop_reason, self.sent)
