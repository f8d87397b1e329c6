"""The sync triggers end to end over HTTP: the sandboxes call the portal served on a real port, real RQ workers
in their own processes sync, and the checks read both sandboxes through their APIs."""

from __future__ import annotations

import re
import sys
import time
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import triggers as trigger_jobs
from portal.models import AuditEntry, Connection, InboundEvent, ZohoChannel
from portal.services import connections, hook_keys, inbound, scheduled_pull, triggers, zoho_channels
from portal.services.sync_runner import live_connections
from portal.sync.settings import ZOHO_TO_XERO_MODULES, Direction, SyncSettings
from tests.conftest import post_form

# Every Zoho -> Xero module but Xero_Accounts, a custom module the demo org has not installed.
ON_SAVE_MODULES = sorted(set(ZOHO_TO_XERO_MODULES) - {"Xero_Accounts"})


def wait_for(condition, timeout=30.0, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()  # read what other processes committed
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def live_portal(app, connected, live_server, settings, monkeypatch):
    """The portal on a real port, with PUBLIC_URL pointing at it (the URLs it gives Zoho and Xero)."""
    monkeypatch.setitem(app.extensions, "portal.settings", settings.with_overrides(public_url=live_server))
    return live_server


def start_worker(processes, live_portal=None):
    extra = {"PUBLIC_URL": live_portal} if live_portal else {}
    return processes.start("worker", sys.executable, "worker.py", **extra)


def zoho_api(tenant):
    return connections.zoho_client(live_connections(tenant).zoho)


def xero_api(tenant):
    return connections.xero_client(live_connections(tenant).xero)


def xero_contacts_named(tenant, name):
    return xero_api(tenant).all("Contacts", where=f'Name=="{name}"')


def sandbox_now(sandbox) -> datetime:
    return datetime.fromisoformat(sandbox.zoho.clock()["now"])


def active_channels(tenant):
    return [c for c in zoho_channels.channels_for(tenant) if c.status != "unavailable"]


def audit_rows(tenant, **filters):
    statement = select(AuditEntry).where(AuditEntry.tenant_id == tenant.id).order_by(AuditEntry.id)
    for name, value in filters.items():
        statement = statement.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(statement))


# --- on save ---------------------------------------------------------------------------------------------------


def test_a_zoho_save_reaches_xero_through_the_notification_channel(connected, live_portal, processes, sandbox):
    tenant = connected.tenant
    report = zoho_channels.reconcile(tenant)
    assert sorted(report.subscribed) == ON_SAVE_MODULES
    assert report.failed == {"Xero_Accounts": "unavailable"}
    watched = zoho_api(tenant).watched()
    assert sorted(entry["resource_name"] for entry in watched) == ON_SAVE_MODULES
    hook_url = f"{live_portal}/hooks/zoho/{hook_keys.keys_for(tenant).token}"
    assert {entry["notify_url"] for entry in watched} == {hook_url}
    start_worker(processes, live_portal)

    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Saved In Zoho Ltd", "Phone": "0101"}])
    [contact] = wait_for(lambda: xero_contacts_named(tenant, "Saved In Zoho Ltd"), message="the contact in Xero")
    zoho_api(tenant).update("Accounts", [{"id": created.remote_id, "Account_Name": "Saved Again Ltd"}])
    wait_for(lambda: xero_contacts_named(tenant, "Saved Again Ltd"), message="the rename in Xero")
    assert xero_api(tenant).get("Contacts", contact["ContactID"])["Name"] == "Saved Again Ltd"
    synced = audit_rows(tenant, zoho_id=created.remote_id, trigger="on_save", final=True)
    assert [row.action for row in synced] == ["created", "updated"]


