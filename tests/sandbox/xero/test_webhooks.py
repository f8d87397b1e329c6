"""Xero webhooks from the sandbox: intent to receive, signed and batched events for API and editor changes,
retries, and disabling after a day of failures (FACTS.md §5; xero-webhooks.yaml)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import jsonschema
import yaml

from tests.sandbox.xero.conftest import wait_for
from tests.sandbox.xero.helpers import NZ, SPECS

with open(SPECS / "xero-webhooks.yaml") as _handle:
    WEBHOOK_SCHEMA = {**yaml.safe_load(_handle)["components"]["schemas"]["WebhookEvent"]}


def enable(sandbox, receiver, **settings) -> dict:
    return sandbox.xero.webhooks(url=receiver.url, key=receiver.key, enabled=True, batch_seconds=0.3, **settings)


def test_intent_to_receive_passes_only_a_receiver_that_checks_signatures(sandbox, receiver):
    result = enable(sandbox, receiver)
    assert result["status"] == "OK"
    handshake = receiver.received
    assert len(handshake) == 4
    assert sorted(delivery.answered for delivery in handshake) == [200, 200, 401, 401]
    for delivery in handshake:
        payload = json.loads(delivery.body)
        assert payload["events"] == [] and payload["firstEventSequence"] == payload["lastEventSequence"] == 0
        assert re.fullmatch(r"[A-Z]{20}", payload["entropy"])

    receiver.always = 200  # a receiver that does not check signatures
    failed = sandbox.xero.webhooks(verify=True)
    assert failed["status"] == "FAILED"
    assert [check["passed"] for check in failed["intent_to_receive"]].count(False) == 2


def test_events_are_signed_batched_and_point_at_the_resource(sandbox, receiver, xero):
    enable(sandbox, receiver)
    receiver.received.clear()
    created = xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Hook One"}, {"Name": "Hook Two"}]}))["Contacts"]
    wait_for(lambda: len(receiver.events()) >= 2)
    deliveries = [json.loads(d.body) for d in receiver.received]
    assert len(deliveries) == 1  # one batch for the one call
    payload = deliveries[0]
    jsonschema.validate(payload, WEBHOOK_SCHEMA)
    assert payload["lastEventSequence"] - payload["firstEventSequence"] == 1
    events = payload["events"]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", created[0]["ContactID"]), ("CONTACT", "CREATE", created[1]["ContactID"])]
    assert events[0]["resourceUrl"] == f"https://api.xero.com/api.xro/2.0/Contacts/{created[0]['ContactID']}"
    assert {e["tenantId"] for e in events} == {NZ} and {e["tenantType"] for e in events} == {"ORGANISATION"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", events[0]["eventDateUtc"])
    delivery = receiver.received[0]
    expected = base64.b64encode(hmac.new(receiver.key.encode(), delivery.body, hashlib.sha256).digest()).decode()
    assert delivery.signature == expected

    # Archiving is an UPDATE; a payment changes the invoice; items raise nothing (Xero has no item webhooks).
    xero.ok(xero.post(f"/Contacts/{created[0]['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]}))
    xero.ok(xero.put("/Items", {"Items": [{"Code": "HOOKED"}]}))
    invoice = xero.ok(xero.get("/Invoices", params={"where": 'Status=="AUTHORISED" AND Type=="ACCREC"'}))["Invoices"][0]
    xero.ok(xero.put("/Payments", {"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                 "Account": {"Code": "090"}, "Date": invoice["Date"],
                                                 "Amount": 1}]}))
    wait_for(lambda: len(receiver.events()) >= 4)
    later = [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in receiver.events()[2:]]
    assert later == [("CONTACT", "UPDATE", created[0]["ContactID"]), ("INVOICE", "UPDATE", invoice["InvoiceID"])]


def test_no_events_without_a_live_webhook(sandbox, receiver, xero):
    receiver.always = 200
    assert enable(sandbox, receiver)["status"] == "FAILED"
    xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Unheard"}]}))
    sandbox.xero.webhooks(flush=True)
    assert sandbox.xero.webhooks()["pending_events"] == 0
    assert len(receiver.received) == 4  # the handshake only


def test_failed_deliveries_are_retried_then_the_webhook_is_disabled(sandbox, receiver, xero):
    enable(sandbox, receiver)
    receiver.received.clear()
    receiver.always = 500
    xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Retry Me"}]}))
    wait_for(lambda: receiver.received)
    receiver.always = None
    sandbox.xero.clock(advance_seconds=61)  # Xero retries, the first time after a minute here
    wait_for(lambda: receiver.events())
    deliveries = sandbox.xero.webhooks()["deliveries"]
    assert deliveries[0]["status"] == "delivered" and deliveries[0]["attempts"] == 2

    receiver.always = 500
    xero.ok(xero.put("/Contacts", {"Contacts": [{"Name": "Never Heard"}]}))
    wait_for(lambda: sandbox.xero.webhooks()["deliveries"][0]["attempts"] == 1)
    # Decreasing frequency for about a day, then Xero gives up and disables the webhook.
    for attempt in range(2, 11):
        sandbox.xero.clock(advance_seconds=8 * 3600 + 1)
        wait_for(lambda attempt=attempt: sandbox.xero.webhooks()["deliveries"][0]["attempts"] >= attempt)
    settings = wait_for(lambda: (lambda s: s if s["status"] == "DISABLED" else None)(sandbox.xero.webhooks()))
    assert settings["enabled"] is False and settings["deliveries"][0]["status"] == "failed"
