"""The fanzwatch server (FastAPI): composition of the feature routers and FanzDash."""

from .app import create_app
from .context import ServerContext

__all__ = ["ServerContext", "create_app"]
