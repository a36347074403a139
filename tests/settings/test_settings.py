from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from fanzwatch.settings import ServerSettings, StoreSettings


def test_defaults_are_local_and_not_the_prometheus_port() -> None:
    s = ServerSettings()
    assert s.host == "127.0.0.1"
    assert s.port != 9090
    assert s.store_url == f"sqlite:///{Path('.fanzwatch') / 'fanzwatch.db'}"


def test_environment_is_read_per_component(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FANZWATCH_SERVER_PORT", "9311")
    monkeypatch.setenv("FANZWATCH_SERVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FANZWATCH_SERVER_PLATFORMS", '["alpha","beta"]')
    monkeypatch.setenv("FANZWATCH_STORE_URL", "postgresql+psycopg://postgres@127.0.0.1/x")
    s = ServerSettings()
    assert (s.port, s.data_dir, s.platforms) == (9311, tmp_path, ("alpha", "beta"))
    assert s.store_url == "postgresql+psycopg://postgres@127.0.0.1/x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "greater than or equal to 1"),
        ({"platforms": ("Bad Slug",)}, "invalid platform"),
        ({"log_level": "loud"}, "log_level"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_invalid_settings_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServerSettings(**kwargs)  # type: ignore[arg-type]


def test_store_url_must_be_a_supported_backend() -> None:
    with pytest.raises(ValidationError, match="sqlite"):
        StoreSettings(url="mysql://x")
