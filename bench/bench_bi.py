"""The BI dashboard at 10 M transactions: this code against a baseline commit, in the same run.

Each report is the whole dashboard of all 13 platforms (every KPI of the window and of the
previous window, comparisons, insights), from rollups, for 24 h, 7 d, 30 d and 90 d windows
ending at a partial hour (so raw edge rows are read too), each run a new window.

Data: ``bench/bi_data.py`` generates it once with ``fanzwatch.demo.generate`` (9.9 M
transactions, 26.2 M platform rows over 365 days) into ``--database``. Each side runs in its
own process (``bench/bi_worker.py``), the baseline with its source first on ``PYTHONPATH``;
rollups are built by the first run on each database and reused. The baseline reads a
``TEMPLATE`` copy (``--baseline-url``) when its rollup tables differ; when this code only
*adds* tables to the baseline's (as against main f95dd71: the running totals and
``bi_cohort_daily``), both sides can read one database (``--baseline-url`` = ``--url``).
The load average is printed before and after each side (the machine is shared).

    git archive f95dd71 src | tar -x -C /tmp/fw-main             # the baseline's source
    .venv/bin/python bench/bi_data.py --database fw_17_bench --scale 12
    .venv/bin/python bench/bench_bi.py --baseline-src /tmp/fw-main/src --baseline-label "main f95dd71" \
        --baseline-url postgresql+psycopg://postgres@127.0.0.1:5432/fw_17_bench

``--previous-path``: no baseline commit; both sides run this code on ``--url``, the baseline
with the earlier distinct-user path (partial days scanned per user from ``bi_user_days``
instead of summed from ``bi_user_hours``), so one database serves both.

SQLite: ``--url sqlite:///A.db --baseline-url sqlite:///B.db`` (B a copy of A). Loopback
PostgreSQL by default; every phase is bounded by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).parent
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _exists(url: str) -> bool:
    if url.startswith("sqlite"):
        return Path(url.split("///", 1)[1]).is_file()
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def _pg(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def _side(
    url: str, src: str | None, args: argparse.Namespace, raw_check: str, *, previous_path: bool = False
) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(HERE / "bi_worker.py"), "--url", url, "--windows", args.windows]
    if previous_path:
        cmd.append("--previous-path")
    cmd += ["--iterations", str(args.iterations), "--max-seconds", str(args.max_seconds), "--raw-check", raw_check]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=args.max_seconds * 20)
    if done.returncode != 0:
        raise SystemExit(f"worker failed on {url}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cpu(side: dict[str, Any]) -> str:
    client, server = side.get("client_cpu_ms"), side.get("server_cpu_ms")
    if client is None or server is None:
        return "–"
    return f"{client + server:,.0f} ({server:,.0f})"


def _p(ms: list[float], q: float) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=_pg("fw_17_bench"), help="this code's platform database")
    parser.add_argument("--baseline-url", default=_pg("fw_17_bench_base"), help="the baseline's copy of it")
    parser.add_argument("--baseline-src", default="/tmp/fw-main/src", help="the baseline commit's src/ directory")
    parser.add_argument("--baseline-label", default="main f95dd71")
    parser.add_argument("--windows", default="24h,7d,30d,90d")
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--raw-check", default="24h", help="window lengths whose rollup report is compared with raw")
    parser.add_argument("--previous-path", action="store_true", help="baseline: this code's earlier query path")
    args = parser.parse_args()
    if args.previous_path:
        if not _exists(args.url):
            raise SystemExit(f"{args.url} does not exist: build it with bench/bi_data.py")
        loads = [_load()]
        new = _side(args.url, None, args, args.raw_check)
        loads.append(_load())
        base = _side(args.url, None, args, "", previous_path=True)
        loads.append(_load())
        print(f"load average (1 min) before this code, between, after the previous path: {' / '.join(loads)}")
        _table(args, "previous path (per-user partial days)", new, base)
        return
    for url in (args.url, args.baseline_url):
        if not _exists(url):
            raise SystemExit(f"{url} does not exist: build it with bench/bi_data.py (and copy it for the baseline)")
    if not (Path(args.baseline_src) / "fanzwatch" / "bi").is_dir():
        raise SystemExit(f"{args.baseline_src} is not a fanzwatch src/ directory: git archive <commit> src | tar -x")
    loads = [_load()]
    new = _side(args.url, None, args, args.raw_check)
    loads.append(_load())
    base = _side(args.baseline_url, args.baseline_src, args, "")
    loads.append(_load())
    print(f"load average (1 min) before this code, between, after the baseline: {' / '.join(loads)}")
    _table(args, args.baseline_label, new, base)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _table(args: argparse.Namespace, baseline_label: str, new: dict[str, Any], base: dict[str, Any]) -> None:
    print(f"rollup refresh before timing: new {new['refresh_seconds']:.1f} s, baseline {base['refresh_seconds']:.1f} s")
    lines = [
        f"| window | {baseline_label} p50 ms | p95 ms | CPU ms | this code p50 ms | p95 ms | CPU ms | runs "
        "| this code's revenue |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label in args.windows.split(","):
        b, n = base["windows"][label], new["windows"][label]
        if b["revenue"] != n["revenue"] or b["active_users"] != n["active_users"]:
            print(f"{label}: the sides' last figures differ (expected only against an older commit)")
        lines.append(
            f"| {label} | {statistics.median(b['ms']):,.0f} | {_p(b['ms'], 0.95):,.0f} | {_cpu(b)} | "
            f"{statistics.median(n['ms']):,.0f} | {_p(n['ms'], 0.95):,.0f} | {_cpu(n)} | {len(n['ms'])} | "
            f"{n['revenue']} USD, {n['payments']:,} payments, {n['active_users']:,} active |"
        )
    print("\n".join(lines))
    print("CPU ms: mean CPU time per report, this process + the PostgreSQL backend (server part in brackets)")
    for label, check in new["checks"].items():
        verdict = "identical to rollups" if check["identical"] else "**DIFFERENT from rollups**"
        print(f"raw SQL {label}: {check['raw_ms']:,.0f} ms, {verdict}")


if __name__ == "__main__":
    main()
