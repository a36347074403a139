"""Property-based fuzzing of the beacon endpoints with hypothesis.

Whatever arrives, the answer is a 2xx or a 4xx, never a 5xx; valid beacons are
always accepted and measured exactly; invalid ones leave no trace.
"""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fanzwatch.rum.asgi import ENDPOINTS

from ._helpers import NOW_MS, RumFactory, RumHarness, batch, make_settings

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLIENT_ERRORS = {400, 413, 415, 422}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=40,
)


@pytest.fixture
async def fuzz_rum(rum_factory: RumFactory) -> RumHarness:
    return await rum_factory(make_settings(rate_limit_per_second=1e6, rate_limit_burst=1_000_000))


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.binary(max_size=3000), gz=st.booleans())
async def test_arbitrary_bytes_never_cause_a_5xx(fuzz_rum: RumHarness, endpoint: str, body: bytes, gz: bool) -> None:
    headers = {"content-encoding": "gzip"} if gz else {}
    response = await fuzz_rum.post(endpoint, gzip.compress(body) if gz else body, headers=headers)
    assert response.status_code in CLIENT_ERRORS
    assert fuzz_rum.ingestor.pending == 0


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), value=json_values)
async def test_arbitrary_json_never_causes_a_5xx(fuzz_rum: RumHarness, endpoint: str, value: Any) -> None:
    response = await fuzz_rum.post(endpoint, json.dumps(value).encode())  # stdlib: big integers too
    assert response.status_code in CLIENT_ERRORS
    assert response.json()["error"] in {"invalid", "too_large"}


VALID = batch(
    {"type": "vital", "t": NOW_MS - 10, "name": "INP", "value": 180.0, "attribution": {"target": "button#tip"}},
    {"type": "page_load", "t": NOW_MS - 20, "load": 1500.0, "ttfb": 100.0},
    {"type": "interaction", "t": NOW_MS - 5, "kind": "submit", "target": {"tag": "form", "id": "pay"}},
    {"type": "error", "t": NOW_MS - 1, "message": "Error: x", "line": 3, "col": 9},
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(VALID)[1:]


@FUZZ
@given(path=st.sampled_from(PATHS), replacement=json_values, delete=st.booleans())
async def test_mutated_valid_beacons_are_accepted_or_refused_cleanly(
    fuzz_rum: RumHarness, path: tuple[Any, ...], replacement: Any, delete: bool
) -> None:
    doc = copy.deepcopy(VALID)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    before = fuzz_rum.ingestor.pending
    response = await fuzz_rum.post("batch", json.dumps(doc).encode())
    assert response.status_code in {202} | CLIENT_ERRORS
    if response.status_code == 202:
        assert fuzz_rum.ingestor.pending == before + response.json()["accepted"]
    else:
        assert fuzz_rum.ingestor.pending == before


vitals = st.builds(
    lambda name, value, age: {"type": "vital", "t": NOW_MS - age, "name": name, "value": value},
    name=st.sampled_from(["LCP", "INP", "FCP", "TTFB"]),
    value=st.floats(min_value=0.0, max_value=600_000.0),
    age=st.integers(min_value=0, max_value=86_400_000),
)
paths = st.lists(st.sampled_from(["creator", "posts", "about", "42", "new", "x1y2"]), max_size=5).map(
    lambda parts: "https://fanz-1.example/" + "/".join(parts)
)


@FUZZ
@given(events=st.lists(vitals, min_size=1, max_size=40), url=paths)
async def test_valid_beacons_are_always_accepted_and_measured_exactly(
    fuzz_rum: RumHarness, events: list[dict[str, Any]], url: str
) -> None:
    sums = {f"fanz_rum_{name}_seconds_sum" for name in ("lcp", "inp", "fcp", "ttfb")}

    def total() -> float:  # one pass over the registry
        return sum(s.value for m in fuzz_rum.registry.collect() for s in m.samples if s.name in sums)

    before = total()
    response = await fuzz_rum.post("batch", batch(*events, url=url))
    assert response.status_code == 202
    assert response.json() == {"accepted": len(events)}
    assert total() - before == pytest.approx(sum(e["value"] for e in events) / 1000, rel=1e-9, abs=1e-9)
