"""The base every component's settings class derives from."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


def component_config(component: str) -> SettingsConfigDict:
    """Settings config for one component: ``FANZWATCH_<COMPONENT>_*`` variables."""
    prefix = f"FANZWATCH_{component.upper()}_" if component else "FANZWATCH_"
    return SettingsConfigDict(env_prefix=prefix, extra="forbid", validate_default=True, frozen=True)


class ComponentSettings(BaseSettings):
    """Base class: typed, immutable, read from the environment only here."""

    model_config = component_config("")
