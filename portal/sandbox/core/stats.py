"""Call counters since the last reset, per endpoint, organisation and status: what benchmarks divide by."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.total = 0
            self.by_endpoint: Counter[str] = Counter()
            self.by_org: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_org_endpoint: Counter[str] = Counter()
            self.rate_limited = 0
            self.records_written = 0

    def record(self, endpoint: str, org: str | None, status: int, records_written: int = 0) -> None:
        with self._lock:
            self.total += 1
            self.by_endpoint[endpoint] += 1
            self.by_status[str(status)] += 1
            if org:
                self.by_org[org] += 1
                self.by_org_endpoint[f"{org} {endpoint}"] += 1
            if status == 429:
                self.rate_limited += 1
            self.records_written += records_written

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "rate_limited": self.rate_limited,
                "records_written": self.records_written,
                "by_endpoint": dict(self.by_endpoint),
                "by_org": dict(self.by_org),
                "by_status": dict(self.by_status),
                "by_org_endpoint": dict(self.by_org_endpoint),
            }
