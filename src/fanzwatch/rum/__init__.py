"""Real User Monitoring: the browser script's beacons in, metrics and stored events out.

Wiring (in the server's ``create_app``)::

    ingestor = RumIngestor(registry=registry, settings=rum_settings, platforms=platforms)
    app.add_middleware(RumBeaconMiddleware, beacon=build_rum_app(ingestor))  # POST beacons
    app.include_router(build_rum_router(ingestor, platforms=platforms))      # GET vitals, errors, script
    # in the lifespan, once the store engine exists:
    await ingestor.start(engine)   ...   await ingestor.stop()
"""

from __future__ import annotations

from ..settings.rum import RumSettings
from .api import SCRIPT_PATH, build_rum_router, load_script
from .asgi import ANALYTICS_PREFIX, RumBeaconApp, RumBeaconMiddleware
from .ingestor import BeaconRejectedError, IngestUnavailableError, RumIngestor
from .store import RumEventStore


def build_rum_app(ingestor: RumIngestor, settings: RumSettings | None = None) -> RumBeaconApp:
    """The beacon endpoints as a pure ASGI app; mount it at ``ANALYTICS_PREFIX``."""
    return RumBeaconApp(ingestor, settings)


__all__ = [
    "ANALYTICS_PREFIX",
    "SCRIPT_PATH",
    "BeaconRejectedError",
    "IngestUnavailableError",
    "RumBeaconApp",
    "RumBeaconMiddleware",
    "RumEventStore",
    "RumIngestor",
    "build_rum_app",
    "build_rum_router",
    "load_script",
]
