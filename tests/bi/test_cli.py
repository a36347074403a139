"""``fanzwatch bi report`` and ``fanzwatch bi rollup`` against a SQLite platform database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fanzwatch import schema
from fanzwatch.cli import app

from .conftest import load_market

END = "2026-03-10T12:30:00+00:00"


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    engine.dispose()
    return url


def test_report_as_json(url: str) -> None:
    result = CliRunner().invoke(app, ["bi", "report", "--window", "24h", "--end", END, "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["current"]["revenue"]["total"] == "78.0500"
    assert body["source"] == "raw"  # no rollups built yet


def test_rollup_then_text_report_for_one_platform(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_BI_DATABASE_URL", url)
    runner = CliRunner()
    built = runner.invoke(app, ["bi", "rollup"])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("rollups cover until ") and "(rebuilt," in built.output
    again = runner.invoke(app, ["bi", "rollup"])
    assert "(incremental," in again.output
    result = runner.invoke(app, ["bi", "report", "--window", "24h", "--end", END, "--platform", "fanz-2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "fanz-2: 2026-03-09T12:30:00+00:00 .. 2026-03-10T12:30:00+00:00 (rollups)"
    assert lines[2].split() == ["Gross", "revenue", "40.0000", "0.0000", "new"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "3x"], "invalid window '3x'"),
        (["--platform", "nope"], "unknown platform 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_message(url: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["bi", "report", "--database-url", url, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_no_database_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANZWATCH_BI_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["bi", "report"])
    assert result.exit_code == 2
    assert "pass --database-url or set FANZWATCH_BI_DATABASE_URL" in result.output


def test_database_errors_exit_2_without_traceback_and_create_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()  # an SQLite file without platform tables
    before = sorted(p.name for p in tmp_path.iterdir())
    cases = [
        (f"sqlite:///{tmp_path / 'missing.db'}", "no platform database at"),
        (f"sqlite:///{tmp_path / 'no-dir' / 'p.db'}", "no platform database at"),
        (f"sqlite:///{empty}", "has no platform tables (users, subscriptions"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "cannot open the platform database"),
    ]
    runner = CliRunner()
    for url, message in cases:
        for command in (["bi", "report"], ["bi", "rollup"], ["bi", "rollup", "--rebuild"]):
            result = runner.invoke(app, [*command, "--database-url", url])
            assert result.exit_code == 2, (command, url, result.output)
            assert message in result.output, (command, url, result.output)
            assert "Traceback" not in result.output
            assert isinstance(result.exception, SystemExit), result.exception  # a clean exit, not a crash
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no file appeared
    engine = sa.create_engine(f"sqlite:///{empty}")
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []  # and no table
    engine.dispose()
