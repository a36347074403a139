"""The import rules of ARCHITECTURE.md, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "fanzwatch"

# package -> the fanzwatch packages it may import (itself always allowed).
# `store` and `schema` are infrastructure next to `settings`: see docs/architecture.md.
FOUNDATION = {"core", "settings"}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "settings": {"core"},
    "store": FOUNDATION,
    "schema": {"core"},
    "sdk": FOUNDATION,
    "health": FOUNDATION | {"store"},
    "rum": FOUNDATION | {"store"},
    "anomaly": FOUNDATION | {"store"},
    "bi": FOUNDATION | {"store", "schema"},
    "alerting": FOUNDATION | {"store"},
    "impact": FOUNDATION | {"schema"},
    "provisioning": FOUNDATION,
    "telemetry": FOUNDATION,
    "server": {
        "core",
        "settings",
        "store",
        "schema",
        "sdk",
        "health",
        "rum",
        "anomaly",
        "bi",
        "alerting",
        "impact",
        "provisioning",
        "telemetry",
    },
    "stack": {"core", "settings", "store", "server", "provisioning"},
    "demo": {"sdk", "health", "schema"},
    "probes": {"core", "settings", "sdk"},
    "cli": {"*"},
    "__init__": set(),
}
FEATURES = {"health", "rum", "anomaly", "bi", "alerting", "impact", "provisioning", "telemetry"}
# The root package's __init__ and the CLI may import anything.


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts else "__init__"


def _fanzwatch_imports(path: Path, root: Path = SRC) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel_pkg = path.relative_to(root).parent.parts
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "fanzwatch" and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != "fanzwatch":
                    continue
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(alias.name for alias in node.names)
            else:
                base = list(rel_pkg[: len(rel_pkg) - (node.level - 1)])
                target = base + ((node.module or "").split(".") if node.module else [])
                if target:
                    found.add(target[0])
                else:  # "from .. import x" at the package root
                    found.update(alias.name for alias in node.names)
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts or p.name != "env.py")


def test_every_package_is_in_the_rules() -> None:
    packages = {_package_of(p) for p in MODULES}
    assert packages <= set(ALLOWED), f"add {packages - set(ALLOWED)} to ALLOWED and ARCHITECTURE"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_architecture(path: Path) -> None:
    pkg = _package_of(path)
    allowed = ALLOWED[pkg]
    if "*" in allowed or pkg == "__init__":
        return
    imported = _fanzwatch_imports(path) - {pkg, "__version__"}
    # importing the root package for __version__ is fine
    imported.discard("__init__")
    bad = {m for m in imported if m not in allowed}
    assert not bad, f"{path.relative_to(SRC)} ({pkg}) imports {sorted(bad)}; allowed: {sorted(allowed)}"


def test_features_never_import_one_another() -> None:
    for path in MODULES:
        pkg = _package_of(path)
        if pkg in FEATURES:
            assert not (_fanzwatch_imports(path) - {pkg}) & FEATURES, path


def test_the_rule_checker_sees_absolute_and_relative_imports(tmp_path: Path) -> None:
    # Guard against a checker that silently finds nothing.
    mod = tmp_path / "health" / "checks" / "x.py"
    mod.parent.mkdir(parents=True)
    mod.write_text(
        "import fanzwatch.rum.ingest\n"
        "from fanzwatch.bi import kpis\n"
        "from ...alerting import thing\n"
        "from ... import core\n"
        "from . import sibling\n"
    )
    assert _fanzwatch_imports(mod, root=tmp_path) == {"rum", "bi", "alerting", "core", "health"}
