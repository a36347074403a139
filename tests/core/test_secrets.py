"""``ensure_token_file``: one token per file, 0600, and never an empty file for a racing reader."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from fanzwatch.core.secrets import ensure_token_file


def _ensure(path: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        out.put(ensure_token_file(Path(path)))
    except Exception as exc:  # the failure this test is about: report it, do not hang
        out.put(f"error: {exc}")


def test_processes_racing_for_one_token_file_all_get_the_same_token(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(20):
        path = tmp_path / f"secrets-{attempt}" / "telemetry_store_token"
        out = ctx.Queue()
        procs = [ctx.Process(target=_ensure, args=(str(path), out)) for _ in range(4)]
        for p in procs:
            p.start()
        tokens = {out.get(timeout=30) for _ in procs}
        for p in procs:
            p.join(timeout=30)
        assert len(tokens) == 1 and not next(iter(tokens)).startswith("error"), tokens
        assert ensure_token_file(path) == next(iter(tokens))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind
