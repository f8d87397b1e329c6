"""The Xero sandbox's record editor, used as a browser with JavaScript off would: plain pages, plain form posts.
Changes made there follow Xero's rules and raise the same webhook events as API changes."""

from __future__ import annotations

import json
import re

import requests

from tests.sandbox.xero.conftest import wait_for
from tests.sandbox.xero.helpers import NZ

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/xero/_sandbox"
        self.session = requests.Session()
        self.token = ""

    def get(self, path: str) -> requests.Response:
        page = self.session.get(self.base + path, timeout=10)
        assert page.status_code == 200, page.text
        assert "<script" not in page.text.lower()
        found = CSRF.search(page.text)
        if found:
            self.token = found.group(1)
        return page

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        return self.session.post(self.base + path, data=[("csrf_token", self.token), *fields], timeout=10)


def test_the_overview_lists_the_organisations_and_their_records(sandbox_server, sandbox):
    browser = Browser(sandbox_server.url)
    index = browser.get("/")
    for name in ("Demo Company (NZ)", "Demo Company (UK)", "Starter Co (AU)"):
        assert name in index.text
    assert NZ in index.text and "Webhook" in index.text
    contacts = browser.get(f"/books/{NZ}/contacts")
    assert "Bayside Club" in contacts.text and "Old Timber Yard" not in contacts.text
    assert "Old Timber Yard" in browser.get(f"/books/{NZ}/contacts?archived=1").text
    assert "INV-0002" in browser.get(f"/books/{NZ}/invoices").text
    assert "DEVD" in browser.get(f"/books/{NZ}/items").text
    assert "ACCRECPAYMENT" in browser.get(f"/books/{NZ}/payments").text


def test_contacts_are_created_edited_and_archived_with_xero_rules(sandbox_server, sandbox, xero):
    browser = Browser(sandbox_server.url)
    browser.get(f"/books/{NZ}/contacts/new")
    created = browser.post(f"/books/{NZ}/contacts/new", {"Name": "Editor Made Ltd", "EmailAddress": "em@x.example",
                                                         "PhoneNumber": "555 1234", "City": "Nelson",
                                                         "person0_FirstName": "Eddie"})
    assert "Contact Editor Made Ltd created." in created.text
    contact = xero.ok(xero.get("/Contacts", params={"where": 'Name=="Editor Made Ltd"'}))["Contacts"][0]
    assert contact["Phones"][0]["PhoneNumber"] == "555 1234" and contact["ContactPersons"][0]["FirstName"] == "Eddie"
    path = f"/books/{NZ}/contacts/{contact['ContactID']}"

    browser.get(path)
    clash = browser.post(path, {"Name": "Bayside Club"})
    assert clash.status_code == 200 and "is already assigned to another contact" in clash.text
    renamed = browser.post(path, {"Name": "Editor Made Limited", "EmailAddress": "em@x.example"})
    assert "Contact saved." in renamed.text
    after = xero.ok(xero.get(f"/Contacts/{contact['ContactID']}"))["Contacts"][0]
    assert after["Name"] == "Editor Made Limited" and after["UpdatedDateUTC"] >= contact["UpdatedDateUTC"]

    archived = browser.post(f"{path}/status", {"status": "ARCHIVED"})
    assert "Contact archived." in archived.text
    assert xero.ok(xero.get(f"/Contacts/{contact['ContactID']}"))["Contacts"][0]["ContactStatus"] == "ARCHIVED"


