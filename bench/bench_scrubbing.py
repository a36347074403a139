"""Free-text scrubbing cost per RUM error event: the PII scrubber against the URL/e-mail/token
scrubber it replaced (``rum/scrub.py`` on main before issue 14), same run, same texts.

    .venv/bin/python bench/bench_scrubbing.py [--rounds 3] [--n 20000]

Texts: a realistic mix of JS error messages and stacks (most hold no personal data; some
hold URLs with query strings, e-mails, card numbers, phone numbers, tokens). Prints a
Markdown table of messages per CPU-second (process time, so other load on a shared
machine matters little; best of ``--rounds``) for each scrubber.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fanzwatch.core.scrubbing import scrub_text

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "TypeError: Cannot read properties of undefined (reading 'price')",
    "ReferenceError: checkout is not defined",
    "Error: Request failed with status code 502\n    at createError (https://fanz-1.example/static/app.4f2a.js:2:1234)\n"
    "    at settle (https://fanz-1.example/static/app.4f2a.js:2:9876)",
    "ChunkLoadError: Loading chunk 42 failed. (https://cdn.fanz.example/chunks/42.js?v=1764158400000)",
    "PaymentError: card 4111 1111 1111 1111 declined for jane@doe.com",
    "Unhandled rejection: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N expired",
    "SyntaxError: Unexpected token < in JSON at position 0",
    "NetworkError when attempting to fetch resource. call +1 415-555-2671",
    "TypeError: x.map is not a function\n    at Feed (https://fanz-1.example/static/feed.js:88:13)\n"
    "    at renderWithHooks (https://fanz-1.example/static/react.js:1:5000)",
    "Error: order 1764158400000 failed for user 7f3e2a10-0c1b-4d6e-9a77-1c2b3d4e5f60",
]


def _old_scrubber() -> Callable[[str], str]:
    source = subprocess.run(
        ["git", "show", "abb4562:src/fanzwatch/rum/scrub.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_scrub.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_scrub", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn: Callable[[str], str] = module.scrub_text
    return fn


def _rate(fn: Callable[[str], str], n: int, rounds: int) -> float:
    texts = (TEXTS * (n // len(TEXTS) + 1))[:n]
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for t in texts:
            fn(t)
        best = min(best, time.process_time() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    old = _old_scrubber()
    baseline = _rate(old, args.n, args.rounds)
    new = _rate(scrub_text, args.n, args.rounds)
    print(f"python {sys.version.split()[0]}, {args.n} messages x best of {args.rounds}\n")
    print("| scrubber | messages per CPU-second | CPU µs/message |")
    print("|---|---:|---:|")
    old_name = "baseline: rum/scrub.py before issue 14 (URLs, e-mails, tokens)"
    print(f"| {old_name} | {baseline:,.0f} | {1e6 / baseline:.1f} |")
    print(f"| core.scrubbing (+ cards, phones, national ids, IBANs, secrets) | {new:,.0f} | {1e6 / new:.1f} |")


if __name__ == "__main__":
    main()
