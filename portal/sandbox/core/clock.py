"""The sandbox clock: real time, optionally sped up, so that rate-limit windows and token lifetimes that last
minutes or hours in the real services can be exercised by benchmarks in seconds.

``scale=10`` makes a sandbox minute last six real seconds. ``advance`` jumps ahead (e.g. past a token's expiry).
Changing the scale keeps the sandbox time continuous.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from portal.sandbox.core.store import Store

CLOCK_KEY = "core:clock"


@dataclass
class ClockState:
    scale: float = 1.0
    # Sandbox epoch seconds at the moment the real monotonic-free wall clock read ``real_anchor``.
    sandbox_anchor: float = 0.0
    real_anchor: float = 0.0


class SandboxClock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        saved = store.get_json(CLOCK_KEY)
        self._state = ClockState(**saved) if saved else ClockState()
        if not saved:
            self._reanchor(1.0, time.time())

    def _reanchor(self, scale: float, sandbox_now: float) -> None:
        self._state = ClockState(scale=scale, sandbox_anchor=sandbox_now, real_anchor=time.time())
        self._store.put_json(CLOCK_KEY, asdict(self._state))

    def now(self) -> float:
        """Sandbox time as epoch seconds."""
        state = self._state
        return state.sandbox_anchor + (time.time() - state.real_anchor) * state.scale

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    @property
    def scale(self) -> float:
        return self._state.scale

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a sandbox duration lasts in real time (e.g. for a Retry-After the server waits on)."""
        return sandbox_seconds / self._state.scale

    def set_scale(self, scale: float) -> None:
        if not 0.01 <= scale <= 10_000:
            raise ValueError("scale must be between 0.01 and 10000")
        with self._lock:
            self._reanchor(scale, self.now())

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._reanchor(self._state.scale, self.now() + seconds)

    def reset(self) -> None:
        with self._lock:
            self._reanchor(1.0, time.time())

    def describe(self) -> dict[str, float | str]:
        return {"scale": self.scale, "now": self.now_datetime().isoformat(), "epoch": self.now()}
