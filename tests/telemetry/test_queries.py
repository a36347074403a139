"""The named queries' parameters: checked, defaulted, never SQL."""

from __future__ import annotations

import pytest

from fanzwatch.telemetry.queries import MAX_LIMIT, QUERIES, QueryParameterError

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_parameters_are_checked_and_defaulted() -> None:
    assert QUERIES["trace"].bind({"trace_id": TRACE}) == {"trace_id": TRACE}
    bound = QUERIES["search_spans"].bind({"service": "fanz-platform", "min_duration_ns": 250_000_000})
    assert bound["service"] == "fanz-platform" and bound["min_duration_ns"] == 250_000_000
    assert bound["route"] == "" and bound["limit"] == 100 and bound["start_ns"] == 0


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("trace", {}, "trace_id is required"),
        ("trace", {"trace_id": "x' OR 1=1 --"}, "does not match"),
        ("trace", {"trace_id": TRACE, "sql": "DROP TABLE otel_traces"}, "unknown parameter"),
        ("search_spans", {"limit": MAX_LIMIT + 1}, f"at most {MAX_LIMIT}"),
        ("search_spans", {"min_duration_ns": -1}, "out of range"),
        ("search_spans", {"min_duration_ns": "5"}, "an integer is needed"),
        ("search_spans", {"root_only": True}, "an integer is needed"),
        ("search_logs", {"text": 5}, "a string is needed"),
        ("search_logs", {"text": "a\x00b"}, "NUL"),
        ("search_logs", {"text": "a" * 600}, "at most 512 characters"),
    ],
)
def test_bad_parameters_are_refused(name: str, given: dict[str, object], message: str) -> None:
    with pytest.raises(QueryParameterError, match=message):
        QUERIES[name].bind(given)
