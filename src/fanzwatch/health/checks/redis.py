"""Redis: ``PING`` for the round trip, ``INFO`` for memory against ``maxmemory`` and clients."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ...core.errors import ConfigError
from ...core.models import HealthStatus
from .._check import CheckResult, ComponentType, JsonValue
from ._base import BaseCheck, elapsed_since

_SOCKET_TIMEOUT = 5.0


class RedisCheck(BaseCheck):
    """Pings Redis and reads ``INFO memory`` and ``INFO clients``.

    Warns when ``used_memory`` reaches ``memory_warn_ratio`` of ``maxmemory`` (when a
    ``maxmemory`` is set: with none, Redis grows until the host runs out, which the memory
    ratio cannot see) or when ``connected_clients`` reaches ``clients_warn_ratio`` of
    ``maxclients``. One retry on a fresh connection absorbs a connection the server
    closed since the last run; a server that is down fails at once (no back-off).

    >>> RedisCheck("cache", url="redis://127.0.0.1:6379/0")
    """

    component_type = ComponentType.DATASTORE

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        client: Redis | None = None,
        memory_warn_ratio: float = 0.9,
        clients_warn_ratio: float = 0.9,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        if (url is None) == (client is None):
            raise ConfigError(f"Redis health check {name!r}: give either url or client", setting="url")
        for label, ratio in (("memory_warn_ratio", memory_warn_ratio), ("clients_warn_ratio", clients_warn_ratio)):
            if not 0 < ratio <= 1:
                raise ConfigError(f"Redis health check {name!r}: {label} must be in (0, 1]", setting=label)
        self._url = url
        self._client = client
        self._owns_client = client is None
        self.memory_warn_ratio = memory_warn_ratio
        self.clients_warn_ratio = clients_warn_ratio

    def _connection(self) -> Redis:
        if self._client is None:
            # Created on first use, inside the running event loop it will serve.
            socket_timeout = self.timeout or _SOCKET_TIMEOUT
            self._client = Redis.from_url(
                self._url or "",
                socket_connect_timeout=socket_timeout,
                socket_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 1),
                max_connections=2,
            )
        return self._client

    async def check(self) -> CheckResult:
        client = self._connection()
        started = time.perf_counter()
        await client.ping()
        latency = elapsed_since(started)
        info: dict[str, Any] = await client.info("memory", "clients")
        return self.judge(latency, info)

    def judge(self, latency: float, info: dict[str, Any]) -> CheckResult:
        """The result for a ping latency and a parsed ``INFO memory clients``."""
        used = int(info.get("used_memory", 0))
        maxmemory = int(info.get("maxmemory", 0))
        clients = int(info.get("connected_clients", 0))
        maxclients = int(info.get("maxclients", 0))
        memory_ratio = round(used / maxmemory, 4) if maxmemory > 0 else None
        details: dict[str, JsonValue] = {
            "used_memory_bytes": used,
            "maxmemory_bytes": maxmemory,
            "memory_ratio": memory_ratio,
            "connected_clients": clients,
            "maxclients": maxclients,
        }
        problems = []
        if memory_ratio is not None and memory_ratio >= self.memory_warn_ratio:
            problems.append(f"used memory at {memory_ratio:.0%} of maxmemory ({used} of {maxmemory} bytes)")
        if maxclients > 0 and clients >= self.clients_warn_ratio * maxclients:
            problems.append(f"{clients} clients connected of maxclients {maxclients}")
        status = HealthStatus.WARN if problems else HealthStatus.PASS
        return CheckResult(status, latency, "s", output="; ".join(problems), details=details)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()
        elif client is not None:
            self._client = client  # not ours: keep using it, never close it
