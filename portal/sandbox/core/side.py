"""What an emulator (Xero, Zoho) plugs into the shared sandbox server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox
from portal.sandbox.core.faults import FaultInjector
from portal.sandbox.core.stats import CallStats
from portal.sandbox.core.store import Store


@dataclass(frozen=True)
class SandboxContext:
    """What the server shares with every side: the database, the clock and the outgoing-delivery queue."""

    store: Store
    clock: SandboxClock
    outbox: Outbox


class SandboxSide:
    """Base class of one emulated service, served under ``/<name>``.

    A side provides its blueprints (API, OAuth, editor) and the hooks of the control API. The server gives it
    the store, the clock, the outbox, its fault injector and its call stats. Requests to endpoints whose view is marked
    with :func:`portal.sandbox.core.server.api_endpoint` are counted and subject to faults.
    """

    name: str = ""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self.store = context.store
        self.clock = context.clock
        self.outbox = context.outbox
        self.faults = FaultInjector(context.store, self.name)
        self.stats = CallStats()

    def blueprints(self) -> list[Blueprint]:
        raise NotImplementedError

    def reset(self) -> dict[str, Any]:
        """Wipe this side's data and state back to the deterministic starting point (demo orgs, clients)."""
        raise NotImplementedError

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Add deterministic volumes of records (``params`` is the control API's JSON body)."""
        raise NotImplementedError

    def webhooks(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Read (``params`` None) or change the webhook delivery settings."""
        raise NotImplementedError

    def org_of_request(self) -> str | None:
        """The organisation the current API request addresses, for stats (e.g. the xero-tenant-id)."""
        return None

    def records_written_by_request(self) -> int:
        return 0

    def fault_response(self, kind: str) -> Response:
        """The answer of an injected ``500``, ``503`` or ``429``, in this service's own error shape."""
        response = jsonify({"error": f"injected {kind}"})
        response.status_code = int(kind)
        return response

    def start_background(self) -> None:
        """Start delivery threads (webhooks, notifications). Called once per server process."""
