"""Fixtures of the stack tests: free ports for a whole stack."""

from __future__ import annotations

import socket
from contextlib import ExitStack

import pytest


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (held together while picked)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@pytest.fixture
def ports() -> dict[str, int]:
    names = (
        "prometheus",
        "alertmanager",
        "node_exporter",
        "blackbox",
        "server",
        "platform",
        "processor",
        "simulator",
        "slack",
        "webhook",
        "sinks",
        "smtp",
    )
    return dict(zip(names, free_ports(len(names)), strict=True))
