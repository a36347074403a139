"""Shared foundation: metric catalog, domain models, errors, clock. Imports stdlib and pydantic only."""

from .catalog import CATALOG, Catalog, MetricKind, MetricSpec
from .clock import Clock, FrozenClock, SystemClock
from .errors import ConfigError, DependencyMissingError, FanzwatchError, LabelError, UnknownMetricError
from .models import HealthStatus, Priority, Severity

__all__ = [
    "CATALOG",
    "Catalog",
    "Clock",
    "ConfigError",
    "DependencyMissingError",
    "FanzwatchError",
    "FrozenClock",
    "HealthStatus",
    "LabelError",
    "MetricKind",
    "MetricSpec",
    "Priority",
    "Severity",
    "SystemClock",
    "UnknownMetricError",
]
