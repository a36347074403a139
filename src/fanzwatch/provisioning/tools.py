"""The real Prometheus and Alertmanager tools, found on PATH and run on rendered files.

``check_rendered`` runs ``promtool check config`` (which also checks every rule file it
names, with lint warnings such as duplicate rules made fatal) and ``amtool
check-config``: the validation the servers do on load, so a bad render fails here and
not in production. The stack runner uses ``find_binary`` to
start the servers (Debian names the Alertmanager binary ``prometheus-alertmanager``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core import ConfigError, DependencyMissingError

INSTALL_HINT = "apt-get install prometheus prometheus-alertmanager prometheus-node-exporter"
PROMETHEUS = ("prometheus",)
PROMTOOL = ("promtool",)
ALERTMANAGER = ("alertmanager", "prometheus-alertmanager")
AMTOOL = ("amtool",)
NODE_EXPORTER = ("node_exporter", "prometheus-node-exporter")


def find_binary(names: tuple[str, ...]) -> str:
    """The first of ``names`` on PATH, else ``DependencyMissingError`` saying how to install it."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise DependencyMissingError(names[0], INSTALL_HINT)


@dataclass(frozen=True, slots=True)
class ToolResult:
    command: tuple[str, ...]
    returncode: int
    output: str


def run_tool(names: tuple[str, ...], *args: str, cwd: Path | None = None, timeout: float = 60) -> ToolResult:
    """Run a tool and capture its combined output (never raises on a non-zero exit)."""
    command = (find_binary(names), *args)
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return ToolResult(command, proc.returncode, (proc.stdout + proc.stderr).strip())


def check_rendered(out_dir: Path) -> list[ToolResult]:
    """Validate a rendered directory with promtool and amtool; ``ConfigError`` on failure."""
    results = [
        run_tool(PROMTOOL, "check", "config", "--lint=all", "--lint-fatal", "prometheus.yml", cwd=out_dir),
        run_tool(AMTOOL, "check-config", "alertmanager.yml", cwd=out_dir),
    ]
    failed = [r for r in results if r.returncode != 0]
    if failed:
        details = "\n".join(f"$ {' '.join(r.command)}\n{r.output}" for r in failed)
        raise ConfigError(f"rendered configuration in {out_dir} is invalid:\n{details}")
    return results
