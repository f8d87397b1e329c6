"""The Zoho CRM emulator: Zoho Accounts (``/zoho/accounts``), the CRM API v8 (``/zoho/crm/v8``), Bulk Read,
notifications and workflow webhooks, API limits, and a record editor (``/zoho/_sandbox/``).

Built from ``shared/specs/zoho/FACTS.md`` and Zoho's OpenAPI files; when in doubt, as strict as the real service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g

from portal.sandbox.core.delivery import RetryPolicy
from portal.sandbox.core.side import SandboxContext, SandboxSide
from portal.sandbox.zoho import accounts, api, control, editor
from portal.sandbox.zoho.errors import ZohoError
from portal.sandbox.zoho.seed import demo_orgs, seed_volume
from portal.sandbox.zoho.services import Zoho
from portal.sandbox.zoho.state import SCHEMA, SETTINGS_KEY, TABLES

WEBHOOKS_KEY = "zoho:webhooks"
# Zoho does not retry a notification or webhook the receiver failed to take; the control API can add retries.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = ()


class ZohoSandbox(SandboxSide):
    name = "zoho"

    def __init__(self, context: SandboxContext) -> None:
        super().__init__(context)
        self.store.register_schema(SCHEMA)
        self.zoho = Zoho.build(self.store, self.clock, self.outbox)
        self._apply_retry_policy()
        if not self.zoho.orgs.all():
            self.reset()

    def blueprints(self) -> list[Blueprint]:
        return [accounts.build_blueprint(self.zoho), api.build_blueprint(self.zoho),
                control.build_blueprint(self.zoho), editor.build_blueprint(self.zoho)]

    def reset(self) -> dict[str, Any]:
        with self.store.transaction() as connection:
            for table in TABLES:
                connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self.store.delete_keys(SETTINGS_KEY)
        self.store.delete_keys(WEBHOOKS_KEY)
        self.outbox.clear("zoho")
        self.zoho.orgs.forget()
        self.zoho.limits.reset()
        self.zoho.bulk.reset()
        self._apply_retry_policy()
        orgs = demo_orgs(self.zoho)
        return {"reset": True, "orgs": [{"id": org.id, "company_name": org.company_name, "dc": org.dc,
                                         "edition": org.edition} for org in orgs]}

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        return seed_volume(self.zoho, params)

    def webhooks(self, params: dict[str, Any] | None) -> dict[str, Any]:
        if params:
            unknown = set(params) - {"retry_delays"}
            if unknown:
                raise ValueError(f"unknown webhook settings: {', '.join(sorted(unknown))}; use retry_delays")
            delays = params["retry_delays"]
            if not isinstance(delays, list) or not all(isinstance(d, int | float) and d >= 0 for d in delays):
                raise ValueError("retry_delays: a list of seconds (sandbox clock) between attempts")
            self.store.put_json(WEBHOOKS_KEY, {"retry_delays": [float(d) for d in delays]})
            self._apply_retry_policy()
        settings = self.store.get_json(WEBHOOKS_KEY) or {"retry_delays": list(DEFAULT_RETRY_DELAYS)}
        return {**settings, "pending": self.outbox.pending_count("zoho"),
                "recent": [delivery.as_json() for delivery in self.outbox.recent("zoho", 50)]}

    def _apply_retry_policy(self) -> None:
        settings = self.store.get_json(WEBHOOKS_KEY) or {}
        self.outbox.set_policy("zoho", RetryPolicy(tuple(settings.get("retry_delays", DEFAULT_RETRY_DELAYS))))

    def org_of_request(self) -> str | None:
        org: str | None = g.get("zoho_org")
        return org

    def records_written_by_request(self) -> int:
        return int(g.get("zoho_written", 0))

    def fault_response(self, kind: str) -> Response:
        if kind == "429":
            return ZohoError(429, "TOO_MANY_REQUESTS", "too many requests").response()
        if kind == "503":
            return ZohoError(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable").response()
        return ZohoError(500, "INTERNAL_ERROR", "Internal server error occurred.").response()
