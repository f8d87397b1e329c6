"""The Xero emulator: identity (consent page, tokens, connections), the Accounting API, rate limits, webhooks,
faults in Xero's shapes, the control API and the record editor, served under ``/xero`` by the sandbox server.

Built from ``/work/shared/specs/xero/FACTS.md`` and the official OpenAPI files; where in doubt it is as strict as
the real Xero. What is emulated and what is not is listed in the README ("Sandboxes").
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, Response, g, request

from portal.sandbox.core.side import SandboxContext, SandboxSide
from portal.sandbox.xero import db, demo
from portal.sandbox.xero.books import Org, WriteContext
from portal.sandbox.xero.control import load_by_key, parse_org_settings
from portal.sandbox.xero.errors import MAINTENANCE_TEXT, RateLimited, Unavailable, server_error
from portal.sandbox.xero.limits import RateLimiter
from portal.sandbox.xero.seed import seed as seed_volumes
from portal.sandbox.xero.tokens import Identity
from portal.sandbox.xero.webhooks import Webhooks

# An injected 429 stands for a minute limit hit part-way through the window (sandbox seconds).
INJECTED_RETRY_AFTER_SECONDS = 10


class XeroSandbox(SandboxSide):
    name = "xero"

    def __init__(self, context: SandboxContext) -> None:
        super().__init__(context)
        self.store.register_schema(db.SCHEMA)
        self.identity = Identity(self.store, self.clock)
        self.limiter = RateLimiter(self.store, self.clock)
        self.webhook_service = Webhooks(self.store, self.clock, self.outbox)
        if self.store.query_one("SELECT 1 FROM xero_org LIMIT 1") is None:
            self._populate()

    def blueprints(self) -> list[Blueprint]:
        from portal.sandbox.xero.api import accounting_blueprint
        from portal.sandbox.xero.control import control_blueprint
        from portal.sandbox.xero.editor import editor_blueprint
        from portal.sandbox.xero.identity import identity_blueprint

        return [identity_blueprint(self), accounting_blueprint(self), control_blueprint(self), editor_blueprint(self)]

    # --- control API hooks -------------------------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        with self.store.transaction() as conn:
            for table in db.ALL_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("DELETE FROM sqlite_sequence WHERE name = 'xero_event'")
        self.outbox.clear(self.name)
        self.webhook_service.reset()
        self.limiter.reset()
        self.limiter.restore_defaults()
        orgs = self._populate()
        return {"reset": True, "orgs": [{"id": org.id, "name": org.name, "key": demo.DEMO_BY_ID[org.id].key}
                                        for org in orgs]}

    def _populate(self) -> list[Org]:
        now_ms = int(self.clock.now() * 1000)
        with self.store.transaction() as conn:
            orgs = demo.create_orgs(conn, now_ms)
            for org in orgs:
                demo.populate(conn, org, now_ms)
        return orgs

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        org = self.find_org(str(params.get("org") or demo.DEMO_ORGS[0].key))
        if org is None:
            raise ValueError(f"no such organisation: {params.get('org')}")
        started = time.monotonic()
        with self.store.transaction() as conn:
            result = seed_volumes(conn, org, int(self.clock.now() * 1000), params)
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    def webhooks(self, params: dict[str, Any] | None) -> dict[str, Any]:
        if params is None:
            return self.webhook_service.describe()
        return self.webhook_service.configure(params)

    # --- organisations -----------------------------------------------------------------------------------------

    def find_org(self, key: str) -> Org | None:
        return load_by_key(self.store.connection, key)

    def change_org(self, org: Org, data: dict[str, Any]) -> Org:
        changes = parse_org_settings(data)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            with self.store.transaction() as conn:
                conn.execute(f"UPDATE xero_org SET {assignments} WHERE id = ?",  # noqa: S608 - validated columns
                             (*changes.values(), org.id))
        found = self.find_org(org.id)
        assert found is not None
        return found

    def write_context(self, conn: Any, org: Org) -> WriteContext:
        """How the record editor writes: same rules, same webhooks as the API."""
        return WriteContext(conn=conn, org=org, now_ms=int(self.clock.now() * 1000),
                            emit=self.webhook_service.record)

    # --- server hooks ------------------------------------------------------------------------------------------

    def org_of_request(self) -> str | None:
        tenant = request.headers.get("xero-tenant-id")
        return tenant.strip().lower() if tenant else None

    def records_written_by_request(self) -> int:
        return int(g.get("xero_records_written", 0))

    def fault_response(self, kind: str) -> Response:
        if kind == "500":
            return server_error().response()
        if kind == "503":
            return Unavailable(MAINTENANCE_TEXT).response()
        retry_after = max(1, math.ceil(self.clock.real_seconds(INJECTED_RETRY_AFTER_SECONDS)))
        return RateLimited("minute", retry_after, {"X-MinLimit-Remaining": "0"}).response()

    def start_background(self) -> None:
        self.webhook_service.start()
