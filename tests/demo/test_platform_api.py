"""The demo platform's API, driven directly: accounts, content, engagement, payments, faults."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.demo.platform import create_platform_app
from fanzwatch.demo.platform.app import health_platform
from fanzwatch.sdk.testing import TelemetryCapture

from .conftest import ServedApp, platform_config

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
API = "/p/{}/api/v1"


async def register(
    client: httpx.AsyncClient, role: str = "fan", *, platform: str = "fanz-1", **extra: Any
) -> dict[str, Any]:
    body = {
        "email": f"{role}-{uuid.uuid4().hex[:8]}@example.org",
        "password": "correct horse battery",
        "role": role,
        "display_name": f"A {role}",
        **extra,
    }
    r = await client.post(API.format(platform) + "/auth/register", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    data["email"] = body["email"]
    data["auth"] = {"Authorization": f"Bearer {data['token']}"}
    return data


async def upload(
    client: httpx.AsyncClient, creator: dict[str, Any], data: bytes = PNG, *, price: int | None = None
) -> httpx.Response:
    form = {"title": "my photo"} | ({"price_minor": str(price)} if price else {})
    return await client.post(
        API.format("fanz-1") + "/content",
        headers=creator["auth"],
        data=form,
        files={"file": ("x.bin", data, "application/octet-stream")},
    )


# --- accounts ---------------------------------------------------------------------------


async def test_registration_logs_in_and_is_counted(client: httpx.AsyncClient, telemetry: TelemetryCapture) -> None:
    fan = await register(client, "fan", source="ios", country="DE")
    me = await client.get(API.format("fanz-1") + "/me", headers=fan["auth"])
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["platform"], me.json()["email"]) == ("fan", "fanz-1", fan["email"])
    labels = {"platform": "fanz-1", "role": "fan", "source": "ios"}
    assert telemetry.get_sample_value("fanz_user_registrations_total", labels) == 1.0


async def test_duplicate_email_is_409_per_platform(client: httpx.AsyncClient) -> None:
    fan = await register(client)
    again = {"email": fan["email"].upper(), "password": "x" * 8, "role": "fan", "display_name": "b"}
    assert (await client.post(API.format("fanz-1") + "/auth/register", json=again)).status_code == 409
    assert (await client.post(API.format("fanz-2") + "/auth/register", json=again)).status_code == 201


async def test_login(client: httpx.AsyncClient) -> None:
    fan = await register(client)
    ok = await client.post(
        API.format("fanz-1") + "/auth/login", json={"email": fan["email"], "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    assert ok.json()["token"] != fan["token"]
    assert ok.json()["user_id"] == fan["user_id"]
    wrong = await client.post(
        API.format("fanz-1") + "/auth/login", json={"email": fan["email"], "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    nobody = await client.post(API.format("fanz-1") + "/auth/login", json={"email": "x@y.org", "password": "nope-nope"})
    assert nobody.status_code == 401


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    fan = await register(client)
    assert (await client.post(API.format("fanz-1") + "/auth/logout", headers=fan["auth"])).status_code == 204
    assert (await client.get(API.format("fanz-1") + "/me", headers=fan["auth"])).status_code == 401


async def test_tokens_are_per_platform_and_required(client: httpx.AsyncClient) -> None:
    fan = await register(client, platform="fanz-1")
    assert (await client.get(API.format("fanz-2") + "/me", headers=fan["auth"])).status_code == 401
    assert (await client.get(API.format("fanz-1") + "/me")).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get(API.format("fanz-1") + "/me", headers=bad)).status_code == 401


async def test_unknown_platform_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post(API.format("fanz-9") + "/auth/login", json={"email": "a@b.org", "password": "x"})
    assert r.status_code == 404


BAD_REGISTRATIONS: list[dict[str, Any]] = [
    {"email": "not-an-email"},
    {"password": "short"},
    {"role": "admin"},
    {"display_name": ""},
    {"source": "carrier-pigeon"},
    {"subscription_price_minor": 999},  # fans have no price
    {"role": "creator", "subscription_price_minor": 5},
    {"role": "creator", "currency": "XYZ"},
    {"country": "Germany"},
    {"unexpected": True},
]


async def test_bad_registrations_are_422(client: httpx.AsyncClient) -> None:
    for patch in BAD_REGISTRATIONS:
        body = {"email": "a@example.org", "password": "long enough", "role": "fan", "display_name": "A"} | patch
        r = await client.post(API.format("fanz-1") + "/auth/register", json=body)
        assert r.status_code == 422, patch
    garbage = await client.post(
        API.format("fanz-1") + "/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422


# --- content ------------------------------------------------------------------------------


async def test_creator_uploads_and_fans_browse(
    client: httpx.AsyncClient, telemetry: TelemetryCapture, platform_app: Any
) -> None:
    creator = await register(client, "creator", subscription_price_minor=999)
    r = await upload(client, creator)
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["type"], item["media_type"], item["size_bytes"], item["ppv_price"]) == (
        "image",
        "image/png",
        len(PNG),
        None,
    )
    stored = list((platform_app.state.runtime.config.storage_dir / "fanz-1").iterdir())
    assert [p.read_bytes() for p in stored] == [PNG]
    labels = {"platform": "fanz-1", "content_type": "image", "creator_tier": "new"}
    assert telemetry.get_sample_value("fanz_content_uploads_total", labels) == 1.0
    feed = await client.get(API.format("fanz-1") + "/content", params={"limit": 5})
    assert [i["content_id"] for i in feed.json()] == [item["content_id"]]
    assert (await client.get(API.format("fanz-2") + "/content")).json() == []


SNIFFED = [
    (b"\xff\xd8\xff\xe0" + bytes(50), "image"),
    (b"GIF89a" + bytes(50), "image"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(50), "video"),
    (b"ID3\x04" + bytes(50), "audio"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(50), "audio"),
    ("Hello fans, new post ✨\n".encode(), "text"),
]


async def test_upload_kinds_are_sniffed(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    for data, kind in SNIFFED:
        r = await upload(client, creator, data)
        assert (r.status_code, r.json()["type"]) == (201, kind), data[:12]


async def test_upload_refusals(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    assert (await upload(client, fan)).status_code == 403
    assert (await upload(client, creator, b"\x00\x01\x02garbage")).status_code == 415
    assert (await upload(client, creator, PNG + bytes(5000))).status_code == 413  # image limit 4096 in tests
    assert (await upload(client, creator, b"x" * 2000)).status_code == 413  # text limit 1024
    no_title = await client.post(
        API.format("fanz-1") + "/content", headers=creator["auth"], files={"file": ("a.png", PNG, "image/png")}
    )
    assert no_title.status_code == 422
    not_multipart = await client.post(API.format("fanz-1") + "/content", headers=creator["auth"], json={"title": "x"})
    assert not_multipart.status_code == 415
    bad_price = await client.post(
        API.format("fanz-1") + "/content",
        headers=creator["auth"],
        data={"title": "t", "price_minor": "-5"},
        files={"file": ("a.png", PNG, "image/png")},
    )
    assert bad_price.status_code == 422


async def test_engagement(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    cid = (await upload(client, creator)).json()["content_id"]
    base = API.format("fanz-1") + f"/content/{cid}"
    assert (await client.post(base + "/views", headers=fan["auth"])).status_code == 201
    first = await client.post(base + "/likes", headers=fan["auth"])
    second = await client.post(base + "/likes", headers=fan["auth"])
    assert (first.status_code, second.status_code, second.json()["id"]) == (201, 200, first.json()["id"])
    assert (await client.post(base + "/comments", headers=fan["auth"], json={"body": "wow"})).status_code == 201
    assert (await client.post(base + "/comments", headers=fan["auth"], json={"body": ""})).status_code == 422
    assert (await client.post(base + "/shares", headers=fan["auth"], json={"channel": "tiktok"})).status_code == 201
    assert (await client.post(base + "/shares", headers=fan["auth"], json={"channel": "fax"})).status_code == 422
    missing = API.format("fanz-1") + "/content/999999/views"
    assert (await client.post(missing, headers=fan["auth"])).status_code == 404
    assert (await client.post(base + "/views")).status_code == 401


# --- payments -----------------------------------------------------------------------------


def _payments(telemetry: TelemetryCapture, payment_type: str, status: str, currency: str = "USD") -> float:
    labels = {"platform": "fanz-1", "payment_type": payment_type, "currency": currency, "status": status}
    return telemetry.get_sample_value("fanz_payment_transactions_total", labels) or 0.0


def _revenue(telemetry: TelemetryCapture, payment_type: str, currency: str = "USD") -> float:
    labels = {"platform": "fanz-1", "payment_type": payment_type, "currency": currency}
    return telemetry.get_sample_value("fanz_revenue_total", labels) or 0.0


async def test_subscription_is_created_then_renewed(client: httpx.AsyncClient, telemetry: TelemetryCapture) -> None:
    creator = await register(client, "creator", subscription_price_minor=1499, currency="EUR")
    fan = await register(client, "fan")
    url = API.format("fanz-1") + f"/creators/{creator['user_id']}/subscriptions"
    first = await client.post(url, headers=fan["auth"], json={"card_token": "tok_visa"})
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["amount"], first.json()["currency"]) == ("completed", "14.99", "EUR")
    renewal = await client.post(url, headers=fan["auth"], json={"card_token": "tok_visa"})
    assert renewal.json()["subscription_id"] == first.json()["subscription_id"]
    assert _payments(telemetry, "subscription", "completed", "EUR") == 2.0
    assert _revenue(telemetry, "subscription", "EUR") == pytest.approx(29.98)
    # Only the second payment renewed a subscription (the subscription-renewal SLO counts it).
    renewals = {"platform": "fanz-1", "currency": "EUR", "status": "completed"}
    assert telemetry.get_sample_value("fanz_subscription_renewals_total", renewals) == 1.0


async def test_tip_is_traced_through_fraud_check_and_charge(
    client: httpx.AsyncClient, telemetry: TelemetryCapture
) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    telemetry.clear()
    r = await client.post(
        API.format("fanz-1") + f"/creators/{creator['user_id']}/tips",
        headers=fan["auth"],
        json={"amount_minor": 500, "currency": "USD", "card_token": "tok_visa"},
    )
    assert r.status_code == 201
    assert r.json()["amount"] == "5.00"
    assert _payments(telemetry, "tip", "completed") == 1.0
    assert _revenue(telemetry, "tip") == 5.0
    process = telemetry.span("payment.process")
    fraud = telemetry.span("payment.fraud_check")
    charge = telemetry.span("payment.charge")
    assert fraud.parent is not None and fraud.parent.span_id == process.context.span_id
    assert charge.parent is not None and charge.parent.span_id == process.context.span_id
    assert process.attributes is not None and process.attributes["payment.status"] == "completed"
    assert fraud.attributes is not None and fraud.attributes["fraud.decision"] == "approve"
    clients = [s for s in telemetry.spans() if s.name == "POST payment-processor"]
    assert {s.parent.span_id for s in clients if s.parent} == {fraud.context.span_id, charge.context.span_id}


async def test_pay_per_view_purchase_unlocks_the_file(client: httpx.AsyncClient, telemetry: TelemetryCapture) -> None:
    creator = await register(client, "creator")
    buyer, other = await register(client, "fan"), await register(client, "fan")
    item = (await upload(client, creator, price=299)).json()
    assert item["ppv_price"] == "2.99"
    file_url = API.format("fanz-1") + f"/content/{item['content_id']}/file"
    assert (await client.get(file_url, headers=buyer["auth"])).status_code == 402
    buy_url = API.format("fanz-1") + f"/content/{item['content_id']}/purchases"
    bought = await client.post(buy_url, headers=buyer["auth"], json={"card_token": "tok_visa"})
    assert (bought.status_code, bought.json()["amount"]) == (201, "2.99")
    got = await client.get(file_url, headers=buyer["auth"])
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, PNG, "image/png")
    assert (await client.get(file_url, headers=other["auth"])).status_code == 402
    assert (await client.get(file_url, headers=creator["auth"])).status_code == 200
    assert (await client.post(buy_url, headers=buyer["auth"], json={"card_token": "tok_visa"})).status_code == 409
    assert _payments(telemetry, "ppv", "completed") == 1.0
    history = await client.get(API.format("fanz-1") + "/me/transactions", headers=buyer["auth"])
    assert [(t["type"], t["status"]) for t in history.json()] == [("ppv", "completed")]


async def test_free_content_cannot_be_bought(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    cid = (await upload(client, creator)).json()["content_id"]
    r = await client.post(
        API.format("fanz-1") + f"/content/{cid}/purchases", headers=fan["auth"], json={"card_token": "tok_visa"}
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_riskLevelHighest", "fraud_rejected"),
    ],
)
async def test_refused_payments_are_402_and_declined(
    client: httpx.AsyncClient, telemetry: TelemetryCapture, card: str, reason: str
) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    telemetry.clear()
    r = await client.post(
        API.format("fanz-1") + f"/creators/{creator['user_id']}/tips",
        headers=fan["auth"],
        json={"amount_minor": 1000, "card_token": card},
    )
    assert (r.status_code, r.json()["status"], r.json()["reason"]) == (402, "declined", reason)
    assert _payments(telemetry, "tip", "declined") == 1.0
    assert _revenue(telemetry, "tip") == 0.0
    charged = [s.name for s in telemetry.spans() if s.name == "payment.charge"]
    assert charged == ([] if reason == "fraud_rejected" else ["payment.charge"])
    history = await client.get(API.format("fanz-1") + "/me/transactions", headers=fan["auth"])
    assert [t["status"] for t in history.json()] == ["declined"]


async def test_processor_outage_fails_payments_until_switched_to_backup(
    client: httpx.AsyncClient, telemetry: TelemetryCapture, processor: ServedApp
) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    tip_url = API.format("fanz-1") + f"/creators/{creator['user_id']}/tips"
    body = {"amount_minor": 300, "card_token": "tok_visa"}
    async with httpx.AsyncClient(base_url=processor.url) as admin:
        await admin.put("/admin/faults/primary", json={"outage": True})
        failed = await client.post(tip_url, headers=fan["auth"], json=body)
        assert (failed.status_code, failed.json()["status"], failed.json()["reason"]) == (
            502,
            "failed",
            "processor_primary_http_503",
        )
        assert _payments(telemetry, "tip", "failed") == 1.0
        status = await client.get("/admin/payment-processor")
        assert status.json() == {"active": "primary", "primary_healthy": False, "backup_healthy": True}
        switched = await client.put("/admin/payment-processor", json={"active": "backup"})
        assert switched.json() == {"active": "backup"}
        ok = await client.post(tip_url, headers=fan["auth"], json=body)
        assert ok.status_code == 201
        stats = (await admin.get("/admin/stats")).json()
    assert stats["backup.charge.succeeded"] == 1
    assert "primary.charge.succeeded" not in stats
    assert (await client.put("/admin/payment-processor", json={"active": "tertiary"})).status_code == 422


async def test_processor_timeout_is_a_failed_payment(client: httpx.AsyncClient, processor: ServedApp) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    async with httpx.AsyncClient(base_url=processor.url) as admin:
        await admin.put("/admin/faults/primary", json={"latency_seconds": 1.5})  # client timeout is 1 s in tests
        r = await client.post(
            API.format("fanz-1") + f"/creators/{creator['user_id']}/tips",
            headers=fan["auth"],
            json={"amount_minor": 300, "card_token": "tok_visa"},
        )
    assert (r.status_code, r.json()["reason"]) == (502, "processor_primary_timeout")


BAD_TIPS: list[dict[str, Any]] = [
    {"amount_minor": 50, "card_token": "tok_visa"},
    {"amount_minor": 100_001, "card_token": "tok_visa"},
    {"amount_minor": 500, "currency": "XYZ", "card_token": "tok_visa"},
    {"amount_minor": 500},
    {"amount_minor": "lots", "card_token": "tok_visa"},
    {"amount_minor": 500, "card_token": "tok_visa", "note": "extra field"},
]


async def test_bad_tips_are_422(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    for body in BAD_TIPS:
        r = await client.post(
            API.format("fanz-1") + f"/creators/{creator['user_id']}/tips", headers=fan["auth"], json=body
        )
        assert r.status_code == 422, body


async def test_payment_targets_are_checked(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator")
    fan = await register(client, "fan")
    body = {"amount_minor": 500, "card_token": "tok_visa"}
    to_self = await client.post(
        API.format("fanz-1") + f"/creators/{creator['user_id']}/tips", headers=creator["auth"], json=body
    )
    to_fan = await client.post(
        API.format("fanz-1") + f"/creators/{fan['user_id']}/tips", headers=creator["auth"], json=body
    )
    to_nobody = await client.post(
        API.format("fanz-1") + "/creators/999999/subscriptions", headers=fan["auth"], json={"card_token": "tok_visa"}
    )
    assert (to_self.status_code, to_fan.status_code, to_nobody.status_code) == (422, 404, 404)


# --- faults, health, metrics, pages -------------------------------------------------------


async def test_injected_platform_faults(client: httpx.AsyncClient) -> None:
    fan = await register(client)
    r = await client.patch("/admin/faults", json={"registration_broken": True})
    assert r.json() == {"latency_seconds": 0.0, "error_rate": 0.0, "registration_broken": True}
    body = {"email": "new@example.org", "password": "long enough", "role": "fan", "display_name": "N"}
    assert (await client.post(API.format("fanz-1") + "/auth/register", json=body)).status_code == 500
    assert (await client.get(API.format("fanz-1") + "/me", headers=fan["auth"])).status_code == 200
    both = await client.patch("/admin/faults", json={"error_rate": 1.0})
    assert both.json()["registration_broken"] is True  # a patch keeps the other faults
    assert (await client.get(API.format("fanz-1") + "/me", headers=fan["auth"])).status_code == 500
    assert (await client.get("/health/live")).status_code == 200  # only the tenant API is affected
    await client.delete("/admin/faults")
    assert (await client.post(API.format("fanz-1") + "/auth/register", json=body)).status_code == 201
    assert (await client.patch("/admin/faults", json={"error_rate": 2})).status_code == 422


async def test_health_endpoints(client: httpx.AsyncClient, processor: ServedApp) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.headers["content-type"] == "application/health+json"
    full = (await client.get("/health")).json()
    names = {key.split(":")[0] for key in full["checks"]}
    assert names == {"database", "object_storage", "payment_processor_primary", "payment_processor_backup"}
    async with httpx.AsyncClient(base_url=processor.url) as admin:
        await admin.put("/admin/faults/primary", json={"outage": True})
    one = await client.get("/health/checks/payment_processor_primary")
    assert one.status_code == 503
    # The processor is not critical: the platform stays ready.
    assert (await client.get("/health/ready")).status_code == 200


async def test_health_metrics_belong_to_no_single_tenant(
    client: httpx.AsyncClient, telemetry: TelemetryCapture
) -> None:
    await client.get("/health")
    # Two tenants share the database: its health is labelled "other", not the first tenant.
    assert telemetry.get_sample_value("fanz_health_check_critical", {"platform": "other", "check": "database"}) == 1.0
    assert (
        telemetry.get_sample_value(
            "fanz_health_check_status", {"platform": "other", "check": "database", "status": "pass"}
        )
        == 1.0
    )
    assert telemetry.get_sample_value("fanz_health_check_critical", {"platform": "fanz-1", "check": "database"}) is None
    assert health_platform(("fanz-7",)) == "fanz-7"  # a single-tenant process is that tenant
    assert health_platform(("fanz-1", "fanz-2")) == "other"


async def test_metrics_are_per_platform_and_route_template(client: httpx.AsyncClient) -> None:
    await register(client, platform="fanz-2")
    text = (await client.get("/metrics")).text
    expected = (
        'http_server_request_duration_seconds_count{http_request_method="POST",'
        'http_response_status_code="201",http_route="/p/{platform}/api/v1/auth/register",'
        'platform="fanz-2",status_class="2xx"} 1.0'
    )
    assert expected in text, [x for x in text.splitlines() if "duration_seconds_count" in x]


async def test_pages_include_the_rum_script(client: httpx.AsyncClient) -> None:
    creator = await register(client, "creator", subscription_price_minor=999)
    landing = await client.get("/p/fanz-1/")
    assert landing.status_code == 200
    assert '<script src="http://127.0.0.1:8900/rum/fanz-rum.js" data-platform="fanz-1" defer></script>' in landing.text
    assert f"/p/fanz-1/creators/{creator['user_id']}" in landing.text
    page = await client.get(f"/p/fanz-1/creators/{creator['user_id']}")
    assert page.status_code == 200
    assert "9.99 USD" in page.text
    assert (await client.get("/p/fanz-1/creators/424242")).status_code == 404


async def test_ids_out_of_range_are_422_not_500(client: httpx.AsyncClient) -> None:
    fan = await register(client)
    huge = 2**70
    assert (await client.post(API.format("fanz-1") + f"/content/{huge}/views", headers=fan["auth"])).status_code == 422
    assert (await client.get(API.format("fanz-1") + "/content", params={"before_id": huge})).status_code == 422
    assert (await client.get(API.format("fanz-1") + "/content/abc")).status_code == 422
    assert (await client.get(f"/p/fanz-1/creators/{huge}")).status_code == 422


@pytest.mark.postgres
async def test_the_platform_runs_on_postgresql(
    tmp_path: Path, processor: ServedApp, telemetry: TelemetryCapture, pg_url: str
) -> None:
    app = create_platform_app(platform_config(tmp_path, processor.url, pg_url), telemetry=telemetry.telemetry)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://platform") as pg,
    ):
        creator = await register(pg, "creator", subscription_price_minor=999)
        fan = await register(pg, "fan")
        item = await upload(pg, creator, price=499)
        assert item.status_code == 201
        bought = await pg.post(
            API.format("fanz-1") + f"/content/{item.json()['content_id']}/purchases",
            headers=fan["auth"],
            json={"card_token": "tok_visa"},
        )
        assert (bought.status_code, bought.json()["amount"]) == (201, "4.99")
        sub = await pg.post(
            API.format("fanz-1") + f"/creators/{creator['user_id']}/subscriptions",
            headers=fan["auth"],
            json={"card_token": "tok_chargeDeclined"},
        )
        assert sub.status_code == 402
        assert (await pg.get("/health/ready")).status_code == 200
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.transactions.c.type, schema.transactions.c.status)).all()
    engine.dispose()
    assert sorted(map(tuple, rows)) == [("ppv", "completed"), ("subscription", "declined")]
