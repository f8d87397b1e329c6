"""The hook endpoints over HTTP: who is let in, what is stored, and that nothing is lost when Redis is down."""

from __future__ import annotations

import re

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, InboundEvent, ZohoChannel
from portal.services import hook_keys, inbound
from tests.conftest import free_port
from tests.triggers.conftest import xero_delivery, xero_event, xero_signature

XERO_ORG = "6e9b2a5c-0b1d-4c8e-9a3f-1d2e3f4a5b02"
ZOHO_ID = "4150868000000123001"


@pytest.fixture
def acme_xero(acme):
    connection = Connection(tenant_id=acme.id, side="xero", status="connected", remote_org_id=XERO_ORG)
    db.session.add(connection)
    db.session.commit()
    return connection


def events(tenant_id=None):
    statement = select(InboundEvent).order_by(InboundEvent.id)
    if tenant_id is not None:
        statement = statement.where(InboundEvent.tenant_id == tenant_id)
    return list(db.session.scalars(statement))


def queued_jobs(redis_url, name="default"):
    return Queue(name, connection=Redis.from_url(redis_url)).jobs


# --- Xero ------------------------------------------------------------------------------------------------------


def test_an_unsigned_or_wrongly_signed_xero_delivery_is_refused_with_an_empty_401(client, acme_xero, settings):
    body = xero_delivery([xero_event(XERO_ORG, "c1")])
    for headers in ({}, {"x-xero-signature": xero_signature("not the key", body)},
                    {"x-xero-signature": xero_signature(settings.xero_webhook_key, body + b" ")}):
        response = client.post("/hooks/xero", data=body, headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 401
        assert response.data == b""
        assert "Set-Cookie" not in response.headers
    assert events() == []


def test_a_signed_xero_delivery_is_stored_once_per_event_for_the_tenant_of_its_organisation(
        client, acme_xero, settings, redis_url):
    delivery = [xero_event(XERO_ORG, "c1"), xero_event(XERO_ORG, "i1", category="INVOICE", event_type="CREATE"),
                xero_event("00000000-0000-0000-0000-000000000000", "other"),  # no tenant of ours
                xero_event(XERO_ORG, "cn1", category="CREDITNOTE")]  # not synced
    body = xero_delivery(delivery)
    signature = xero_signature(settings.xero_webhook_key, body)
    for _ in range(2):  # Xero delivers at least once: the second copy changes nothing
        response = client.post("/hooks/xero", data=body,
                               headers={"Content-Type": "application/json", "x-xero-signature": signature})
        assert response.status_code == 200 and response.data == b""
        assert "Set-Cookie" not in response.headers
    stored = events(acme_xero.tenant_id)
    assert [(e.source, e.kind, e.module, e.record_ids) for e in stored] == [
        ("xero", "webhook", "Contacts", ["c1"]), ("xero", "webhook", "Invoices", ["i1"])]
    assert len(events()) == 2
    # One job for the burst: the second delivery found the lane already awake.
    jobs = queued_jobs(redis_url)
    assert [(j.func_name, j.args) for j in jobs] == [("portal.jobs.triggers.process_events",
                                                      (acme_xero.tenant_id, "xero"))]


def test_the_intent_to_receive_check_passes(client, settings):
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"QWERTYUIOPASDFGHJKLZ"}'
    good = client.post("/hooks/xero", data=body, headers={
        "Content-Type": "application/json", "x-xero-signature": xero_signature(settings.xero_webhook_key, body)})
    bad = client.post("/hooks/xero", data=body, headers={
        "Content-Type": "application/json", "x-xero-signature": xero_signature("wrong", body)})
    assert (good.status_code, good.data, bad.status_code, bad.data) == (200, b"", 401, b"")


def test_without_a_configured_key_every_xero_delivery_is_refused(client, app, settings, monkeypatch):
    monkeypatch.setitem(app.extensions, "portal.settings", settings.with_overrides(xero_webhook_key=""))
    body = xero_delivery([])
    response = client.post("/hooks/xero", data=body, headers={"x-xero-signature": xero_signature("", body)})
    assert response.status_code == 401


