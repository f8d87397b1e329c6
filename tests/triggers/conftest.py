"""Helpers for the hook tests: signing like Xero, posting like Zoho."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from portal.services import hook_keys


def xero_signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def xero_delivery(events: list[dict], sequence: int = 1) -> bytes:
    return json.dumps({"events": events, "firstEventSequence": sequence, "lastEventSequence": sequence,
                       "entropy": "ABCDEFGHIJKLMNOPQRST"}, separators=(",", ":")).encode()


def xero_event(tenant_id: str, resource_id: str, category: str = "CONTACT", event_type: str = "UPDATE",
               at: str = "2026-06-21T01:15:39.902") -> dict:
    path = {"CONTACT": "Contacts", "INVOICE": "Invoices"}.get(category, "CreditNotes")
    return {"resourceUrl": f"https://api.xero.com/api.xro/2.0/{path}/{resource_id}", "resourceId": resource_id,
            "eventDateUtc": at, "eventType": event_type, "eventCategory": category, "tenantId": tenant_id,
            "tenantType": "ORGANISATION"}


@pytest.fixture
def acme_keys(acme):
    return hook_keys.keys_for(acme)
