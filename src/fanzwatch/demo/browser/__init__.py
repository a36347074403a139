"""Real browser sessions for the demo's RUM (headless Chromium through Playwright)."""

from .sessions import BrowserConfig, BrowserUnavailableError, find_chromium, run_sessions

__all__ = ["BrowserConfig", "BrowserUnavailableError", "find_chromium", "run_sessions"]
