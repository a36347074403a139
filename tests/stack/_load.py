"""A payment load driver: tips at a controlled rate, through the demo platform's public API."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import httpx


class PaymentLoad:
    """Sends tips from one fan to one creator at ``rate`` per second (changeable) in a thread.

    Up to ``concurrency`` requests are in flight, so a slow platform lowers the achieved
    rate instead of piling up requests.
    """

    def __init__(self, platform_url: str, platform: str, *, rate: float, concurrency: int = 4) -> None:
        self.base = f"{platform_url}/p/{platform}/api/v1"
        self.rate = rate
        self.outcomes: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._http = httpx.Client(timeout=10.0, limits=httpx.Limits(max_connections=concurrency))
        self._tip_url = ""
        self._auth: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _register(self, role: str) -> dict[str, str]:
        body = {
            "email": f"load-{role}-{uuid.uuid4().hex[:8]}@example.org",
            "password": "load test password",
            "role": role,
            "display_name": f"load {role}",
        }
        r = self._http.post(f"{self.base}/auth/register", json=body)
        r.raise_for_status()
        data: dict[str, str] = r.json()
        return data

    def start(self) -> PaymentLoad:
        creator = self._register("creator")
        fan = self._register("fan")
        self._tip_url = f"{self.base}/creators/{creator['user_id']}/tips"
        self._auth = {"Authorization": f"Bearer {fan['token']}"}
        self._thread.start()
        return self

    def count(self, status: int) -> int:
        with self._lock:
            return self.outcomes[status]

    def _one(self) -> None:
        try:
            r = self._http.post(self._tip_url, headers=self._auth, json={"amount_minor": 500, "card_token": "tok_visa"})
            code = r.status_code
        except httpx.HTTPError:
            code = 0
        finally:
            self._slots.release()
        with self._lock:
            self.outcomes[code] += 1

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += 1.0 / self.rate
            self._stop.wait(max(0.0, next_at - time.monotonic()))
            if self._stop.is_set():
                break
            if not self._slots.acquire(blocking=False):
                next_at = time.monotonic()  # saturated: do not build a backlog
                continue
            threading.Thread(target=self._one, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._http.close()
