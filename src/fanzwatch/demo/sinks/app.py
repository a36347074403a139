"""Slack incoming webhooks and PagerDuty Events API v2, received for real, and a page to read them.

The fanzwatch server's notifiers post here exactly as they would to Slack and PagerDuty;
these endpoints answer the way the real services do, including their refusals, so a
malformed notification fails here as it would in production:

==========================================  =====================================================
``POST /slack/services/...``                 ``200 ok``; ``400 invalid_payload`` (not JSON),
                                             ``400 no_text`` (neither ``text`` nor ``blocks``)
``POST /pagerduty/v2/enqueue``               ``202 {"status": "success", "dedup_key": ...}``;
                                             ``400 {"status": "invalid event", "errors": [...]}``
``GET /``                                    every delivered message, newest first (HTML;
                                             ``?channel=slack|pagerduty|email``)
``GET /api/messages``                        the same as JSON (oldest first)
==========================================  =====================================================
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from .messages import Delivered, MessageLog

PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")
CHANNELS = ("slack", "pagerduty", "email")
# The shortcodes fanzwatch's Slack messages use, as the Slack client shows them.
EMOJI = {
    ":rotating_light:": "\N{POLICE CARS REVOLVING LIGHT}",
    ":sos:": "\N{SQUARED SOS}",
    ":eyes:": "\N{EYES}",
    ":white_check_mark:": "\N{WHITE HEAVY CHECK MARK}",
    ":warning:": "\N{WARNING SIGN}",
}
_LINK = re.compile(r"&lt;(https?://[^|&]+)\|([^&]*)&gt;")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def slack_text(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text: emoji shortcodes drawn, ``<url|label>`` as the label."""
    for code, char in EMOJI.items():
        mrkdwn = mrkdwn.replace(code, char)
    return re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2 (\1)", mrkdwn)


def slack_html(mrkdwn: str) -> str:
    """Slack mrkdwn as (escaped) HTML: emoji, links, bold, italics, line breaks."""
    for code, char in EMOJI.items():
        mrkdwn = mrkdwn.replace(code, char)
    html = _LINK.sub(r'<a href="\1">\2</a>', escape(mrkdwn))
    html = _ITALIC.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", html))
    return html.replace("\n", "<br>")


def _block_texts(blocks: object) -> list[str]:
    texts: list[str] = []
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            texts.append(text["text"])
        for element in block.get("elements") or ():
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                texts.append(element["text"])
    return texts


def _pd_errors(event: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    if not isinstance(event.get("routing_key"), str) or not event["routing_key"]:
        errors.append("'routing_key' is missing or blank.")
    action = event.get("event_action")
    if action not in PD_ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(PD_ACTIONS)}.")
    if action in ("acknowledge", "resolve") and not event.get("dedup_key"):
        errors.append(f"'dedup_key' is required for {action} events.")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object.")
        else:
            for key in ("summary", "source"):
                if not isinstance(payload.get(key), str) or not payload[key]:
                    errors.append(f"'payload.{key}' is missing or blank.")
            if payload.get("severity") not in PD_SEVERITIES:
                errors.append(f"'payload.severity' must be one of {', '.join(PD_SEVERITIES)}.")
    return errors


