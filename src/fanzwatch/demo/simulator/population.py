"""The simulated people: fans and creators per platform, and the content they know of.

Everything is bounded: a pool of actors per platform (new registrations replace old ones
once the pool is full) and the most recent content items only.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["fan", "creator"]
CONTENT_MEMORY = 200


@dataclass(slots=True)
class Actor:
    platform: str
    role: Role
    user_id: str
    email: str
    password: str
    token: str


@dataclass(frozen=True, slots=True)
class ContentRef:
    content_id: str
    creator_id: str
    price_minor: int | None  # pay-per-view when set


@dataclass
class Tenant:
    """One platform's actors and recent content."""

    fans: list[Actor] = field(default_factory=list)
    creators: list[Actor] = field(default_factory=list)
    content: deque[ContentRef] = field(default_factory=lambda: deque(maxlen=CONTENT_MEMORY))

    def ppv(self) -> list[ContentRef]:
        return [c for c in self.content if c.price_minor is not None]


@dataclass
class Population:
    """All tenants; ``add`` keeps each pool within its cap."""

    fan_cap: int
    creator_cap: int
    tenants: dict[str, Tenant] = field(default_factory=dict)

    def tenant(self, platform: str) -> Tenant:
        return self.tenants.setdefault(platform, Tenant())

    def add(self, actor: Actor, rng: random.Random) -> None:
        tenant = self.tenant(actor.platform)
        pool, cap = (tenant.fans, self.fan_cap) if actor.role == "fan" else (tenant.creators, self.creator_cap)
        if len(pool) < cap:
            pool.append(actor)
        else:
            pool[rng.randrange(len(pool))] = actor

    def size(self) -> int:
        return sum(len(t.fans) + len(t.creators) for t in self.tenants.values())


# Tiny but well-formed payloads: the platform sniffs magic bytes, so these must be real headers.
SAMPLE_PAYLOADS: dict[str, tuple[str, str, bytes]] = {
    "image": ("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)),
    "video": ("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(256)),
    "audio": ("track.mp3", "audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(128)),
    "text": ("post.txt", "text/plain", b"A new post for my fans.\n" * 4),
}
