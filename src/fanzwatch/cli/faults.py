"""``fanzwatch demo fault inject|heal|list``: faults injected into the running demo.

They find the demo through the running stack (any directory: see ``running_stack``).
``fanzwatch incident inject|heal`` is the old name: it still works, says where it moved,
and will be removed (``fanzwatch incidents`` is about real incidents, not demo faults).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import fail, running_stack

fault_app = typer.Typer(help="Inject and heal faults in the running demo (see: fanzwatch demo fault list).")
incident_app = typer.Typer(
    help="Deprecated: moved to `fanzwatch demo fault`.", no_args_is_help=True, deprecated=True, hidden=True
)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(help="Data dir of the running stack.  [default: the running stack, found from any directory]"),
]


def _kinds() -> list[str]:
    from ..demo.incidents import IncidentKind

    return [k.value for k in IncidentKind]


def _effect(kind: str) -> tuple[str, str]:
    """(what the fault changes, what should catch it and how soon), from the faults' own table."""
    from ..demo.incidents import FAULTS, IncidentKind

    effect = FAULTS.get(IncidentKind(kind))
    if effect is None:
        return "", ""
    caught = [*((" and ".join(effect.alerts),) if effect.alerts else ()), *(f"a {a} anomaly" for a in effect.anomalies)]
    return effect.summary, f"{' or '.join(caught)} within {effect.within_seconds:g} s" if caught else ""


def _kind(value: str) -> Any:
    from ..demo.incidents import IncidentKind

    try:
        return IncidentKind(value)
    except ValueError:
        raise typer.BadParameter(f"unknown fault {value!r}; one of: {', '.join(_kinds())}") from None


def _stack(data_dir: Path | None) -> Any:
    stack = running_stack(data_dir)
    if stack is None:
        where = f"with data dir {data_dir}" if data_dir else "on this machine"
        raise fail(f"no stack is running {where}: start one with `fanzwatch up --demo`")
    if not stack.demo:
        raise fail("the running stack has no demo: start it with `fanzwatch up --demo`")
    return stack


def _controller(stack: Any) -> Any:
    from ..demo.incidents import IncidentController, IncidentTargets

    demo = stack.demo
    return IncidentController(
        IncidentTargets(
            platform_url=demo["platform_url"],
            processor_url=demo["processor_url"],
            simulator_url=demo.get("simulator_url"),
        )
    )


def inject(kind: str, data_dir: Path | None) -> None:
    import anyio

    from ..demo.incidents import IncidentError

    fault = _kind(kind)
    stack = _stack(data_dir)
    try:
        anyio.run(_controller(stack).inject, fault)
    except IncidentError as exc:
        raise fail(f"could not inject {fault.value}: {exc}") from None
    what, caught_by = _effect(fault.value)
    typer.echo(f"injected {fault.value}" + (f": {what}" if what else ""))
    if caught_by:
        typer.echo(f"  expect:  {caught_by}")
    if stack.fanzdash_url:
        typer.echo(f"  watch:   {stack.fanzdash_url}incidents")
    typer.echo(f"  heal it: fanzwatch demo fault heal {fault.value}")


def heal(kind: str, data_dir: Path | None) -> None:
    import anyio

    from ..demo.incidents import IncidentError

    if kind != "all":
        fault = _kind(kind)
    controller = _controller(_stack(data_dir))
    if kind == "all":
        problems = anyio.run(controller.heal_all)
        for problem in problems:
            typer.secho(f"could not heal {problem}", err=True, fg=typer.colors.RED)
        if problems:
            raise typer.Exit(1)
        typer.echo("healed every fault")
        return
    try:
        anyio.run(controller.heal, fault)
    except IncidentError as exc:
        raise fail(f"could not heal {fault.value}: {exc}") from None
    typer.echo(f"healed {fault.value}")


KindArg = Annotated[str, typer.Argument(help="The fault; `fanzwatch demo fault list` names them.")]


@fault_app.command("inject")
def fault_inject(kind: KindArg, data_dir: DataDirOpt = None) -> None:
    """Start a fault in the running demo; the monitoring has to notice by itself."""
    inject(kind, data_dir)


@fault_app.command("heal")
def fault_heal(kind: Annotated[str, typer.Argument(help="The fault, or all.")], data_dir: DataDirOpt = None) -> None:
    """End a fault (all: every one)."""
    heal(kind, data_dir)


@fault_app.command("list")
def fault_list() -> None:
    """The faults that can be injected, what each changes and what should catch it."""
    width = max(len(k) for k in _kinds())
    for kind in _kinds():
        what, caught_by = _effect(kind)
        typer.echo(f"{kind:<{width}}  {what}" + (f"  ->  {caught_by}" if caught_by else ""))


def _moved(command: str) -> None:
    typer.secho(
        f"`fanzwatch incident {command}` moved to `fanzwatch demo fault {command}`; the old name will be removed",
        err=True,
        fg=typer.colors.YELLOW,
    )


@incident_app.command("inject", deprecated=True)
def incident_inject(kind: KindArg, data_dir: DataDirOpt = None) -> None:
    """Deprecated: use `fanzwatch demo fault inject`."""
    _moved("inject")
    inject(kind, data_dir)


@incident_app.command("heal", deprecated=True)
def incident_heal(kind: KindArg, data_dir: DataDirOpt = None) -> None:
    """Deprecated: use `fanzwatch demo fault heal`."""
    _moved("heal")
    heal(kind, data_dir)
