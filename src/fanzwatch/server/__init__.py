"""The fanzwatch server (FastAPI): composition of the feature routers and FanzDash."""

from .app import create_app

__all__ = ["create_app"]
