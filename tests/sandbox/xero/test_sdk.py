"""The official xero-python SDK against the sandbox, configured with nothing but the sandbox's URLs and client:
its token refresh, connections, contacts, items, invoices and payments, a validation error in a batch, paging,
If-Modified-Since and Idempotency-Key. Every answer the SDK receives is also checked against the OAS."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from requests_oauthlib import OAuth2Session
from xero_python.accounting import (
    Account as XeroAccount,
)
from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    Item,
    Items,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Purchase,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, HTTPStatusException
from xero_python.identity import IdentityApi

from tests.sandbox.xero.helpers import CLIENT_ID, CLIENT_SECRET, FULL_SCOPE, NZ, REDIRECT_URI, consent


@pytest.fixture
def sdk(sandbox, sandbox_server, xero_specs, monkeypatch):
    base = sandbox_server.url
    # Only URLs change: the SDK's token endpoints are class attributes (FACTS.md §6).
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{base}/xero/identity/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{base}/xero/identity/connect/revocation")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox speaks plain HTTP on localhost

    # The authorisation-code exchange is the web app's part (the SDK's starter uses an OAuth library for it).
    oauth = OAuth2Session(CLIENT_ID, redirect_uri=REDIRECT_URI, scope=FULL_SCOPE.split())
    url, _ = oauth.authorization_url(f"{base}/xero/identity/connect/authorize")
    code = consent(base, url=url, tenants=[NZ])["code"][0]
    token = dict(oauth.fetch_token(f"{base}/xero/identity/connect/token", code=code, client_secret=CLIENT_SECRET))

    store: dict[str, Any] = {"token": token, "refreshes": 0}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)),
                       pool_threads=1)

    @client.oauth2_token_getter
    def get_token() -> dict[str, Any]:
        return store["token"]

    @client.oauth2_token_saver
    def save_token(new: dict[str, Any]) -> None:
        store["token"] = new
        store["refreshes"] += 1

    original = client.rest_client.request

    def validating(method: str, url: str, query_params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        full = f"{url}?{urlencode(query_params)}" if query_params else url
        tenant = (headers or {}).get("xero-tenant-id", "")
        try:
            response = original(method, url, query_params=query_params, headers=headers, **kwargs)
        except HTTPStatusException as error:
            if "/xero/" in url:
                xero_specs.validate_parts(method, full, error.status, error.body or b"", "application/json", tenant)
            raise
        if "/xero/" in url:
            xero_specs.validate_parts(method, full, response.status, response.data,
                                      response.getheader("Content-Type", "application/json"), tenant)
        return response

    client.rest_client.request = validating
    accounting = AccountingApi(client, base_url=f"{base}/xero/api.xro/2.0")
    identity = IdentityApi(client, base_url=f"{base}/xero")
    return accounting, identity, client, store


def test_sdk_lists_connections_and_refreshes_its_own_token(sdk):
    accounting, identity, client, store = sdk
    connections = identity.get_connections()
    assert [(c.tenant_id, c.tenant_type) for c in connections] == [(NZ, "ORGANISATION")]
    first_refresh_token = store["token"]["refresh_token"]
    # The access token is about to expire: the SDK refreshes it before the call, with its own token request.
    store["token"] = {**store["token"], "expires_at": time.time() + 30}
    organisations = accounting.get_organisations(NZ).organisations
    assert organisations[0].name == "Demo Company (NZ)"
    assert store["refreshes"] == 1 and store["token"]["refresh_token"] != first_refresh_token
    client.refresh_oauth2_token()  # and again, explicitly: the rotated token works
    assert store["refreshes"] == 2
    assert accounting.get_contacts(NZ).contacts


def test_sdk_writes_and_reads_contacts_with_paging_and_if_modified_since(sdk, sandbox):
    accounting, _, _, _ = sdk
    sandbox.xero.clock(advance_seconds=60)
    before = datetime.fromtimestamp(sandbox.xero.clock()["epoch"], UTC)
    created = accounting.create_contacts(NZ, Contacts(contacts=[
        Contact(name="SDK Traders", email_address="hello@sdk.example", first_name="Sid"),
        Contact(name="SDK Partners")]), summarize_errors=False, idempotency_key="sdk-contacts-1")
    assert [c.status_attribute_string for c in created.contacts] == ["OK", "OK"]
    replay = accounting.create_contacts(NZ, Contacts(contacts=[
        Contact(name="SDK Traders", email_address="hello@sdk.example", first_name="Sid"),
        Contact(name="SDK Partners")]), summarize_errors=False, idempotency_key="sdk-contacts-1")
    assert [c.contact_id for c in replay.contacts] == [c.contact_id for c in created.contacts]

    changed = accounting.get_contacts(NZ, if_modified_since=before)
    assert {c.name for c in changed.contacts} == {"SDK Traders", "SDK Partners"}
    assert isinstance(changed.contacts[0].updated_date_utc, datetime)

    page = accounting.get_contacts(NZ, page=2, page_size=3, order="Name ASC")
    assert page.pagination.page == 2 and page.pagination.page_size == 3 and len(page.contacts) == 3
    assert page.pagination.item_count == len(accounting.get_contacts(NZ).contacts)
    found = accounting.get_contacts(NZ, where='Name.StartsWith("SDK")', summary_only=True)
    assert sorted(c.name for c in found.contacts) == ["SDK Partners", "SDK Traders"]

    contact_id = created.contacts[0].contact_id
    updated = accounting.update_contact(NZ, contact_id, Contacts(contacts=[Contact(last_name="Sender")]))
    assert updated.contacts[0].first_name == "Sid" and updated.contacts[0].last_name == "Sender"


def test_sdk_sees_a_validation_error_in_a_batch(sdk):
    accounting, _, _, _ = sdk
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting.create_contacts(NZ, Contacts(contacts=[Contact(name="Bayside Club")]))
    assert raised.value.status == 400
    assert raised.value.reason.startswith("The contact name Bayside Club is already assigned")
    mixed = accounting.create_contacts(NZ, Contacts(contacts=[Contact(name="Fine Co"), Contact(name="Bayside Club")]),
                                       summarize_errors=False)
    assert [c.has_validation_errors for c in mixed.contacts] == [False, True]
    assert mixed.contacts[1].validation_errors[0].message.startswith("The contact name Bayside Club")


def test_sdk_items_invoices_and_payments(sdk, sandbox):
    accounting, _, _, _ = sdk
    item = accounting.create_items(NZ, Items(items=[Item(code="SDK-ITEM", name="SDK widget", sales_details=Purchase(
        unit_price=12.5, account_code="200", tax_type="OUTPUT2"))])).items[0]
    assert item.sales_details.unit_price == 12.5

    contact = accounting.get_contacts(NZ, where='Name=="Marine Systems"').contacts[0]
    today = datetime.fromtimestamp(sandbox.xero.clock()["epoch"], UTC).date()
    invoices = Invoices(invoices=[Invoice(
        type="ACCREC", contact=Contact(contact_id=contact.contact_id), date=today,
        due_date=today + timedelta(days=20), status="AUTHORISED", line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[LineItem(item_code="SDK-ITEM", quantity=4), LineItem(description="Setup", quantity=1,
                                                                         unit_amount=99.99, account_code="200")])])
    created = accounting.create_invoices(NZ, invoices, idempotency_key="sdk-invoice-1").invoices[0]
    assert (float(created.sub_total), float(created.total_tax), float(created.total)) == (149.99, 22.5, 172.49)
    again = accounting.create_invoices(NZ, invoices, idempotency_key="sdk-invoice-1").invoices[0]
    assert again.invoice_id == created.invoice_id

    payment = accounting.create_payment(NZ, Payment(
        invoice=Invoice(invoice_id=created.invoice_id), account=XeroAccount(code="090"), date=today,
        amount=172.49, reference="SDK payment"))
    assert payment.payments[0].status == "AUTHORISED"
    paid = accounting.get_invoice(NZ, created.invoice_id).invoices[0]
    assert paid.status == "PAID" and float(paid.amount_due) == 0 and paid.fully_paid_on_date == today
    listed = accounting.get_invoices(NZ, page=1, statuses=["PAID"], contact_i_ds=[contact.contact_id])
    assert [inv.invoice_id for inv in listed.invoices] == [created.invoice_id]
    assert listed.invoices[0].line_items  # paged lists carry the lines

    accounting.delete_payment(NZ, payment.payments[0].payment_id, PaymentDelete(status="DELETED"))
    assert accounting.get_invoice(NZ, created.invoice_id).invoices[0].status == "AUTHORISED"
    accounting.delete_item(NZ, item.item_id)
    assert not accounting.get_items(NZ, where='Code=="SDK-ITEM"').items


def test_sdk_revokes_its_token(sdk, sandbox, sandbox_server, xero_specs):
    from tests.sandbox.xero.helpers import XeroApi

    _, _, client, store = sdk
    access_token = store["token"]["access_token"]
    client.revoke_oauth2_token()
    assert store["token"]["access_token"] is None
    # The revocation removed the connection and the tokens, on the sandbox's side.
    assert XeroApi(sandbox_server.url, xero_specs, access_token).get("/Contacts").status_code == 401
    assert not [c for c in sandbox.xero.call("GET", "connections") if c["active"]]
