"""Request budgets shared by every worker process through Redis, per tenant and side.

A connector asks its :class:`Pacer` for a slot before each call. A slot is granted when every limit of the
remote API has room: concurrent calls in flight, calls in the sliding minute, calls today, and the app-wide
minute. Otherwise the pacer says how long to wait, so workers sleep instead of collecting 429s.

Windows are measured in *remote* seconds. Against the sandbox, whose clock may run faster (``time_scale``), a
remote minute lasts ``60 / time_scale`` real seconds; the pacer converts, so that benchmarks can run a day's
worth of traffic at the real limits in minutes.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

# Entries of the sliding windows live a little longer than the remote window: our clock stamps a call when it
# leaves, the remote one when it arrives, so a window that is exactly as long would let a call in early.
WINDOW_SAFETY = 1.02

_ACQUIRE_WINDOW = """
-- KEYS[1] window zset; ARGV: now, window_seconds, limit, member
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local used = redis.call('ZCARD', KEYS[1])
if used < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000) + 1000)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(oldest[2] + ARGV[2] - ARGV[1])}
"""

_ACQUIRE_SEMAPHORE = """
-- KEYS[1] holders zset (score = lease expiry); ARGV: now, limit, member, lease_seconds
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1] + ARGV[4], ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[4]) + 5)
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Limits:
    """The published limits of one remote API for one organisation (``None``: no such limit)."""

    concurrent: int | None = None
    per_minute: int | None = None
    per_day: int | None = None
    app_per_minute: int | None = None


@dataclass(frozen=True)
class Denied:
    """No slot now: which limit is exhausted and how many real seconds until it has room."""

    limit: str
    wait_seconds: float


class BudgetExhausted(Exception):
    def __init__(self, denied: Denied) -> None:
        super().__init__(f"{denied.limit} limit reached; retry in {denied.wait_seconds:.1f}s")
        self.denied = denied


class Pacer:
    """Per tenant and side: ``with pacer.slot(): call()``; blocks (sleeps) while the budget is exhausted."""

    def __init__(self, redis: Redis, side: str, org_key: str, limits: Limits, *, time_scale: float = 1.0,
                 lease_seconds: float = 120.0, max_wait_seconds: float = 900.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.redis = redis
        self.side = side
        self.org_key = org_key
        self.limits = limits
        self.time_scale = time_scale
        self.lease_seconds = lease_seconds
        self.max_wait_seconds = max_wait_seconds
        self.clock = clock
        self.sleep = sleep
        self._window = redis.register_script(_ACQUIRE_WINDOW)
        self._semaphore = redis.register_script(_ACQUIRE_SEMAPHORE)
        prefix = f"portal:pace:{side}"
        self._keys = {
            "concurrent": f"{prefix}:{org_key}:inflight",
            "minute": f"{prefix}:{org_key}:minute",
            "appminute": f"{prefix}:app:minute",
            "hold": f"{prefix}:{org_key}:hold",
        }

    def real_seconds(self, remote_seconds: float) -> float:
        return remote_seconds / self.time_scale

    def _day_key(self, now: float) -> str:
        # The remote day: the UTC date at scale 1; on a faster sandbox clock, consecutive scaled "days".
        day = datetime.fromtimestamp(now * self.time_scale, UTC).strftime("%Y%m%d")
        return f"portal:pace:{self.side}:{self.org_key}:day:{day}"

    def try_acquire(self) -> tuple[str | None, Denied | None]:
        """One attempt: a held concurrency token (or ``""`` when concurrency is unlimited), or why not."""
        now = self.clock()
        held_until = self.redis.get(self._keys["hold"])
        if held_until and float(held_until) > now:
            return None, Denied("hold", float(held_until) - now)
        member = uuid.uuid4().hex
        limits = self.limits
        token: str | None = ""
        if limits.concurrent:
            if not self._semaphore(keys=[self._keys["concurrent"]],
                                   args=[now, limits.concurrent, member, self.lease_seconds]):
                return None, Denied("concurrent", 0.05)
            token = member
        for name, limit in (("minute", limits.per_minute), ("appminute", limits.app_per_minute)):
            if not limit:
                continue
            window = self.real_seconds(60.0) * WINDOW_SAFETY
            granted, wait = self._window(keys=[self._keys[name]], args=[now, window, limit, member])
            if not granted:
                self.release(token)
                return None, Denied(name, max(float(wait), 0.01))
        if limits.per_day:
            key = self._day_key(now)
            used = self.redis.incr(key)
            if used == 1:
                self.redis.expire(key, math.ceil(self.real_seconds(86_400)) + 3600)
            if used > limits.per_day:
                self.redis.decr(key)
                self.release(token)
                return None, Denied("day", self._seconds_to_next_day(now))
        return token, None

    def _seconds_to_next_day(self, now: float) -> float:
        remote_now = now * self.time_scale
        return self.real_seconds(86_400 - (remote_now % 86_400))

    def release(self, token: str | None) -> None:
        if token:
            self.redis.zrem(self._keys["concurrent"], token)

    @contextmanager
    def slot(self) -> Iterator[None]:
        waited = 0.0
        while True:
            token, denied = self.try_acquire()
            if denied is None:
                break
            if denied.limit == "day" or waited + denied.wait_seconds > self.max_wait_seconds:
                raise BudgetExhausted(denied)
            self.sleep(denied.wait_seconds)
            waited += denied.wait_seconds
        try:
            yield
        finally:
            self.release(token)

    def hold_off(self, seconds: float) -> None:
        """After a 429: every worker of this tenant and side waits until the server's Retry-After has passed
        (real seconds: servers say how long to wait on the clock the client lives by)."""
        self.redis.set(self._keys["hold"], self.clock() + seconds, px=max(int(seconds * 1000), 1))

    def held_for(self) -> float:
        """Real seconds this tenant and side are still held off after a 429 (0 when not held)."""
        raw = self.redis.get(self._keys["hold"])
        return max(float(raw) - self.clock(), 0.0) if raw else 0.0

    def used_today(self) -> int:
        raw = self.redis.get(self._day_key(self.clock()))
        return int(raw) if raw else 0
