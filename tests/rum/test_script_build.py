"""The committed fanz-rum.js is exactly what `npm run build` produces, and fits its budget.

Choice: rebuild into a temporary file with the same build script (`web/rum/build.mjs`,
esbuild, deterministic) and compare bytes with the committed file. `make setup` runs
`npm ci`, which this needs.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fanzwatch.rum import load_script

ROOT = Path(__file__).parents[2]
FRONTEND = ROOT / "web" / "rum"
COMMITTED = ROOT / "src" / "fanzwatch" / "rum" / "static" / "fanz-rum.js"
BUDGET_GZIPPED = 10 * 1024


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed (apt-get install nodejs npm)"
    assert (FRONTEND / "node_modules" / "esbuild").is_dir(), "run `make setup` (npm ci in web/rum/) first"
    return node


def test_committed_script_equals_a_fresh_build(tmp_path: Path) -> None:
    out = tmp_path / "fanz-rum.js"
    subprocess.run([_node(), "build.mjs", "--outfile", str(out)], cwd=FRONTEND, check=True, timeout=120)
    assert out.read_bytes() == COMMITTED.read_bytes(), "fanz-rum.js is stale: run `cd web/rum && npm run build`"


def test_typescript_typechecks() -> None:
    _node()
    tsc = FRONTEND / "node_modules" / ".bin" / "tsc"
    result = subprocess.run(
        [str(tsc), "--noEmit", "-p", "tsconfig.json"], cwd=FRONTEND, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_script_fits_the_budget() -> None:
    script = COMMITTED.read_bytes()
    assert len(gzip.compress(script, compresslevel=9)) < BUDGET_GZIPPED
    assert load_script() == script  # what the package serves is the committed build


@pytest.mark.parametrize(
    "needle", [b"sendBeacon", b"keepalive", b"visibilitychange", b"pagehide", b"sessionStorage", b"web-vitals"]
)
def test_script_uses_the_right_mechanisms(needle: bytes) -> None:
    assert needle in COMMITTED.read_bytes()


@pytest.mark.parametrize(
    "pattern",
    [rb"\.navigationStart\b", rb"document\.cookie", rb"localStorage", rb"\bFID\b", rb"first-input-delay"],
)
def test_script_avoids_the_guides_mistakes(pattern: bytes) -> None:
    # web-vitals' own `navigationStartTime` is fine; the removed `navigationStart` field is not.
    assert not re.search(pattern, COMMITTED.read_bytes())