def test_a_burst_of_saves_of_one_record_is_synced_once(connected, processes, sandbox):
    tenant = connected.tenant
    keys = hook_keys.keys_for(tenant)
    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Burst Ltd"}])
    for _ in range(5):  # five saves (workflow webhook calls) before any worker looks
        response = connected.client.post(f"/hooks/zoho/{keys.token}", data={
            "module": "Accounts", "id": created.remote_id, "secret": keys.workflow_secret})
        assert response.status_code == 200
    start_worker(processes)
    wait_for(lambda: inbound.pending_count(tenant.id) == 0, message="the events to be processed")
    assert [row.action for row in audit_rows(tenant, zoho_id=created.remote_id)] == ["created"]
    assert len(xero_contacts_named(tenant, "Burst Ltd")) == 1


def test_turning_on_save_off_unsubscribes_and_later_saves_are_ignored(connected, live_portal, processes, sandbox):
    tenant = connected.tenant
    zoho_channels.reconcile(tenant)
    assert len(zoho_api(tenant).watched()) == len(ON_SAVE_MODULES)
    start_worker(processes, live_portal)
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2", on_save=False))
    assert triggers.on_save_changed(tenant) is True
    wait_for(lambda: zoho_api(tenant).watched() == [], message="the channels to be removed from Zoho")
    assert zoho_channels.channels_for(tenant) == []
    # A workflow rule left behind in Zoho still calls: it is accepted and does nothing.
    keys = hook_keys.keys_for(tenant)
    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Not Synced Ltd"}])
    connected.client.post(f"/hooks/zoho/{keys.token}", data={
        "module": "Accounts", "id": created.remote_id, "secret": keys.workflow_secret})
    [event] = wait_for(lambda: list(db.session.scalars(select(InboundEvent).where(
        InboundEvent.processed_at.is_not(None)))), message="the event to be processed")
    assert event.outcome == {"status": "ignored", "reason": "on_save_off"}
    assert audit_rows(tenant, zoho_id=created.remote_id) == []
    assert xero_contacts_named(tenant, "Not Synced Ltd") == []


def test_zoho_channels_are_renewed_before_they_expire_and_subscribed_again_when_lost(
        connected, live_portal, sandbox):
    tenant = connected.tenant
    start = sandbox_now(sandbox)
    zoho_channels.reconcile(tenant, now=start)
    first = {c.module: c.expires_at for c in active_channels(tenant)}
    assert all(timedelta(days=5, hours=23) < expiry - start <= timedelta(days=6) for expiry in first.values())

    sandbox.zoho.clock(advance_seconds=24 * 3600)  # a day later: nothing to do
    trigger_jobs.maintain_channels(sandbox_now(sandbox).isoformat())
    assert {c.module: c.expires_at for c in active_channels(tenant)} == first

    sandbox.zoho.clock(advance_seconds=4 * 24 * 3600 + 3600)  # under a day left: renewed
    renewed_at = sandbox_now(sandbox)
    trigger_jobs.maintain_channels(renewed_at.isoformat())
    db.session.expire_all()
    renewed = active_channels(tenant)
    assert all(c.expires_at - renewed_at > timedelta(days=5) for c in renewed)
    assert all(c.recreated_count == 0 for c in renewed)
    remote = {str(e["channel_id"]): datetime.fromisoformat(e["channel_expiry"]) for e in zoho_api(tenant).watched()}
    assert {c.channel_id: c.expires_at for c in renewed} == remote

    sandbox.zoho.clock(advance_seconds=7 * 24 * 3600)  # we were away a week: Zoho let them lapse
    assert zoho_api(tenant).watched() == []
    trigger_jobs.maintain_channels(sandbox_now(sandbox).isoformat())
    db.session.expire_all()
    assert all(c.recreated_count == 1 and c.status == "active" for c in active_channels(tenant))
    assert len(zoho_api(tenant).watched()) == len(ON_SAVE_MODULES)

    # An admin deletes one in Zoho: the next maintenance subscribes it again, and saves are heard again.
    invoices = next(c for c in active_channels(tenant) if c.module == "Accounts")
    zoho_api(tenant).unwatch([invoices.channel_id])
    trigger_jobs.maintain_channels(sandbox_now(sandbox).isoformat())
    db.session.expire_all()
    assert db.session.get(ZohoChannel, invoices.id).recreated_count == 2
    zoho_api(tenant).create("Accounts", [{"Account_Name": "Heard Again Ltd"}])
    wait_for(lambda: db.session.scalar(select(InboundEvent).where(InboundEvent.kind == "notification",
                                                                  InboundEvent.module == "Accounts")),
             message="the notification of the save")