def test_invoices_are_created_approved_paid_and_unpaid(sandbox_server, sandbox, xero):
    browser = Browser(sandbox_server.url)
    browser.get(f"/books/{NZ}/invoices/new")
    day = browser.session.get(f"{sandbox_server.url}/xero/_sandbox/clock", timeout=10).json()["now"][:10]
    created = browser.post(f"/books/{NZ}/invoices/new", {
        "Type": "ACCREC", "ContactName": "Walk-in Customer", "Status": "DRAFT", "Date": day, "DueDate": day,
        "LineAmountTypes": "Exclusive", "line0_Description": "Consulting", "line0_Quantity": "2",
        "line0_UnitAmount": "150", "line0_AccountCode": "200"})
    assert "Invoice INV-0004 created." in created.text
    invoice_id = re.search(r"InvoiceID <code>([0-9a-f-]+)</code>", created.text).group(1)
    path = f"/books/{NZ}/invoices/{invoice_id}"
    approved = browser.post(f"{path}/status", {"status": "AUTHORISED"})
    assert "Invoice is now AUTHORISED." in approved.text
    refused = browser.post(f"{path}/payments", {"Amount": "400", "Date": day, "AccountCode": "090"})
    assert "Payment amount exceeds the amount outstanding on this document" in refused.text
    paid = browser.post(f"{path}/payments", {"Amount": "345.00", "Date": day, "AccountCode": "090"})
    assert "Payment recorded." in paid.text
    invoice = xero.ok(xero.get(f"/Invoices/{invoice_id}"))["Invoices"][0]
    assert (invoice["Status"], invoice["Total"], invoice["Contact"]["Name"]) == ("PAID", 345.0, "Walk-in Customer")

    payment_id = invoice["Payments"][0]["PaymentID"]
    undone = browser.post(f"/books/{NZ}/payments/{payment_id}/delete",
                          {"next": f"/xero/_sandbox{path}"})
    assert "Payment deleted." in undone.text
    assert xero.ok(xero.get(f"/Invoices/{invoice_id}"))["Invoices"][0]["Status"] == "AUTHORISED"
    voided = browser.post(f"{path}/status", {"status": "VOIDED"})
    assert "Invoice is now VOIDED." in voided.text


def test_items_and_organisation_settings(sandbox_server, sandbox, xero):
    browser = Browser(sandbox_server.url)
    browser.get(f"/books/{NZ}/items/new")
    created = browser.post(f"/books/{NZ}/items/new", {"Code": "ED-1", "Name": "Editor item", "SalesUnitPrice": "9.99",
                                                      "SalesAccountCode": "200"})
    assert "Item ED-1 created." in created.text
    item = xero.ok(xero.get("/Items/ED-1"))["Items"][0]
    assert item["SalesDetails"]["UnitPrice"] == 9.99
    deleted = browser.post(f"/books/{NZ}/items/{item['ItemID']}/delete", {})
    assert "Item ED-1 deleted." in deleted.text and xero.get("/Items/ED-1").status_code == 404

    browser.get(f"/books/{NZ}")
    saved = browser.post(f"/books/{NZ}/settings", {"daily_limit": "1000", "period_lock_date": "2020-06-30",
                                                   "end_of_year_lock_date": ""})
    assert "Organisation settings saved." in saved.text
    settings = sandbox.xero.call("GET", "orgs/nz")
    assert (settings["daily_limit"], settings["period_lock_date"], settings["offline"]) == (1000, "2020-06-30",
                                                                                           False)


def test_forms_need_the_page_token(sandbox_server, sandbox):
    answer = requests.post(f"{sandbox_server.url}/xero/_sandbox/books/{NZ}/contacts/new", data={"Name": "Forged"},
                           timeout=10)
    assert answer.status_code == 400


def test_editor_changes_raise_webhook_events(sandbox_server, sandbox, receiver, xero):
    browser = Browser(sandbox_server.url)
    browser.get("/")
    saved = browser.post("/webhook-settings", [("url", receiver.url), ("key", receiver.key), ("enabled", "on"),
                                               ("categories", "CONTACT"), ("categories", "INVOICE")])
    assert "Webhook saved: OK." in saved.text
    receiver.received.clear()
    contact = xero.ok(xero.get("/Contacts", params={"where": 'Name=="City Agency"'}))["Contacts"][0]
    path = f"/books/{NZ}/contacts/{contact['ContactID']}"
    browser.get(path)
    browser.post(path, {"Name": "City Agency", "EmailAddress": "new@cityagency.example"})
    wait_for(lambda: receiver.events())
    event = receiver.events()[0]
    assert (event["eventCategory"], event["eventType"], event["resourceId"]) == ("CONTACT", "UPDATE",
                                                                                contact["ContactID"])
    assert json.loads(receiver.received[0].body)["events"][0]["tenantId"] == NZ
