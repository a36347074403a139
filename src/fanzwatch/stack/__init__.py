"""``fanzwatch up``: the whole system on one machine, real Prometheus and Alertmanager included.

- :mod:`.supervisor`: child processes in their own process groups, readiness, clean stop;
- :mod:`.plan`: the rendered provisioning and what runs, from the settings;
- :mod:`.runner`: :class:`Stack`, which puts them together.
"""

from .binaries import INSTALL_HINT, Binaries, find_binaries
from .plan import StackPaths, fanzwatch_argv, port_plan, provisioning_settings
from .runner import Stack, read_state
from .supervisor import (
    ChildFailedError,
    ChildProcess,
    ChildSpec,
    StackError,
    StartInterruptedError,
    Supervisor,
    group_alive,
)

__all__ = [
    "INSTALL_HINT",
    "Binaries",
    "ChildFailedError",
    "ChildProcess",
    "ChildSpec",
    "Stack",
    "StackError",
    "StackPaths",
    "StartInterruptedError",
    "Supervisor",
    "fanzwatch_argv",
    "find_binaries",
    "group_alive",
    "port_plan",
    "provisioning_settings",
    "read_state",
]
