"""Xero's API rate limits (FACTS.md §2), on the sandbox clock.

Per organisation and app: 5 calls in flight, 60 calls in any 60 seconds, 5,000 calls in any 24 hours (1,000 on
the Starter tier: the daily limit is set per organisation). Per app across organisations: 10,000 calls a minute.
Going over answers 429 with ``X-Rate-Limit-Problem`` (``concurrent``, ``day``, ``appminute``, ``minute``) and, for
the windowed limits, ``Retry-After`` in real seconds (a sandbox minute lasts 6 real seconds at scale 10).
Every tenant-scoped answer carries ``X-DayLimit-Remaining``, ``X-MinLimit-Remaining`` and
``X-AppMinLimit-Remaining``; tenantless ones (``/connections``) only the last.

The counters live in the server process (the sandbox serves from one process), so they restart with it, like a
fresh day at Xero. Benchmarks and tests may change the limits through the ``limits`` control.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store
from portal.sandbox.xero.errors import RateLimited

MINUTE = 60.0
DAY = 86_400.0
SETTINGS_KEY = "xero:limits"


@dataclass
class LimitSettings:
    per_minute: int = 60
    concurrent: int = 5
    app_per_minute: int = 10_000
    # Added to every Accounting call inside its concurrency slot, to give the sandbox Xero's latency when a
    # benchmark wants it (Xero answers in a few hundred milliseconds).
    latency_seconds: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any], current: LimitSettings) -> LimitSettings:
        unknown = set(data) - {"per_minute", "concurrent", "app_per_minute", "latency_seconds", "reset"}
        if unknown:
            raise ValueError(f"unknown limit settings: {', '.join(sorted(unknown))}")
        base = LimitSettings() if data.get("reset") else current
        settings = LimitSettings(
            per_minute=int(data.get("per_minute", base.per_minute)),
            concurrent=int(data.get("concurrent", base.concurrent)),
            app_per_minute=int(data.get("app_per_minute", base.app_per_minute)),
            latency_seconds=float(data.get("latency_seconds", base.latency_seconds)),
        )
        if min(settings.per_minute, settings.concurrent, settings.app_per_minute) < 1 or \
                not 0 <= settings.latency_seconds <= 30:
            raise ValueError("limits must be at least 1 and latency_seconds between 0 and 30")
        return settings


class RateLimiter:
    def __init__(self, store: Store, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        saved = store.get_json(SETTINGS_KEY)
        self.settings = LimitSettings(**saved) if saved else LimitSettings()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._minute: dict[str, deque[float]] = {}
            self._day: dict[str, deque[float]] = {}
            self._in_flight: dict[str, int] = {}
            self._app: deque[float] = deque()

    def configure(self, data: dict[str, Any]) -> LimitSettings:
        self.settings = LimitSettings.from_json(data, self.settings)
        self.store.put_json(SETTINGS_KEY, asdict(self.settings))
        return self.settings

    def restore_defaults(self) -> None:
        self.settings = LimitSettings()
        self.store.put_json(SETTINGS_KEY, asdict(self.settings))

    def _retry_after(self, oldest: float, window: float, now: float) -> int:
        return max(1, math.ceil(self.clock.real_seconds(oldest + window - now)))

    @staticmethod
    def _prune(window: deque[float], since: float) -> None:
        while window and window[0] <= since:
            window.popleft()

    def acquire(self, org_id: str, daily_limit: int) -> dict[str, str]:
        """Take a slot for one call to ``org_id``; answers the remaining-count headers or raises 429."""
        settings = self.settings
        with self._lock:
            now = self.clock.now()
            minute = self._minute.setdefault(org_id, deque())
            day = self._day.setdefault(org_id, deque())
            self._prune(minute, now - MINUTE)
            self._prune(day, now - DAY)
            self._prune(self._app, now - MINUTE)

            def headers(extra: int = 0) -> dict[str, str]:
                return {
                    "X-DayLimit-Remaining": str(max(0, daily_limit - len(day) - extra)),
                    "X-MinLimit-Remaining": str(max(0, settings.per_minute - len(minute) - extra)),
                    "X-AppMinLimit-Remaining": str(max(0, settings.app_per_minute - len(self._app) - extra)),
                }

            if self._in_flight.get(org_id, 0) >= settings.concurrent:
                # Xero is reported to send no Retry-After for the concurrent limit (FACTS.md §7).
                raise RateLimited("concurrent", None, headers())
            if len(day) >= daily_limit:
                raise RateLimited("day", self._retry_after(day[0], DAY, now), headers())
            if len(self._app) >= settings.app_per_minute:
                raise RateLimited("appminute", self._retry_after(self._app[0], MINUTE, now), headers())
            if len(minute) >= settings.per_minute:
                raise RateLimited("minute", self._retry_after(minute[0], MINUTE, now), headers())
            minute.append(now)
            day.append(now)
            self._app.append(now)
            self._in_flight[org_id] = self._in_flight.get(org_id, 0) + 1
            return headers()

    def release(self, org_id: str) -> None:
        with self._lock:
            self._in_flight[org_id] = max(0, self._in_flight.get(org_id, 0) - 1)

    def app_call(self) -> dict[str, str]:
        """A tenantless call (``/connections``): only the app-wide minute applies."""
        with self._lock:
            now = self.clock.now()
            self._prune(self._app, now - MINUTE)
            if len(self._app) >= self.settings.app_per_minute:
                raise RateLimited("appminute", self._retry_after(self._app[0], MINUTE, now),
                                  {"X-AppMinLimit-Remaining": "0"})
            self._app.append(now)
            return {"X-AppMinLimit-Remaining": str(self.settings.app_per_minute - len(self._app))}

    def describe(self) -> dict[str, Any]:
        with self._lock:
            now = self.clock.now()
            orgs = {}
            for org_id, minute in self._minute.items():
                self._prune(minute, now - MINUTE)
                self._prune(self._day[org_id], now - DAY)
                orgs[org_id] = {"minute": len(minute), "day": len(self._day[org_id]),
                                "in_flight": self._in_flight.get(org_id, 0)}
            self._prune(self._app, now - MINUTE)
            return {"settings": asdict(self.settings), "app_minute": len(self._app), "orgs": orgs}
