"""Two server-rendered pages per tenant (landing, creator), with the RUM script when configured.

Plain HTML built with escaping, no template engine: the pages exist so real browsers
(and the RUM tests) have something to load, click and measure.
"""

from __future__ import annotations

from html import escape

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from fanzwatch import schema
from fanzwatch.sdk import current_traceparent

from .runtime import PathId, Runtime, Tenant
from .tables import content_files, credentials

router = APIRouter(tags=["pages"])


def _page(rt: Runtime, platform: str, title: str, body: str) -> HTMLResponse:
    rum = ""
    if rt.config.rum_script_url:
        endpoint = f' data-endpoint="{escape(rt.config.rum_endpoint)}"' if rt.config.rum_endpoint else ""
        src = escape(rt.config.rum_script_url)
        rum = f'<script src="{src}" data-platform="{escape(platform)}"{endpoint} defer></script>'
    # The page's own trace: fanz-rum.js reports the page view and the page's API calls under it.
    traceparent = current_traceparent()
    meta = f'<meta name="traceparent" content="{traceparent}">' if traceparent else ""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{escape(title)}</title>{rum}
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}
li{{margin:.3rem 0}} .price{{color:#a40}}</style></head>
<body><header><a href="/p/{escape(platform)}/" data-rum="home">{escape(platform)}</a></header>
<main>{body}</main></body></html>"""
    return HTMLResponse(html)


@router.get("/p/{platform}/", response_class=HTMLResponse)
async def landing(rt: Runtime, platform: Tenant) -> HTMLResponse:
    u = schema.users
    creators_q = (
        sa.select(u.c.id, credentials.c.display_name)
        .join(credentials, credentials.c.user_id == u.c.id)
        .where(u.c.platform == platform, u.c.role == "creator")
        .order_by(u.c.id.desc())
        .limit(20)
    )
    async with rt.engine.connect() as conn:
        creators = (await conn.execute(creators_q)).all()
    items = "".join(
        f'<li><a href="/p/{escape(platform)}/creators/{c.id}" data-rum="creator-link">{escape(c.display_name)}</a></li>'
        for c in creators
    )
    body = f"<h1>Creators on {escape(platform)}</h1><ul>{items or '<li>No creators yet.</li>'}</ul>"
    return _page(rt, platform, f"{platform}: creators", body)


@router.get("/p/{platform}/creators/{creator_id}", response_class=HTMLResponse)
async def creator_page(rt: Runtime, platform: Tenant, creator_id: PathId) -> HTMLResponse:
    u, c = schema.users, schema.content
    async with rt.engine.connect() as conn:
        creator = (
            await conn.execute(
                sa.select(
                    credentials.c.display_name, credentials.c.subscription_price, credentials.c.subscription_currency
                )
                .join(u, u.c.id == credentials.c.user_id)
                .where(u.c.id == creator_id, u.c.platform == platform, u.c.role == "creator")
            )
        ).first()
        if creator is None:
            raise HTTPException(404, "no such creator on this platform")
        items = (
            await conn.execute(
                sa.select(c.c.id, c.c.type, c.c.ppv_price, c.c.currency, content_files.c.title)
                .join(content_files, content_files.c.content_id == c.c.id)
                .where(c.c.creator_id == creator_id)
                .order_by(c.c.id.desc())
                .limit(50)
            )
        ).all()
    rows = "".join(
        f"<li>{escape(i.title)} <small>({escape(i.type)})</small>"
        + (
            f' <span class="price">{i.ppv_price:.2f} {escape(i.currency or "")}</span>'
            if i.ppv_price is not None
            else ""
        )
        + "</li>"
        for i in items
    )
    price = f"{creator.subscription_price:.2f} {escape(creator.subscription_currency or '')}"
    # The latest items come from the API (a same-origin fetch: fanz-rum.js adds traceparent,
    # so the API's server span joins the page view's trace).
    feed = f"/p/{escape(platform)}/api/v1/content?creator_id={creator_id}&limit=5"
    latest = (
        '<p id="latest" data-feed="' + feed + '">Latest: …</p><script>addEventListener("DOMContentLoaded",()=>'
        'fetch(document.getElementById("latest").dataset.feed).then(r=>r.json()).then(items=>{'
        'document.getElementById("latest").textContent="Latest: "+items.length+" items"}).catch(()=>{}))</script>'
    )
    body = (
        f"<h1>{escape(creator.display_name)}</h1><p>Subscribe for {price} a month.</p>"
        f'<button type="button" data-rum="subscribe">Subscribe</button>{latest}'
        f"<ul>{rows or '<li>Nothing yet.</li>'}</ul>"
    )
    return _page(rt, platform, creator.display_name, body)
