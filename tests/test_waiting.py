"""The suite's wait helpers: they return what they waited for, and fail loudly with the last value."""

from __future__ import annotations

import itertools
import time

import pytest

from _waiting import async_wait_until, wait_until


def test_returns_the_first_accepted_value() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", timeout=30, message="never", interval=0) == "ready"
    values = iter([{1}, {1, 2}, {1, 2, 3}])
    assert wait_until(lambda: next(values), until={1, 2}.issubset, timeout=30, message="never", interval=0) == {1, 2}


def test_fails_with_the_message_and_the_last_value_and_error() -> None:
    with pytest.raises(AssertionError, match=r"^no sample within 0.05 s \(waited 0.05 s; last value: \[\]\)$"):
        wait_until(lambda: [], timeout=0.05, message="no sample within 0.05 s", interval=0.01)

    def refused() -> bool:
        raise ConnectionRefusedError("refused")

    with pytest.raises(AssertionError, match=r"the condition was never evaluated; last error: ConnectionRefused"):
        wait_until(refused, timeout=0.05, message="down", ignore=(ConnectionRefusedError,), interval=0.01)
    with pytest.raises(ConnectionRefusedError):  # not ignored: raised at once
        wait_until(refused, timeout=30, message="down")


def test_a_slow_evaluation_is_followed_by_one_more_after_the_deadline() -> None:
    calls: list[int] = []

    def slow_then_true() -> bool:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.1)  # outlasts the whole deadline
            return False
        return True

    assert wait_until(slow_then_true, timeout=0.05, message="lost", interval=0) is True
    assert len(calls) == 2


async def test_the_async_variant_awaits_async_conditions_and_fails_loudly() -> None:
    counter = itertools.count()

    async def ready() -> int:
        return next(counter) >= 2

    assert await async_wait_until(ready, timeout=30, message="never", interval=0) is True
    with pytest.raises(AssertionError, match=r"^stuck \(waited 0.05 s; last value: 0\)$"):
        await async_wait_until(lambda: 0, timeout=0.05, message="stuck", interval=0.01)
