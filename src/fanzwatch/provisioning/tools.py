"""The real Prometheus and Alertmanager tools, found on PATH and run on rendered files.

``check_rendered`` runs ``promtool check config`` (which also checks every rule file it
names, with lint warnings such as duplicate rules made fatal), ``amtool check-config``
and ``blackbox_exporter --config.check``: the validation the servers do on load, so a bad render fails here and
not in production. The stack runner uses ``find_binary`` to
start the servers (Debian names the Alertmanager binary ``prometheus-alertmanager``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core import ConfigError, DependencyMissingError

INSTALL_HINT = (
    "apt-get install prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter"
)
PROMETHEUS = ("prometheus",)
PROMTOOL = ("promtool",)
ALERTMANAGER = ("alertmanager", "prometheus-alertmanager")
AMTOOL = ("amtool",)
NODE_EXPORTER = ("node_exporter", "prometheus-node-exporter")
BLACKBOX_EXPORTER = ("blackbox_exporter", "prometheus-blackbox-exporter")


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


def _without_missing_secrets(out_dir: Path, work: Path) -> Path:
    """A copy of ``out_dir`` whose scrape credentials files exist (placeholders where they do not).

    promtool refuses a config whose ``credentials_file`` is missing, but secrets are put in
    place when deploying, not when rendering: the check is about the configuration.
    """
    import yaml

    copy = work / "rendered"
    shutil.copytree(out_dir, copy)
    config = yaml.safe_load((copy / "prometheus.yml").read_text()) or {}
    for i, job in enumerate(config.get("scrape_configs") or []):
        auth = job.get("authorization") or {}
        if auth.get("credentials_file") and not Path(auth["credentials_file"]).is_file():
            placeholder = work / f"credentials-{i}"
            placeholder.write_text("placeholder\n")
            auth["credentials_file"] = str(placeholder)
    (copy / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return copy


def check_rendered(out_dir: Path) -> list[ToolResult]:
    """Validate a rendered directory with promtool, amtool and blackbox_exporter; ``ConfigError`` on failure."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fanzwatch-check-") as work:
        checked = _without_missing_secrets(out_dir, Path(work))
        results = [
            run_tool(PROMTOOL, "check", "config", "--lint=all", "--lint-fatal", "prometheus.yml", cwd=checked),
            run_tool(AMTOOL, "check-config", "alertmanager.yml", cwd=out_dir),
            run_tool(BLACKBOX_EXPORTER, "--config.check", "--config.file=blackbox.yml", cwd=out_dir),
        ]
    failed = [r for r in results if r.returncode != 0]
    if failed:
        details = "\n".join(f"$ {' '.join(r.command)}\n{r.output}" for r in failed)
        raise ConfigError(f"rendered configuration in {out_dir} is invalid:\n{details}")
    return results
