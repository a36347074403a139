"""Helpers every command uses: settings errors as clean messages, not tracebacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from pydantic import ValidationError

T = TypeVar("T")


def load_settings(factory: Callable[[], T]) -> T:
    """Build a settings object, turning validation errors into a readable exit."""
    try:
        return factory()
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        typer.secho("invalid configuration:\n" + "\n".join(lines), err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
