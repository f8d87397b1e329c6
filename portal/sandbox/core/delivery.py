"""Outgoing HTTP deliveries (Xero webhooks, Zoho notifications and workflow webhooks), kept in the sandbox
database so that nothing is lost across restarts, sent by a background thread and retried when the receiver fails.

A side enqueues a fully formed request (URL, headers, raw body); the retry schedule is the side's (Xero retries
with decreasing frequency for hours; the sandbox compresses that on its clock).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.store import Store

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS core_delivery (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending, delivered, failed (gave up)
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,            -- sandbox clock, epoch seconds
    last_status INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS ix_core_delivery_due ON core_delivery (status, next_attempt_at);
"""


@dataclass(frozen=True)
class RetryPolicy:
    """Seconds (sandbox clock) to wait before each retry; after the last one the delivery is abandoned."""

    delays: Sequence[float] = (60, 300, 900, 3600, 7200, 21600, 43200)


@dataclass(frozen=True)
class Delivery:
    id: int
    side: str
    kind: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "side": self.side, "kind": self.kind, "url": self.url, "status": self.status,
            "attempts": self.attempts, "last_status": self.last_status, "last_error": self.last_error,
            "body": self.body.decode("utf-8", errors="replace"),
        }


class Outbox:
    def __init__(self, store: Store, clock: SandboxClock, timeout_seconds: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.policies: dict[str, RetryPolicy] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        store.register_schema(SCHEMA)

    def set_policy(self, side: str, policy: RetryPolicy) -> None:
        self.policies[side] = policy

    def enqueue(self, side: str, kind: str, url: str, body: bytes, headers: dict[str, str],
                delay_seconds: float = 0.0, connection: sqlite3.Connection | None = None) -> int:
        """Queue a delivery, sent as soon as possible or ``delay_seconds`` (sandbox clock) from now. Pass the
        ``connection`` of a transaction in progress to make the delivery part of it (e.g. taking events off a
        side's own queue and queueing their batch happen together or not at all)."""
        now = self.clock.now()
        sql = ("INSERT INTO core_delivery (side, kind, url, headers, body, next_attempt_at, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)")
        values = (side, kind, url, json.dumps(headers), body, now + max(0.0, delay_seconds), now)
        if connection is not None:
            cursor = connection.execute(sql, values)
        else:
            with self.store.transaction() as own:
                cursor = own.execute(sql, values)
        self._wake.set()
        return int(cursor.lastrowid or 0)

    def recent(self, side: str, limit: int = 100) -> list[Delivery]:
        rows = self.store.query(
            "SELECT * FROM core_delivery WHERE side = ? ORDER BY id DESC LIMIT ?", (side, limit)
        )
        return [_delivery(row) for row in rows]

    def pending_count(self, side: str) -> int:
        row = self.store.query_one(
            "SELECT COUNT(*) AS n FROM core_delivery WHERE side = ? AND status = 'pending'", (side,)
        )
        return int(row["n"]) if row else 0

    def clear(self, side: str) -> None:
        with self.store.transaction() as connection:
            connection.execute("DELETE FROM core_delivery WHERE side = ?", (side,))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-outbox", daemon=True)
            self._thread.start()

    def deliver_due(self) -> int:
        """Send every delivery that is due now; returns how many were attempted."""
        due = self.store.query(
            "SELECT * FROM core_delivery WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 100",
            (self.clock.now(),),
        )
        for row in due:
            self._attempt(_delivery(row))
        return len(due)

    def _run(self) -> None:
        while True:
            try:
                if self.deliver_due() == 0:
                    self._wake.wait(0.2)
                    self._wake.clear()
            except Exception:  # a broken row must not stop every later delivery
                log.exception("sandbox outbox failed")
                self._wake.wait(1.0)

    def _attempt(self, delivery: Delivery) -> None:
        status: int | None = None
        error: str | None = None
        try:
            response = self._session.post(delivery.url, data=delivery.body, headers=delivery.headers,
                                          timeout=self.timeout_seconds, allow_redirects=False)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = delivery.attempts + 1
        now = self.clock.now()
        with self.store.transaction() as connection:
            if error is None:
                connection.execute(
                    "UPDATE core_delivery SET status='delivered', attempts=?, last_status=?, last_error=NULL, "
                    "delivered_at=? WHERE id=?", (attempts, status, now, delivery.id))
                return
            delays = self.policies.get(delivery.side, RetryPolicy()).delays
            if attempts > len(delays):
                connection.execute(
                    "UPDATE core_delivery SET status='failed', attempts=?, last_status=?, last_error=? WHERE id=?",
                    (attempts, status, error, delivery.id))
            else:
                connection.execute(
                    "UPDATE core_delivery SET attempts=?, last_status=?, last_error=?, next_attempt_at=? WHERE id=?",
                    (attempts, status, error, now + delays[attempts - 1], delivery.id))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"], side=row["side"], kind=row["kind"], url=row["url"], headers=json.loads(row["headers"]),
        body=bytes(row["body"]), status=row["status"], attempts=row["attempts"], last_status=row["last_status"],
        last_error=row["last_error"],
    )
