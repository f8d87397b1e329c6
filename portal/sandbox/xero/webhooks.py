"""Xero webhooks (FACTS.md §5; ``xero-webhooks.yaml``).

- One webhook per app: a URL, a signing key, the categories (CONTACT, INVOICE; CREDITNOTE optional), on or off.
- Events (CREATE/UPDATE, no data) are recorded in the same transaction as the change that raised them, from the
  API and from the record editor alike, and sent in batches: one POST carries every event pending when the batch
  window closes, with ``firstEventSequence``/``lastEventSequence`` and random ``entropy``.
- Each POST is signed: ``x-xero-signature = base64(HMAC-SHA256(signing key, raw body))``.
- Deliveries go through the core outbox, which retries a failing receiver with decreasing frequency for about
  24 hours (compressed by the sandbox clock); when it gives up, the webhook is disabled until re-enabled.
- Intent to receive: when the webhook is created, re-enabled or its URL or key change, Xero POSTs a series of
  empty batches (sequence 0), some wrongly signed. Only if every correctly signed POST answers 200 and every
  wrongly signed one 401, with no body, does the webhook become OK; until then no event is delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import sqlite3
import string
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox, RetryPolicy
from portal.sandbox.core.store import Store
from portal.sandbox.xero.dates import webhook_date

log = logging.getLogger(__name__)

SETTINGS_KEY = "xero:webhook"
CATEGORIES = ("CONTACT", "INVOICE", "CREDITNOTE")
RESOURCE_PATHS = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
RESOURCE_BASE = "https://api.xero.com/api.xro/2.0"
# Xero retries "with decreasing frequency for up to 24 hours" (sandbox seconds; about 24 h in all).
RETRY_POLICY = RetryPolicy(delays=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 28800))
MAX_EVENTS_PER_BATCH = 100
RECEIVER_TIMEOUT_SECONDS = 5.0  # Xero: the receiver must answer within 5 seconds


@dataclass
class WebhookConfig:
    url: str | None = None
    key: str | None = None
    enabled: bool = False
    categories: list[str] = field(default_factory=lambda: ["CONTACT", "INVOICE"])
    status: str = "OFF"  # OFF, OK, FAILED (intent to receive), DISABLED (gave up delivering)
    intent_to_receive: list[dict[str, Any]] = field(default_factory=list)
    batch_seconds: float = 1.0
    enabled_after_delivery: int = 0

    @property
    def active(self) -> bool:
        return self.enabled and self.status == "OK" and bool(self.url and self.key)


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


class Webhooks:
    def __init__(self, store: Store, clock: SandboxClock, outbox: Outbox) -> None:
        self.store = store
        self.clock = clock
        self.outbox = outbox
        outbox.set_policy("xero", RETRY_POLICY)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    @property
    def config(self) -> WebhookConfig:
        # Read from the database every time: requests (which record events and change settings) and the batching
        # thread may run in different processes of the server.
        saved = self.store.get_json(SETTINGS_KEY)
        return WebhookConfig(**saved) if saved else WebhookConfig()

    def _save(self, config: WebhookConfig) -> None:
        self.store.put_json(SETTINGS_KEY, asdict(config))

    def reset(self) -> None:
        with self._lock:
            self._save(WebhookConfig())

    # --- recording events (inside the writer's transaction) ----------------------------------------------------

    def record(self, conn: sqlite3.Connection, tenant_id: str, category: str, event_type: str,
               resource_id: str) -> None:
        config = self.config
        if not config.active or category not in config.categories:
            return  # Xero sends only the categories a live webhook subscribes to
        conn.execute(
            "INSERT INTO xero_event (tenant_id, category, event_type, resource_id, resource_url, event_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tenant_id, category, event_type, resource_id, f"{RESOURCE_BASE}/{RESOURCE_PATHS[category]}/"
                                                              f"{resource_id}", int(self.clock.now() * 1000)))

    # --- batching and delivery ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="xero-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.flush()
                self._disable_when_given_up()
            except Exception:  # the batcher must outlive one bad batch
                log.exception("xero webhook batching failed")
            time.sleep(0.2)

    def pending(self) -> int:
        row = self.store.query_one("SELECT COUNT(*) AS n FROM xero_event")
        return int(row["n"]) if row else 0

    def flush(self, force: bool = False) -> int:
        """Send the pending events as one batch once the batch window has closed (or now, with ``force``)."""
        if self.store.query_one("SELECT 1 FROM xero_event LIMIT 1") is None:
            return 0  # nothing to send: no write transaction (the batcher polls every 0.2 s)
        config = self.config
        with self.store.transaction() as conn:
            # One transaction takes the events off the queue and queues their delivery: two processes flushing
            # at once cannot send a batch twice, and a crash loses nothing.
            rows = conn.execute("SELECT * FROM xero_event ORDER BY seq LIMIT ?", (MAX_EVENTS_PER_BATCH,)).fetchall()
            if not rows:
                return 0
            if not config.active:
                conn.execute("DELETE FROM xero_event WHERE seq <= ?", (rows[-1]["seq"],))
                return 0
            oldest_age = self.clock.real_seconds(self.clock.now() - rows[0]["event_ms"] / 1000)
            if not force and oldest_age < config.batch_seconds and len(rows) < MAX_EVENTS_PER_BATCH:
                return 0
            payload = {
                "events": [{
                    "resourceUrl": row["resource_url"], "resourceId": row["resource_id"],
                    "tenantId": row["tenant_id"], "tenantType": "ORGANISATION", "eventCategory": row["category"],
                    "eventType": row["event_type"], "eventDateUtc": webhook_date(row["event_ms"]),
                } for row in rows],
                "firstEventSequence": rows[0]["seq"],
                "lastEventSequence": rows[-1]["seq"],
                "entropy": entropy(),
            }
            body = json.dumps(payload, separators=(",", ":")).encode()
            assert config.url and config.key
            self.outbox.enqueue("xero", "webhook", config.url, body, {
                "Content-Type": "application/json", "x-xero-signature": sign(config.key, body)}, connection=conn)
            conn.execute("DELETE FROM xero_event WHERE seq <= ?", (rows[-1]["seq"],))
            return len(rows)

    def _disable_when_given_up(self) -> None:
        config = self.config
        if not config.active:
            return
        for delivery in self.outbox.recent("xero", 20):
            if delivery.kind == "webhook" and delivery.status == "failed" and \
                    delivery.id > config.enabled_after_delivery:
                # Xero: after a day of failed retries the webhook is disabled until someone re-enables it.
                with self._lock:
                    disabled = self.config
                    disabled.enabled = False
                    disabled.status = "DISABLED"
                    self._save(disabled)
                return

    # --- configuration and intent to receive -------------------------------------------------------------------

    def configure(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(data) - {"url", "key", "enabled", "categories", "batch_seconds", "verify", "flush"}
        if unknown:
            raise ValueError(f"unknown webhook settings: {', '.join(sorted(unknown))}")
        if data.get("flush"):
            self.flush(force=True)
        with self._lock:
            config = self.config
            previous = (config.url, config.key, config.enabled)
            if "url" in data:
                url = data["url"]
                if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
                    raise ValueError("url must be an http(s) URL")
                config.url = url
            if "key" in data:
                config.key = str(data["key"]) if data["key"] else None
            if "categories" in data:
                categories = data["categories"]
                if not isinstance(categories, list) or not categories or \
                        any(category not in CATEGORIES for category in categories):
                    raise ValueError(f"categories must be a non-empty list of {', '.join(CATEGORIES)}")
                config.categories = list(categories)
            if "batch_seconds" in data:
                seconds = float(data["batch_seconds"])
                if not 0 <= seconds <= 600:
                    raise ValueError("batch_seconds must be between 0 and 600")
                config.batch_seconds = seconds
            if "enabled" in data:
                config.enabled = bool(data["enabled"])
            if config.url and not config.key:
                # Xero generates the signing key when the webhook is created.
                config.key = base64.b64encode(secrets.token_bytes(64)).decode()
        # Xero sends the intent to receive when a webhook is created, re-enabled, or its URL changes.
        if config.enabled and config.url and config.key and (
                (config.url, config.key, config.enabled) != previous or data.get("verify")):
            passed, results = self.intent_to_receive(config.url, config.key)
            config.intent_to_receive = results
            config.status = "OK" if passed else "FAILED"
            recent = self.outbox.recent("xero", 1)
            config.enabled_after_delivery = recent[0].id if recent else 0
        elif not config.enabled:
            config.status = "OFF"
        with self._lock:
            self._save(config)
        return self.describe()

    def intent_to_receive(self, url: str, key: str) -> tuple[bool, list[dict[str, Any]]]:
        signed = [True, True, False, False]
        random.shuffle(signed)
        results = []
        for correctly_signed in signed:
            body = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                               "entropy": entropy()}, separators=(",", ":")).encode()
            signature = sign(key if correctly_signed else secrets.token_hex(32), body)
            expected = 200 if correctly_signed else 401
            result: dict[str, Any] = {"correctly_signed": correctly_signed, "expected": expected}
            try:
                response = self._session.post(url, data=body, timeout=RECEIVER_TIMEOUT_SECONDS,
                                              allow_redirects=False,
                                              headers={"Content-Type": "application/json",
                                                       "x-xero-signature": signature})
                result["status"] = response.status_code
                problems = []
                if response.status_code != expected:
                    problems.append(f"answered {response.status_code}, expected {expected}")
                if response.content:
                    problems.append("answered with a body (Xero wants none)")
                if response.headers.get("Set-Cookie"):
                    problems.append("set a cookie (Xero wants none)")
                result["passed"] = not problems
                if problems:
                    result["problem"] = "; ".join(problems)
            except requests.RequestException as error:
                result.update({"status": None, "passed": False, "problem": f"{type(error).__name__}: {error}"})
            results.append(result)
        return all(result["passed"] for result in results), results

    def describe(self) -> dict[str, Any]:
        config = self.config
        return {
            "url": config.url, "key": config.key, "enabled": config.enabled, "categories": config.categories,
            "status": config.status, "intent_to_receive": config.intent_to_receive,
            "batch_seconds": config.batch_seconds, "pending_events": self.pending(),
            "deliveries": [delivery.as_json() for delivery in self.outbox.recent("xero", 20)],
        }
