"""FanzDash sign-in with role tokens, the role on pages, CSRF, origins, redirects.

The route policy itself (which role each route needs) is tested over the whole app in
``tests/server/test_auth_matrix.py``; here, what a person meets in FanzDash."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from fanzwatch.server.dash import DashSources, is_loopback
from fanzwatch.server.dash.security import CSRF_COOKIE, SESSION_COOKIE

from .._auth import ADMIN, RESPONDER, VIEWER
from .conftest import MakeClient
from .fakes import FakeAlertmanager

SILENCE = {
    "matchers": 'alertname="HighErrorRate", platform="fanz-2"',
    "duration": "2h",
    "created_by": "jane",
    "comment": "deploy in progress",
}


def csrf_of(client: TestClient, path: str = "/dash/alerts") -> str:
    page = client.get(path).text
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', page)[:1]
    assert client.cookies.get(CSRF_COOKIE) == token
    return token


def am_of(sources: DashSources) -> FakeAlertmanager:
    assert isinstance(sources.alertmanager, FakeAlertmanager)
    return sources.alertmanager


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("dash.example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_on_loopback_without_token_a_same_origin_form_creates_a_silence(
    make_client: MakeClient, full_sources: DashSources
) -> None:
    client = make_client(full_sources)
    response = client.post("/dash/alerts/silences", data={**SILENCE, "csrf": csrf_of(client)})
    assert response.status_code == 303
    (silence,) = am_of(full_sources).silences_
    assert response.headers["location"] == f"/dash/alerts?created={silence.id}#silences"
    assert [str(m) for m in silence.matchers] == ['alertname="HighErrorRate"', 'platform="fanz-2"']
    assert (silence.ends_at - silence.starts_at).total_seconds() == 7200
    assert (silence.created_by, silence.comment) == ("jane", "deploy in progress")
    assert f"Silence {silence.id} created." in client.get(response.headers["location"]).text

    expire = client.post(f"/dash/alerts/silences/{silence.id}/expire", data={"csrf": csrf_of(client)})
    assert expire.status_code == 303
    assert am_of(full_sources).silences_[0].state == "expired"


@pytest.mark.parametrize(
    ("headers", "csrf", "message"),
    [
        ({}, None, "CSRF check failed"),
        ({}, "forged.0123456789abcdef0123456789abcdef", "CSRF check failed"),
        ({"origin": "https://evil.example"}, "valid", "Refused a request from another site (https://evil.example)."),
        ({"sec-fetch-site": "cross-site"}, "valid", "Refused a request from another site."),
    ],
)
def test_cross_site_or_forged_posts_are_refused(
    make_client: MakeClient, full_sources: DashSources, headers: dict[str, str], csrf: str | None, message: str
) -> None:
    client = make_client(full_sources)
    token = csrf_of(client)
    data = dict(SILENCE)
    if csrf is not None:
        data["csrf"] = token if csrf == "valid" else csrf
    response = client.post("/dash/alerts/silences", data=data, headers=headers)
    assert response.status_code == 403
    assert message in response.text
    assert am_of(full_sources).silences_ == []


def sign_in(client: TestClient, token: str, next_page: str = "/dash/") -> httpx.Response:
    return client.post("/dash/login", data={"token": token, "csrf": csrf_of(client, "/dash/login"), "next": next_page})


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_pages_need_sign_in_and_the_session_carries_the_role(
    make_client: MakeClient, full_sources: DashSources, host: str
) -> None:
    client = make_client(full_sources, secured=True, host=host)
    redirect = client.get("/dash/bi?window=7d")
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/dash/login?next=/dash/bi%3Fwindow%3D7d"
    assert client.get("/dash/static/fanzdash.css").status_code == 200  # the login page needs its styles

    wrong = sign_in(client, "not-the-token-at-all", "/dash/bi")
    assert wrong.status_code == 401
    assert "That token is not a viewer, responder or admin token of this server." in wrong.text
    signed = sign_in(client, VIEWER, "/dash/bi?window=7d")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/dash/bi?window=7d"
    session = client.cookies.get(SESSION_COOKIE)
    assert session and session.startswith("viewer.") and VIEWER not in session
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dash" in cookie

    page = client.get("/dash/bi?window=7d")
    assert page.status_code == 200
    assert '<span class="role" title="what you may do here">viewer</span>' in page.text
    alerts = client.get("/dash/alerts").text
    assert "Creating or expiring silences needs the responder role; you are signed in as viewer." in alerts
    assert 'action="/dash/alerts/silences"' not in alerts  # no form a viewer cannot use
    refused = client.post("/dash/alerts/silences", data={**SILENCE, "csrf": csrf_of(client)})
    assert refused.status_code == 403
    assert "This needs the responder role; you are signed in as viewer." in refused.text
    assert am_of(full_sources).silences_ == []

    client.post("/dash/logout", data={"csrf": csrf_of(client)})
    assert client.get("/dash/alerts").status_code == 303


@pytest.mark.parametrize("token", [RESPONDER, ADMIN])
def test_a_responder_or_admin_session_creates_and_expires_silences(
    make_client: MakeClient, full_sources: DashSources, token: str
) -> None:
    client = make_client(full_sources, secured=True, host="0.0.0.0")
    assert sign_in(client, token).status_code == 303
    created = client.post("/dash/alerts/silences", data={**SILENCE, "csrf": csrf_of(client)})
    assert created.status_code == 303
    (silence,) = am_of(full_sources).silences_
    expired = client.post(f"/dash/alerts/silences/{silence.id}/expire", data={"csrf": csrf_of(client)})
    assert expired.status_code == 303


def test_a_forged_or_promoted_session_cookie_is_anonymous(make_client: MakeClient, full_sources: DashSources) -> None:
    client = make_client(full_sources, secured=True)
    assert sign_in(client, VIEWER).status_code == 303
    viewer_cookie = client.cookies.get(SESSION_COOKIE)
    assert viewer_cookie is not None
    _role, expiry, signature = viewer_cookie.split(".")
    for forged in (f"admin.{expiry}.{signature}", f"viewer.{int(expiry) + 10**6}.{signature}", "admin.9999999999.00"):
        other = make_client(full_sources, secured=True)
        other.cookies.set(SESSION_COOKIE, forged, path="/dash")
        assert other.get("/dash/alerts").status_code == 303, forged


def test_scripts_use_bearer_tokens_without_cookies_or_csrf(make_client: MakeClient, full_sources: DashSources) -> None:
    script = make_client(full_sources, secured=True)
    ok = script.post("/dash/alerts/silences", data=SILENCE, headers={"authorization": f"Bearer {RESPONDER}"})
    assert ok.status_code == 303
    viewer = script.post("/dash/alerts/silences", data=SILENCE, headers={"authorization": f"Bearer {VIEWER}"})
    assert viewer.status_code == 403
    bad = script.post("/dash/alerts/silences", data=SILENCE, headers={"authorization": "Bearer nope-nope-nope"})
    assert bad.status_code == 401
    assert len(am_of(full_sources).silences_) == 1


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/elsewhere", "/dash\\@evil"])
def test_sign_in_never_redirects_off_the_dashboard(
    make_client: MakeClient, full_sources: DashSources, target: str
) -> None:
    client = make_client(full_sources, secured=True, host="0.0.0.0")
    response = sign_in(client, ADMIN, target)
    assert response.status_code == 303
    assert response.headers["location"] == "/dash/"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"matchers": ""}, 'Matchers: add at least one matcher, e.g. alertname="HighErrorRate"'),
        ({"matchers": "alertname HighErrorRate"}, 'Matchers: cannot read the matcher at "alertname HighErrorRate"'),
        ({"matchers": 'alertname=~"("'}, "alertname: '(' is not a valid regular expression"),
        ({"matchers": 'alertname=~".*"'}, "at least one matcher must need a non-empty value"),
        ({"duration": "10y"}, "Duration: choose one of 30m, 1h, 2h, 4h, 8h, 1d, 3d, 1w"),
        ({"created_by": "  "}, "Created by: say who you are"),
        ({"comment": ""}, "Comment: say why"),
    ],
)
def test_invalid_silence_forms_answer_400_and_keep_the_input(
    make_client: MakeClient, full_sources: DashSources, form: dict[str, str], message: str
) -> None:
    client = make_client(full_sources)
    response = client.post("/dash/alerts/silences", data={**SILENCE, **form, "csrf": csrf_of(client)})
    assert response.status_code == 400
    assert message in response.text.replace("&#34;", '"').replace("&#39;", "'")
    assert am_of(full_sources).silences_ == []
    assert "deploy in progress" in response.text or form.get("comment") == ""


def test_silence_link_prefills_the_alerts_labels(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/alerts?silence=fphigherrorratefanz-2").text
    assert (
        "alertname=&#34;HighErrorRate&#34;, platform=&#34;fanz-2&#34;, severity=&#34;critical&#34;</textarea>" in page
    )