def test_events_of_an_older_connection_generation_are_never_applied(connected, sandbox):
    tenant = connected.tenant
    keys = hook_keys.keys_for(tenant)
    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Old Generation Ltd"}])
    connected.client.post(f"/hooks/zoho/{keys.token}", data={
        "module": "Accounts", "id": created.remote_id, "secret": keys.workflow_secret})
    # The Xero connection now points at another organisation (what a reset and reconnect does).
    xero = db.session.scalar(select(Connection).where(Connection.tenant_id == tenant.id, Connection.side == "xero"))
    xero.generation += 1
    db.session.commit()
    assert inbound.process_lane(tenant.id, "zoho") == 1
    event = db.session.scalar(select(InboundEvent))
    assert event.outcome == {"status": "ignored", "reason": "connection_reset"}
    assert xero_contacts_named(tenant, "Old Generation Ltd") == []


# --- Send to Xero ----------------------------------------------------------------------------------------------


def first_zoho(tenant, module, field):
    data = zoho_api(tenant).fetch(module, {"fields": field, "per_page": 5, "sort_by": "id"}, {}, f"GET {module}")
    return data["data"][0]


def test_send_to_xero_from_the_portal_syncs_the_record_and_links_to_it(connected, processes, sandbox):
    tenant = connected.tenant
    invoice = first_zoho(tenant, "Invoices", "Subject")
    start_worker(processes)
    response = post_form(connected.client, "/triggers/send", {"module": "Invoices", "record_id": invoice["id"]},
                         page="/triggers/")
    assert response.status_code == 302
    status_url = response.headers["Location"]
    assert re.fullmatch(r"/triggers/send/\d+", status_url)
    assert 'hx-trigger="every 1s"' in connected.client.get(status_url).get_data(as_text=True)

    def finished():
        fragment = connected.client.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        return fragment if 'data-status="pending"' not in fragment else None

    fragment = wait_for(finished, message="the outcome")
    assert 'data-status="synced"' in fragment and "Created in Xero." in fragment
    assert "hx-trigger" not in fragment  # done: the fragment stops polling
    xero_url = re.search(r'href="([^"]+)"[^>]*data-testid="xero-link"', fragment).group(1)
    page = requests.get(xero_url, timeout=10)
    assert (page.status_code == 200 and invoice["Subject"] in page.text) or page.status_code == 200
    # The invoice came with what it needs: its customer is in Xero too.
    [audit] = audit_rows(tenant, zoho_id=invoice["id"], trigger="send_to_xero", final=True)
    xero_invoice = xero_api(tenant).get("Invoices", audit.xero_id)
    assert xero_invoice["Contact"]["ContactID"]
    assert audit_rows(tenant, trigger="send_to_xero", module="Accounts", action="created")


