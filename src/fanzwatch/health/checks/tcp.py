"""TCP connect: for a dependency with no better check (an SMTP relay, a message broker)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from ...core.errors import ConfigError
from ...core.models import HealthStatus
from .._check import CheckResult
from ._base import BaseCheck, elapsed_since


class TcpCheck(BaseCheck):
    """Opens a TCP connection to ``host:port`` and closes it; reports the connect time.

    It proves the port accepts connections, nothing more: prefer a protocol-level check
    (SQL, Redis, HTTP) where there is one.

    >>> TcpCheck("smtp_relay", "127.0.0.1", 25)
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        slow_after: float | None = None,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        if not 0 < port < 65536:
            raise ConfigError(f"TCP health check {name!r}: port must be 1-65535", setting="port")
        self.host, self.port, self.slow_after = host, port, slow_after

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        try:
            _reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            # asyncio's own text ("Connect call failed") hides the reason; the errno has it.
            reason = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
            return CheckResult.failed(f"cannot connect to {self.host}:{self.port}: {reason}")
        latency = elapsed_since(started)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        if self.slow_after is not None and latency > self.slow_after:
            output = f"connected in {latency:.3f} s, slower than {self.slow_after:g} s"
            return CheckResult(HealthStatus.WARN, latency, "s", output=output)
        return CheckResult(HealthStatus.PASS, latency, "s")
