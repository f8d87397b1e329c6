"""The Zoho sandbox's record browser and editor: plain server-rendered forms, writes that behave like the API's, and
the org's Send to Xero button."""

from __future__ import annotations

import re

import requests

from tests.sandbox.zoho.conftest import ZohoSandbox
from tests.sandbox.zoho.test_notifications import editor_form


def page(zoho: ZohoSandbox, path: str) -> requests.Response:
    answer = requests.get(f"{zoho.base}/zoho/_sandbox/{path}", timeout=10)
    assert answer.status_code == 200, answer.text
    assert "<script" not in answer.text
    return answer


def post(zoho: ZohoSandbox, path: str, data: dict[str, str]) -> requests.Response:
    return requests.post(f"{zoho.base}/zoho/_sandbox/{path}", data=data, allow_redirects=False, timeout=10)


def test_index_lists_the_demo_orgs_in_their_data_centres(zoho: ZohoSandbox):
    index = page(zoho, "").text
    for org in zoho.orgs():
        assert org["company_name"] in index and f'href="/zoho/_sandbox/org/{org["id"]}/"' in index
    assert {org["dc"] for org in zoho.orgs()} == {"us", "eu", "in", "au"}


def test_browse_create_edit_and_delete_records(zoho: ZohoSandbox):
    org_id = zoho.org("in")["id"]
    listing = page(zoho, f"org/{org_id}/Contacts/").text
    assert listing.count("/zoho/_sandbox/org/") >= 8
    form = editor_form(page(zoho, f"org/{org_id}/Contacts/new").text)
    form["First_Name"] = "Kavya"
    missing = post(zoho, f"org/{org_id}/Contacts/new", form)
    assert missing.status_code == 422 and "MANDATORY_NOT_FOUND" in missing.text and "Last_Name" in missing.text
    form.update({"Last_Name": "Iyer", "Email": "kavya@iyer.example", "Date_of_Birth": "1990-02-03"})
    created = post(zoho, f"org/{org_id}/Contacts/new", form)
    assert created.status_code == 303
    record_path = created.headers["Location"].split("/zoho/_sandbox/")[1].split("?")[0]
    record_id = record_path.rsplit("/", 1)[1]
    api = zoho.api("in")
    record = api.get(f"/crm/v8/Contacts/{record_id}").json()["data"][0]
    assert (record["Full_Name"], record["Email"], record["Date_of_Birth"]) == ("Kavya Iyer", "kavya@iyer.example",
                                                                            "1990-02-03")
    edit = editor_form(page(zoho, record_path).text)
    assert edit["Last_Name"] == "Iyer"
    edit["Email"] = "not-an-email"
    rejected = post(zoho, record_path, edit)
    assert rejected.status_code == 422 and "INVALID_DATA" in rejected.text
    edit["Email"] = "kavya@iyer.example"
    edit["Title"] = "Director"
    assert post(zoho, record_path, edit).status_code == 303
    assert api.get(f"/crm/v8/Contacts/{record_id}").json()["data"][0]["Title"] == "Director"
    assert post(zoho, f"{record_path}/delete", {}).status_code == 303
    assert api.get(f"/crm/v8/Contacts/{record_id}").status_code == 204


def test_invoice_lines_are_edited_in_the_form(zoho: ZohoSandbox):
    org_id = zoho.org("us")["id"]
    api = zoho.api("us")
    invoice_id = api.get("/crm/v8/Invoices", params={"fields": "Subject"}).json()["data"][0]["id"]
    product_id = api.get("/crm/v8/Products", params={"fields": "Product_Name"}).json()["data"][0]["id"]
    path = f"org/{org_id}/Invoices/{invoice_id}"
    form = editor_form(page(zoho, path).text)
    assert form["line-count"] == "4"  # two lines and two blank rows to add to
    form.update({"line-2-Product_Name": product_id, "line-2-Quantity": "3", "line-2-List_Price": "10",
                 "line-2-Tax": "GST", "line-0-delete": "1"})
    assert post(zoho, path, form).status_code == 303
    lines = api.get(f"/crm/v8/Invoices/{invoice_id}").json()["data"][0]["Invoiced_Items"]
    assert len(lines) == 2 and lines[-1]["Product_Name"]["id"] == product_id
    assert (lines[-1]["Total"], lines[-1]["Tax"], lines[-1]["Net_Total"]) == (30, 3, 33)