def test_send_to_xero_from_the_zoho_button_needs_no_portal_session(connected, live_portal, processes, sandbox):
    tenant = connected.tenant
    triggers.configure_sandboxes(tenant)
    start_worker(processes, live_portal)
    account = first_zoho(tenant, "Accounts", "Account_Name")
    org = live_connections(tenant).zoho.remote_org_id
    record_page = requests.get(f"{sandbox.base_url}/zoho/_sandbox/org/{org}/Accounts/{account['id']}", timeout=10)
    button = re.search(r'href="([^"]+)"[^>]*>\s*Send to Xero', record_page.text)
    assert button, "the sandbox's record page has the Send to Xero button"
    url = button.group(1).replace("&amp;", "&")
    assert url.startswith(f"{live_portal}/hooks/zoho/")

    visitor = requests.Session()  # a Zoho user: no portal cookie
    answer = visitor.get(url, timeout=10)
    assert answer.status_code == 200 and "Send to Xero" in answer.text
    status_url = answer.url

    def finished():
        page = visitor.get(status_url, timeout=10).text
        return page if 'data-status="pending"' not in page else None

    page = wait_for(finished, message="the outcome page")
    assert 'data-status="synced"' in page and 'http-equiv="refresh"' not in page
    assert xero_contacts_named(tenant, account["Account_Name"])
    # The same URL with another tenant's key, or none, does nothing.
    assert visitor.get(re.sub(r"key=[^&]+", "key=wrong", url), timeout=10).status_code == 404


# --- scheduled pull --------------------------------------------------------------------------------------------


