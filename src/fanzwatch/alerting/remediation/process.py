"""Restarting a managed process: the small protocol between fanzwatch and the stack runner.

The process that supervises the stack (``fanzwatch up``) serves, on loopback::

    POST {process_control_url}/v1/processes/{name}/restart
    Authorization: Bearer <token>            (when a token is configured)
    -> 200 {"name": "<name>", "pid": <new pid>}
    -> 404 unknown process, 409 restart already running, 5xx could not restart

``HttpProcessControl`` is the client; anything implementing ``ProcessControl`` may be
passed to the alerting service instead (e.g. a supervisor living in the same process).
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

import httpx

from ...core.errors import FanzwatchError


class ProcessControlError(FanzwatchError, RuntimeError):
    """The process could not be restarted; the message says why."""


class ProcessControl(Protocol):
    async def restart(self, name: str) -> str:
        """Restart ``name``; a short description of what happened (e.g. the new pid).

        The caller bounds the time it may take (``asyncio.timeout``)."""
        ...


class HttpProcessControl:
    def __init__(self, base_url: str, http: httpx.AsyncClient, *, token: str | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def restart(self, name: str) -> str:
        url = f"{self._base}/v1/processes/{quote(name, safe='')}/restart"
        try:
            response = await self._http.post(url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise ProcessControlError(f"process control unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ProcessControlError(f"process control answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            pid = int(response.json()["pid"])
        except (ValueError, KeyError, TypeError):
            raise ProcessControlError("process control answered without a pid") from None
        return f"restarted {name}, new pid {pid}"
