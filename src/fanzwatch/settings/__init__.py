"""Typed settings, one class per component; the only place that reads the environment."""

from ._base import ComponentSettings, component_config
from .server import ServerSettings
from .store import StoreSettings

__all__ = ["ComponentSettings", "ServerSettings", "StoreSettings", "component_config"]
