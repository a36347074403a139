"""``BiSettings``: FANZWATCH_BI_* variables, validation with clear messages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from fanzwatch.settings.bi import BiSettings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_BI_DATABASE_URL", "postgresql+psycopg://reader@replica/fanz")
    monkeypatch.setenv("FANZWATCH_BI_DEFAULT_FEE_RATE", "0.25")
    monkeypatch.setenv("FANZWATCH_BI_REPORTING_CURRENCY", "EUR")
    s = BiSettings()
    assert (
        s.database_url is not None and s.database_url.get_secret_value() == "postgresql+psycopg://reader@replica/fanz"
    )
    assert "reader@replica" not in repr(s)  # a URL may carry a password: kept secret
    assert (s.default_fee_rate, s.reporting_currency, s.cache_ttl_seconds) == (Decimal("0.25"), "EUR", 300.0)
    assert (s.use_rollups, s.metrics_window, s.rollup_url) == (True, "15m", None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database_url", "mysql://x", "sqlite:///PATH or postgresql"),
        ("reporting_currency", "usd", "3-letter ISO 4217"),
        ("default_fee_rate", "1.5", "less than or equal to 1"),
        ("metrics_window", "15", "number and a unit"),
        ("cache_ttl_seconds", "-1", "greater than or equal to 0"),
    ],
)
def test_invalid_values(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BiSettings.model_validate({field: value})