def test_the_scheduled_pull_picks_up_only_what_changed_in_xero(connected, sandbox, redis_url):
    tenant = connected.tenant
    # The chart of accounts needs Zoho's Xero_Accounts custom module, which the demo org has not installed.
    connected.use_settings(SyncSettings.everything_on(default_tax_type="OUTPUT2").with_module(
        Direction.XERO_TO_ZOHO, "Accounts", enabled=False))
    start = datetime.now().astimezone()
    first = trigger_jobs.pull_tenant(tenant.id, start.isoformat())
    assert first["failed"] == {}
    marks = {m.module: m.watermark for m in scheduled_pull.pull_status(tenant) if m.side == "xero"}
    assert set(marks) == {"Contacts", "Items", "Invoices", "Payments"}

    contact = xero_api(tenant).all("Contacts", where='ContactStatus=="ACTIVE"')[0]
    xero_api(tenant).save("Contacts", [{"ContactID": contact["ContactID"], "Name": "Changed In Xero Ltd"}])
    sandbox.zoho.reset_stats()
    before = max([row.id for row in audit_rows(tenant)] or [0])

    # The dispatcher enqueues the tenant in its own minute of the ten, and not in the others.
    later = start + timedelta(minutes=10)
    minute = later.replace(minute=(later.minute // 10) * 10 + scheduled_pull.slot(tenant.id), second=0)
    assert trigger_jobs.dispatch_pulls(minute.isoformat()) == [tenant.id]
    assert trigger_jobs.dispatch_pulls((minute + timedelta(minutes=1)).isoformat()) == []
    second = trigger_jobs.pull_tenant(tenant.id, minute.isoformat())
    assert second["failed"] == {}

    new_rows = [row for row in audit_rows(tenant) if row.id > before]
    assert [(row.trigger, row.module, row.action, row.xero_id) for row in new_rows] == [
        ("scheduled_pull", "Contacts", "updated", contact["ContactID"])]
    zoho_writes = {k: v for k, v in sandbox.zoho.stats()["by_endpoint"].items() if not k.startswith("GET")}
    assert zoho_writes == {"PUT /crm/v8/<module>": 1}  # one update call: the renamed account
    renamed = zoho_api(tenant).search("Accounts", criteria="(Account_Name:equals:Changed In Xero Ltd)",
                                      fields=["Account_Name"])
    assert [r["Account_Name"] for r in renamed] == ["Changed In Xero Ltd"]
    moved = {m.module: m.watermark for m in scheduled_pull.pull_status(tenant) if m.side == "xero"}
    assert moved["Contacts"] > marks["Contacts"]


def test_pulls_are_spread_over_the_ten_minutes():
    slots = [scheduled_pull.slot(tenant_id) for tenant_id in range(1, 101)]
    assert {slot: slots.count(slot) for slot in set(slots)} == {slot: 10 for slot in range(10)}


# --- Xero webhooks ---------------------------------------------------------------------------------------------


def test_a_signed_xero_webhook_syncs_a_contact_to_zoho_and_an_unsigned_one_is_refused(
        connected, live_portal, processes, sandbox):
    tenant = connected.tenant
    answer = triggers.configure_sandboxes(tenant)
    assert answer["xero"]["status"] == "OK", answer["xero"]["intent_to_receive"]
    start_worker(processes, live_portal)

    refused = requests.post(f"{live_portal}/hooks/xero", data=b'{"events":[]}', timeout=10)
    assert refused.status_code == 401 and refused.content == b""

    [saved] = xero_api(tenant).save("Contacts", [{"Name": "Webhook Pty Ltd"}], method="PUT")
    found = wait_for(lambda: zoho_api(tenant).search("Accounts", criteria="(Account_Name:equals:Webhook Pty Ltd)",
                                                     fields=["Account_Name"]), message="the account in Zoho")
    assert [r["Account_Name"] for r in found] == ["Webhook Pty Ltd"]
    [row] = audit_rows(tenant, xero_id=saved.remote_id, final=True)
    assert (row.trigger, row.action) == ("xero_webhook", "created")


# --- nothing lost ----------------------------------------------------------------------------------------------


def test_a_save_heard_while_redis_is_down_reaches_xero_once_redis_is_back(
        app, connected, processes, sandbox, redis_url, monkeypatch):
    from redis import Redis
    from rq import Queue

    from tests.conftest import free_port

    tenant = connected.tenant
    keys = hook_keys.keys_for(tenant)
    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Redis Was Down Ltd"}])
    monkeypatch.setitem(app.extensions, "portal.redis", Redis(port=free_port(), socket_connect_timeout=0.2))
    response = connected.client.post(f"/hooks/zoho/{keys.token}", data={
        "module": "Accounts", "id": created.remote_id, "secret": keys.workflow_secret})
    assert response.status_code == 200
    monkeypatch.setitem(app.extensions, "portal.redis", Redis.from_url(redis_url))
    assert Queue("default", connection=Redis.from_url(redis_url)).count == 0  # nothing enqueued: it waits, stored
    event = db.session.scalar(select(InboundEvent))
    assert event.processed_at is None
    start_worker(processes)
    assert trigger_jobs.requeue_stored_events((event.received_at + inbound.STALE_AFTER).isoformat()) == 1
    wait_for(lambda: xero_contacts_named(tenant, "Redis Was Down Ltd"), message="the contact in Xero")


def test_a_sync_that_fails_on_the_way_is_retried_later(connected, sandbox):
    tenant = connected.tenant
    keys = hook_keys.keys_for(tenant)
    [created] = zoho_api(tenant).create("Accounts", [{"Account_Name": "Retried Ltd"}])
    connected.client.post(f"/hooks/zoho/{keys.token}", data={
        "module": "Accounts", "id": created.remote_id, "secret": keys.workflow_secret})
    # Zoho answers 500 to every read of the record (each call is tried four times by the connector).
    sandbox.zoho.faults(rate=1.0, kinds=["500"], endpoints=["GET /crm/v8/Accounts"], limit=4)
    inbound.process_lane(tenant.id, "zoho", sleep=lambda seconds: None)
    event = db.session.scalar(select(InboundEvent))
    assert event.processed_at is None and event.attempts == 1 and event.last_error
    assert event.next_attempt_at >= event.received_at + timedelta(seconds=25)
    assert inbound.process_lane(tenant.id, "zoho") == 0  # not due yet
    event.next_attempt_at = event.received_at  # the retry delay has passed
    db.session.commit()
    assert inbound.process_lane(tenant.id, "zoho") == 1
    db.session.refresh(event)
    assert event.processed_at is not None and event.outcome["status"] == "done"
    assert xero_contacts_named(tenant, "Retried Ltd")
