"""What the server builds once at start-up and hands to every feature."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.clock import Clock, SystemClock
from ..settings import ServerSettings


@dataclass
class ServerContext:
    """Shared, long-lived resources of one server instance.

    Built in the lifespan of ``create_app``; features receive it instead of
    reaching for globals.
    """

    settings: ServerSettings
    registry: CollectorRegistry
    engine: AsyncEngine
    http: httpx.AsyncClient
    clock: Clock = field(default_factory=SystemClock)
