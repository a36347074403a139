"""The traffic simulator: seasonal fans and creators, bounded, loopback only."""

from .config import SimulatorConfig, require_loopback
from .engine import Simulator
from .seasonality import (
    PlatformProfile,
    SimulatedClock,
    daily_factor,
    platform_profile,
    platform_rates,
    seasonal_factor,
    weekly_factor,
)
from .service import create_simulator_admin_app, serve_simulator

__all__ = [
    "PlatformProfile",
    "SimulatedClock",
    "Simulator",
    "SimulatorConfig",
    "create_simulator_admin_app",
    "daily_factor",
    "platform_profile",
    "platform_rates",
    "require_loopback",
    "seasonal_factor",
    "serve_simulator",
    "weekly_factor",
]
