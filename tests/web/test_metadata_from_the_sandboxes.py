"""The editor and the settings page read the connected Zoho org's own fields over real HTTP (the Zoho sandbox):
a custom field added in Setup shows up after Refresh, and the Deals pipeline's stages are offered."""

from __future__ import annotations

import html
import re

import requests
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection, MetadataCache
from tests.conftest import csrf_token, sign_in
from tests.connections.consent import callback_path, connect_zoho, start_connect
from tests.sandbox.xero.helpers import NZ, ConsentForm


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_connected_orgs_fields_picklists_and_stages(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    assert "Connected to" in connect_zoho(client)
    connection = db.session.scalar(select(Connection).where(Connection.side == "zoho"))
    (org,) = [o for o in sandbox.zoho.call("GET", "orgs")["orgs"]
              if connection.remote_org_id in (str(o.get("id")), str(o.get("zgid")))]

    page = text(client.get("/mapping/accounts-contacts"))
    assert "From your Zoho CRM org, read" in page
    assert 'data-testid="zoho-field-Account_Name"' in page and "Customer_Tier" not in page

    # An admin adds a custom picklist in Zoho CRM's Setup; the cached fields hide it until Refresh.
    added = sandbox.zoho.call("POST", f"orgs/{org['id']}/fields", {
        "module": "Accounts", "label": "Customer Tier", "data_type": "picklist",
        "pick_list_values": ["Gold", "Silver"]})
    assert "Customer_Tier" not in text(client.get("/mapping/accounts-contacts"))
    refreshed = client.post("/mapping/refresh", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_token(client, "/mapping/accounts-contacts"), "pair": "accounts-contacts"})
    assert refreshed.status_code == 200
    assert f'data-testid="zoho-field-{added["api_name"]}"' in text(refreshed)
    add = client.post("/mapping/accounts-contacts/add", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_token(client, "/mapping/accounts-contacts"), "zoho": added["api_name"],
        "xero": "ContactStatus", "arrow": "->"})
    assert add.status_code == 200, text(add)[:1000]
    key = f"{added['api_name']}|ContactStatus"
    options = text(client.get("/mapping/accounts-contacts/rule", query_string={"rule": key}))
    assert 'value="Gold"' in options and 'value="Silver"' in options  # the org's picklist values to map

    # The won-deal stage is chosen from the org's Deals pipeline.
    settings_page = text(client.get("/settings/zoho-to-xero"))
    stages = re.search(r'<select[^>]*id="won_deal_stage".*?</select>', settings_page).group(0)
    assert '<option selected value="Closed Won">' in stages or 'value="Closed Won" selected' in stages
    assert db.session.scalar(select(MetadataCache).where(MetadataCache.kind == "fields:Deals")) is not None



def connect_xero(client, organisation: str = NZ) -> str:
    """Press Connect, tick one organisation on the Xero sandbox's consent page, allow, come back."""
    browser = requests.Session()
    page = browser.get(start_connect(client, "xero"), timeout=10)
    form = ConsentForm(page.text)
    answer = browser.post(page.url, data=[*form.hidden.items(), ("action", "allow"), ("tenant", organisation)],
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return text(client.get(callback_path(answer.headers["Location"]), follow_redirects=True))


def test_the_connected_xero_organisations_accounts_and_tax_rates(client, acme_admin, sandbox):
    sign_in(client, acme_admin)
    assert "Connected to" in connect_xero(client)
    page = text(client.get("/settings/zoho-to-xero"))
    accounts = re.search(r'<select[^>]*id="default_sales_account".*?</select>', page).group(0)
    assert '<option value="200">200 · Sales</option>' in accounts
    assert all(code in accounts for code in ('value="260"', 'value="270"'))  # revenue accounts only
    taxes = re.search(r'<select[^>]*id="default_tax_type".*?</select>', page).group(0)
    assert '<option value="OUTPUT2">GST on Income (15.0 %)</option>' in taxes
    assert "base currency NZD" in page
    options = text(client.get("/mapping/invoices-invoices/rule", query_string={"rule": "Currency|CurrencyCode"}))
    assert '<option value="NZD">' in options  # the organisation's currencies, for the value map
