"""The Zoho sandbox's parts, built once per server and shared by its blueprints."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from portal.sandbox.core.clock import SandboxClock
from portal.sandbox.core.delivery import Outbox
from portal.sandbox.core.store import Store
from portal.sandbox.zoho.bulk import BulkReads
from portal.sandbox.zoho.limits import Limits
from portal.sandbox.zoho.notify import Notifier
from portal.sandbox.zoho.oauth import Tokens
from portal.sandbox.zoho.records import Records
from portal.sandbox.zoho.state import Orgs


@dataclass
class Zoho:
    store: Store
    clock: SandboxClock
    outbox: Outbox
    orgs: Orgs
    records: Records
    tokens: Tokens
    limits: Limits
    notifier: Notifier
    bulk: BulkReads

    @classmethod
    def build(cls, store: Store, clock: SandboxClock, outbox: Outbox) -> Zoho:
        orgs = Orgs(store)
        records = Records(store, orgs, clock)
        return cls(store, clock, outbox, orgs, records, Tokens(store, orgs, clock), Limits(store, clock),
                   Notifier(store, clock, outbox), BulkReads(store, orgs, records, clock, outbox))


def base_url() -> str:
    """``BASE/zoho``: the api_domain the token response names and the root of resource URIs."""
    return f"{request.host_url.rstrip('/')}/zoho"
