"""The fake payment processor: charges, declines, fraud, idempotency and fault injection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from fanzwatch.demo.processor import (
    FraudCheckRequest,
    FraudDecision,
    FraudScorer,
    ProcessorConfig,
    create_processor_app,
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_processor_app(ProcessorConfig(seed=1234))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://processor") as c:
        yield c


def _charge(key: str, card: str = "tok_visa", amount: int = 1500) -> dict[str, object]:
    return {"amount_minor": amount, "currency": "USD", "card_token": card, "idempotency_key": key}


async def test_a_charge_succeeds_and_is_idempotent(client: httpx.AsyncClient) -> None:
    first = await client.post("/primary/v1/charges", json=_charge("key-00000001"))
    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["amount_minor"], body["currency"], body["endpoint"]) == (
        "succeeded",
        1500,
        "USD",
        "primary",
    )
    again = await client.post("/primary/v1/charges", json=_charge("key-00000001"))
    assert again.json()["id"] == body["id"]
    stats = (await client.get("/admin/stats")).json()
    assert stats == {"primary.charge.succeeded": 1}


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
        ("card_4242", "invalid_card"),
    ],
)
async def test_declining_cards(client: httpx.AsyncClient, card: str, code: str) -> None:
    r = await client.post("/backup/v1/charges", json=_charge("key-declined", card=card))
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["decline_code"], r.json()["endpoint"]) == ("declined", code, "backup")


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 0, "currency": "USD", "card_token": "tok_visa", "idempotency_key": "key-00000001"},
        {"amount_minor": 100, "currency": "usd", "card_token": "tok_visa", "idempotency_key": "key-00000001"},
        {"amount_minor": 100, "currency": "USD", "card_token": "tok_visa", "idempotency_key": "short"},
        {"amount_minor": 100, "currency": "USD", "card_token": "tok_visa", "idempotency_key": "k" * 9, "x": 1},
    ],
)
async def test_bad_charges_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert (await client.post("/primary/v1/charges", json=body)).status_code == 422


async def test_unknown_endpoint_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.post("/tertiary/v1/charges", json=_charge("key-00000001"))).status_code == 422


async def test_outage_takes_down_one_endpoint_only(client: httpx.AsyncClient) -> None:
    r = await client.put("/admin/faults/primary", json={"outage": True})
    assert r.json() == {"outage": True, "failure_rate": 0.0, "latency_seconds": 0.0, "latency_jitter_seconds": 0.0}
    down = await client.post("/primary/v1/charges", json=_charge("key-00000002"))
    assert down.status_code == 503
    assert down.json()["error"]["type"] == "processor_unavailable"
    assert (await client.get("/primary/v1/health")).status_code == 503
    assert (await client.get("/backup/v1/health")).status_code == 200
    assert (await client.post("/backup/v1/charges", json=_charge("key-00000002"))).status_code == 201
    healed = await client.delete("/admin/faults")
    assert healed.json()["primary"]["outage"] is False
    assert (await client.post("/primary/v1/charges", json=_charge("key-00000003"))).status_code == 201


async def test_failure_rate_fails_about_that_share(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults/primary", json={"failure_rate": 0.3})
    codes = [(await client.post("/primary/v1/charges", json=_charge(f"key-{i:08d}"))).status_code for i in range(400)]
    failed = codes.count(503)
    assert codes.count(201) + failed == 400
    # Binomial(400, 0.3): mean 120, sd 9.2; the seeded generator makes this deterministic.
    assert 90 <= failed <= 150
    assert (await client.get("/admin/stats")).json()["primary.unavailable"] == failed


async def test_latency_is_added_to_every_answer(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults/backup", json={"latency_seconds": 2.0})
    start = time.perf_counter()
    slow = asyncio.create_task(client.post("/backup/v1/fraud-checks", json=_fraud_body()))
    fast = await client.post("/primary/v1/fraud-checks", json=_fraud_body())
    assert fast.status_code == 200
    assert not slow.done()  # the primary answered while the backup still waits out its latency
    r = await asyncio.wait_for(slow, timeout=30)
    assert r.status_code == 200
    assert time.perf_counter() - start >= 2.0


async def test_fault_values_are_validated(client: httpx.AsyncClient) -> None:
    assert (await client.put("/admin/faults/primary", json={"failure_rate": 1.5})).status_code == 422
    assert (await client.put("/admin/faults/primary", json={"latency_seconds": -1})).status_code == 422
    assert (await client.put("/admin/faults/primary", json={"outage": "maybe"})).status_code == 422


def _fraud_body(card: str = "tok_visa", amount: int = 1000, payer: str = "fan-1") -> dict[str, object]:
    return {"amount_minor": amount, "currency": "USD", "card_token": card, "customer_ref": payer, "payment_type": "tip"}


async def test_fraud_check_over_http(client: httpx.AsyncClient) -> None:
    r = await client.post("/primary/v1/fraud-checks", json=_fraud_body(card="tok_riskLevelHighest"))
    assert r.json() == {"risk_score": 0.95, "decision": "reject", "reasons": ["card_risk"]}


@pytest.mark.parametrize(
    ("card", "amount", "decision", "score", "reasons"),
    [
        ("tok_visa", 1_000, FraudDecision.APPROVE, 0.0, ()),
        ("tok_visa", 60_000, FraudDecision.REVIEW, 0.5, ("large_amount",)),
        ("tok_riskLevelElevated", 1_000, FraudDecision.REVIEW, 0.6, ("card_risk",)),
        ("tok_riskLevelElevated", 60_000, FraudDecision.REJECT, 1.0, ("card_risk", "large_amount")),
        ("tok_riskLevelHighest", 1_000, FraudDecision.REJECT, 0.95, ("card_risk",)),
    ],
)
def test_fraud_rules(card: str, amount: int, decision: FraudDecision, score: float, reasons: tuple[str, ...]) -> None:
    scorer = FraudScorer(clock=lambda: 0.0)
    result = scorer.check(FraudCheckRequest.model_validate(_fraud_body(card=card, amount=amount)))
    assert (result.decision, result.risk_score, result.reasons) == (decision, score, reasons)


def test_velocity_rule_counts_within_the_window_only() -> None:
    now = [0.0]
    scorer = FraudScorer(clock=lambda: now[0], velocity_limit=3, velocity_window_seconds=60)
    body = FraudCheckRequest.model_validate(_fraud_body(payer="fan-fast"))
    scores = [scorer.check(body).risk_score for _ in range(4)]
    assert scores == [0.0, 0.0, 0.0, 0.4]
    now[0] = 61.0  # the window has passed
    assert scorer.check(body).risk_score == 0.0
    other = FraudCheckRequest.model_validate(_fraud_body(payer="fan-slow"))
    assert scorer.check(other).risk_score == 0.0


def test_velocity_history_is_bounded() -> None:
    scorer = FraudScorer(clock=lambda: 0.0, max_tracked_payers=5)
    for i in range(50):
        scorer.check(FraudCheckRequest.model_validate(_fraud_body(payer=f"fan-{i}")))
    assert len(scorer._history) == 5


async def test_metrics_expose_the_process_through_the_sdk_and_no_request_series(client: httpx.AsyncClient) -> None:
    await client.post("/primary/v1/charges", json=_charge("key-metrics-1"))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {line.split(" ")[0] for line in response.text.splitlines() if line and not line.startswith("#")}
    assert {"process_resident_memory_bytes", "fanz_process_memory_limit_bytes"} <= samples
    # A third party's stand-in: nothing is added to the platforms' request and 5xx aggregates.
    assert not [s for s in samples if s.startswith("http_server_request_duration_seconds")]
    openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")
