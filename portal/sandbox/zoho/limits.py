"""Zoho CRM's API limits per org: concurrent calls by edition, a sub-concurrency of 10 for heavy calls, and
daily credits over a rolling 24 hours on the sandbox clock (FACTS.md §5).

The sandbox server is one process (gunicorn, one worker, many threads), so in-flight calls are counted in
memory; credits are kept in the database so they survive a restart.
"""

from __future__ import annotations

import threading
from collections import Counter

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store
from portal.sandbox.zoho.catalog import SUB_CONCURRENCY
from portal.sandbox.zoho.errors import ZohoError
from portal.sandbox.zoho.state import Org

WINDOW_MINUTES = 24 * 60


def too_many_requests(message: str) -> ZohoError:
    # Zoho: one 429 for credits and concurrency alike, no Retry-After; only the message tells them apart.
    return ZohoError(429, "TOO_MANY_REQUESTS", message)


class Limits:
    def __init__(self, store: Store, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._heavy: Counter[str] = Counter()

    def enter(self, org: Org) -> None:
        with self._lock:
            if self._in_flight[org.id] >= org.edition_limits().concurrency:
                raise too_many_requests("concurrency limit exceeded: too many requests in progress for this org")
            self._in_flight[org.id] += 1

    def leave(self, org_id: str) -> None:
        with self._lock:
            self._in_flight[org_id] = max(0, self._in_flight[org_id] - 1)

    def enter_heavy(self, org: Org) -> None:
        with self._lock:
            if self._heavy[org.id] >= SUB_CONCURRENCY:
                raise too_many_requests("sub-concurrency limit exceeded: too many heavy requests in progress")
            self._heavy[org.id] += 1

    def leave_heavy(self, org_id: str) -> None:
        with self._lock:
            self._heavy[org_id] = max(0, self._heavy[org_id] - 1)

    def in_flight(self, org_id: str) -> int:
        return self._in_flight[org_id]

    def used(self, org: Org) -> int:
        minute = int(self.clock.now() // 60)
        row = self.store.query_one("SELECT COALESCE(SUM(used), 0) AS used FROM zoho_credit "
                                   "WHERE org_id = ? AND minute > ?", (org.id, minute - WINDOW_MINUTES))
        return int(row["used"]) if row else 0

    def charge(self, org: Org, cost: int) -> int | None:
        """Spend ``cost`` credits; returns the remaining credits once half the day's are used (the value of
        ``X-API-CREDITS-REMAINING``), else None."""
        cap = org.daily_credits()
        minute = int(self.clock.now() // 60)
        with self.store.transaction() as connection:
            used = int(connection.execute(
                "SELECT COALESCE(SUM(used), 0) FROM zoho_credit WHERE org_id = ? AND minute > ?",
                (org.id, minute - WINDOW_MINUTES)).fetchone()[0])
            if cap is not None and used + cost > cap:
                raise too_many_requests("API credits exhausted: the org has used its credits for the last 24 hours")
            connection.execute(
                "INSERT INTO zoho_credit (org_id, minute, used) VALUES (?, ?, ?) "
                "ON CONFLICT(org_id, minute) DO UPDATE SET used = used + excluded.used", (org.id, minute, cost))
        if cap is None or (used + cost) * 2 < cap:
            return None
        return cap - used - cost

    def reset(self) -> None:
        with self._lock:
            self._in_flight.clear()
            self._heavy.clear()


def write_cost(records: int) -> int:
    """Zoho: insert, update and upsert cost 1 credit per 10 records (FACTS.md §5)."""
    return max(1, -(-records // 10))


def coql_cost(limit: int) -> int:
    """Zoho: a COQL call costs by its LIMIT: up to 200 rows 1 credit, up to 1,000 rows 2, beyond 3."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3