# --- Zoho ------------------------------------------------------------------------------------------------------


def notification(keys, channel_id, ids, operation="update", module="Invoices", token=None, server_time=1718117126473):
    return {"server_time": server_time, "query_params": {}, "module": module,
            "resource_uri": f"https://www.zohoapis.com/crm/v8/{module}", "ids": ids, "affected_fields": [],
            "operation": operation, "channel_id": channel_id,
            "token": keys.channel_token if token is None else token}


@pytest.fixture
def acme_channel(acme, acme_keys):
    channel = ZohoChannel(tenant_id=acme.id, zoho_org_id="4150868000000013001", module="Invoices",
                          channel_id="1234567890123", status="active")
    db.session.add(channel)
    db.session.commit()
    return channel


def test_zoho_hooks_refuse_an_unknown_tenant_token_and_a_wrong_channel_token(client, acme_keys, acme_channel):
    assert client.post("/hooks/zoho/not-a-token", json=notification(acme_keys, "1234567890123", [ZOHO_ID])
                       ).status_code == 404
    assert client.post(f"/hooks/zoho/{acme_keys.token}",
                       json=notification(acme_keys, "1234567890123", [ZOHO_ID], token="guess")).status_code == 401
    # Another tenant's channel token does not open this tenant's hook either.
    other = hook_keys.HookKeys(acme_keys.tenant_id + 1, "t", "another secret")
    assert client.post(f"/hooks/zoho/{acme_keys.token}",
                       json=notification(acme_keys, "1234567890123", [ZOHO_ID], token=other.channel_token)
                       ).status_code == 401
    assert events() == []


def test_a_zoho_notification_is_stored_once_and_one_of_an_unknown_channel_is_dropped(
        client, acme, acme_keys, acme_channel):
    payload = notification(acme_keys, "1234567890123", [ZOHO_ID, "4150868000000123002"])
    for _ in range(2):
        assert client.post(f"/hooks/zoho/{acme_keys.token}", json=payload).status_code == 200
    deleted = notification(acme_keys, "1234567890123", [ZOHO_ID], operation="delete", server_time=1718117127000)
    assert client.post(f"/hooks/zoho/{acme_keys.token}", json=deleted).status_code == 200
    stray = notification(acme_keys, "999", [ZOHO_ID], server_time=1718117128000)
    assert client.post(f"/hooks/zoho/{acme_keys.token}", json=stray).status_code == 200
    assert [(e.kind, e.module, e.operation, e.record_ids) for e in events(acme.id)] == [
        ("notification", "Invoices", "upsert", [ZOHO_ID, "4150868000000123002"]),
        ("notification", "Invoices", "delete", [ZOHO_ID])]


def test_a_workflow_webhook_needs_its_secret_and_a_real_module_and_id(client, acme, acme_keys):
    url = f"/hooks/zoho/{acme_keys.token}"
    assert client.post(url, data={"module": "Invoices", "id": ZOHO_ID, "secret": "nope"}).status_code == 401
    assert client.post(url, data={"module": "Invoices", "id": ZOHO_ID}).status_code == 401
    refused = client.post(url, data={"module": "Leads", "id": ZOHO_ID, "secret": acme_keys.workflow_secret})
    assert refused.status_code == 400 and "cannot be sent to Xero" in refused.json["message"]
    assert client.post(url, data={"module": "Invoices", "id": "1 OR 1=1", "secret": acme_keys.workflow_secret}
                       ).status_code == 400
    assert client.post(url, data={"module": "Invoices", "id": ZOHO_ID, "secret": acme_keys.workflow_secret}
                       ).status_code == 200
    assert client.post(url, json={"module": "Accounts", "id": ZOHO_ID, "secret": acme_keys.workflow_secret}
                       ).status_code == 200
    assert [(e.kind, e.module, e.record_ids) for e in events(acme.id)] == [
        ("workflow", "Invoices", [ZOHO_ID]), ("workflow", "Accounts", [ZOHO_ID])]


