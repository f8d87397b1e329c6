"""Change notifications from the Zoho sandbox: watch channels (subscribe, deliver, expire, renew) and workflow-rule
webhooks, for writes through the API and through the record editor."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import requests

from tests.sandbox.zoho.conftest import Api, Receiver, ZohoSandbox
from tests.sandbox.zoho.oas import validate


def subscribe(api: Api, receiver: Receiver, events: list[str], **extra: object) -> requests.Response:
    return api.post("/crm/v8/actions/watch", {"watch": [{
        "channel_id": 1000000068001, "events": events, "notify_url": f"{receiver.url}/hooks/zoho?tenant=t1",
        "token": "per-tenant-secret", **extra}]})


def expiry_in(zoho: ZohoSandbox, seconds: int) -> str:
    now = datetime.fromisoformat(zoho.control.zoho.clock()["now"])
    return (now + timedelta(seconds=seconds)).astimezone(UTC).isoformat()


def test_a_channel_delivers_the_real_payload_for_creates_edits_and_deletes(zoho: ZohoSandbox, receiver: Receiver):
    api = zoho.api("us")
    answer = subscribe(api, receiver, ["Contacts.all", "Invoices.create"], return_affected_field_values=True)
    assert answer.status_code == 201
    validate("notifications.json", "SuccessWrapper", answer.json())
    event = answer.json()["watch"][0]["details"]["events"][0]
    validate("notifications.json", "event", event)
    assert event["resource_name"] == "Contacts" and event["channel_id"] == "1000000068001"

    created = api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "Watched"}, {"Last_Name": "Also"}]}).json()
    ids = [item["details"]["id"] for item in created["data"]]
    insert = receiver.wait_for()[0].json()
    assert set(insert) == {"server_time", "query_params", "module", "resource_uri", "ids", "affected_fields",
                           "operation", "channel_id", "token"}
    assert insert["operation"] == "insert" and insert["module"] == "Contacts" and insert["ids"] == ids
    assert insert["query_params"] == {"tenant": "t1"} and insert["token"] == "per-tenant-secret"
    assert insert["channel_id"] == "1000000068001" and insert["resource_uri"] == f"{zoho.base}/zoho/crm/v8/Contacts"

    api.put("/crm/v8/Contacts", {"data": [{"id": ids[0], "Title": "Buyer", "Last_Name": "Watched"}]})
    update = receiver.wait_for(lambda r: r.json()["operation"] == "update")[0].json()
    assert update["ids"] == [ids[0]] and update["affected_fields"] == [{ids[0]: ["Title"]}]
    assert update["affected_values"] == [{"id": ids[0], "Title": "Buyer"}]

    api.delete("/crm/v8/Contacts", params={"ids": ids[1]})
    assert receiver.wait_for(lambda r: r.json()["operation"] == "delete")[0].json()["ids"] == [ids[1]]
    # Accounts are not watched by this channel.
    api.post("/crm/v8/Accounts", {"data": [{"Account_Name": "Unwatched Ltd"}]})
    api.post("/crm/v8/Contacts", {"data": [{"Last_Name": "Last"}]})
    receiver.wait_for(count=4)
    assert {r.json()["module"] for r in receiver.received} == {"Contacts"}


def test_channels_expire_within_a_week_and_renew(zoho: ZohoSandbox, receiver: Receiver):
    api = zoho.api("us")
    # Zoho: beyond a week the expiry falls back to an hour; a missing one is an hour too.
    far = subscribe(api, receiver, ["Accounts.create"], channel_expiry=expiry_in(zoho, 8 * 24 * 3600)).json()
    granted = datetime.fromisoformat(far["watch"][0]["details"]["events"][0]["channel_expiry"])
    now = datetime.fromisoformat(zoho.control.zoho.clock()["now"])
    assert timedelta(minutes=59) < granted - now <= timedelta(hours=1)
    listed = api.get("/crm/v8/actions/watch").json()
    validate("notifications.json", "Response_Wrapper", listed)
    assert listed["watch"][0]["channel_id"] == 1000000068001

    zoho.advance(3601)
    api = zoho.api("us")  # the hour also took the access token with it
    api.post("/crm/v8/Accounts", {"data": [{"Account_Name": "After Expiry Ltd"}]})
    assert api.get("/crm/v8/actions/watch").status_code == 204
    renewed = api.put("/crm/v8/actions/watch", {"watch": [{
        "channel_id": 1000000068001, "events": ["Accounts.create"], "notify_url": f"{receiver.url}/renewed",
        "token": "per-tenant-secret", "channel_expiry": expiry_in(zoho, 6 * 24 * 3600)}]})
    assert renewed.status_code == 200, renewed.text
    validate("notifications.json", "SuccessWrapper", renewed.json())
    api.post("/crm/v8/Accounts", {"data": [{"Account_Name": "Renewed Ltd"}]})
    delivered = receiver.wait_for()
    assert [r.path for r in delivered] == ["/renewed"]  # nothing reached the receiver while it was expired
    zoho.advance(5 * 24 * 3600)
    zoho.api("us").post("/crm/v8/Accounts", {"data": [{"Account_Name": "Still Watched Ltd"}]})
    receiver.wait_for(count=2)


def test_channel_events_can_be_removed_and_channels_deleted(zoho: ZohoSandbox, receiver: Receiver):
    api = zoho.api("us")
    subscribe(api, receiver, ["Accounts.all", "Deals.edit"])
    removed = api.patch("/crm/v8/actions/watch", {"watch": [{"channel_id": 1000000068001,
                                                             "events": ["Accounts.all"], "_delete_events": True}]})
    assert removed.json()["watch"][0]["message"] == "Successfully removed the subscribe details"
    assert [w["resource_name"] for w in api.get("/crm/v8/actions/watch").json()["watch"]] == ["Deals"]
    deleted = api.delete("/crm/v8/actions/watch", params={"channel_ids": "1000000068001"})
    assert deleted.status_code == 200 and deleted.json()["watch"][0]["code"] == "SUCCESS"
    assert api.get("/crm/v8/actions/watch").status_code == 204
    gone = api.delete("/crm/v8/actions/watch", params={"channel_ids": "1000000068001"})
    assert gone.status_code == 400 and gone.json()["watch"][0]["code"] == "NOT_SUBSCRIBED"


def test_watch_requests_are_validated(zoho: ZohoSandbox, receiver: Receiver):
    api = zoho.api("us")
    assert subscribe(api, receiver, ["Leads.create"]).json()["watch"][0]["code"] == "INVALID_DATA"
    assert subscribe(api, receiver, ["Accounts.create"], token="x" * 51).json()["watch"][0]["details"][
        "api_name"] == "token"
    no_url = api.post("/crm/v8/actions/watch", {"watch": [{"channel_id": 1, "events": ["Accounts.create"]}]})
    assert no_url.json()["watch"][0]["code"] == "MANDATORY_NOT_FOUND"
    scoped = zoho.api("us", scope="ZohoCRM.modules.ALL")
    assert subscribe(scoped, receiver, ["Accounts.create"]).json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_workflow_webhooks_fire_on_api_and_editor_saves(zoho: ZohoSandbox, receiver: Receiver):
    org_id = zoho.org("us")["id"]
    hook = zoho.call("POST", f"orgs/{org_id}/workflow-webhooks", {
        "module": "Invoices", "event": "create_or_edit", "url": f"{receiver.url}/hooks/zoho/workflow",
        "params": {"invoice_id": "${Invoices.Invoice Id}", "subject": "${Invoices.Subject}",
                   "secret": "s3cret-for-tenant"}})
    assert hook["event"] == "create_or_edit"
    api = zoho.api("us")
    invoice = api.get("/crm/v8/Invoices", params={"fields": "Subject"}).json()["data"][0]
    api.put(f"/crm/v8/Invoices/{invoice['id']}", {"data": [{"Status": "Approved"}]})
    first = receiver.wait_for()[0]
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert first.form() == {"invoice_id": invoice["id"], "subject": invoice["Subject"], "secret": "s3cret-for-tenant"}
    # "trigger": [] suppresses workflow rules, as on the real API.
    api.put(f"/crm/v8/Invoices/{invoice['id']}", {"data": [{"Status": "Delivered"}], "trigger": []})
    # Saving the record in the editor runs the rule exactly like an API write.
    page = requests.get(f"{zoho.base}/zoho/_sandbox/org/{org_id}/Invoices/{invoice['id']}", timeout=10)
    form = editor_form(page.text)
    form["Status"] = "Cancelled"
    saved = requests.post(f"{zoho.base}/zoho/_sandbox/org/{org_id}/Invoices/{invoice['id']}", data=form,
                          allow_redirects=False, timeout=10)
    assert saved.status_code == 303, saved.text
    second = receiver.wait_for(count=2)[1]
    assert second.form()["invoice_id"] == invoice["id"]
    assert len(receiver.received) == 2
    assert api.get(f"/crm/v8/Invoices/{invoice['id']}").json()["data"][0]["Status"] == "Cancelled"


def test_editor_saves_notify_channels(zoho: ZohoSandbox, receiver: Receiver):
    api = zoho.api("us")
    subscribe(api, receiver, ["Accounts.all"])
    org_id = zoho.org("us")["id"]
    page = requests.get(f"{zoho.base}/zoho/_sandbox/org/{org_id}/Accounts/new", timeout=10)
    form = editor_form(page.text)
    form.update({"Account_Name": "Typed In The Editor", "Phone": "+1 555 0199"})
    created = requests.post(f"{zoho.base}/zoho/_sandbox/org/{org_id}/Accounts/new", data=form,
                            allow_redirects=False, timeout=10)
    assert created.status_code == 303
    record_id = created.headers["Location"].split("/")[-1].split("?")[0]
    notice = receiver.wait_for()[0].json()
    assert (notice["operation"], notice["ids"]) == ("insert", [record_id])
    requests.post(f"{zoho.base}/zoho/_sandbox/org/{org_id}/Accounts/{record_id}/delete", timeout=10)
    assert receiver.wait_for(count=2)[1].json()["operation"] == "delete"


def editor_form(page: str) -> dict[str, str]:
    """The values a browser would submit from the editor's record form (inputs, selected options, textareas)."""
    form = {name: html.unescape(value) for name, value in re.findall(
        r'<input(?: type="(?:date|datetime-local|hidden)")? (?:id="[^"]+" )?name="([^"]+)" value="([^"]*)"', page)}
    for name, body in re.findall(r'<select (?:id="[^"]+" )?name="([^"]+)">(.*?)</select>', page, re.S):
        selected = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)</option>', body)
        form[name] = html.unescape((selected.group(1) or selected.group(2)) if selected else "")
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        form[name] = html.unescape(body)
    return form