def create_sinks_app(log: MessageLog, *, smtp_address: str | None = None) -> FastAPI:
    """The receivers and the page, over ``log`` (which the SMTP server writes too)."""
    app = FastAPI(title="fanzwatch demo sinks: Slack, PagerDuty, e-mail", docs_url=None, redoc_url=None)

    @app.post("/slack/services/{hook:path}")
    async def slack_webhook(hook: str, request: Request) -> PlainTextResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(body, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        text, blocks = body.get("text"), _block_texts(body.get("blocks"))
        if not (isinstance(text, str) and text.strip()) and not blocks:
            return PlainTextResponse("no_text", status_code=400)
        log.add(
            "slack",
            to=f"/services/{hook}",
            title=slack_text(text) if isinstance(text, str) else "",
            text="\n".join(blocks) if blocks else str(text),
            detail={"body": body},
        )
        return PlainTextResponse("ok")

    @app.post("/pagerduty/v2/enqueue")
    async def pagerduty_event(request: Request) -> JSONResponse:
        try:
            event = json.loads(await request.body())
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return JSONResponse(
                {"status": "invalid event", "message": "Event object is invalid", "errors": ["Not a JSON object."]},
                status_code=400,
            )
        errors = _pd_errors(event)
        if errors:
            return JSONResponse(
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, status_code=400
            )
        dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
        payload = event.get("payload") or {}
        action = event["event_action"]
        summary = payload.get("summary") or f"{action} {dedup_key}"
        details = payload.get("custom_details") or {}
        lines = [
            f"{action} · dedup_key {dedup_key}",
            *([f"severity {payload['severity']} · source {payload['source']}"] if payload else []),
            *([str(details["reason"])] if isinstance(details, dict) and details.get("reason") else []),
            *([f"incident: {event['client_url']}"] if event.get("client_url") else []),
        ]
        log.add(
            "pagerduty",
            to=f"routing key …{str(event['routing_key'])[-4:]}",
            title=f"[{action}] {summary}",
            text="\n".join(lines),
            detail={"event": {k: v for k, v in event.items() if k != "routing_key"}},
        )
        return JSONResponse(
            {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, status_code=202
        )

    @app.get("/api/messages")
    async def messages(channel: str | None = None) -> list[dict[str, Any]]:
        return [asdict(m) for m in log.all(channel=channel)]

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "pass"}

    @app.get("/", response_class=HTMLResponse)
    async def page(channel: str | None = None) -> HTMLResponse:
        shown = log.all(channel=channel if channel in CHANNELS else None)
        return HTMLResponse(render_page(list(reversed(shown)), channel=channel, smtp_address=smtp_address))

    return app


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{font-size:19px;margin:0}
header p{margin:4px 0 0;color:#c5cad6;font-size:13px}nav{padding:10px 24px}
nav a{margin-right:14px;color:#2851a3;text-decoration:none}nav a.on{font-weight:700}
main{padding:0 24px 24px}.m{background:#fff;border:1px solid #dde1e8;border-left:5px solid #888;
border-radius:6px;margin:10px 0;padding:10px 14px;max-width:980px}
.slack{border-left-color:#4a154b}.pagerduty{border-left-color:#06ac38}.email{border-left-color:#2851a3}
.meta{font-size:12px;color:#5b6478}.ch{font-weight:700;text-transform:uppercase;letter-spacing:.04em;margin-right:8px}
.t{font-weight:600;margin:4px 0}.b{white-space:normal;font-size:14px}
pre.b{white-space:pre-wrap;font:13px/1.4 ui-monospace,monospace;margin:4px 0}
.empty{color:#5b6478;padding:20px 0}
"""


def _message_html(m: Delivered) -> str:
    when = m.at.replace("T", " ")[:19] + " UTC"
    if m.channel == "slack":
        body = f'<div class="b">{slack_html(m.text)}</div>'
        title = slack_html(m.title)
    else:
        body = f'<pre class="b">{escape(m.text)}</pre>'
        title = escape(m.title)
    return (
        f'<article class="m {escape(m.channel)}" id="m{m.id}">'
        f'<div class="meta"><span class="ch">{escape(m.channel)}</span>'
        f'#{m.id} · {escape(when)} · to {escape(m.to)}</div><div class="t">{title}</div>{body}</article>'
    )


def render_page(messages: list[Delivered], *, channel: str | None, smtp_address: str | None) -> str:
    """The page: a filter by channel, then each message as its recipient would read it."""
    links = "".join(
        f'<a href="{href}"{" class=on" if (channel or "") == key else ""}>{label}</a>'
        for key, href, label in (
            ("", "/", "all"),
            ("slack", "/?channel=slack", "Slack"),
            ("pagerduty", "/?channel=pagerduty", "PagerDuty"),
            ("email", "/?channel=email", "e-mail"),
        )
    )
    smtp = f", SMTP on {escape(smtp_address)}" if smtp_address else ""
    items = "".join(_message_html(m) for m in messages) or (
        '<p class="empty">Nothing delivered yet. Inject a fault: '
        "<code>fanzwatch demo fault inject payment_outage</code>; the person on call is notified here.</p>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">'
        f"<title>Delivered notifications · fanzwatch demo</title><style>{_STYLE}</style></head><body>"
        "<header><h1>Delivered notifications</h1><p>What the fanzwatch server sent to Slack (incoming webhook), "
        f"PagerDuty (Events API v2) and e-mail{smtp}: local receivers of the demo, newest first.</p></header>"
        f"<nav>{links}</nav><main>{items}</main></body></html>"
    )
