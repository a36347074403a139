"""``fanzwatch demo backfill`` refuses input that would record an empty history as done."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fanzwatch.cli import app


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"--platforms": " , "}, "--platforms: give at least one platform"),
        ({"--peak-rps": "0"}, "--peak-rps must be above 0"),
        ({"--peak-rps": "-1"}, "--peak-rps must be above 0"),
    ],
)
def test_bad_input_exits_2_and_records_nothing(tmp_path: Path, override: dict[str, str], message: str) -> None:
    # Accepted, these wrote a history.json saying "backfilled" (0 samples, platform data skipped),
    # so every later `up --demo` of the data dir skipped the backfill for good.
    args = {
        "--data-dir": str(tmp_path / "data"),
        "--database-url": f"sqlite:///{tmp_path / 'data' / 'demo.db'}",
        "--platforms": "fanz-1",
        "--instance": "127.0.0.1:1",
        "--peak-rps": "5",
        "--metrics-days": "1",
        "--platform-days": "1",
    } | override
    result = CliRunner().invoke(app, ["demo", "backfill", *(x for kv in args.items() for x in kv)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "data").exists()
