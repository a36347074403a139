"""The simulator as a service: the traffic loop plus a small admin API, in one process.

``GET /status`` reports progress; ``PUT /admin/traffic`` changes the rate multiplier (the
traffic-spike incident). When the budget is spent the process exits with code 0: the
stack reports that, it is not a crash.
"""

from __future__ import annotations

import logging

import anyio
import httpx
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from .config import SimulatorConfig
from .engine import MAX_MULTIPLIER, Simulator

logger = logging.getLogger(__name__)


class TrafficChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    multiplier: float = Field(gt=0, le=MAX_MULTIPLIER, description="1 is normal traffic; 5 is a five-fold spike")


def create_simulator_admin_app(simulator: Simulator) -> FastAPI:
    """The admin API of one simulator."""
    app = FastAPI(title="fanz demo traffic simulator", version="1")

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "pass", "state": simulator.state}

    @app.get("/status")
    async def status() -> dict[str, object]:
        return simulator.status()

    @app.put("/admin/traffic", tags=["admin"])
    async def set_traffic(body: TrafficChange) -> dict[str, object]:
        if simulator.state == "finished":
            raise HTTPException(409, "the simulation has finished its budget; restart it to change traffic")
        simulator.set_multiplier(body.multiplier)
        return {"multiplier": simulator.multiplier}

    return app


async def serve_simulator(config: SimulatorConfig, *, host: str = "127.0.0.1", port: int = 8320) -> int:
    """Run the simulation and its admin API; return once the simulation ends (exit code 0)."""
    timeout = httpx.Timeout(config.request_timeout_seconds, connect=3.0)
    limits = httpx.Limits(max_connections=config.max_in_flight, max_keepalive_connections=config.max_in_flight)
    async with httpx.AsyncClient(base_url=config.platform_url, timeout=timeout, limits=limits) as http:
        simulator = Simulator(config, http)
        server = uvicorn.Server(
            uvicorn.Config(create_simulator_admin_app(simulator), host=host, port=port, log_level="warning")
        )

        async def simulate() -> None:
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await anyio.sleep(0.02)
            await simulator.run()
            server.should_exit = True

        async with anyio.create_task_group() as tg:
            tg.start_soon(simulate)
            await server.serve()  # returns on SIGTERM/SIGINT or once the simulation is over
            simulator.stop("signal")
    logger.info("simulation ended: %s", simulator.stop_reason)
    return 0
