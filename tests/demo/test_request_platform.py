"""Requests that belong to no tenant (admin, health, a 404) are not counted as the first tenant's."""

from __future__ import annotations

import httpx

from fanzwatch.sdk.testing import TelemetryCapture

METRIC = "http_server_request_duration_seconds_count"


def _count(telemetry: TelemetryCapture, route: str, platform: str, status: str) -> float:
    labels = {
        "platform": platform,
        "http_request_method": "GET",
        "http_route": route,
        "http_response_status_code": status,
        "status_class": f"{status[0]}xx",
    }
    return telemetry.get_sample_value(METRIC, labels) or 0.0


async def test_admin_and_unknown_paths_are_platform_other(
    client: httpx.AsyncClient, telemetry: TelemetryCapture
) -> None:
    assert (await client.get("/admin/faults")).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404
    assert (await client.get("/p/fanz-2/")).status_code == 200

    for route, status in (("/admin/faults", "200"), ("unmatched", "404")):
        assert _count(telemetry, route, "other", status) == 1.0, route
        assert _count(telemetry, route, "fanz-1", status) == 0.0, route
    # A tenant's page is still its own.
    assert _count(telemetry, "/p/{platform}/", "fanz-2", "200") == 1.0
