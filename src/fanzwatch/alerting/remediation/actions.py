"""Remediation actions: what a playbook does once every safety rule has said yes.

Each action gets the allow-listed label values, renders its templates, and reports an
``ActionResult`` (never raises for an action failure). ``describe`` says what it would
do without doing it: it is what dry-run mode and the audit log record. Secrets (tokens)
never appear in descriptions.

Every run carries a ``key``, the same when an interrupted run is resumed: HTTP actions
send it as ``Idempotency-Key``, shell commands get it as ``FANZWATCH_REMEDIATION_KEY``, so
a target that keeps keys can tell a resumed run from a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from ...core.errors import ConfigError
from ...settings.alerting import (
    ActionConfig,
    HttpAction,
    PaymentFailoverAction,
    RestartProcessAction,
    ShellAction,
)
from .labels import render
from .process import ProcessControl, ProcessControlError

OUTPUT_LIMIT = 2000
SHELL_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    detail: str


class RemediationAction(Protocol):
    kind: str

    def describe(self, values: Mapping[str, str]) -> str: ...

    async def run(self, values: Mapping[str, str], *, key: str) -> ActionResult: ...


class HttpCallAction:
    kind = "http"

    def __init__(self, config: HttpAction, http: httpx.AsyncClient, *, token: str | None) -> None:
        self._c = config
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def describe(self, values: Mapping[str, str]) -> str:
        return f"{self._c.method} {render(self._c.url, values, url=True)}"

    async def run(self, values: Mapping[str, str], *, key: str) -> ActionResult:
        body = {k: render(v, values) for k, v in self._c.body.items()} if self._c.body is not None else None
        try:
            response = await self._http.request(
                self._c.method,
                render(self._c.url, values, url=True),
                json=body,
                headers={**self._headers, IDEMPOTENCY_HEADER: key},
                timeout=self._c.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            return ActionResult(False, f"{self.describe(values)}: {type(exc).__name__}")
        ok = response.status_code in self._c.expect_status if self._c.expect_status else response.is_success
        return ActionResult(ok, f"{self.describe(values)}: HTTP {response.status_code}")


class PaymentFailoverRun:
    """``PUT <platform>/admin/payment-processor {"active": target}``, then read it back."""

    kind = "payment_failover"

    def __init__(self, config: PaymentFailoverAction, http: httpx.AsyncClient) -> None:
        self._c = config
        self._http = http

    def _url(self, values: Mapping[str, str]) -> str:
        return f"{render(self._c.platform_url, values, url=True).rstrip('/')}/admin/payment-processor"

    def describe(self, values: Mapping[str, str]) -> str:
        return f"switch payments to the {self._c.target} processor: PUT {self._url(values)}"

    async def run(self, values: Mapping[str, str], *, key: str) -> ActionResult:
        url = self._url(values)
        try:
            response = await self._http.put(
                url, json={"active": self._c.target}, headers={IDEMPOTENCY_HEADER: key}, timeout=self._c.timeout_seconds
            )
            if not response.is_success:
                return ActionResult(False, f"PUT {url}: HTTP {response.status_code}")
            check = await self._http.get(url, timeout=self._c.timeout_seconds)
        except httpx.HTTPError as exc:
            return ActionResult(False, f"PUT {url}: {type(exc).__name__}")
        try:
            active = check.json().get("active") if check.is_success else None
        except ValueError:
            active = None
        if active != self._c.target:
            return ActionResult(False, f"the platform reports {active!r} active after switching to {self._c.target}")
        return ActionResult(True, f"payments now go through the {self._c.target} processor")


class RestartProcessRun:
    kind = "restart_process"

    def __init__(self, config: RestartProcessAction, control: ProcessControl) -> None:
        self._c = config
        self._control = control

    def describe(self, values: Mapping[str, str]) -> str:
        return f"restart process {render(self._c.process, values)}"

    async def run(self, values: Mapping[str, str], *, key: str) -> ActionResult:
        name = render(self._c.process, values)
        try:
            async with asyncio.timeout(self._c.timeout_seconds):
                return ActionResult(True, await self._control.restart(name))
        except TimeoutError:
            return ActionResult(False, f"restarting {name} took more than {self._c.timeout_seconds:g} s")
        except ProcessControlError as exc:
            return ActionResult(False, str(exc))


class ShellCommandRun:
    """Run ``argv`` (no shell) with a minimal environment; killed with its group on timeout."""

    kind = "shell"

    def __init__(self, config: ShellAction) -> None:
        self._c = config

    def argv(self, values: Mapping[str, str]) -> list[str]:
        return [self._c.argv[0], *(render(a, values) for a in self._c.argv[1:])]

    def describe(self, values: Mapping[str, str]) -> str:
        return "run " + " ".join(self.argv(values))

    async def run(self, values: Mapping[str, str], *, key: str) -> ActionResult:
        argv = self.argv(values)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**SHELL_ENV, "FANZWATCH_REMEDIATION_KEY": key},
                start_new_session=True,
            )
        except OSError as exc:
            return ActionResult(False, f"cannot run {argv[0]}: {exc.strerror}")
        try:
            async with asyncio.timeout(self._c.timeout_seconds):
                output, _ = await proc.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return ActionResult(False, f"{argv[0]} timed out after {self._c.timeout_seconds:g} s and was killed")
        text = output.decode("utf-8", errors="replace")[-OUTPUT_LIMIT:].strip()
        ok = proc.returncode == 0
        return ActionResult(ok, f"{argv[0]} exited {proc.returncode}" + (f": {text}" if text else ""))


def build_action(
    config: ActionConfig, http: httpx.AsyncClient, control: ProcessControl | None, *, playbook: str
) -> RemediationAction:
    if isinstance(config, HttpAction):
        token = (
            config.bearer_token.read(f"remediation.playbooks.{playbook}.bearer_token") if config.bearer_token else None
        )
        return HttpCallAction(config, http, token=token)
    if isinstance(config, PaymentFailoverAction):
        return PaymentFailoverRun(config, http)
    if isinstance(config, RestartProcessAction):
        if control is None:
            raise ConfigError(
                f"playbook {playbook} restarts processes: set remediation.process_control_url",
                setting="alerting.remediation.process_control_url",
            )
        return RestartProcessRun(config, control)
    return ShellCommandRun(config)
