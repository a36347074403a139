"""Find the Prometheus, Alertmanager, node_exporter and blackbox_exporter binaries (real ones, on PATH)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import DependencyMissingError

INSTALL_HINT = (
    "make system-deps  (or: sudo apt-get install prometheus prometheus-alertmanager prometheus-node-exporter "
    "prometheus-blackbox-exporter)"
)

# Upstream release names first, then the Debian package names.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
    "node_exporter": ("node_exporter", "prometheus-node-exporter"),
    "blackbox_exporter": ("blackbox_exporter", "prometheus-blackbox-exporter"),
}


@dataclass(frozen=True, slots=True)
class Binaries:
    prometheus: Path
    alertmanager: Path
    node_exporter: Path
    blackbox_exporter: Path | None  # None: not found and not required (the stack runs no blackbox probes)


def find_binaries(
    *,
    overrides: dict[str, Path | None] | None = None,
    search_path: str | None = None,
    optional: frozenset[str] = frozenset(),
) -> Binaries:
    """Locate the four binaries; name every missing one and how to install it.

    ``overrides`` maps a binary ("prometheus", "alertmanager", "node_exporter", "blackbox_exporter") to an
    explicit path; ``search_path`` replaces ``$PATH`` (tests). A binary named in ``optional``
    (only ``blackbox_exporter`` can be) is None when it is not on the path instead of an error;
    an explicit path that is not an executable is an error all the same.
    """
    if optional - {"blackbox_exporter"}:
        raise ValueError(f"only blackbox_exporter can be optional, not {', '.join(sorted(optional))}")
    overrides = overrides or {}
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name, names in CANDIDATES.items():
        explicit = overrides.get(name)
        if explicit is not None:
            if explicit.is_file() and shutil.which(str(explicit)) is not None:
                found[name] = explicit
            else:
                missing.append(f"{name} (configured path {explicit} is not an executable file)")
            continue
        hit = next((p for n in names if (p := shutil.which(n, path=search_path)) is not None), None)
        if hit is None and name in optional:
            continue
        if hit is None:
            missing.append(f"{name} (looked for {', '.join(names)} on PATH)")
        else:
            found[name] = Path(hit)
    if missing:
        raise DependencyMissingError("; ".join(missing), INSTALL_HINT)
    return Binaries(
        prometheus=found["prometheus"],
        alertmanager=found["alertmanager"],
        node_exporter=found["node_exporter"],
        blackbox_exporter=found.get("blackbox_exporter"),
    )
