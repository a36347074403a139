"""What simulated fans and creators do, one HTTP request (or two) per action.

Each action picks its actors at random from the population and talks to the platform's
public API exactly as an app would. The mix is weighted towards browsing; payments are
about one action in seven, a few with cards that the processor declines or that its
fraud check rejects, so the payment metrics always have every outcome.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from .population import SAMPLE_PAYLOADS, Actor, ContentRef, Population, Role

# (action, weight) for the traffic mix; weights are relative.
ACTION_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("view", 38.0),
    ("like", 14.0),
    ("comment", 6.0),
    ("share", 4.0),
    ("browse", 8.0),
    ("login", 3.0),
    ("register_fan", 3.0),
    ("register_creator", 0.6),
    ("upload", 4.0),
    ("subscribe", 4.0),
    ("tip", 7.0),
    ("ppv", 4.0),
)
# Cards: mostly good, some declined by the issuer, some rejected by the fraud check.
CARD_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("tok_visa", 96.5),
    ("tok_chargeDeclined", 1.5),
    ("tok_chargeDeclinedInsufficientFunds", 0.8),
    ("tok_riskLevelHighest", 1.2),
)
SOURCES: tuple[tuple[str, float], ...] = (("web", 50.0), ("ios", 22.0), ("android", 20.0), ("referral", 8.0))
SHARE_CHANNELS = ("link", "twitter", "instagram", "tiktok")
CONTENT_KINDS: tuple[tuple[str, float], ...] = (("image", 55.0), ("video", 20.0), ("audio", 10.0), ("text", 15.0))


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


@dataclass
class ActionContext:
    """What an action needs: the HTTP client, the population and a random source."""

    http: httpx.AsyncClient
    population: Population
    rng: random.Random
    run_id: str

    def api(self, platform: str, path: str) -> str:
        return f"/p/{platform}/api/v1{path}"


Action = Callable[[ActionContext, str], Awaitable[int | None]]


def _auth(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {actor.token}"}


async def register(ctx: ActionContext, platform: str, role: Role) -> int | None:
    handle = uuid.uuid4().hex[:10]
    email = f"{role}-{ctx.run_id}-{handle}@demo.fanz.test"
    password = uuid.uuid4().hex
    body: dict[str, object] = {
        "email": email,
        "password": password,
        "role": role,
        "display_name": f"{role.title()} {handle[:6]}",
        "source": pick(ctx.rng, SOURCES),
    }
    if role == "creator":
        body["subscription_price_minor"] = ctx.rng.choice((499, 999, 1499, 1999))
    r = await ctx.http.post(ctx.api(platform, "/auth/register"), json=body)
    if r.status_code == 201:
        data = r.json()
        actor = Actor(platform, role, data["user_id"], email, password, data["token"])
        ctx.population.add(actor, ctx.rng)
    return r.status_code


async def login(ctx: ActionContext, platform: str) -> int | None:
    tenant = ctx.population.tenant(platform)
    actors = tenant.fans + tenant.creators
    if not actors:
        return None
    actor = ctx.rng.choice(actors)
    r = await ctx.http.post(ctx.api(platform, "/auth/login"), json={"email": actor.email, "password": actor.password})
    if r.status_code == 200:
        actor.token = r.json()["token"]
    return r.status_code


async def upload(ctx: ActionContext, platform: str) -> int | None:
    tenant = ctx.population.tenant(platform)
    if not tenant.creators:
        return None
    creator = ctx.rng.choice(tenant.creators)
    kind = pick(ctx.rng, CONTENT_KINDS)
    filename, mime, payload = SAMPLE_PAYLOADS[kind]
    price = ctx.rng.choice((299, 499, 999)) if ctx.rng.random() < 0.3 else None
    data = {"title": f"{kind} {uuid.uuid4().hex[:6]}"} | ({"price_minor": str(price)} if price else {})
    r = await ctx.http.post(
        ctx.api(platform, "/content"), headers=_auth(creator), data=data, files={"file": (filename, payload, mime)}
    )
    if r.status_code == 201:
        tenant.content.append(ContentRef(r.json()["content_id"], creator.user_id, price))
    return r.status_code


def _fan_and_content(ctx: ActionContext, platform: str) -> tuple[Actor, ContentRef] | None:
    tenant = ctx.population.tenant(platform)
    if not tenant.fans or not tenant.content:
        return None
    return ctx.rng.choice(tenant.fans), ctx.rng.choice(tenant.content)


async def engage(ctx: ActionContext, platform: str, kind: str) -> int | None:
    picked = _fan_and_content(ctx, platform)
    if picked is None:
        return None
    fan, content = picked
    path = f"/content/{content.content_id}"
    if kind == "view":
        r = await ctx.http.post(ctx.api(platform, f"{path}/views"), headers=_auth(fan))
    elif kind == "like":
        r = await ctx.http.post(ctx.api(platform, f"{path}/likes"), headers=_auth(fan))
    elif kind == "comment":
        body = {"body": ctx.rng.choice(("love this", "amazing!", "more please", "🔥🔥🔥"))}
        r = await ctx.http.post(ctx.api(platform, f"{path}/comments"), headers=_auth(fan), json=body)
    else:
        body = {"channel": ctx.rng.choice(SHARE_CHANNELS)}
        r = await ctx.http.post(ctx.api(platform, f"{path}/shares"), headers=_auth(fan), json=body)
    return r.status_code


async def browse(ctx: ActionContext, platform: str) -> int | None:
    r = await ctx.http.get(ctx.api(platform, "/content"), params={"limit": 20})
    return r.status_code


async def subscribe(ctx: ActionContext, platform: str) -> int | None:
    tenant = ctx.population.tenant(platform)
    if not tenant.fans or not tenant.creators:
        return None
    fan, creator = ctx.rng.choice(tenant.fans), ctx.rng.choice(tenant.creators)
    body = {"card_token": pick(ctx.rng, CARD_WEIGHTS)}
    r = await ctx.http.post(
        ctx.api(platform, f"/creators/{creator.user_id}/subscriptions"), headers=_auth(fan), json=body
    )
    return r.status_code


async def tip(ctx: ActionContext, platform: str) -> int | None:
    tenant = ctx.population.tenant(platform)
    if not tenant.fans or not tenant.creators:
        return None
    fan, creator = ctx.rng.choice(tenant.fans), ctx.rng.choice(tenant.creators)
    body = {
        "amount_minor": ctx.rng.choice((100, 200, 500, 1000, 2500)),
        "currency": ctx.rng.choice(("USD", "USD", "USD", "EUR", "GBP")),
        "card_token": pick(ctx.rng, CARD_WEIGHTS),
    }
    r = await ctx.http.post(ctx.api(platform, f"/creators/{creator.user_id}/tips"), headers=_auth(fan), json=body)
    return r.status_code


async def buy_ppv(ctx: ActionContext, platform: str) -> int | None:
    tenant = ctx.population.tenant(platform)
    ppv = tenant.ppv()
    if not tenant.fans or not ppv:
        return None
    fan, content = ctx.rng.choice(tenant.fans), ctx.rng.choice(ppv)
    body = {"card_token": pick(ctx.rng, CARD_WEIGHTS)}
    r = await ctx.http.post(
        ctx.api(platform, f"/content/{content.content_id}/purchases"), headers=_auth(fan), json=body
    )
    return r.status_code


async def run_action(ctx: ActionContext, platform: str, action: str) -> int | None:
    """Run one named action; ``None`` when it had nobody or nothing to act on."""
    if action == "register_fan":
        return await register(ctx, platform, "fan")
    if action == "register_creator":
        return await register(ctx, platform, "creator")
    if action == "login":
        return await login(ctx, platform)
    if action == "upload":
        return await upload(ctx, platform)
    if action in ("view", "like", "comment", "share"):
        return await engage(ctx, platform, action)
    if action == "browse":
        return await browse(ctx, platform)
    if action == "subscribe":
        return await subscribe(ctx, platform)
    if action == "tip":
        return await tip(ctx, platform)
    if action == "ppv":
        return await buy_ppv(ctx, platform)
    raise ValueError(f"unknown action {action!r}")
