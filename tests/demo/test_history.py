"""The metrics history: the simulator's model over weeks, written for promtool, turned into blocks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.routing import APIRoute

from fanzwatch.core import CATALOG
from fanzwatch.core.catalog.http import HTTP_DURATION_BUCKETS
from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.demo.history import BackfillError, HistoryParams, PlatformHistory, Series, backfill_metrics, time_grid
from fanzwatch.demo.history._seasonal import platform_factors
from fanzwatch.demo.history.model import OUTCOMES, histogram_quantile
from fanzwatch.demo.history.openmetrics import OpenMetricsWriter
from fanzwatch.demo.history.run import DemoHistoryPlan, backfill_demo, read_marker
from fanzwatch.demo.platform import routes_accounts, routes_content, routes_engagement, routes_payments
from fanzwatch.demo.simulator import platform_profile, platform_rates
from fanzwatch.demo.simulator.actions import ACTION_WEIGHTS

END = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)  # a Saturday evening
PARAMS = HistoryParams(platforms=DEFAULT_PLATFORMS, peak_rps=16.0, buckets=HTTP_DURATION_BUCKETS, seed=5)


def test_the_vectorised_season_is_the_simulators() -> None:
    rng = random.Random(3)
    stamps = np.asarray([int(END.timestamp()) - rng.randrange(0, 40 * 86400) for _ in range(500)], dtype=np.int64)
    for platform in ("fanz-1", "fanz-2", "fanz-11", "acme"):
        profile = platform_profile(platform)
        expected = [profile.factor(datetime.fromtimestamp(int(t), UTC)) for t in stamps]
        assert platform_factors(profile, stamps) == pytest.approx(expected, rel=1e-9)


def test_time_grid_is_detailed_recently_and_coarser_before() -> None:
    grid = time_grid(END - timedelta(days=28), END)
    gaps = np.diff(grid)
    assert set(gaps.tolist()) == {150, 300}
    assert grid[-1] == int(END.timestamp())
    assert grid[0] == int((END - timedelta(days=28)).timestamp())
    assert (grid[-1] - grid[gaps.tolist().index(150)]) == 8 * 86400  # the last 8 days every 150 s
    with pytest.raises(ValueError, match="two steps"):
        time_grid(END, END)


def test_the_model_routes_are_the_platforms() -> None:
    served = {
        (method, route.path)
        for module in (routes_accounts, routes_content, routes_engagement, routes_payments)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    for outcomes in OUTCOMES.values():
        for o in outcomes:
            assert (o.method, o.route) in served, o
    assert set(OUTCOMES) == {a for a, _ in ACTION_WEIGHTS}


def test_one_platform_follows_its_rate_with_catalog_names() -> None:
    grid = time_grid(END - timedelta(days=3), END)
    history = PlatformHistory.build("fanz-2", grid, PARAMS)
    # Requests over the three days: the integral of the simulator's rate for the platform.
    expected = sum(
        platform_rates(DEFAULT_PLATFORMS, 16.0, datetime.fromtimestamp(int(t), UTC))["fanz-2"] * 150
        for t in range(int(grid[0]), int(grid[-1]), 150)
    )
    counts = [s for s in history.series if s.name == "http_server_request_duration_seconds_count"]
    assert sum(float(s.values[-1]) for s in counts) == pytest.approx(expected, rel=0.03)
    for s in history.series:
        family = s.name.removesuffix("_total").removesuffix("_count").removesuffix("_bucket")
        assert CATALOG.knows_series(s.name), s.name
        allowed = {*CATALOG[family].label_names, "job", "instance", "le"}
        assert {k for k, _ in s.labels} <= allowed, s
        kept = np.asarray(s.values, dtype=np.float64)
        kept = kept[~np.isnan(kept)]
        if s.name != "fanz_active_users":
            assert (np.diff(kept) >= 0).all(), f"{s.name} is a counter"
    aggregates = history.aggregates
    assert np.nanmax(aggregates["latency_p95"]) < 0.3 < 1.0  # a healthy platform, far below the SLO
    assert np.nanmean(aggregates["payment_completed_ratio"]) == pytest.approx(0.965, abs=0.01)
    assert np.nanmax(aggregates["error_ratio_5xx"]) == 0.0
    # The evening peak (local 21:00 is 02:00 UTC for fanz-2) beats its night.
    rate = aggregates["request_rate"]
    hours = (grid % 86400) // 3600
    assert rate[hours == 2].mean() > 3 * rate[hours == 10].mean()


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    bounds = (0.1, 0.5, 1.0)
    increments = np.asarray([[0, 10, 0, 0], [5, 5, 0, 0], [0, 0, 0, 4], [0, 0, 0, 0]])
    got = histogram_quantile(0.5, bounds, increments)
    assert got[:3] == pytest.approx([0.3, 0.1, 1.0])  # mid-bucket; bucket edge; +Inf answers the top bound
    assert np.isnan(got[3])


def test_openmetrics_lines_are_exact(tmp_path: Path) -> None:
    grid = np.asarray([1_700_000_000, 1_700_000_150, 1_700_000_300], dtype=np.int64)
    path = tmp_path / "x.om"
    with OpenMetricsWriter(path, grid) as w:
        w.write(Series("a_total", (("platform", "fanz-1"), ("x", 'q"')), np.asarray([0, 7, 12])))
        w.write(Series("b", (("platform", "fanz-1"),), np.asarray([0.5, np.nan, 12.25]), decimals=2))
    assert path.read_text() == (
        'a_total{platform="fanz-1",x="q\\""} 00 1700000000\n'
        'a_total{platform="fanz-1",x="q\\""} 07 1700000150\n'
        'a_total{platform="fanz-1",x="q\\""} 12 1700000300\n'
        'b{platform="fanz-1"} 00.50 1700000000\n'
        'b{platform="fanz-1"} 12.25 1700000300\n'
        "# EOF\n"
    )


def test_backfill_writes_blocks_and_a_second_run_skips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    plan = DemoHistoryPlan(
        data_dir=data,
        tsdb_dir=data / "prometheus",
        database_url=f"sqlite:///{tmp_path / 'platform.db'}",
        params=HistoryParams(platforms=("fanz-1", "fanz-2"), peak_rps=4.0, buckets=HTTP_DURATION_BUCKETS),
        recorded={"latency_p95": "platform:http_server_request_duration_seconds:p95_5m"},
        metrics_days=2,
        platform_days=2,
        platform_scale=0.2,
        end=END,
    )
    data.mkdir()
    lines: list[str] = []
    marker = backfill_demo(plan, progress=lines.append)
    blocks = [p for p in (data / "prometheus").iterdir() if (p / "meta.json").is_file()]
    assert blocks and marker["metrics"]["blocks"] == len(blocks)
    assert marker["metrics"]["end"] == END.isoformat()
    assert marker["platform_data"]["rows"] > 0
    assert read_marker(data) == marker
    assert any("fanz-2 drawn" in line for line in lines)
    assert not list(data.glob(".history-*"))  # the work files are gone
    # Second run: nothing is written again.
    again: list[str] = []
    assert backfill_demo(plan, progress=again.append) == marker
    assert any("already backfilled" in line for line in again)
    assert sorted(p.name for p in (data / "prometheus").iterdir()) == sorted(p.name for p in blocks)


def test_backfill_without_promtool_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(BackfillError, match=r"apt-get install prometheus.*--no-backfill"):
        backfill_metrics(
            tmp_path / "tsdb",
            params=PARAMS,
            start=END - timedelta(days=1),
            end=END,
            recorded={},
            promtool=str(tmp_path / "no-promtool"),
        )


def test_a_prometheus_that_holds_data_is_not_backfilled(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "prometheus" / "wal").mkdir(parents=True)  # a run with --no-backfill came first
    plan = DemoHistoryPlan(
        data_dir=data,
        tsdb_dir=data / "prometheus",
        database_url=f"sqlite:///{tmp_path / 'platform.db'}",
        params=HistoryParams(platforms=("fanz-1",), peak_rps=4.0, buckets=HTTP_DURATION_BUCKETS),
        recorded={},
        metrics_days=1,
        platform_days=1,
        platform_scale=0.2,
        end=END,
    )
    lines: list[str] = []
    marker = backfill_demo(plan, progress=lines.append)
    assert "already holds data" in marker["metrics"]["skipped"]
    assert sorted(p.name for p in (data / "prometheus").iterdir()) == ["wal"]  # no block overlaps its samples
    assert any("metrics history: skipped" in line for line in lines)


def _broken_generator(*_args: object, **_kwargs: object) -> None:
    raise ValueError("operands could not be broadcast")


def test_a_failing_platform_data_generator_leaves_the_metrics_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fanzwatch.demo.history import run

    monkeypatch.setattr(run, "generate_platform_data", _broken_generator)  # the worker is forked: it sees it
    data = tmp_path / "data"
    data.mkdir()
    plan = DemoHistoryPlan(
        data_dir=data,
        tsdb_dir=data / "prometheus",
        database_url=f"sqlite:///{tmp_path / 'platform.db'}",
        params=HistoryParams(platforms=("fanz-1",), peak_rps=4.0, buckets=HTTP_DURATION_BUCKETS),
        recorded={},
        metrics_days=1,
        end=END,
    )
    lines: list[str] = []
    marker = backfill_demo(plan, progress=lines.append)
    assert "metrics" in marker and "platform_data" not in marker  # not recorded: the next run tries again
    assert any("platform data: failed (ValueError: operands could not be broadcast)" in line for line in lines)
