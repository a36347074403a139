"""``fanzwatch demo generate``: a summary on success, a clear exit 2 and nothing created on bad input."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from fanzwatch import schema
from fanzwatch.cli import app

END = "2026-03-01T00:00:00+00:00"


def test_generates_and_prints_a_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    args = ["demo", "generate", "--database-url", url, "--days", "3", "--end", END, "--platforms", "fanz-1"]
    result = CliRunner().invoke(app, [*args, "--scale", "0.2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(schema.transactions)).scalar_one()
    engine.dispose()
    assert n > 0
    assert f"{n:,}" in result.stdout and "rows/s" in result.stdout


def test_errors_exit_2_without_traceback_or_file(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        (["--database-url", "postgresql://postgres@127.0.0.1:1/x"], "cannot open the platform database"),
        (["--database-url", f"sqlite:///{tmp_path / 'no' / 'p.db'}"], "cannot open the platform database"),
        (["--database-url", f"sqlite:///{tmp_path / 'p.db'}", "--end", "2026-03-01T00:00:00"], "offset"),
        (["--database-url", f"sqlite:///{tmp_path / 'p.db'}", "--platforms", "BAD SLUG"], "not platform slugs"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["demo", "generate", "--days", "1", *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert list(tmp_path.iterdir()) == []
