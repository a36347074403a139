"""Helpers every command uses: settings errors as clean messages, the running stack, money."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from pydantic import ValidationError

if TYPE_CHECKING:
    from ..stack.registry import RunningStack

T = TypeVar("T")


def load_settings(factory: Callable[[], T]) -> T:
    """Build a settings object, turning validation errors into a readable exit."""
    try:
        return factory()
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        typer.secho("invalid configuration:\n" + "\n".join(lines), err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def platform_list(text: str) -> tuple[str, ...]:
    """``--platforms fanz-1, fanz-2,`` as ``("fanz-1", "fanz-2")``: comma-separated, blanks dropped."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr in red; return the ``Exit`` to raise."""
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def running_stack(data_dir: Path | None = None, *, hint: str = "--data-dir") -> RunningStack | None:
    """The running ``fanzwatch up`` a command means, from any directory.

    ``data_dir`` names it; otherwise the stack of ``./.fanzwatch`` (the configured data
    dir), else the only one running on this machine (the registry ``up`` writes). None
    when no stack runs; several running and none named is a clear error (exit 2) that
    names ``hint``, the option that says which.

    >>> stack = running_stack()
    >>> stack.bi_database_url if stack else None
    'sqlite:////home/me/fanzwatch/.fanzwatch/demo/platform.db'
    """
    from ..settings.stack import StackSettings
    from ..stack import StackError
    from ..stack.registry import AmbiguousStackError, find_running_stack

    settings = load_settings(StackSettings)
    try:
        return find_running_stack(
            data_dir, registry_dir=settings.resolved_registry_dir, default_data_dir=settings.data_dir
        )
    except AmbiguousStackError as exc:
        raise fail(f"{exc}; say which with {hint}", code=2) from None
    except StackError as exc:
        raise fail(str(exc), code=2) from None


def format_money(amount: float | Decimal | str | None, currency: str | None) -> str:
    """``83.84 USD``: two decimals (none for zero-decimal currencies) and the ISO code.

    >>> format_money(83.84, "USD"), format_money("1200", "JPY"), format_money(None, "EUR")
    ('83.84 USD', '1,200 JPY', '-')
    """
    if amount is None:
        return "-"
    value = Decimal(str(amount))
    places = 0 if (currency or "").upper() in _ZERO_DECIMAL else 2
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,.{places}f}"
    return f"{text} {currency.upper()}" if currency else text


_ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
