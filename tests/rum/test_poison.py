"""One bad byte never stops ingestion: NUL, lone surrogates and control characters in every
text field are stored sanitised on SQLite and PostgreSQL, and a row the database still
refuses is dead-lettered while the rest of its batch is stored and later beacons go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy as sa

from fanzwatch.rum.tables import rum_dead_letters, rum_events

from ._helpers import NOW_MS, PAGE, RumFactory, batch, vital


async def _wait_for(what: str, condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not reached within {within} s"
        await asyncio.sleep(0.01)


def _error(message: str, **extra: object) -> dict[str, object]:
    return {"type": "error", "t": NOW_MS - 100, "kind": "error", "message": message, **extra}


async def _rows(url: str, table: sa.Table = rum_events) -> list[sa.Row[tuple[object, ...]]]:
    engine = sa.create_engine(url.replace("+psycopg", "+psycopg") if url.startswith("postgresql") else url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(table).order_by(table.c.id)))
    finally:
        engine.dispose()


# Raw JSON, as a browser's JSON.stringify writes it: \u0000 and a lone \ud83d are escapes.
POISON = (
    (
        '{"v":1,"sid":"5f1d3c2b4a6978e0","platform":"fanz-1","sent":SENT,"url":"PAGE?x=\\u0000",'
        '"events":['
        '{"type":"error","t":T_MS,"message":"boom\\u0000 \\ud83d half an emoji \\u001b[31m for 4111 1111 1111 1111",'
        '"stack":"at pay (https://fanz-1.example/app.js:1:2)\\u0000\\n at \\udc00x","source":"https://fanz-1.example/a.js\\u0007"},'
        '{"type":"vital","t":T_MS,"name":"LCP","value":1200,"id":"v1\\u0000\\ud800"},'
        '{"type":"interaction","t":T_MS,"kind":"click","target":{"tag":"button","data":"4111111111111111"}}'
        "]}"
    )
    .replace("SENT", str(NOW_MS))
    .replace("PAGE", PAGE)
    .replace("T_MS", str(NOW_MS - 100))
)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_nul_surrogates_and_controls_are_stored_sanitised_and_ingestion_goes_on(
    rum_factory: RumFactory, backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    h = await rum_factory(url=url)
    first = await h.post("batch", POISON.encode())
    assert first.status_code == 202, first.text
    after = [await h.post("batch", batch(vital(), _error(f"normal error {i}"))) for i in range(5)]
    assert [r.status_code for r in after] == [202] * 5
    await h.ingestor.flush(within_seconds=20)
    assert h.ingestor.store_available
    rows = await _rows(h.url)
    assert len(rows) == 3 + 10  # nothing accepted is missing
    error, vital_row, click = rows[0], rows[1], rows[2]
    assert error.message == "boom \ufffd half an emoji [31m for [card]"
    detail = json.loads(error.detail)
    assert "\x00" not in detail["stack"] and "\ufffd" in detail["stack"]
    assert detail["source"] == "https://fanz-1.example/a.js"
    assert json.loads(vital_row.detail)["id"] == "v1\ufffd"
    assert json.loads(click.detail) == {"tag": "button", "data": "[card]"}
    assert all("\x00" not in (r.url + (r.message or "") + (r.detail or "")) for r in rows)
    assert (await h.post("batch", batch(vital()))).status_code == 202


@pytest.mark.postgres
async def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored(
    rum_factory: RumFactory, pg_url: str
) -> None:
    h = await rum_factory(url=pg_url)
    # A value the database refuses for a reason nobody sanitises against: a real constraint.
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("ALTER TABLE rum_events ADD CONSTRAINT no_poison CHECK (message IS NULL OR message <> 'poison')")
    events = [vital(), _error("fine one"), _error("poison"), vital("CLS", 0.1), _error("fine two")]
    assert (await h.post("batch", batch(*events))).status_code == 202
    await h.ingestor.flush(within_seconds=20)
    assert h.ingestor.store_available
    assert (await h.post("batch", batch(vital()))).status_code == 202  # no 503 left behind
    await h.ingestor.flush(within_seconds=20)

    rows = await _rows(pg_url)
    assert [(r.type, r.message) for r in rows] == [
        ("vital", None),
        ("error", "fine one"),
        ("vital", None),
        ("error", "fine two"),
        ("vital", None),
    ]
    (dead,) = await _rows(pg_url, rum_dead_letters)
    assert dead.platform == "fanz-1"
    assert dead.reason.startswith("CheckViolation: ") and "no_poison" in dead.reason
    assert json.loads(dead.row_json)["message"] == "poison"
    assert h.sample("fanz_rum_dead_letter_events_total", platform="fanz-1") == 1
    assert h.sample("fanz_rum_stored_events_total", platform="fanz-1") == 5
    assert h.sample("fanz_rum_queued_events", platform="fanz-1") == 0


@pytest.mark.postgres
async def test_the_503_clears_as_soon_as_the_store_writes_again(rum_factory: RumFactory, pg_url: str) -> None:
    h = await rum_factory(url=pg_url)
    admin = pg_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ALTER TABLE rum_events RENAME TO rum_events_away")  # the store breaks
    assert (await h.post("batch", batch(vital(), vital()))).status_code == 202
    await _wait_for("the ingestor notices the broken store", lambda: not h.ingestor.store_available)
    assert (await h.post("batch", batch(vital()))).status_code == 503
    assert h.ingestor.pending == 2  # kept, not dead-lettered: the store is down, not the rows
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ALTER TABLE rum_events_away RENAME TO rum_events")  # it comes back
    await _wait_for("the 503 clears", lambda: h.ingestor.store_available and h.ingestor.pending == 0)
    assert (await h.post("batch", batch(vital()))).status_code == 202
    await h.ingestor.flush(within_seconds=20)
    assert len(await _rows(pg_url)) == 3
    assert await _rows(pg_url, rum_dead_letters) == []
