"""The demo creator platform: accounts, content, engagement and payments for several tenants."""

from .app import create_platform_app
from .config import PlatformConfig

__all__ = ["PlatformConfig", "create_platform_app"]