def test_send_to_xero_opens_the_configured_url_with_merge_fields(zoho: ZohoSandbox):
    org_id = zoho.org("us")["id"]
    api = zoho.api("us")
    invoice = api.get("/crm/v8/Invoices", params={"fields": "Subject"}).json()["data"][0]
    record_page = page(zoho, f"org/{org_id}/Invoices/{invoice['id']}").text
    assert "Send to Xero" in record_page and "no button URL is configured" in record_page
    saved = post(zoho, f"org/{org_id}/settings", {
        "edition": "Enterprise", "credits_per_day": "", "latency_ms": "0",
        "send_to_xero_url": "http://localhost:5000/hooks/zoho/push?module=${module}&id=${Invoices.Invoice Id}"
                            "&subject=${Invoices.Subject}"})
    assert saved.status_code == 303
    record_page = page(zoho, f"org/{org_id}/Invoices/{invoice['id']}").text
    button = re.search(r'<a class="button" href="([^"]+)" target="_blank"[^>]*>Send to Xero</a>', record_page)
    assert button is not None
    subject = requests.utils.quote(invoice["Subject"], safe="")
    assert button.group(1).replace("&amp;", "&") == (
        f"http://localhost:5000/hooks/zoho/push?module=Invoices&id={invoice['id']}&subject={subject}")


def test_custom_fields_and_the_xero_accounts_module_from_the_org_page(zoho: ZohoSandbox):
    org_id = zoho.org("eu")["id"]
    added = post(zoho, f"org/{org_id}/fields", {"module": "Accounts", "label": "Xero Contact ID",
                                                "data_type": "text", "length": "100", "unique": "1"})
    assert added.status_code == 303
    installed = post(zoho, f"org/{org_id}/install-xero-accounts", {})
    assert installed.status_code == 303
    api = zoho.api("eu")
    fields = [f["api_name"] for f in api.get("/crm/v8/settings/fields", params={"module": "Accounts"}).json()["fields"]]
    assert "Xero_Contact_ID" in fields
    assert "Xero_Accounts" in [m["api_name"] for m in api.get("/crm/v8/settings/modules").json()["modules"]]
    assert "Xero Accounts" in page(zoho, f"org/{org_id}/").text
    form = editor_form(page(zoho, f"org/{org_id}/Accounts/new").text)
    assert "Xero_Contact_ID" in form
    bad = post(zoho, f"org/{org_id}/fields", {"module": "Accounts", "label": "Xero Contact ID", "data_type": "text"})
    assert bad.status_code == 422 and "already exists" in bad.text


def test_workflow_rules_and_tokens_are_managed_on_the_org_page(zoho: ZohoSandbox):
    org_id = zoho.org("us")["id"]
    tokens = zoho.connect("us")
    assert post(zoho, f"org/{org_id}/workflows", {"module": "Deals", "event": "edit",
                                                 "url": "http://localhost:5000/hooks/zoho/wf",
                                                 "params": "deal=${Deals.Deal Id}\nsecret=abc", "body": "json"}
                ).status_code == 303
    hooks = zoho.call("GET", f"orgs/{org_id}/workflow-webhooks")["workflow_webhooks"]
    assert hooks[0]["params"] == {"deal": "${Deals.Deal Id}", "secret": "abc"} and hooks[0]["body"] == "json"
    org_page = page(zoho, f"org/{org_id}/").text
    assert "http://localhost:5000/hooks/zoho/wf" in org_page
    assert post(zoho, f"org/{org_id}/tokens", {"action": "expire"}).status_code == 303
    answer = requests.get(f"{tokens.api_domain}/crm/v8/org",
                          headers={"Authorization": f"Zoho-oauthtoken {tokens.access_token}"}, timeout=10)
    assert answer.json()["code"] == "INVALID_TOKEN"
