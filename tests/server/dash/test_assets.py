"""The committed fanzdash.js/css are exactly what `npm run build` in web/fanzdash/ produces.

Rebuild into a temporary directory with the same deterministic build script and compare
bytes. `make setup` runs `npm ci` in web/fanzdash/, which this needs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[3]
UI = ROOT / "web" / "fanzdash"
STATIC = ROOT / "src" / "fanzwatch" / "server" / "dash" / "static"


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed (apt-get install nodejs npm)"
    assert (UI / "node_modules" / "uplot").is_dir(), "run `make setup` (npm ci in web/fanzdash/) first"
    return node


def test_committed_assets_equal_a_fresh_build(tmp_path: Path) -> None:
    subprocess.run([_node(), "build.mjs", "--outdir", str(tmp_path)], cwd=UI, check=True, timeout=120)
    for name in ("fanzdash.js", "fanzdash.css"):
        assert (tmp_path / name).read_bytes() == (STATIC / name).read_bytes(), (
            f"{name} is stale: run `cd web/fanzdash && npm run build`"
        )


def test_typescript_typechecks() -> None:
    _node()
    result = subprocess.run(
        [str(UI / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", "tsconfig.json"],
        cwd=UI,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bundle_carries_uplot_and_the_styles() -> None:
    js = (STATIC / "fanzdash.js").read_text()
    css = (STATIC / "fanzdash.css").read_text()
    assert js.startswith("/*! FanzDash (fanzwatch, MIT) | bundles uPlot 1.6.32")
    assert ".u-legend" in css and ".skip-link" in css
