"""Where the running stacks are, so a command run from any directory finds its stack.

``fanzwatch up`` writes ``stack.json`` into its data dir and, beside it, one small entry
per running stack in the *registry* directory (``$XDG_RUNTIME_DIR/fanzwatch/stacks`` or
``~/.local/state/fanzwatch/stacks``; ``FANZWATCH_STACK_REGISTRY_DIR`` overrides), named
by the PID of ``up``. Both are removed when the stack stops; an entry whose process is
gone is ignored (and removed) by the next reader, so a crashed ``up`` leaves nothing
that misleads.

>>> stack = find_running_stack(None, registry_dir=settings.resolved_registry_dir)
>>> stack.server_url if stack else "no stack is running"
'http://127.0.0.1:8900'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .supervisor import StackError

STATE_FILE = "stack.json"


class AmbiguousStackError(StackError):
    """Several stacks run on this machine and the command did not say which."""

    def __init__(self, data_dirs: list[Path]) -> None:
        super().__init__(f"{len(data_dirs)} stacks are running ({', '.join(map(str, data_dirs))})")
        self.data_dirs = data_dirs


@dataclass(frozen=True, slots=True)
class RunningStack:
    """What a command needs to reach a running stack (read from its ``stack.json``)."""

    data_dir: Path
    pid: int
    state: dict[str, Any]

    @property
    def urls(self) -> dict[str, str]:
        """Each child's URL, by child name."""
        return {name: info["url"] for name, info in self.state.get("children", {}).items() if info.get("url")}

    @property
    def server_url(self) -> str | None:
        url = self.state.get("server_url")
        return str(url) if url else None

    @property
    def fanzdash_url(self) -> str | None:
        url = self.state.get("fanzdash_url")
        return str(url) if url else None

    @property
    def secrets_dir(self) -> Path:
        return Path(self.state.get("secrets_dir") or self.data_dir / "secrets")

    @property
    def bi_database_url(self) -> str | None:
        """The platform database BI reads (the demo's), or None without the demo."""
        url = self.state.get("bi_database_url")
        return str(url) if url else None

    @property
    def demo(self) -> dict[str, Any] | None:
        demo = self.state.get("demo")
        return dict(demo) if demo else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, but not ours to read
        return True
    return True


def _load(data_dir: Path) -> RunningStack | None:
    path = data_dir / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise StackError(f"{path} is unreadable ({exc}); remove it and restart the stack") from None
    pid = state.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return None  # left behind by an `up` that was killed
    return RunningStack(data_dir=data_dir.resolve(), pid=pid, state=state)


def register(registry_dir: Path, pid: int, data_dir: Path) -> Path:
    """Record that the stack of ``pid`` keeps its state in ``data_dir``; returns the entry."""
    registry_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = registry_dir / f"{pid}.json"
    tmp = entry.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": pid, "data_dir": str(data_dir.resolve())}))
    os.replace(tmp, entry)
    return entry


def unregister(registry_dir: Path, pid: int) -> None:
    (registry_dir / f"{pid}.json").unlink(missing_ok=True)


def registered_stacks(registry_dir: Path) -> list[RunningStack]:
    """Every stack in the registry whose ``up`` is still running (stale entries are removed)."""
    found: list[RunningStack] = []
    for entry in sorted(registry_dir.glob("*.json")) if registry_dir.is_dir() else ():
        try:
            data = json.loads(entry.read_text())
            stack = _load(Path(data["data_dir"]))
        except (OSError, ValueError, KeyError, TypeError, StackError):
            stack = None
        if stack is None or stack.pid != data.get("pid"):
            entry.unlink(missing_ok=True)
            continue
        found.append(stack)
    return found


def find_running_stack(data_dir: Path | None, *, registry_dir: Path, default_data_dir: Path) -> RunningStack | None:
    """The stack a command means: the one of ``data_dir`` when given, else the one in
    ``default_data_dir`` (the current directory's ``.fanzwatch``), else the only one in the
    registry. None when no stack runs; ``StackError`` when several do and none was named.
    """
    if data_dir is not None:
        return _load(data_dir)
    here = _load(default_data_dir)
    if here is not None:
        return here
    stacks = registered_stacks(registry_dir)
    if len(stacks) > 1:
        raise AmbiguousStackError([s.data_dir for s in stacks])
    return stacks[0] if stacks else None
