"""The post-incident report: a post-mortem draft in Markdown, written from the incident record.

``render_report(incident)`` takes the incident as the incident API returns it (its row,
alerts, timeline, notifications, remediation decisions and the stored ``impact``) and
writes: summary, impact (money, payments, people, platforms), timeline, alerts,
remediation, detection (what detected it and how fast), and blank sections for causes and
actions, which people write. Nothing is invented: a figure not in the record says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, str) and value:
        return value.replace("T", " ")[:19] + " UTC"
    return "-"


def duration(seconds: float | None) -> str:
    """``1 h 5 min``, ``4 min 10 s``, ``-`` for none."""
    if seconds is None:
        return "-"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    parts = [f"{h} h" if h else "", f"{m} min" if m else "", f"{sec} s" if sec and not h else ""]
    return " ".join(p for p in parts if p) or "0 s"


def _money(value: Any, currency: str) -> str:
    return "-" if value is None else f"{float(value):,.2f} {currency}"


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|"})


def _md(text: Any) -> str:
    """Text from alerts and people, inline: Markdown's characters escaped, on one line."""
    return " ".join(str(text).split()).translate(_MARKDOWN)


def _cell(text: Any) -> str:
    return _md(text)


def _impact_lines(impact: Mapping[str, Any] | None) -> list[str]:
    if not impact:
        return ["Not priced yet (incident impact runs once a minute while the server has Prometheus)."]
    cur = impact.get("reporting_currency", "")
    level = float(impact.get("level", 0.9))
    r = impact.get("revenue", {})
    window = impact.get("window") or {}
    lines = [f"Window: {_when(window.get('start'))} to {_when(window.get('end'))}.", ""]
    if r.get("at_risk") is None:
        reasons = sorted({str(u.get("reason", "")) for u in impact.get("unforecast_streams", [])})
        lines.append(
            "- **Revenue at risk: not priced**: no forecast could be made"
            + (f" ({'; '.join(reasons)})" if reasons else " (no revenue series on these platforms)")
        )
    lost = impact.get("lost")
    if r.get("at_risk") is None:
        pass
    elif lost:
        lines.append(
            f"- **Revenue lost: {_money(lost['lost'], cur)}** ({level:.0%} interval {_money(lost['lost_lower'], cur)} "
            f"to {_money(lost['lost_upper'], cur)}; {_money(lost['recovered'], cur)} recovered after resolution)"
        )
    else:
        state = "so far, not final" if impact.get("window") else ""
        lines.append(
            f"- **Revenue at risk: {_money(r.get('at_risk'), cur)}** ({level:.0%} interval "
            f"{_money(r.get('at_risk_lower'), cur)} to {_money(r.get('at_risk_upper'), cur)}; {state})"
        )
    if r.get("at_risk") is not None:
        lines.append(
            f"- Expected revenue {_money(r.get('expected'), cur)} ({_money(r.get('expected_lower'), cur)} to "
            f"{_money(r.get('expected_upper'), cur)}), actual {_money(r.get('actual'), cur)}"
        )
    p = impact.get("payments")
    if p:
        values = ", ".join(f"{v:,.2f} {c}" for c, v in p["failed_value"].items()) or "none"
        lines.append(f"- Failed payment attempts: {p['failed']} of {p['attempts']}, worth {values}")
    people = impact.get("people")
    if people:
        lines.append(
            f"- Affected creators: {people['creators']}, fans: {people['fans']} (with a failed payment in the window; "
            "fans who could not reach the payment step are not counted)"
        )
    else:
        why = (
            "the platform database could not be read"
            if any("could not be read" in n for n in impact.get("notes", []))
            else "no platform database"
        )
        lines.append(f"- Affected creators and fans: not counted ({why})")
    if impact.get("unconverted_currencies"):
        lines.append(f"- Not converted (no exchange rate): {', '.join(impact['unconverted_currencies'])}")
    streams = [
        s
        for s in impact.get("streams", [])
        if s.get("expected") or s.get("actual") or s.get("baseline", "forecast") != "forecast"
    ]
    if streams:
        lines += [
            "",
            "| platform | stream | currency | expected | actual | at risk | interval |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for s in streams:
            interval = (
                f"{s['at_risk_lower']:,.2f} to {s['at_risk_upper']:,.2f}"
                if s["baseline"] == "forecast"
                else s["baseline"]
            )
            lines.append(
                f"| {s['platform']} | {s['stream']} | {s['currency']} | {s['expected']:,.2f} | {s['actual']:,.2f} | "
                f"{s['at_risk']:,.2f} | {_cell(interval)} |"
            )
    for note in impact.get("notes", []):
        lines.append(f"\n_{note}_")
    return lines


def render_report(incident: Mapping[str, Any]) -> str:
    """The Markdown post-mortem draft of ``incident`` (as ``GET /api/v1/incidents/{id}`` returns it)."""
    impact: Mapping[str, Any] | None = incident.get("impact")
    timings: Mapping[str, Any] = (impact or {}).get("timings", {})
    alerts: Sequence[Mapping[str, Any]] = incident.get("alerts", [])
    out = [
        f"# Post-incident report: #{incident['id']} {_md(incident['title'])}",
        "",
        "_Draft written by fanzwatch from the incident record. Fill in the causes and actions._",
        "",
        "## Summary",
        "",
        f"- Priority: {incident['priority']}; status: {incident['status']}",
        f"- Platforms: {', '.join(incident.get('platforms') or [incident['platform']])}",
        f"- Services: {', '.join(incident.get('services') or []) or '-'}",
        f"- Opened {_when(incident['opened_at'])}; acknowledged {_when(incident.get('acknowledged_at'))}"
        + (f" by {incident['acknowledged_by']}" if incident.get("acknowledged_by") else "")
        + f"; resolved {_when(incident.get('resolved_at'))}"
        + (f" by {incident['resolved_by']}" if incident.get("resolved_by") else ""),
        f"- {_md(incident.get('summary', ''))}",
        "",
        "## Impact",
        "",
        *_impact_lines(impact),
        "",
        "## Detection",
        "",
    ]
    first = min(alerts, key=lambda a: str(a["starts_at"]), default=None)
    if first is not None:
        out.append(f"- Detected by {_md(first['alertname'])} (fired {_when(first['starts_at'])})")
    for key, label in (
        ("time_to_detect", "Time to detect"),
        ("time_to_acknowledge", "Time to acknowledge"),
        ("time_to_mitigate", "Time to mitigate"),
        ("time_to_resolve", "Time to resolve"),
    ):
        out.append(f"- {label}: {duration(timings.get(key))}")
    if not timings:
        out.append("- (timings come with the impact figures)")
    out += ["", "## Timeline", "", "| when | what | who | |", "|---|---|---|---|"]
    for e in incident.get("timeline", []):
        out.append(f"| {_when(e['at'])} | {e['kind']} | {_cell(e['actor'])} | {_cell(e['message'])} |")
    out += ["", "## Alerts", "", "| alert | status | fired | since | until |", "|---|---|---:|---|---|"]
    for a in alerts:
        out.append(
            f"| {_cell(a['alertname'])} | {a['status']} | {a.get('fired_count', 1)} | {_when(a['starts_at'])} | "
            f"{_when(a.get('ends_at'))} |"
        )
    out += ["", "## Remediation", ""]
    decisions = incident.get("remediation", [])
    if decisions:
        out += ["| when | playbook | action | decision | reason |", "|---|---|---|---|---|"]
        for d in decisions:
            when, playbook, reason = _when(d["at"]), _cell(d["playbook"]), _cell(d["reason"])
            out.append(f"| {when} | {playbook} | {d['action']} | {d['decision']} | {reason} |")
    else:
        out.append("No automatic remediation was attempted.")
    out += [
        "",
        "## Causes",
        "",
        "_What happened and why (contributing factors, not blame)._",
        "",
        "## Actions",
        "",
        "| action | owner | due |",
        "|---|---|---|",
        "|  |  |  |",
        "",
    ]
    return "\n".join(out)
