"""RUM settings validate what an operator types; the RUM catalog's buckets hold the thresholds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fanzwatch.core.catalog import CATALOG
from fanzwatch.core.catalog.rum import METRICS, VITAL_METRICS, VITAL_THRESHOLDS
from fanzwatch.settings.rum import RumSettings


def test_defaults_are_safe() -> None:
    s = RumSettings()
    assert s.allowed_origins == ()  # same origin only
    assert s.public_keys == ()
    assert s.max_body_bytes == 65536 and s.max_decompressed_bytes == 262144
    assert s.rate_limit_clients == 10_000 and s.max_page_templates == 200


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_RUM_ALLOWED_ORIGINS", '["https://Fanz-1.example/"]')
    monkeypatch.setenv("FANZWATCH_RUM_RETENTION_DAYS", "7")
    s = RumSettings()
    assert s.allowed_origins == ("https://fanz-1.example",)
    assert s.retention_days == 7


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("allowed_origins", ("fanz-1.example",), "scheme://host"),
        ("allowed_origins", ("https://x.example/path",), "scheme://host"),
        ("public_keys", ("short",), "8-128 characters"),
        ("page_routes", ("creator/:id",), "must start with '/'"),
        ("bot_user_agent_pattern", "bot(", "not a valid regex"),
        ("max_body_bytes", 10, "greater than or equal"),
        ("rate_limit_per_second", 0, "greater than"),
    ],
)
def test_invalid_settings_say_what_to_fix(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RumSettings(**{field: value})


@pytest.mark.parametrize("name", sorted(VITAL_THRESHOLDS))
def test_vital_buckets_include_the_good_and_poor_thresholds(name: str) -> None:
    good, poor = VITAL_THRESHOLDS[name]
    buckets = VITAL_METRICS[name].buckets
    assert buckets is not None and good in buckets and poor in buckets


def test_rum_metrics_are_in_the_catalog_with_bounded_labels() -> None:
    for spec in METRICS:
        assert CATALOG[spec.name] is spec
        assert spec.label_names[0] == "platform"
        assert not {"url", "path", "session_id", "user_agent"} & set(spec.label_names)