def test_redis_down_at_hook_time_loses_nothing(client, app, acme, acme_keys, redis_url, monkeypatch):
    dead = Redis(port=free_port(), socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "portal.redis", dead)
    response = client.post(f"/hooks/zoho/{acme_keys.token}",
                           data={"module": "Invoices", "id": ZOHO_ID, "secret": acme_keys.workflow_secret})
    assert response.status_code == 200  # answered: the event is stored
    assert [e.record_ids for e in events(acme.id)] == [[ZOHO_ID]]
    monkeypatch.setitem(app.extensions, "portal.redis", Redis.from_url(redis_url))
    assert queued_jobs(redis_url) == []
    # The periodic job wakes the lane once the event has waited longer than a normal wake-up takes.
    stored = events(acme.id)[0]
    assert inbound.requeue_stored(stored.received_at) == 0
    assert inbound.requeue_stored(stored.received_at + inbound.STALE_AFTER) == 1
    assert [(j.func_name, j.args) for j in queued_jobs(redis_url)] == [
        ("portal.jobs.triggers.process_events", (acme.id, "zoho"))]
    # Running it again while that job waits adds no second job.
    inbound.requeue_stored(stored.received_at + inbound.STALE_AFTER)
    assert len(queued_jobs(redis_url)) == 1


# --- Send to Xero from a Zoho button ---------------------------------------------------------------------------


def test_the_send_button_url_needs_the_tenants_key_and_is_rate_limited(client, acme, acme_keys, redis_url):
    url = f"/hooks/zoho/{acme_keys.token}/send"
    assert client.get(f"{url}?module=Invoices&id={ZOHO_ID}").status_code == 404
    assert client.get(f"{url}?module=Invoices&id={ZOHO_ID}&key=guess").status_code == 404
    bad = client.get(f"{url}?module=Leads&id={ZOHO_ID}&key={acme_keys.send_key}")
    assert bad.status_code == 400 and "Records of Leads cannot be sent to Xero." in bad.get_data(as_text=True)
    response = client.get(f"{url}?module=Invoices&id={ZOHO_ID}&key={acme_keys.send_key}")
    assert response.status_code == 302
    status_url = response.headers["Location"]
    assert status_url.startswith(f"{url}/")
    page = client.get(status_url).get_data(as_text=True)
    assert "Sending to Xero" in page and 'http-equiv="refresh"' in page
    [event] = events(acme.id)
    assert (event.kind, event.module, event.record_ids) == ("send_button", "Invoices", [ZOHO_ID])
    assert [(j.func_name, j.args) for j in queued_jobs(redis_url, "high")] == [
        ("portal.jobs.triggers.send_record", (acme.id, event.id))]
    # The status link is signed: another event's id cannot be read through it.
    forged = re.sub(r"/send/[^/]+$", "/send/WzEsIDJd.forged", status_url)
    assert client.get(forged).status_code == 404
    # Twenty a minute per tenant URL, then "too many".
    statuses = [client.get(f"{url}?module=Invoices&id={ZOHO_ID}&key={acme_keys.send_key}").status_code
                for _ in range(25)]
    assert statuses.count(429) >= 5 and statuses[0] == 302


def test_processed_events_are_forgotten_after_two_weeks_and_pending_ones_never(app, acme):
    from datetime import timedelta

    inbound.store(acme.id, "zoho", [inbound.NewEvent("workflow", "Invoices", [ZOHO_ID], f"k{n}") for n in range(3)])
    old, recent, pending = events(acme.id)
    now = old.received_at + timedelta(days=20)
    old.processed_at = old.received_at
    recent.processed_at = now - timedelta(days=1)
    db.session.commit()
    assert inbound.prune(now) == 1
    assert [e.id for e in events(acme.id)] == [recent.id, pending.id]
