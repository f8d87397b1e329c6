"""Fault injection: make a fraction of API calls fail the way real services and networks fail.

A plan, per side: ``{"rate": 0.1, "kinds": ["500", "503", "429", "timeout", "reset", "lost-response"],
"endpoints": ["POST /api.xro/2.0/Invoices", "GET *"], "seed": 7, "limit": 20, "hang_seconds": 30}``.

- ``rate``: probability that an eligible call is hit (1.0 = every call).
- ``kinds``: one is drawn per hit. ``timeout`` hangs past the client's timeout; ``reset`` closes the connection
  without an answer; ``lost-response`` lets a write commit, then drops the connection before the answer (the
  client must not create a duplicate when it retries). On reads, ``lost-response`` behaves like ``reset``.
- ``endpoints``: patterns ``"METHOD /path"`` matched with shell wildcards against the path under the side's
  prefix; empty means every API call.
- ``seed``: the random sequence is deterministic for a seed and a sequence of calls.
- ``limit``: stop after this many injected faults (e.g. "the next two calls fail").
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from portal.sandbox.core.store import Store

FAULT_KINDS = ("500", "503", "429", "timeout", "reset", "lost-response")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultPlanError(ValueError):
    pass


@dataclass
class FaultPlan:
    rate: float = 0.0
    kinds: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    seed: int = 0
    limit: int | None = None
    hang_seconds: float = 30.0
    injected: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultPlan:
        unknown = set(data) - {"rate", "kinds", "endpoints", "seed", "limit", "hang_seconds"}
        if unknown:
            raise FaultPlanError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        plan = cls(
            rate=float(data.get("rate", 0.0)),
            kinds=[str(kind) for kind in data.get("kinds", [])],
            endpoints=[str(pattern) for pattern in data.get("endpoints", [])],
            seed=int(data.get("seed", 0)),
            limit=int(data["limit"]) if data.get("limit") is not None else None,
            hang_seconds=float(data.get("hang_seconds", 30.0)),
        )
        if not 0.0 <= plan.rate <= 1.0:
            raise FaultPlanError("rate must be between 0 and 1")
        bad = [kind for kind in plan.kinds if kind not in FAULT_KINDS]
        if bad:
            raise FaultPlanError(f"unknown fault kinds {bad}; use {list(FAULT_KINDS)}")
        if plan.rate > 0 and not plan.kinds:
            raise FaultPlanError("a fault rate needs at least one kind")
        return plan

    def matches(self, method: str, path: str) -> bool:
        if not self.endpoints:
            return True
        target = f"{method.upper()} {path}"
        return any(fnmatch.fnmatchcase(target, pattern) or fnmatch.fnmatchcase(path, pattern)
                   for pattern in self.endpoints)


class FaultInjector:
    """The active plan of one side; decisions are drawn under a lock so that the sequence is reproducible."""

    def __init__(self, store: Store, side: str) -> None:
        self._store = store
        self._key = f"core:faults:{side}"
        self._lock = threading.Lock()
        saved = store.get_json(self._key)
        self._plan = FaultPlan(**saved) if saved else FaultPlan()
        self._random = random.Random(self._plan.seed)

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def configure(self, data: dict[str, Any]) -> FaultPlan:
        plan = FaultPlan.from_json(data)
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)
            self._store.put_json(self._key, asdict(plan))
        return plan

    def clear(self) -> None:
        self.configure({})

    def decide(self, method: str, path: str) -> str | None:
        """The fault to inject into this call, if any."""
        with self._lock:
            plan = self._plan
            if plan.rate <= 0 or not plan.matches(method, path):
                return None
            if plan.limit is not None and plan.injected >= plan.limit:
                return None
            if self._random.random() >= plan.rate:
                return None
            kind = self._random.choice(plan.kinds)
            if kind == "lost-response" and method.upper() not in WRITE_METHODS:
                kind = "reset"
            plan.injected += 1
            self._store.put_json(self._key, asdict(plan))
            return kind

    def describe(self) -> dict[str, Any]:
        return asdict(self._plan)
