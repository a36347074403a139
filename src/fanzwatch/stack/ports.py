"""Port checks done before anything starts, so a clash is a clear message, not a crash log."""

from __future__ import annotations

import socket
from collections.abc import Mapping

from ..core.errors import ConfigError

PROMETHEUS_DEFAULT_PORT = 9090


def check_port_plan(ports: Mapping[str, int]) -> None:
    """Every service on its own port, and 9090 for nobody but Prometheus."""
    by_port: dict[int, list[str]] = {}
    for name, port in ports.items():
        by_port.setdefault(port, []).append(name)
    clashes = {p: names for p, names in by_port.items() if len(names) > 1}
    if clashes:
        detail = ", ".join(f"{p}: {' and '.join(n)}" for p, n in sorted(clashes.items()))
        raise ConfigError(f"two services share a port ({detail}); give each its own", setting="ports")
    squatters = [n for n in by_port.get(PROMETHEUS_DEFAULT_PORT, []) if n != "prometheus"]
    if squatters:
        raise ConfigError(
            f"port {PROMETHEUS_DEFAULT_PORT} is Prometheus's port; move {squatters[0]} elsewhere",
            setting=f"{squatters[0]}_port",
        )


def busy_ports(host: str, ports: Mapping[str, int]) -> dict[str, int]:
    """The services whose port is already taken on ``host``."""
    taken: dict[str, int] = {}
    for name, port in ports.items():
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
            # Like the servers themselves: a port held only by TIME_WAIT connections is free.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                taken[name] = port
    return taken
