"""The JSON API mounted in a FastAPI app: figures as JSON, clear 4xx for bad input, 503 without BI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fanzwatch import schema
from fanzwatch.bi import BiService, build_router
from fanzwatch.core import FrozenClock

from .conftest import NOW, load_market, make_service, refreshed


@pytest.fixture(scope="module")
def client(module_url: str) -> Iterator[TestClient]:
    engine = sa.create_engine(module_url)
    schema.create_all(engine)
    load_market(engine)
    refreshed(engine, NOW)
    app = FastAPI()
    app.state.bi = make_service(engine, FrozenClock(NOW))
    app.include_router(build_router(lambda: app.state.bi))
    with TestClient(app) as test_client:
        yield test_client
    engine.dispose()


def test_report_as_json(client: TestClient) -> None:
    response = client.get("/api/v1/bi/report", params={"window": "24h"})
    assert response.status_code == 200
    body = response.json()
    assert body["window"] == {"start": "2026-03-09T12:30:00Z", "end": "2026-03-10T12:30:00Z", "seconds": 86400}
    assert body["source"] == "rollups"
    assert body["rollups_cover_until"] == "2026-03-10T12:00:00Z"
    assert body["current"]["revenue"]["total"] == "78.0500"  # money as exact decimal strings
    assert body["current"]["revenue"]["payment_success_ratio"] == 0.75
    assert body["changes"]["revenue.total"]["growth"] == "+41.9%"
    assert body["insights"][0] == "📈 Gross revenue increased by 41.9% compared to the previous 24 hours"


def test_platform_end_and_raw_source(client: TestClient) -> None:
    params = {"window": "24h", "platform": "fanz-2", "end": "2026-03-10T14:30:00+02:00", "source": "raw"}
    body = client.get("/api/v1/bi/report", params=params).json()
    assert (body["platform"], body["source"]) == ("fanz-2", "raw")
    assert body["current"]["revenue"]["total"] == "40.0000"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"window": "2x"}, 422, "invalid window '2x'"),
        ({"window": "999d"}, 422, "out of range"),
        ({"window": "24h", "end": "2026-03-10T12:30:00"}, 422, "has no time zone"),
        ({"window": "24h", "platform": "nope"}, 400, "unknown platform 'nope'"),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, params: dict[str, str], status: int, message: str) -> None:
    response = client.get("/api/v1/bi/report", params=params)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_bad_source_and_end_are_rejected_by_validation(client: TestClient) -> None:
    assert client.get("/api/v1/bi/report", params={"source": "magic"}).status_code == 422
    assert client.get("/api/v1/bi/report", params={"end": "yesterday"}).status_code == 422


def test_rollup_status(client: TestClient) -> None:
    assert client.get("/api/v1/bi/rollups").json() == {
        "built": True,
        "covered_until": "2026-03-10T12:00:00+00:00",
        "changes_seen_at": "2026-03-10T12:30:00+00:00",
        "lag_seconds": 1800.0,
    }


def test_without_a_service_the_api_says_how_to_configure_it() -> None:
    app = FastAPI()
    app.include_router(build_router(lambda: None))
    response = TestClient(app).get("/api/v1/bi/report")
    assert response.status_code == 503
    assert "FANZWATCH_BI_DATABASE_URL" in response.json()["detail"]


def test_an_unreachable_database_is_a_503(tmp_path: object) -> None:
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    service = BiService(engine, platforms=("fanz-1",), clock=FrozenClock(NOW))
    app = FastAPI()
    app.include_router(build_router(lambda: service))
    response = TestClient(app).get("/api/v1/bi/report")
    assert response.status_code == 503
    assert response.json()["detail"] == "the platform database is unavailable; try again later"
