"""Local receivers that stand in for Slack, PagerDuty and a mail relay in the demo.

``fanzwatch up --demo`` runs them as one child process (``fanzwatch demo sinks``) and
points the demo's notification channels at them, so the person on call is notified for
real, over the real protocols (Slack incoming webhooks, PagerDuty Events API v2, SMTP),
and every delivered message can be read on the sinks' page.

>>> log = MessageLog(Path("sinks.jsonl"))
>>> app = create_sinks_app(log)          # Slack + PagerDuty + the page
>>> server = await start_smtp(log, "127.0.0.1", 8325)
"""

from .app import create_sinks_app, slack_text
from .messages import Delivered, MessageLog
from .service import run_sinks, serve_sinks
from .smtp import start_smtp

__all__ = ["Delivered", "MessageLog", "create_sinks_app", "run_sinks", "serve_sinks", "slack_text", "start_smtp"]
