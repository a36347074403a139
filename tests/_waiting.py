"""Wait for a condition, never for a length of time, and fail loudly when it does not come.

A test that sleeps and then asserts passes on a fast machine and fails on a loaded one; a
loop that gives up silently blames the next line for the timeout. These helpers poll a
condition until it holds or a generous deadline passes, and then fail with what was awaited
and the last value seen::

    value = wait_until(lambda: count_samples(), timeout=30, message="no sample within 30 s")

``wait_until`` returns the first truthy value the condition produced, so the caller can use
what it waited for (a sample, a row, a response) instead of computing it again later. With
``until=`` a value is accepted when ``until(value)`` holds, and the last one rejected is shown::

    seen = wait_until(stale_alerts, until=lambda seen: wanted <= seen, timeout=180, message="...")

Import them as ``from _waiting import wait_until`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_NOT_CALLED = object()


def _failure(message: str, timeout: float, last: object, error: BaseException | None) -> AssertionError:
    seen = "the condition was never evaluated" if last is _NOT_CALLED else f"last value: {last!r}"
    if error is not None:
        seen += f"; last error: {error!r}"
    return AssertionError(f"{message} (waited {timeout:g} s; {seen})")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    message: str,
    interval: float = 0.05,
    ignore: tuple[type[BaseException], ...] = (),
    until: Callable[[T], object] = bool,
) -> T:
    """Call ``condition`` until it returns a truthy value (or one ``until`` accepts), and return it.

    Raises ``AssertionError`` with ``message``, the timeout and the last value (and the last
    ignored exception) when ``timeout`` seconds pass first. Exceptions of the types in
    ``ignore`` (e.g. ``httpx.TransportError`` while a server starts) count as "not yet".
    The condition is evaluated at least once, and once more after the deadline, so a slow
    single evaluation does not lose a condition that became true meanwhile.
    """
    deadline = time.monotonic() + timeout
    last: object = _NOT_CALLED
    error: BaseException | None = None
    while True:
        expired = time.monotonic() >= deadline
        try:
            value = condition()
        except ignore as exc:
            error = exc
        else:
            if until(value):
                return value
            last = value
        if expired:
            raise _failure(message, timeout, last, error)
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], T] | Callable[[], Awaitable[T]],
    *,
    timeout: float,  # noqa: ASYNC109 (the deadline is part of the failure message, asyncio.timeout has none)
    message: str,
    interval: float = 0.02,
    ignore: tuple[type[BaseException], ...] = (),
    until: Callable[[T], object] = bool,
) -> T:
    """``wait_until`` for async tests: ``condition`` may be a plain or an async callable.

    Sleeps with ``asyncio.sleep`` between evaluations, so tasks on the same loop make progress.
    """
    deadline = time.monotonic() + timeout
    last: object = _NOT_CALLED
    error: BaseException | None = None
    while True:
        expired = time.monotonic() >= deadline
        try:
            result = condition()
            value = await result if inspect.isawaitable(result) else result
        except ignore as exc:
            error = exc
        else:
            if until(value):
                return value
            last = value
        if expired:
            raise _failure(message, timeout, last, error)
        await asyncio.sleep(interval)
