"""Chart payloads: the axis is the selected range, lone points are marked, many series fold."""

from __future__ import annotations

from fanzwatch.provisioning.definitions.dashboards import DASHBOARDS
from fanzwatch.server.dash.charts import LEGEND_LIMIT, chart, isolated
from fanzwatch.server.dash.panels import panel_view
from fanzwatch.server.dash.timerange import time_range

from .fakes import FakePrometheus


def test_the_axis_is_the_selected_range_not_the_data_span() -> None:
    drawn = chart("Active users", "count", [("fanz-1", [1_000_000.0], [4.0])], x_range=(900_000.0, 1_086_400.0))
    assert drawn["range"] == [900_000.0, 1_086_400.0]
    assert drawn["x"] == [1_000_000.0]
    assert drawn["series"][0]["isolated"] == [0]


def test_charts_without_a_range_fall_back_to_the_data() -> None:
    assert chart("Run time", "seconds", [("run", [1.0, 2.0], [0.1, 0.2])])["range"] is None


def test_lone_points_are_those_without_a_neighbour_to_join() -> None:
    # None at an x of another series is drawn across; a break (index 3) lifts the pen.
    assert isolated([1.0, None, 2.0, None, 3.0, None, None], {3}) == [4]
    assert isolated([None, 5.0, None], set()) == [1]
    assert isolated([1.0, 2.0], set()) == []
    assert isolated([1.0, None, None], {1}) == [0]


def test_a_series_with_one_point_among_longer_ones_is_marked() -> None:
    drawn = chart("x", "count", [("long", [0, 60, 120], [1.0, 2.0, 3.0]), ("lone", [60], [5.0])])
    assert [s["isolated"] for s in drawn["series"]] == [[], [1]]


def _lines(n: int) -> list[tuple[str, list[float], list[float | None]]]:
    return [(f"fanz-{i}", [0.0, 60.0], [float(i), float(i) + 1]) for i in range(1, n + 1)]


def test_beyond_the_legend_limit_the_top_series_stay_and_the_rest_are_summed() -> None:
    drawn = chart("Requests", "requests/s", _lines(13))
    labels = [s["label"] for s in drawn["series"]]
    assert len(labels) == LEGEND_LIMIT == 8
    assert labels[:7] == [f"fanz-{i}" for i in range(7, 14)]
    assert labels[7] == "others (6 series, sum)"
    assert drawn["series"][7]["values"] == [1.0 + 2 + 3 + 4 + 5 + 6, 2.0 + 3 + 4 + 5 + 6 + 7]


def test_non_additive_units_show_the_highest_of_the_others() -> None:
    drawn = chart("Error ratio", "ratio", _lines(10))
    others = drawn["series"][-1]
    assert others["label"] == "others (3 series, highest)"
    assert others["values"] == [3.0, 4.0]


def test_up_to_the_limit_nothing_is_folded_and_dashed_indices_follow_the_kept_series() -> None:
    assert len(chart("x", "count", _lines(8))["series"]) == 8
    lines = _lines(12)
    drawn = chart("x", "count", lines, dashed=[11, 0])
    dashed = [s["label"] for s in drawn["series"] if s["dashed"]]
    assert dashed == ["fanz-12"]


async def test_dashboard_panels_are_drawn_over_the_selected_range() -> None:
    rng = time_range("24h", now=1_000_000_000.0, max_points=360)
    panel = next(p for d in DASHBOARDS for p in d.panels() if p.targets)
    view = await panel_view(FakePrometheus(), panel, 0, rng=rng, platform=None, scrape_interval=15)
    assert view.chart is not None
    assert view.chart["range"] == [rng.start, rng.end]
