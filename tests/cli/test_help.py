"""Every command's ``--help`` as a person reads it: defaults shown, no markup residue."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from fanzwatch.cli import app

ROOT = typer.main.get_command(app)


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (sub)command (Typer's own click: duck-typed)."""
    found = [(path, group)]
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(ROOT)


def test_the_tree_is_what_the_docs_say() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"demo fault inject", "demo fault heal", "demo fault list", "remediation audit"} <= paths
    assert "incident inject" in paths  # the deprecated alias still answers
    listed = CliRunner().invoke(app, ["--help"]).output.split("Commands:")[1]
    assert "incident " not in listed  # but is not advertised


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "fanzwatch" for p, _ in COMMANDS])
def test_help_shows_defaults_and_no_markup(path: tuple[str, ...], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "``" not in text, "RST quoting in help"
    assert not re.search(r"\w \.|\w ,", text), f"stray space before punctuation: {text}"
    for param in command.params:
        if param.param_type_name != "option" or param.hidden or param.name in ("help", "install_completion"):
            continue
        if param.default is not None and not param.is_flag and param.show_default is not False:
            shown = str(param.default.value if hasattr(param.default, "value") else param.default)
            assert f"[default: {shown}" in text, f"{' '.join(path)} --{param.name}: default {shown} not shown"


@pytest.mark.parametrize(
    ("args", "default"),
    [
        (["up"], "[default: 9090]"),
        (["up"], "[default: fanz-1,...,fanz-13]"),
        (["up"], "[default: .fanzwatch]"),
        (["demo", "processor"], "[default: 8310"),
        (["remediation", "audit"], "[default: 50"),
    ],
)
def test_known_defaults_are_printed(args: list[str], default: str) -> None:
    assert default in CliRunner().invoke(app, [*args, "--help"], terminal_width=200).output
